package sim

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"math/rand/v2"

	"ordo"
	"ordo/adversary"
	"ordo/signature"
)

// Wire mode (Config.Wire): the network carries bytes, as a live cluster's
// does. At send the message is encoded by the run's codec (the codecs of
// every protocol of the run, servers and clients); the encoding's length is
// the message's size for bandwidth and transport cost; the bytes travel in
// flight (a wireMsg) and are decoded at delivery into a fresh value. So a
// message type missing from Protocol.Messages, an unexported field or a
// payload that does not decode fails in the simulator as it would live.
//
// Tampering flips bytes of the encoding (fallacy 4: the network is not
// secure): the receiver may decode an altered message, or fail to decode
// it and drop it as "malformed" (Stats.Malformed). With authenticated links
// every message carries a tag over its bytes — an HMAC-SHA256 under the key
// of its link (per ordered pair of nodes, from the seed), or an ed25519
// signature of its sender (Network.Auth; auth.go) — and the receiver drops
// a message whose tag fails ("tampered: authentication failed",
// Stats.AuthFailed), the defence a live cluster gets from TLS.
//
// Sizes come from the codec in both modes, so a run's bytes, bandwidth
// queueing and transport cost are the same with and without wire mode;
// only protocols without a codec (test protocols listing no Messages) fall
// back to ordo.SizeOf.

// Drop reasons of wire mode.
const (
	DropMalformed  = "malformed"
	DropAuthFailed = "tampered: authentication failed"
)

// wireMsg is a message in flight in wire mode: its kind and encoding.
// Duplicates share it (refs counts the copies in flight); tampering
// replaces it with a copy. Delivered or dropped, it returns to the run's
// free list with its buffer, so steady-state sends allocate no bytes.
type wireMsg struct {
	kind string
	b    []byte
	tag  [ed25519.SignatureSize]byte // MAC or signature, on authenticated networks (auth.go)
	refs int32
}

func (w *wireMsg) Kind() string { return w.kind }

// wireState is the run's codec and, on authenticated networks, its
// authentication.
type wireState struct {
	codec *ordo.Codec // nil: no protocol of the run lists Messages
	// strict: every protocol of the run lists its Messages, so a kind the
	// codec does not know is a bug (a panic) in both modes.
	strict bool
	auth   *authState // nil: links not authenticated (auth.go)
	free   []*wireMsg
}

// maxFreeWire bounds the free list (and the buffers it keeps).
const maxFreeWire = 4096

func (ws *wireState) get(kind string) *wireMsg {
	if n := len(ws.free); n > 0 {
		w := ws.free[n-1]
		ws.free = ws.free[:n-1]
		w.kind, w.b, w.refs = kind, w.b[:0], 0
		return w
	}
	return &wireMsg{kind: kind}
}

// releaseWire returns m to the free list once no copy of it is in flight.
func (s *Sim) releaseWire(m ordo.Message) {
	w, ok := m.(*wireMsg)
	if !ok {
		return
	}
	if w.refs--; w.refs > 0 {
		return
	}
	if len(s.wire.free) < maxFreeWire && cap(w.b) <= 1<<12 {
		s.wire.free = append(s.wire.free, w)
	}
}

// initWire builds the run's codec from every protocol of the run. Wire
// mode needs one that knows every protocol's messages.
func (s *Sim) initWire() error {
	var msgs []ordo.Message
	seen := map[*ordo.Protocol]bool{}
	var single *ordo.Protocol
	strict := true
	for i := 1; i < len(s.specs); i++ {
		p := s.specs[i].proto
		if p == nil || seen[p] {
			continue
		}
		seen[p] = true
		if len(p.Messages) == 0 {
			if s.cfg.Wire {
				return fmt.Errorf("sim: wire mode: protocol %s lists no Messages, so its messages cannot be encoded", p.Name)
			}
			strict = false
			continue
		}
		single = p
		msgs = append(msgs, p.Messages...)
	}
	s.wire.strict = strict
	s.net.wire = &s.wire
	switch {
	case len(msgs) == 0:
	case len(seen) == 1 && single.Codec != nil:
		s.wire.codec = single.Codec
	default:
		c, err := ordo.NewCodec(msgs)
		if err != nil {
			return fmt.Errorf("sim: the run's protocols cannot share one codec: %w", err)
		}
		s.wire.codec = c
	}
	if s.cfg.Wire && s.cfg.Network.Authenticated {
		// Keys of the run's own: derived from the seed, so a run stays
		// reproducible; no protocol sees them.
		var keys *signature.Keys
		if s.cfg.Network.Auth == AuthEd25519 {
			keys = s.keys() // one key pair a node: its links and its votes
		}
		s.wire.auth = newAuth(s.cfg.Network.Auth, s.cfg.Seed, len(s.nodes)-1, keys)
	}
	return nil
}

// sizeOf is the size a message is accounted with outside wire mode: its
// encoded length when the run has a codec. A kind the codec does not know
// is the bug wire mode exists to catch, so it panics in both modes.
func (s *Sim) sizeOf(ns *nodeState, m ordo.Message) int {
	if s.wire.codec == nil || !s.wire.codec.Has(m.Kind()) && !s.wire.strict {
		return ordo.SizeOf(m)
	}
	n, err := s.wire.codec.Size(m)
	if err != nil {
		panic(fmt.Sprintf("sim: %v sends %s: %v", ns.id, m.Kind(), err))
	}
	return n
}

// encode is wire mode's send: the message becomes its bytes.
func (s *Sim) encode(ns *nodeState, m ordo.Message) *wireMsg {
	w := s.wire.get(m.Kind())
	var err error
	if w.b, err = s.wire.codec.Append(w.b, m); err != nil {
		panic(fmt.Sprintf("sim: %v sends %s: %v", ns.id, m.Kind(), err))
	}
	return w
}

// seal tags w on authenticated networks, once its id is known.
func (s *Sim) seal(from, to ordo.NodeID, id uint64, w *wireMsg) {
	if s.wire.auth != nil {
		s.wire.auth.seal(from, to, id, w)
	}
}

// decode is wire mode's delivery: check the tag (authenticated links),
// then decode a fresh value. On failure the message is dropped and
// counted, and the caller delivers nothing.
func (s *Sim) decode(it *item, w *wireMsg) (ordo.Message, bool) {
	if s.wire.auth != nil {
		// A forged message is checked as from the sender it claims,
		// whose key its true sender does not have.
		if !s.wire.auth.check(s.claimed(it), it.to, it.msgID, w) {
			s.stats.AuthFailed++
			s.dropInFlight(it, DropAuthFailed) // releases w
			return nil, false
		}
	}
	m, err := s.wire.codec.Decode(w.kind, w.b)
	if err != nil {
		var de *ordo.DecodeError
		if !errors.As(err, &de) {
			panic(fmt.Sprintf("sim: decoding %s: %v", w.kind, err))
		}
		s.stats.Malformed++
		s.dropInFlight(it, DropMalformed) // releases w
		return nil, false
	}
	s.releaseWire(w) // the decoded value keeps nothing of the bytes
	return m, true
}

// tamperBytes is a man in the middle on the bytes: one bit flipped in
// each of one or two bytes (an empty payload gains a byte). Many such
// messages still decode, to other values; the rest are malformed. The original stays intact for
// duplicates.
func (ws *wireState) tamperBytes(w *wireMsg, r *rand.Rand) *wireMsg {
	cp := ws.get(w.kind)
	cp.b, cp.tag = adversary.FlipInPlace(append(cp.b, w.b...), r), w.tag
	return cp
}
