package scenario

import (
	"errors"
	"strings"
	"testing"
	"time"

	"ordo/sim"

	_ "ordo/agreement/naive"
)

const naiveBase = "name: x\nprotocol: naive-agreement\nnodes: 3\nduration: 1s\n"

// A byzantine: list becomes sim.Config.Byzantine, entry by entry.
func TestParseByzantine(t *testing.T) {
	src := naiveBase + `byzantine:
  - {node: 1, behaviour: equivocate}
  - {node: 2, behaviour: replay, after: 250ms, rate: 0.5}
  - {node: 3, behaviour: forge, as: 1}
`
	sc, err := Parse("b.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := []sim.Byzantine{
		{Node: 1, Behaviour: sim.Equivocate},
		{Node: 2, Behaviour: sim.Replay, After: 250 * time.Millisecond, Rate: 0.5},
		{Node: 3, Behaviour: sim.Forge, As: 1},
	}
	if len(sc.Byzantine) != len(want) {
		t.Fatalf("%+v", sc.Byzantine)
	}
	for i := range want {
		if sc.Byzantine[i] != want[i] {
			t.Fatalf("entry %d: %+v, want %+v", i, sc.Byzantine[i], want[i])
		}
	}
	cfg := sc.Config(1, true)
	if len(cfg.Byzantine) != 3 || &cfg.Byzantine[0] == &sc.Byzantine[0] {
		t.Fatal("the simulator's config gets its own copy of the liars")
	}
}

// Every mistake in a byzantine: entry names its line.
func TestParseByzantineErrors(t *testing.T) {
	for _, c := range []struct {
		src, want string
		line      int
	}{
		{"byzantine: {node: 1}\n", "byzantine: want a list like [{node: 1, behaviour: equivocate}]", 5},
		{"byzantine:\n  - {behaviour: silent}\n", "byzantine[0]: missing node", 6},
		{"byzantine:\n  - {node: 4, behaviour: silent}\n", "byzantine[0].node: node 4 out of range: the cluster is nodes 1..3", 6},
		{"byzantine:\n  - {node: 1}\n", "byzantine[0]: missing behaviour (one of equivocate, forge, garbage, replay, silent, vote-for-everything)", 6},
		{"byzantine:\n  - {node: 1, behaviour: lie}\n", `byzantine[0].behaviour: unknown behaviour "lie" (valid: equivocate, forge, garbage, replay, silent, vote-for-everything)`, 6},
		{"byzantine:\n  - {node: 1, behavior: silent}\n", "byzantine[0].behavior: unknown field (valid: after, as, behaviour, node, rate)", 6},
		{"byzantine:\n  - {node: 1, behaviour: silent}\n  - {node: 1, behaviour: replay}\n", "byzantine[1].node: node 1 is Byzantine twice", 7},
		{"byzantine:\n  - {node: 1, behaviour: silent, after: 1s}\n", "byzantine[0].after: after is replay's", 6},
		{"byzantine:\n  - {node: 1, behaviour: replay, after: 0s}\n", "byzantine[0].after: after must be more than 0", 6},
		{"byzantine:\n  - {node: 1, behaviour: silent, as: 2}\n", "byzantine[0].as: as is forge's", 6},
		{"byzantine:\n  - {node: 1, behaviour: forge, as: 1}\n", "byzantine[0].as: node 1 would claim to be itself", 6},
		{"byzantine:\n  - {node: 1, behaviour: silent, rate: 2}\n", "byzantine[0].rate: a probability must be in [0, 1], got 2", 6},
		{"byzantine:\n  - {node: 1, behaviour: silent, rate: 0}\n", "byzantine[0].rate: a rate of 0 lies about nothing", 6},
		{"wire: false\nbyzantine:\n  - {node: 1, behaviour: garbage}\n", "byzantine[0].behaviour: garbage needs wire mode", 7},
	} {
		_, err := Parse("bad.yaml", []byte(naiveBase+c.src))
		var pe *Error
		if !errors.As(err, &pe) {
			t.Errorf("%q: error %v, want a located one", c.src, err)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || pe.Line != c.line {
			t.Errorf("%q:\n got  %v (line %d)\n want %q at line %d", c.src, err, pe.Line, c.want, c.line)
		}
	}
}

// vote-for-everything is a behaviour name like the others, with no
// fields of its own.
func TestParseByzantineVoteForEverything(t *testing.T) {
	sc, err := Parse("b.yaml", []byte(naiveBase+"byzantine:\n  - {node: 2, behaviour: vote-for-everything, rate: 0.5}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if want := (sim.Byzantine{Node: 2, Behaviour: sim.VoteForEverything, Rate: 0.5}); len(sc.Byzantine) != 1 || sc.Byzantine[0] != want {
		t.Fatalf("%+v, want %+v", sc.Byzantine, want)
	}
	if _, err := Parse("b.yaml", []byte(naiveBase+"byzantine:\n  - {node: 2, behaviour: vote-for-everything, as: 1}\n")); err == nil || !strings.Contains(err.Error(), "as is forge's") {
		t.Fatalf("as on vote-for-everything: %v", err)
	}
}
