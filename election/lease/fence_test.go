package lease_test

import (
	"strings"
	"testing"

	"ordo/check"
	"ordo/election"
	"ordo/scenario"
	"ordo/trace"
)

// The fencing checker must judge the simulator's trace (where the store
// notes every write itself and the writer notes the answer too) and a
// live-like trace (no events of the external store: only the writers'
// notes on its behalf) alike: each accepted write counted once, in the
// store's order (its seq), whatever order the notes come in.
func TestFencingSameVerdictWithoutTheStoresNotes(t *testing.T) {
	for file, want := range map[string]check.Verdict{
		"lease-paused-leader-unfenced.yaml": check.Fail,
		"lease-paused-leader-fenced.yaml":   check.Pass,
		"lease-paused-leader.yaml":          check.Pass,
	} {
		sc, err := scenario.Load("../../scenarios/" + file)
		if err != nil {
			t.Fatal(err)
		}
		res, err := sc.Run(scenario.RunOptions{Trace: true})
		if err != nil {
			t.Fatal(err)
		}
		full := res.Trace
		live := &trace.Trace{Meta: full.Meta}
		storeNotes, writerNotes := 0, 0
		for _, e := range full.Events {
			if e.Kind == trace.Note && e.Name == election.NoteFence {
				if full.Meta.IsServer(int(e.Node)) {
					writerNotes++
				} else {
					storeNotes++
				}
			}
			if !full.Meta.IsServer(int(e.Node)) && e.Node != 0 {
				continue // the store and the service leave no events live
			}
			live.Append(e)
		}
		if storeNotes == 0 || writerNotes == 0 {
			t.Fatalf("%s: %d store notes, %d writer notes: want both", file, storeNotes, writerNotes)
		}
		var sums [2]string
		for i, tr := range []*trace.Trace{full, live} {
			rs, err := check.Run(tr, []string{"fencing"})
			if err != nil {
				t.Fatal(err)
			}
			if rs[0].Verdict != want {
				t.Errorf("%s (trace %d of 2): fencing %s, want %s: %s", file, i+1, rs[0].Verdict, want, rs[0].Summary)
			}
			sums[i] = rs[0].Summary
		}
		// The same writes counted: the store's notes and the writers'
		// are one set of writes (every answer reached its writer here).
		if sums[0] != sums[1] {
			t.Errorf("%s: with the store's notes %q, without %q", file, sums[0], sums[1])
		}
		if !strings.Contains(sums[0], "writes accepted") {
			t.Errorf("%s: summary %q counts no writes", file, sums[0])
		}
	}
}
