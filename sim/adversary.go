package sim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"ordo"
	"ordo/adversary"
	"ordo/trace"
)

// The adversary (issue 14, the chapter's section 5, "Byzantine failure"):
// a Byzantine node is a deterministic node that lies. The protocol code it
// runs is the honest code; the simulator wraps the node's OUTGOING
// messages and rewrites, drops, forges or replays them according to its
// Behaviour (or, voting for everything, adds votes for what it hears),
// drawing every choice from a random source of its own derived from the
// seed, so a run with liars is reproducible bit for bit like any other.
//
// Every lie is in the trace: a note "byzantine" at the liar (behaviour,
// recipient, kind, the id of the message it precedes and what changed),
// except a silent node's, whose sends appear dropped with the reason
// "byzantine: silent". Stats.Byzantine counts the lies, ByzantineBy by
// behaviour, and the trace's Meta.Byzantine names the liars, so a checker
// judges the correct nodes only.
//
// The lies a receiver can catch are caught where a live cluster would catch
// them: garbage fails the wire decoder (Stats.Malformed), and a forged
// sender fails the link's MAC when links are authenticated
// (Stats.AuthFailed; the defence TLS gives live). An equivocation or a
// replay is signed by its true sender and passes every link check: only
// the protocol can defend against it (a BFT protocol's quorums, sequence
// numbers and digests).

// The behaviours and the interfaces through which a message lies are
// package adversary's, shared with the live runtime; these names keep the
// simulator's vocabulary.

// Behaviour is one way a Byzantine node lies (adversary.Behaviour).
type Behaviour = adversary.Behaviour

// The behaviours (see package adversary).
const (
	Silent            = adversary.Silent
	Equivocate        = adversary.Equivocate
	Garbage           = adversary.Garbage
	Replay            = adversary.Replay
	Forge             = adversary.Forge
	VoteForEverything = adversary.VoteForEverything
)

// Behaviours lists the behaviours, sorted.
var Behaviours = adversary.Behaviours

// Byzantine makes one node lie.
type Byzantine struct {
	Node      ordo.NodeID
	Behaviour Behaviour
	// Rate is the probability that one message is lied about (0 means 1:
	// every message).
	Rate float64
	// After is how long Replay waits before sending a message again (0:
	// DefaultReplayAfter). Only Replay reads it.
	After time.Duration
	// As is the sender Forge claims (0: the lowest-numbered other server,
	// or else other node, that is neither the liar nor the recipient).
	// Only Forge reads it.
	As ordo.NodeID
}

// DefaultReplayAfter is how long Replay waits by default.
const DefaultReplayAfter = adversary.DefaultReplayAfter

// Equivocator, Colluder and Voter are how a message type lies about
// itself (package adversary).
type (
	Equivocator = adversary.Equivocator
	Colluder    = adversary.Colluder
	Voter       = adversary.Voter
)

// MaxVotes bounds the votes one heard message makes a vote-for-everything
// node cast.
const MaxVotes = adversary.MaxVotes

// book is the equivocating liars' shared memory (Colluder).
type book = adversary.Book

// The adversary's trace vocabulary.
const (
	NoteByzantine = adversary.NoteByzantine
	DropSilent    = adversary.DropSilent
)

// adversary is one Byzantine node's state.
type byzNode struct {
	Byzantine
	liar *adversary.Liar
}

// validateByzantine checks cfg.Byzantine against a cluster of size nodes.
func validateByzantine(cfg *Config, size int) error {
	seen := map[ordo.NodeID]bool{}
	for i, b := range cfg.Byzantine {
		if b.Node < 1 || int(b.Node) > size {
			return fmt.Errorf("sim: byzantine entry %d: node %d out of range 1..%d", i+1, b.Node, size)
		}
		if seen[b.Node] {
			return fmt.Errorf("sim: byzantine entry %d: node %d is Byzantine twice (one behaviour a node)", i+1, b.Node)
		}
		seen[b.Node] = true
		if err := (&adversary.Liar{Behaviour: b.Behaviour, Rate: b.Rate}).Check(); err != nil {
			return fmt.Errorf("sim: byzantine node %d: %v", b.Node, err)
		}
		if b.After < 0 {
			return fmt.Errorf("sim: byzantine node %d: after %v is negative", b.Node, b.After)
		}
		if b.Behaviour == Garbage && !cfg.Wire {
			return fmt.Errorf("sim: byzantine node %d: garbage needs wire mode (the network must carry bytes)", b.Node)
		}
		if b.As != 0 && (b.As < 1 || int(b.As) > size || b.As == b.Node) {
			return fmt.Errorf("sim: byzantine node %d: as %d must be another node of 1..%d", b.Node, b.As, size)
		}
	}
	return nil
}

// initByzantine gives each liar its adversary and names the liars in the
// trace's Meta.
func (s *Sim) initByzantine() {
	list := slices.Clone(s.cfg.Byzantine)
	slices.SortFunc(list, func(a, b Byzantine) int { return int(a.Node) - int(b.Node) })
	for _, b := range list {
		if b.After == 0 {
			b.After = DefaultReplayAfter
		}
		liar := adversary.NewLiar(s.cfg.Seed, b.Node, b.Behaviour, b.Rate)
		liar.Sign = s.nodes[b.Node].Sign // its lies are signed by itself (sign.go)
		s.nodes[b.Node].adv = &byzNode{Byzantine: b, liar: liar}
		if s.tr != nil {
			s.tr.Meta.Byzantine = append(s.tr.Meta.Byzantine, trace.Liar{Node: int(b.Node), Behaviour: string(b.Behaviour)})
		}
	}
}

// lies reports whether the adversary lies about the next message.
func (a *byzNode) lies() bool { return a.liar.Lies() }

// countLie counts one lie in the run's stats.
func (s *Sim) countLie(b Behaviour) {
	s.stats.Byzantine++
	if s.stats.ByzantineBy == nil {
		s.stats.ByzantineBy = map[Behaviour]int{}
	}
	s.stats.ByzantineBy[b]++
}

// noteLie records a lie at the liar, before the send it concerns (whose
// message id is the next one).
func (s *Sim) noteLie(ns *nodeState, b Behaviour, to ordo.NodeID, kind string, attrs ...any) {
	s.countLie(b)
	s.tick(ns)
	if s.tr != nil && !s.skip(trace.Note) {
		kv := append([]any{"behaviour", string(b), "to", to, "kind", kind, "msg", s.msgID + 1}, attrs...)
		s.record(ns, trace.Event{Kind: trace.Note, Name: NoteByzantine, Attrs: trace.MakeAttrs(kv)})
	}
}

// shown is m in words for a note, bounded.

// lie is Env.Send at a Byzantine node that lies about this message.
func (s *Sim) lie(ns *nodeState, to ordo.NodeID, m ordo.Message, early bool) {
	a := ns.adv
	switch a.Behaviour {
	case Silent:
		s.transmit(ns, to, m, early, xSilent, 0)
	case Equivocate:
		if m2, ok := a.liar.Equivocate(m, to, &s.liars); ok {
			if adversary.Changed(m, m2) {
				s.noteLie(ns, Equivocate, to, m.Kind(), "honest", adversary.Shown(m), "sent", adversary.Shown(m2))
			}
			s.transmit(ns, to, m2, early, xHonest, 0)
			return
		}
		if s.cfg.Wire {
			s.noteLie(ns, Equivocate, to, m.Kind(), "honest", adversary.Shown(m), "sent", "its bytes with bits flipped")
			s.transmit(ns, to, m, early, xFlip, 0)
			return
		}
		m2 := TamperFields(m, a.liar.Rng)
		if adversary.Changed(m, m2) {
			s.noteLie(ns, Equivocate, to, m.Kind(), "honest", adversary.Shown(m), "sent", adversary.Shown(m2))
		}
		s.transmit(ns, to, m2, early, xHonest, 0)
	case Garbage:
		s.transmit(ns, to, m, early, xGarbage, 0)
	case Replay:
		s.transmit(ns, to, m, early, xReplay, 0)
	case VoteForEverything:
		s.transmit(ns, to, m, early, xHonest, 0) // its own messages are honest; its extra votes are in heard
	case Forge:
		as := adversary.Claim(a.As, a.Node, to, s.roster.Servers, len(s.nodes)-1)
		if as == 0 {
			s.transmit(ns, to, m, early, xHonest, 0) // no third node to impersonate
			return
		}
		s.noteLie(ns, Forge, to, m.Kind(), "as", as)
		s.transmit(ns, to, m, early, xForge, as)
	default:
		panic("sim: unknown behaviour " + string(a.Behaviour))
	}
}

// heard is a vote-for-everything node's reaction to a message it
// received (after the protocol handled it, in the same event): the votes
// m's Voter names, each to every other server, once each. The messages
// the protocol sends are its own and honest.
func (s *Sim) heard(ns *nodeState, m ordo.Message) {
	for _, vote := range ns.adv.liar.Votes(m) {
		for _, to := range s.roster.Servers {
			if to == ns.id || !ns.up {
				continue
			}
			s.noteLie(ns, VoteForEverything, to, vote.Kind(), "sent", adversary.Shown(vote), "heard", m.Kind())
			s.transmit(ns, to, vote, false, xHonest, 0)
		}
	}
}

// xform is what transmit does to a message on its way out.
type xform uint8

const (
	xHonest  xform = iota // nothing
	xSilent               // drop it at the sender
	xFlip                 // flip bits of its encoding (wire mode)
	xGarbage              // replace its encoding with random bytes (wire mode)
	xReplay               // send it, and again After later
	xForge                // deliver it as from another sender
)

// garbage fills w with random bytes that do not decode as a message of
// w's kind. The codec's parse is prefix-driven and refuses trailing bytes,
// so bytes that happen to decode stop decoding with one byte more.
func (s *Sim) garbage(w *wireMsg, r *rand.Rand) {
	w.b = adversary.GarbageBytes(w.b, len(w.b), r, func(b []byte) bool {
		_, err := s.wire.codec.Decode(w.kind, b)
		return err == nil
	})
}

// replayed is a message a replaying node sends again later: its value, or
// in wire mode its kind and bytes (the original's buffer is reused once
// delivered).
type replayed struct {
	to   ordo.NodeID
	of   uint64 // the original's message id
	m    ordo.Message
	kind string
	b    []byte
	val  ordo.Message // the value, when its send event keeps a body (Config.KeepMessages)
}

// replay sends r again from ns, now: an authentic old message. A node that
// is down or paused sends nothing.
func (s *Sim) replay(ns *nodeState, r *replayed) {
	if !ns.up || ns.paused {
		return
	}
	kind := r.kind
	if r.m != nil {
		kind = r.m.Kind()
	}
	s.noteLie(ns, Replay, r.to, kind, "of", r.of)
	m := r.m
	var size int
	if r.b != nil {
		w := s.wire.get(r.kind)
		w.b = append(w.b, r.b...)
		m, size = w, len(w.b)
	} else {
		size = s.sizeOf(ns, m)
	}
	s.msgID++
	id := s.msgID
	s.tick(ns)
	s.stats.sent(kind, size)
	if s.tr != nil && !s.skip(trace.Send) {
		e := trace.Event{Kind: trace.Send, Peer: r.to, Msg: id, MsgKind: kind, Bytes: size}
		if r.val != nil {
			// The same body as the original's: without it the equivocation
			// checker could judge no run with a replaying liar (unknown:
			// "had no body to read"; a fresh user's trial).
			e.Body = s.body(r.val)
		}
		s.record(ns, e)
	}
	if w, ok := m.(*wireMsg); ok {
		s.seal(ns.id, r.to, id, w)
	}
	// No disk hold: the message left once already, after its event's
	// writes.
	s.net.route(s, ns, r.to, m, id, size)
}

// claimed returns the sender a delivered message claims: the forger's
// claim, or its true sender.
func (s *Sim) claimed(it *item) ordo.NodeID {
	if s.forged != nil {
		if as, ok := s.forged[it.msgID]; ok {
			return as
		}
	}
	return it.from
}
