package agreement_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"ordo"
	"ordo/agreement"
	_ "ordo/agreement/naive"
	"ordo/check"
	"ordo/scenario"
	"ordo/scenarios"
	"ordo/trace"
)

type dec struct {
	node  ordo.NodeID
	value any
	slot  int // 0: no slot attribute
	name  string
	index int    // 0: no index attribute
	batch string // "": no batch attribute
}

// decisions builds a trace of decide notes, one a millisecond.
func decisions(liars []trace.Liar, ds ...dec) *trace.Trace {
	tr := &trace.Trace{Meta: trace.Meta{Format: trace.FormatVersion, Runtime: "sim", Nodes: 4, Byzantine: liars}}
	for i, d := range ds {
		attrs := []any{"value", d.value}
		if d.slot != 0 {
			attrs = append(attrs, "slot", d.slot)
		}
		if d.index != 0 {
			attrs = append(attrs, "index", d.index)
		}
		if d.batch != "" {
			attrs = append(attrs, "batch", d.batch)
		}
		name := d.name
		if name == "" {
			name = agreement.NoteDecide
		}
		tr.Append(trace.Event{Kind: trace.Note, Node: d.node, T: int64(i+1) * int64(time.Millisecond), Lamport: 1, Name: name, Attrs: trace.MakeAttrs(attrs)})
	}
	return tr
}

func run(t *testing.T, tr *trace.Trace) check.Result {
	t.Helper()
	rs, err := check.Run(tr, []string{agreement.CheckName})
	if err != nil {
		t.Fatal(err)
	}
	return rs[0]
}

// Two correct nodes deciding differently fail, with both deciding events
// and the liars named; a liar's own decision is not judged.
func TestAgreementFailsOnSplitNamingTheLiar(t *testing.T) {
	liars := []trace.Liar{{Node: 1, Behaviour: "equivocate"}}
	r := run(t, decisions(liars, dec{node: 1, value: 9}, dec{node: 2, value: 5}, dec{node: 3, value: 7}, dec{node: 4, value: 5}))
	if r.Verdict != check.Fail || len(r.Violations) != 1 {
		t.Fatalf("%+v", r)
	}
	v := r.Violations[0]
	if len(v.Events) != 2 || v.Events[0] != 1 || v.Events[1] != 2 || !strings.Contains(v.Message, "n1 (equivocate)") || !strings.Contains(v.Message, "n2 decided 5") {
		t.Fatalf("violation %+v", v)
	}
	if v.From != int64(2*time.Millisecond) || v.To != int64(3*time.Millisecond) {
		t.Fatalf("violation spans %d..%d", v.From, v.To)
	}
}

func TestAgreementVerdicts(t *testing.T) {
	liar := []trace.Liar{{Node: 3, Behaviour: "silent"}}
	for _, c := range []struct {
		name string
		tr   *trace.Trace
		want check.Verdict
	}{
		{"all agree", decisions(nil, dec{node: 1, value: 5}, dec{node: 2, value: 5}), check.Pass},
		{"only a liar disagrees", decisions(liar, dec{node: 1, value: 5}, dec{node: 3, value: 7}, dec{node: 2, value: 5}), check.Pass},
		{"JSON numbers read back equal", decisions(nil, dec{node: 1, value: int64(5)}, dec{node: 2, value: float64(5)}), check.Pass},
		{"different slots may differ", decisions(nil, dec{node: 1, value: 5, slot: 1}, dec{node: 2, value: 7, slot: 2}, dec{node: 2, value: 5, slot: 1}), check.Pass},
		{"one slot may not", decisions(nil, dec{node: 1, value: 5, slot: 1}, dec{node: 2, value: 7, slot: 1}), check.Fail},
		{"a node changes its mind", decisions(nil, dec{node: 1, value: 5}, dec{node: 1, value: 7}), check.Fail},
		{"layered notes count", decisions(nil, dec{node: 1, value: 5, name: "pbft/decide"}, dec{node: 2, value: 7, name: "pbft/decide"}), check.Fail},
		{"no decision", decisions(nil), check.NotApplicable},
		{"only liars decided", decisions(liar, dec{node: 3, value: 5}), check.NotApplicable},
	} {
		if r := run(t, c.tr); r.Verdict != c.want {
			t.Errorf("%s: %s (%s), want %s", c.name, r.Verdict, r.Summary, c.want)
		}
	}
}

// The liars survive a trace's round trip through JSON Lines, so a stored
// trace is judged like the live run.
func TestAgreementOnAStoredTrace(t *testing.T) {
	tr := decisions([]trace.Liar{{Node: 1, Behaviour: "equivocate"}}, dec{node: 2, value: int64(5)}, dec{node: 3, value: int64(7)})
	var b bytes.Buffer
	if err := tr.Write(&b); err != nil {
		t.Fatal(err)
	}
	back, err := trace.Read(&b)
	if err != nil {
		t.Fatal(err)
	}
	if !back.Meta.IsByzantine(1) {
		t.Fatalf("meta read back: %+v", back.Meta)
	}
	if r := run(t, back); r.Verdict != check.Fail || !strings.Contains(r.Summary, "n1 (equivocate)") {
		t.Fatalf("%+v", r)
	}
}

// The built-in scenarios: the chapter's figure fails at nodes 2 and 3, on
// every seed; without the liar, or with a silent one, agreement holds.
func TestSection5Scenarios(t *testing.T) {
	for name, want := range map[string]check.Verdict{"byzantine-section5": check.Fail, "byzantine-section5-honest": check.Pass, "byzantine-section5-silent": check.Pass} {
		data, err := scenarios.Read(name)
		if err != nil {
			t.Fatal(err)
		}
		sc, err := scenario.Parse(name+".yaml", data)
		if err != nil {
			t.Fatal(err)
		}
		for seed := uint64(1); seed <= 50; seed++ {
			res, err := sc.Run(scenario.RunOptions{Seed: &seed})
			if err != nil {
				t.Fatal(err)
			}
			if r := res.Checks[0]; r.Verdict != want {
				t.Fatalf("%s seed %d: %s (%s), want %s", name, seed, r.Verdict, r.Summary, want)
			}
		}
	}
}

// Batches (PBFT, section 5.1): values are compared per (slot, index), so
// the requests of one batch are not a disagreement with each other; the
// same request at one (slot, index) of two different batches is one (the
// batches differ elsewhere), and so is a different request at one place.
func TestAgreementComparesBatchesPerPlace(t *testing.T) {
	ok := decisions(nil,
		dec{node: 1, value: "a", slot: 1, batch: "B1"}, dec{node: 1, value: "b", slot: 1, index: 1, batch: "B1"},
		dec{node: 2, value: "a", slot: 1, batch: "B1"}, dec{node: 2, value: "b", slot: 1, index: 1, batch: "B1"})
	if r := run(t, ok); r.Verdict != check.Pass || !strings.Contains(r.Summary, "4 decisions in 1 slot;") {
		t.Fatalf("one batch of two at two nodes: %+v", r)
	}
	// A first decision that names no batch does not hide two later
	// ones that name different batches.
	unnamed := decisions(nil,
		dec{node: 1, value: "a", slot: 1}, dec{node: 2, value: "a", slot: 1, batch: "B1"}, dec{node: 3, value: "a", slot: 1, batch: "B2"})
	if r := run(t, unnamed); r.Verdict != check.Fail {
		t.Fatalf("batches B1 and B2 after a decision naming none: %+v", r)
	}
	prefix := decisions(nil,
		dec{node: 1, value: "a", slot: 1, batch: "B1"}, dec{node: 1, value: "b", slot: 1, index: 1, batch: "B1"},
		dec{node: 2, value: "a", slot: 1, batch: "B2"})
	if r := run(t, prefix); r.Verdict != check.Fail || len(r.Violations) != 1 || !strings.Contains(r.Violations[0].Message, "a in batch B1") {
		t.Fatalf("a batch and its prefix at slot 1: %+v", r)
	}
	other := decisions(nil,
		dec{node: 1, value: "a", slot: 1, batch: "B1"}, dec{node: 1, value: "b", slot: 1, index: 1, batch: "B1"},
		dec{node: 2, value: "a", slot: 1, batch: "B3"}, dec{node: 2, value: "c", slot: 1, index: 1, batch: "B3"})
	if r := run(t, other); r.Verdict != check.Fail || len(r.Violations) != 2 || !strings.Contains(r.Violations[1].Message, "slot 1 index 1") {
		t.Fatalf("two batches differing at index 1: %+v", r)
	}
}
