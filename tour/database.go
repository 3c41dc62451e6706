package tour

import (
	"fmt"
	"io"
	"time"

	"ordo"
	"ordo/election"
	"ordo/history"
	"ordo/internal/plural"
	"ordo/trace"
)

// sceneDatabase is exercise 3 with data: the 5-node database (Raft log
// replication under a key-value store) keeps every acknowledged write and
// stays linearizable while its leader crashes and the network splits 2|3.
func sceneDatabase(w io.Writer) error {
	r, err := runBuiltin("kv-exercise3")
	if err != nil {
		return err
	}
	spans := election.LeaderSpans(r.Trace)
	leaderAt := func(at time.Duration) ordo.NodeID {
		for _, s := range spans {
			if s.From <= int64(at) && (s.Open || s.To > int64(at)) {
				return s.Node
			}
		}
		return ordo.None
	}
	// The scene checks its own story: the crash hits the leader, and the
	// split leaves the leader on the minority side.
	crashed, split := leaderAt(2*time.Second-time.Millisecond), leaderAt(4*time.Second-time.Millisecond)
	if crashed != 4 || (split != 1 && split != 2) {
		return fmt.Errorf("exercise 3: the leader at 2s is %v (the crash hits n4) and at 4s %v (the split isolates n1, n2)", crashed, split)
	}
	fmt.Fprintln(w, "kv, 5 servers, 3 clients writing, reading and cas-ing 3 keys (fsync 1ms):")
	fmt.Fprintf(w, "  2s  the leader %v crashes            3s  it restarts and catches up\n", crashed)
	fmt.Fprintf(w, "  4s  the split {1,2}|{3,4,5} leaves leader %v in the minority   7s  it heals\n", split)
	fmt.Fprint(w, "leaders:")
	for i, s := range spans {
		if i > 0 && i%4 == 0 {
			fmt.Fprint(w, "\n        ")
		}
		fmt.Fprintf(w, " %v (term %d, %s)", s.Node, s.Term, fmtDur(time.Duration(s.From).Round(time.Millisecond)))
	}
	fmt.Fprintln(w)
	transfers := 0
	for i := range r.Trace.Events {
		if e := &r.Trace.Events[i]; e.Kind == trace.Note && e.Name == election.NoteTransfer {
			transfers++
		}
	}
	fmt.Fprintf(w, "  (from 6s an admin client transfers leadership or changes membership every 1.5s: %s)\n", plural.Count(transfers, "transfer"))
	ops, err := history.FromTrace(r.Trace)
	if err != nil {
		return err
	}
	counts := map[history.Outcome]int{}
	for _, op := range ops {
		counts[op.Outcome]++
	}
	fmt.Fprintf(w, "client operations: %d ok, %d failed (cas mismatch, refusal), %d unknown (timeout)\n",
		counts[history.OutcomeOK], counts[history.OutcomeFail], counts[history.OutcomeInfo])
	for _, c := range r.Checks {
		fmt.Fprintf(w, "check %s: ", c.Check)
		if c.OK {
			fmt.Fprint(w, "✓ pass")
		} else {
			fmt.Fprint(w, "✗ fail")
		}
		fmt.Fprintf(w, "\n  %s\n", c.Summary)
	}
	for _, c := range r.Checks {
		if !c.OK {
			return fmt.Errorf("exercise 3: %s failed: %s", c.Check, c.Summary)
		}
	}
	fmt.Fprintln(w, "the minority side answers not-leader or times out: it cannot commit, so it")
	fmt.Fprintln(w, "cannot lose or contradict a write the majority acknowledged.")
	fmt.Fprintln(w, "a read path that skips ReadIndex (kv-stale) is caught: not linearizable.")
	fmt.Fprintln(w, "rerun: ordo sim kv-exercise3; ordo sim kv-stale")
	fmt.Fprintln(w, "the same with real processes: ordo cluster chaos --protocol kv -n 5 --rounds 5")
	return nil
}
