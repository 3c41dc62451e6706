package sim

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"time"

	"ordo"
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

// Behaviour is one way a Byzantine node lies.
type Behaviour string

const (
	// Silent drops every message the node sends (it still runs, receives
	// and notes): a crash fault to the others, as seen from outside.
	Silent Behaviour = "silent"
	// Equivocate sends different messages to different recipients: a
	// message implementing Equivocator chooses what each recipient hears
	// (the chapter's "5 to B, 7 to C"); any other message has its bytes
	// flipped per recipient in wire mode, or one field changed
	// (TamperFields) outside it.
	Equivocate Behaviour = "equivocate"
	// Garbage replaces each message with random bytes of its kind (wire
	// mode only): the receiver's decoder refuses them.
	Garbage Behaviour = "garbage"
	// Replay sends every message honestly, and sends it again, to the same
	// recipient, Byzantine.After later: an old message, authentically
	// its sender's.
	Replay Behaviour = "replay"
	// Forge claims another sender (Byzantine.As) for every message:
	// rejected by authenticated links, believed by the others.
	Forge Behaviour = "forge"
	// VoteForEverything sends every message honestly and, on hearing a
	// message that implements Voter, also the votes Voter names (for what
	// it heard and for conflicting values) to every other server: the
	// replica that votes for everything. A protocol-level lie, signed by
	// its true sender: only quorums defend against it.
	VoteForEverything Behaviour = "vote-for-everything"
)

// Behaviours lists the behaviours, sorted.
var Behaviours = []Behaviour{Equivocate, Forge, Garbage, Replay, Silent, VoteForEverything}

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
const DefaultReplayAfter = time.Second

// Equivocator is implemented by a message type that knows how to lie about
// itself: the message recipient `to` hears instead of m from an
// equivocating node (m itself for a recipient told the truth). It must be
// deterministic given r, and must not modify m.
type Equivocator interface {
	Equivocate(to ordo.NodeID, r *rand.Rand) ordo.Message
}

// Colluder is implemented by a message type whose lie needs what the
// other liars know. The f liars of a run are one adversary (the Byzantine
// model lets faulty nodes coordinate): an equivocating primary tells some
// replicas one request and others another, and an equivocating backup
// backs each replica's version only if it knows which one that replica
// was told, which its own prepare does not say. Collude is Equivocate
// with the liars' book: known calls fn on each message an equivocating
// liar sent, as its protocol wrote it (with to, the liar itself: what it
// tells itself) and as it transmitted it (with to, its recipient: the lie
// that recipient got, or the truth), and on each it received from a node
// that is not one of them (with to, the liar), newest first, until fn returns false; at most maxBook, the
// oldest forgotten. Where both are implemented, Collude is used.
// Deterministic given r and the book; must not modify m.
type Colluder interface {
	Collude(to ordo.NodeID, r *rand.Rand, known func(fn func(m ordo.Message, to ordo.NodeID) bool)) ordo.Message
}

// maxBook bounds the messages the liars' shared book holds.
const maxBook = 1 << 10

// book is the equivocating liars' shared memory (Colluder): a ring of the
// last maxBook messages they transmitted or received.
type book struct {
	ring []booked
	next int
}

type booked struct {
	m  ordo.Message
	to ordo.NodeID
}

func (b *book) add(m ordo.Message, to ordo.NodeID) {
	if len(b.ring) < maxBook {
		b.ring = append(b.ring, booked{m, to})
	} else {
		b.ring[b.next] = booked{m, to}
	}
	b.next = (b.next + 1) % maxBook // the oldest, once full
}

// each calls fn newest first until it returns false.
func (b *book) each(fn func(ordo.Message, ordo.NodeID) bool) {
	n := len(b.ring)
	for i := range n {
		e := b.ring[((b.next-1-i)%n+n)%n]
		if !fn(e.m, e.to) {
			return
		}
	}
}

// Voter is implemented by a message type that a vote-for-everything node
// answers: VotesFor is every vote it casts on hearing m — for what m
// proposes and for conflicting values (a BFT protocol's prepare and commit
// for the digest heard and for another). Each vote goes to every server
// but the liar. It must be deterministic given r, must not modify m, and
// returns at most MaxVotes messages.
type Voter interface {
	VotesFor(r *rand.Rand) []ordo.Message
}

// MaxVotes bounds the votes one heard message makes a vote-for-everything
// node cast, and maxVoted the distinct votes it remembers having cast (so
// a vote heard again is not cast again; forgotten all at once when full).
const (
	MaxVotes = 16
	maxVoted = 1 << 12
)

// The adversary's trace vocabulary.
const (
	// NoteByzantine is the note a liar's every lie is recorded as.
	NoteByzantine = "byzantine"
	// DropSilent is the drop reason of a silent node's messages.
	DropSilent = "byzantine: silent"
)

// adversary is one Byzantine node's state.
type adversary struct {
	Byzantine
	rng   *rand.Rand
	voted map[string]bool // VoteForEverything: the votes cast, at most maxVoted
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
		if !slices.Contains(Behaviours, b.Behaviour) {
			return fmt.Errorf("sim: byzantine node %d: unknown behaviour %q (valid: %s)", b.Node, b.Behaviour, behaviourNames())
		}
		if b.Rate < 0 || b.Rate > 1 || b.Rate != b.Rate {
			return fmt.Errorf("sim: byzantine node %d: rate %v out of range [0, 1]", b.Node, b.Rate)
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

func behaviourNames() string {
	s := ""
	for i, b := range Behaviours {
		if i > 0 {
			s += ", "
		}
		s += string(b)
	}
	return s
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
		s.nodes[b.Node].adv = &adversary{Byzantine: b, rng: rand.New(rand.NewPCG(s.cfg.Seed, 0x62797a00+uint64(b.Node)))} // "byz"
		if s.tr != nil {
			s.tr.Meta.Byzantine = append(s.tr.Meta.Byzantine, trace.Liar{Node: int(b.Node), Behaviour: string(b.Behaviour)})
		}
	}
}

// lies reports whether the adversary lies about the next message.
func (a *adversary) lies() bool {
	return a.Rate == 0 || a.Rate >= 1 || a.rng.Float64() < a.Rate
}

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

// maxShown bounds a message shown in a lie's note.
const maxShown = 200

// shown is m in words for a note, bounded.
func shown(m ordo.Message) string {
	s := fmt.Sprintf("%+v", m)
	if len(s) > maxShown {
		s = s[:maxShown] + "…"
	}
	return s
}

// lie is Env.Send at a Byzantine node that lies about this message.
func (s *Sim) lie(ns *nodeState, to ordo.NodeID, m ordo.Message, early bool) {
	a := ns.adv
	switch a.Behaviour {
	case Silent:
		s.transmit(ns, to, m, early, xSilent, 0)
	case Equivocate:
		c, colludes := m.(Colluder)
		if e, ok := m.(Equivocator); ok || colludes {
			s.liars.add(m, ns.id)
			var m2 ordo.Message
			if colludes {
				m2 = c.Collude(to, a.rng, s.liars.each)
			} else {
				m2 = e.Equivocate(to, a.rng)
			}
			if m2 == nil || m2.Kind() != m.Kind() {
				panic(fmt.Sprintf("sim: %T's lie is a %T, want a message of kind %s", m, m2, m.Kind()))
			}
			if !reflect.DeepEqual(m, m2) {
				s.noteLie(ns, Equivocate, to, m.Kind(), "honest", shown(m), "sent", shown(m2))
			}
			s.liars.add(m2, to)
			s.transmit(ns, to, m2, early, xHonest, 0)
			return
		}
		if s.cfg.Wire {
			s.noteLie(ns, Equivocate, to, m.Kind(), "honest", shown(m), "sent", "its bytes with bits flipped")
			s.transmit(ns, to, m, early, xFlip, 0)
			return
		}
		m2 := TamperFields(m, a.rng)
		if !reflect.DeepEqual(m, m2) {
			s.noteLie(ns, Equivocate, to, m.Kind(), "honest", shown(m), "sent", shown(m2))
		}
		s.transmit(ns, to, m2, early, xHonest, 0)
	case Garbage:
		s.transmit(ns, to, m, early, xGarbage, 0)
	case Replay:
		s.transmit(ns, to, m, early, xReplay, 0)
	case VoteForEverything:
		s.transmit(ns, to, m, early, xHonest, 0) // its own messages are honest; its extra votes are in heard
	case Forge:
		as := a.claim(s, to)
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
	a := ns.adv
	v, ok := m.(Voter)
	if a.Behaviour != VoteForEverything || !ok || !a.lies() {
		return
	}
	votes := v.VotesFor(a.rng)
	if len(votes) > MaxVotes {
		panic(fmt.Sprintf("sim: %T.VotesFor returned %d votes, at most %d", m, len(votes), MaxVotes))
	}
	for _, vote := range votes {
		key := vote.Kind() + " " + fmt.Sprintf("%+v", vote)
		if a.voted[key] {
			continue
		}
		if len(a.voted) >= maxVoted || a.voted == nil {
			a.voted = map[string]bool{}
		}
		a.voted[key] = true
		for _, to := range s.roster.Servers {
			if to == ns.id || !ns.up {
				continue
			}
			s.noteLie(ns, VoteForEverything, to, vote.Kind(), "sent", shown(vote), "heard", m.Kind())
			s.transmit(ns, to, vote, false, xHonest, 0)
		}
	}
}

// claim is the sender a forger claims to to: As, or the lowest-numbered
// server (else node) that is neither the liar nor to; 0 when there is none.
func (a *adversary) claim(s *Sim, to ordo.NodeID) ordo.NodeID {
	if a.As != 0 && a.As != to {
		return a.As
	}
	for _, id := range s.roster.Servers {
		if id != a.Node && id != to {
			return id
		}
	}
	for i := 1; i < len(s.nodes); i++ {
		if id := ordo.NodeID(i); id != a.Node && id != to {
			return id
		}
	}
	return 0
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
	n := 1 + r.IntN(min(max(2*len(w.b), 16), ordo.MaxMessageSize/2))
	w.b = w.b[:0]
	for range n {
		w.b = append(w.b, byte(r.Uint32()))
	}
	for range 8 {
		if _, err := s.wire.codec.Decode(w.kind, w.b); err != nil {
			return
		}
		w.b = append(w.b, byte(r.Uint32()))
	}
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
		s.record(ns, trace.Event{Kind: trace.Send, Peer: r.to, Msg: id, MsgKind: kind, Bytes: size})
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
