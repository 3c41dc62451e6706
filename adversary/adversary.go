// Package adversary is what a Byzantine node does to the messages it
// sends (issue 14, the chapter's section 5, "Byzantine failure"): the
// behaviours, the interfaces through which a message type lies about
// itself, the liars' shared book, and one liar's per-message decisions.
// The simulator (sim/adversary.go) and the live runtime (live/byzantine.go)
// both lie through it, so a behaviour means the same in both: the
// simulator decides with a random source derived from the run's seed
// (bit for bit reproducible), a live node with one seeded from the
// cluster's seed.
//
// What each runtime does with a decision is its own: the simulator
// transmits, drops, flips bytes or delivers as another sender in its
// network; the live runtime sends through its transport, where mutual TLS
// refuses a forged sender (the certificate names the node the hello
// claims) and the decoder refuses garbage.
package adversary

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"time"

	"ordo"
)

// Behaviour is one way a Byzantine node lies.
type Behaviour string

const (
	// Silent drops every message the node sends (it still runs, receives
	// and notes): a crash fault to the others, as seen from outside.
	Silent Behaviour = "silent"
	// Equivocate sends different messages to different recipients: a
	// message implementing Equivocator (or Colluder) chooses what each
	// recipient hears (the chapter's "5 to B, 7 to C"); any other message
	// has bits of its encoding flipped per recipient (Flip).
	Equivocate Behaviour = "equivocate"
	// Garbage replaces each message with random bytes of its kind
	// (GarbageBytes): the receiver's decoder refuses them.
	Garbage Behaviour = "garbage"
	// Replay sends every message honestly, and sends it again, to the
	// same recipient, a while later: an old message, authentically its
	// sender's.
	Replay Behaviour = "replay"
	// Forge claims another sender (Claim) for every message: refused by
	// authenticated links (the simulator's MAC, live mutual TLS),
	// believed by the others.
	Forge Behaviour = "forge"
	// VoteForEverything sends every message honestly and, on hearing a
	// message that implements Voter, also the votes Voter names (for what
	// it heard and for conflicting values) to every other server.
	VoteForEverything Behaviour = "vote-for-everything"
)

// Behaviours lists the behaviours, sorted.
var Behaviours = []Behaviour{Equivocate, Forge, Garbage, Replay, Silent, VoteForEverything}

// Names is the behaviours' names, comma-separated.
func Names() string {
	s := make([]string, len(Behaviours))
	for i, b := range Behaviours {
		s[i] = string(b)
	}
	return strings.Join(s, ", ")
}

// Parse reads a behaviour's name; the error lists the valid ones.
func Parse(s string) (Behaviour, error) {
	b := Behaviour(s)
	if !slices.Contains(Behaviours, b) {
		return "", fmt.Errorf("unknown behaviour %q (valid: %s)", s, Names())
	}
	return b, nil
}

// DefaultReplayAfter is how long Replay waits by default.
const DefaultReplayAfter = time.Second

// The adversary's trace vocabulary.
const (
	// NoteByzantine is the note a liar's every lie is recorded as.
	NoteByzantine = "byzantine"
	// DropSilent is the drop reason of a silent node's messages.
	DropSilent = "byzantine: silent"
)

// Equivocator is implemented by a message type that knows how to lie
// about itself: the message recipient `to` hears instead of m from an
// equivocating node (m itself for a recipient told the truth). It must
// be deterministic given r, and must not modify m.
type Equivocator interface {
	Equivocate(to ordo.NodeID, r *rand.Rand) ordo.Message
}

// Colluder is implemented by a message type whose lie needs what the
// other liars know. The f liars of a run are one adversary (the
// Byzantine model lets faulty nodes coordinate): an equivocating primary
// tells some replicas one request and others another, and an
// equivocating backup backs each replica's version only if it knows which
// one that replica was told, which its own prepare does not say. Collude
// is Equivocate with the liars' book: known calls fn on each message an
// equivocating liar sent, as its protocol wrote it (with to, the liar
// itself: what it tells itself) and as it transmitted it (with to, its
// recipient: the lie that recipient got, or the truth), and on each it
// received from a node that is not one of them (with to, the liar),
// newest first, until fn returns false; at most MaxBook, the oldest
// forgotten. Where both are implemented, Collude is used. Deterministic
// given r and the book; must not modify m.
type Colluder interface {
	Collude(to ordo.NodeID, r *rand.Rand, known func(fn func(m ordo.Message, to ordo.NodeID) bool)) ordo.Message
}

// Voter is implemented by a message type that a vote-for-everything node
// answers: VotesFor is every vote it casts on hearing m — for what m
// proposes and for conflicting values (a BFT protocol's prepare and
// commit for the digest heard and for another). Each vote goes to every
// server but the liar. It must be deterministic given r, must not modify
// m, and returns at most MaxVotes messages.
type Voter interface {
	VotesFor(r *rand.Rand) []ordo.Message
}

// Signed is implemented by a message that carries its sender's
// signature over what it says (ordo.Signer): a vote that may be passed on
// as evidence, like PBFT's prepares in a view-change certificate. A
// Byzantine node signs its lies with its own key — it has one — but
// cannot sign as another: Resign returns the message signed again by
// sign (the liar's Sign), and the runtimes resign every lie and vote a
// liar sends (Liar.Sign).
type Signed interface {
	Resign(sign func([]byte) []byte) ordo.Message
}

// Bounds: MaxBook messages in the liars' book; MaxVotes votes one heard
// message makes a vote-for-everything node cast, and maxVoted the
// distinct votes it remembers having cast (so a vote heard again is not
// cast again; forgotten all at once when full).
const (
	MaxBook  = 1 << 10
	MaxVotes = 16
	maxVoted = 1 << 12
)

// Book is the equivocating liars' shared memory (Colluder): a ring of
// the last MaxBook messages they transmitted or received. In the
// simulator every liar of a run writes to one book; live, each liar has
// its own (the liars of a live cluster do not talk behind its back).
type Book struct {
	ring []booked
	next int
}

type booked struct {
	m  ordo.Message
	to ordo.NodeID
}

// Add writes m (with to, as Colluder says) to the book.
func (b *Book) Add(m ordo.Message, to ordo.NodeID) {
	if len(b.ring) < MaxBook {
		b.ring = append(b.ring, booked{m, to})
	} else {
		b.ring[b.next] = booked{m, to}
	}
	b.next = (b.next + 1) % MaxBook // the oldest, once full
}

// Each calls fn newest first until it returns false.
func (b *Book) Each(fn func(ordo.Message, ordo.NodeID) bool) {
	n := len(b.ring)
	for i := range n {
		e := b.ring[((b.next-1-i)%n+n)%n]
		if !fn(e.m, e.to) {
			return
		}
	}
}

// Liar is one Byzantine node's decisions, message by message.
type Liar struct {
	Node      ordo.NodeID
	Behaviour Behaviour
	// Rate is the probability that one message is lied about (0 means 1:
	// every message).
	Rate float64
	// Rng is the liar's own random source: every choice is drawn from it.
	Rng *rand.Rand
	// Sign is the liar's own signature (its node's ordo.Signer), with
	// which its lies and votes that carry one (Signed) are signed again;
	// nil leaves them as the honest code signed them.
	Sign  func([]byte) []byte
	voted map[string]bool // VoteForEverything: the votes cast, at most maxVoted
}

// NewLiar is node's liar in a run of seed: its random source is derived
// from the seed and the node alone, so the simulator and the live runtime
// draw the same choices for the same node and seed.
func NewLiar(seed uint64, node ordo.NodeID, b Behaviour, rate float64) *Liar {
	rng := rand.New(rand.NewPCG(seed, 0x62797a00+uint64(node))) // "byz"
	return &Liar{Node: node, Behaviour: b, Rate: rate, Rng: rng}
}

// Check refuses a rate outside [0, 1] (or NaN) and an unknown behaviour.
func (l *Liar) Check() error {
	if !slices.Contains(Behaviours, l.Behaviour) {
		return fmt.Errorf("unknown behaviour %q (valid: %s)", l.Behaviour, Names())
	}
	if l.Rate < 0 || l.Rate > 1 || l.Rate != l.Rate {
		return fmt.Errorf("rate %v out of range [0, 1]", l.Rate)
	}
	return nil
}

// Lies reports whether the liar lies about the next message (one draw
// when 0 < Rate < 1).
func (l *Liar) Lies() bool {
	return l.Rate == 0 || l.Rate >= 1 || l.Rng.Float64() < l.Rate
}

// Equivocate is what recipient to hears instead of m: ok is false when
// m's type implements neither Colluder nor Equivocator (the runtime then
// flips bits of its encoding). The book, when not nil, gets m (as the
// liar wrote it) and the lie (as to got it). It panics when a message
// type lies with another kind, a bug of that type.
func (l *Liar) Equivocate(m ordo.Message, to ordo.NodeID, book *Book) (lie ordo.Message, ok bool) {
	c, colludes := m.(Colluder)
	e, equivocates := m.(Equivocator)
	if !colludes && !equivocates {
		return m, false
	}
	if book == nil {
		book = &Book{}
	}
	book.Add(m, l.Node)
	if colludes {
		lie = c.Collude(to, l.Rng, book.Each)
	} else {
		lie = e.Equivocate(to, l.Rng)
	}
	if lie == nil || lie.Kind() != m.Kind() {
		panic(fmt.Sprintf("adversary: %T's lie is a %T, want a message of kind %s", m, lie, m.Kind()))
	}
	if Changed(m, lie) {
		lie = l.resign(lie)
	}
	book.Add(lie, to)
	return lie, true
}

// Changed reports whether a lie differs from the honest message.
func Changed(m, lie ordo.Message) bool { return !reflect.DeepEqual(m, lie) }

// Votes are the votes a vote-for-everything liar casts on hearing m, each
// at most once (nil when it does not lie about m). The caller sends each
// to every other server.
func (l *Liar) Votes(m ordo.Message) []ordo.Message {
	v, ok := m.(Voter)
	if l.Behaviour != VoteForEverything || !ok || !l.Lies() {
		return nil
	}
	votes := v.VotesFor(l.Rng)
	if len(votes) > MaxVotes {
		panic(fmt.Sprintf("adversary: %T.VotesFor returned %d votes, at most %d", m, len(votes), MaxVotes))
	}
	var out []ordo.Message
	for _, vote := range votes {
		key := vote.Kind() + " " + fmt.Sprintf("%+v", vote)
		if l.voted[key] {
			continue
		}
		if len(l.voted) >= maxVoted || l.voted == nil {
			l.voted = map[string]bool{}
		}
		l.voted[key] = true
		out = append(out, l.resign(vote))
	}
	return out
}

// resign signs m with the liar's key when m carries a signature.
func (l *Liar) resign(m ordo.Message) ordo.Message {
	s, ok := m.(Signed)
	if !ok || l.Sign == nil {
		return m
	}
	re := s.Resign(l.Sign)
	if re == nil || re.Kind() != m.Kind() {
		panic(fmt.Sprintf("adversary: %T.Resign gave a %T, want a message of kind %s", m, re, m.Kind()))
	}
	return re
}

// Claim is the sender a forger claims to recipient to: as when set (and
// not to), else the lowest-numbered server that is neither the liar nor
// to, else the lowest-numbered node of 1..nodes; 0 when there is none.
func Claim(as, liar, to ordo.NodeID, servers []ordo.NodeID, nodes int) ordo.NodeID {
	if as != 0 && as != to {
		return as
	}
	for _, id := range servers {
		if id != liar && id != to {
			return id
		}
	}
	for i := 1; i <= nodes; i++ {
		if id := ordo.NodeID(i); id != liar && id != to {
			return id
		}
	}
	return 0
}

// GarbageBytes is b (reused) filled with random bytes that do not decode as a
// message of its kind (decodes reports whether they do): 1 up to twice
// the honest size (at least 16, at most ordo.MaxMessageSize/2) bytes.
// The codec's parse is prefix-driven and refuses trailing bytes, so bytes
// that happen to decode stop decoding with one byte more.
func GarbageBytes(b []byte, honest int, r *rand.Rand, decodes func([]byte) bool) []byte {
	n := 1 + r.IntN(min(max(2*honest, 16), ordo.MaxMessageSize/2))
	b = b[:0]
	for range n {
		b = append(b, byte(r.Uint32()))
	}
	for range 8 {
		if !decodes(b) {
			return b
		}
		b = append(b, byte(r.Uint32()))
	}
	return b
}

// Flip flips one or two random bits of a copy of b (an empty b becomes
// one nonzero byte): an equivocation of a message that cannot lie about
// itself.
func Flip(b []byte, r *rand.Rand) []byte { return FlipInPlace(slices.Clone(b), r) }

// FlipInPlace is Flip on b itself (the simulator flips its pooled copy).
func FlipInPlace(b []byte, r *rand.Rand) []byte {
	if len(b) == 0 {
		return append(b, byte(1+r.IntN(255)))
	}
	for range 1 + r.IntN(2) {
		b[r.IntN(len(b))] ^= 1 << r.IntN(8)
	}
	return b
}

// maxShown bounds a message shown in a lie's note.
const maxShown = 200

// Shown is m in words for a note, bounded.
func Shown(m ordo.Message) string {
	s := fmt.Sprintf("%+v", m)
	if len(s) > maxShown {
		s = s[:maxShown] + "…"
	}
	return s
}
