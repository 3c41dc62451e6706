package adversary_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"ordo"
	"ordo/adversary"
)

func TestParse(t *testing.T) {
	for _, b := range adversary.Behaviours {
		if got, err := adversary.Parse(string(b)); err != nil || got != b {
			t.Errorf("%s: %v %v", b, got, err)
		}
	}
	if _, err := adversary.Parse("lie"); err == nil || !strings.Contains(err.Error(), "vote-for-everything") {
		t.Errorf("unknown behaviour: %v, want the list", err)
	}
	if err := (&adversary.Liar{Behaviour: adversary.Silent, Rate: 1.5}).Check(); err == nil {
		t.Error("rate 1.5 accepted")
	}
}

func TestClaim(t *testing.T) {
	servers := []ordo.NodeID{1, 2, 3, 4}
	for _, c := range []struct{ as, liar, to, want ordo.NodeID }{
		{0, 1, 2, 3}, {0, 2, 1, 3}, {0, 3, 1, 2}, {4, 1, 2, 4}, {4, 1, 4, 2},
	} {
		if got := adversary.Claim(c.as, c.liar, c.to, servers, 4); got != c.want {
			t.Errorf("Claim(as %d, liar %d, to %d) = %d, want %d", c.as, c.liar, c.to, got, c.want)
		}
	}
	if got := adversary.Claim(0, 1, 2, []ordo.NodeID{1, 2}, 2); got != 0 {
		t.Errorf("no third node: %d, want 0", got)
	}
}

// GarbageBytes never returns bytes that decode (seed 1).
func TestGarbageNeverDecodes(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		b := adversary.GarbageBytes(nil, 10, r, func(b []byte) bool { return len(b)%3 != 0 })
		if len(b)%3 != 0 || len(b) == 0 {
			t.Fatalf("%d bytes decode", len(b))
		}
	}
	if b := adversary.Flip([]byte{0}, r); b[0] == 0 {
		t.Fatal("Flip flipped nothing")
	}
}

// The book is newest first and forgets the oldest beyond MaxBook.
func TestBookRing(t *testing.T) {
	var b adversary.Book
	for i := range adversary.MaxBook + 5 {
		b.Add(ordo.PeerDown{}, ordo.NodeID(i))
	}
	var seen []ordo.NodeID
	b.Each(func(_ ordo.Message, to ordo.NodeID) bool { seen = append(seen, to); return true })
	if len(seen) != adversary.MaxBook || seen[0] != adversary.MaxBook+4 || seen[len(seen)-1] != 5 {
		t.Fatalf("%d entries, newest %d, oldest %d", len(seen), seen[0], seen[len(seen)-1])
	}
}

// vote is a signed message: odd recipients hear another value.
type vote struct {
	V   string
	Sig string
}

func (vote) Kind() string { return "vote" }

func (v vote) Equivocate(to ordo.NodeID, _ *rand.Rand) ordo.Message {
	if to%2 == 1 {
		v.V = "lie"
	}
	return v
}

func (v vote) Resign(sign func([]byte) []byte) ordo.Message {
	v.Sig = string(sign([]byte(v.V)))
	return v
}

func (v vote) VotesFor(*rand.Rand) []ordo.Message {
	return []ordo.Message{vote{V: "mine"}, vote{V: "other"}}
}

// A liar signs its lies and its votes with its own key (Liar.Sign): a
// lie is its own statement, which it can sign, so a receiver counts it as
// the liar's (a conflicting vote), not as a forgery. The truth keeps the
// honest signature, and without Sign nothing is signed again.
func TestLiarSignsItsLies(t *testing.T) {
	sign := func(b []byte) []byte { return append([]byte("liar:"), b...) }
	l := adversary.NewLiar(1, 3, adversary.Equivocate, 1)
	l.Sign = sign
	honest := vote{V: "truth", Sig: "honest"}
	if got, _ := l.Equivocate(honest, 2, nil); got != honest {
		t.Fatalf("the truth told as %+v, want it as signed", got)
	}
	if got, _ := l.Equivocate(honest, 1, nil); got != (vote{V: "lie", Sig: "liar:lie"}) {
		t.Fatalf("the lie %+v, want it signed by the liar", got)
	}
	v := adversary.NewLiar(1, 3, adversary.VoteForEverything, 1)
	v.Sign = sign
	for _, m := range v.Votes(honest) {
		if m := m.(vote); m.Sig != "liar:"+m.V {
			t.Fatalf("vote %+v not signed by the liar", m)
		}
	}
	unsigned := adversary.NewLiar(1, 3, adversary.Equivocate, 1)
	if got, _ := unsigned.Equivocate(honest, 1, nil); got != (vote{V: "lie", Sig: "honest"}) {
		t.Fatalf("without Sign: %+v, want the lie with the honest signature", got)
	}
}
