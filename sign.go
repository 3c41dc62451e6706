package ordo

// Signer is implemented by an Env whose runtime gives each node a
// signing key: a signature any node can check and pass on as proof of
// what its signer said. An authenticated link (a MAC, a TLS connection)
// proves the sender to the receiver only; a protocol whose messages are
// forwarded as evidence needs signatures — PBFT's view-change carries the
// prepared certificates, 2f+1 signed votes, to replicas that never saw
// them (Castro and Liskov, OSDI 1999, section 4.4).
//
// The simulator signs with keys derived from the seed (ed25519 with
// network.auth ed25519, else a keyed hash the simulator alone can
// compute: unforgeable by any node, and cheap), the live runtime with
// each node's key from the cluster's certificate authority. A Byzantine
// node signs what it likes with its own key and cannot sign as another.
type Signer interface {
	// Sign returns this node's signature over b: at most MaxSignature
	// bytes.
	Sign(b []byte) []byte
	// Verify reports whether sig is node signer's signature over b. False
	// for a node with no key, and for any sig longer than MaxSignature.
	Verify(signer NodeID, b, sig []byte) bool
}

// MaxSignature bounds a signature, in bytes (an ECDSA P-256 signature in
// ASN.1 takes at most 72, ed25519's 64).
const MaxSignature = 80

// Signing returns env's Signer, looking through layers (SubEnv): ok is
// false when the runtime does not sign.
func Signing(env Env) (Signer, bool) {
	for {
		if s, ok := env.(Signer); ok {
			return s, true
		}
		sub, ok := env.(*SubEnv)
		if !ok {
			return nil, false
		}
		env = sub.env
	}
}
