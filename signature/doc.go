// Package signature gives nodes keys whose signatures any node can check
// (ordo.Signer), derived from a run's seed: the chapter's section 5,
// Byzantine failure, where a replica must prove to a third what another
// said (PBFT's view-change certificates, Castro and Liskov, OSDI 1999,
// section 4.4). An authenticated link proves a sender to its receiver
// only; a signature travels.
//
// Two schemes, both deterministic from the seed so a simulated run is
// reproducible bit for bit:
//
//   - Ed25519: each node's key pair is ed25519.NewKeyFromSeed of
//     SHA-256("ordo signing key" ‖ seed ‖ id). Real signatures, about
//     25 µs to sign and 60 µs to verify.
//   - Oracle: a node's signature is HMAC-SHA512 under a key derived the
//     same way, checked by recomputing it. Only the holder of the keys —
//     the simulator, never a node — can make or check one, which is what
//     an unforgeable signature is to a simulated adversary, at a
//     microsecond a signature. Sixty-four bytes like ed25519's, so a run
//     is the same run, byte for byte, under either scheme.
//
// The live runtime signs with each node's key from the cluster's
// certificate authority instead (live/transport.LoadSigner); it uses the
// seeded ed25519 keys only for a cluster without TLS, whose seed is in
// its cluster file: signatures there prove nothing, as its links do not.
//
//	keys := signature.New(signature.Ed25519, seed, []ordo.NodeID{1, 2, 3, 4})
//	sig := keys.Sign(1, b)
//	ok := keys.Verify(1, b, sig) // true; Verify(2, b, sig) is false
//	var s ordo.Signer = keys.For(1)
package signature
