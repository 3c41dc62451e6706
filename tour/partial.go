package tour

import (
	"fmt"
	"io"

	"ordo/election"
	"ordo/partial"
	"ordo/partial/scene"
	"ordo/trace"
)

// sceneOutage is the 2020 partial-partition outage of a three-node etcd
// cluster (section 5, partial connectivity): n1 and n3 cannot reach each
// other, n2 reaches both. Without CheckQuorum the leadership ping-pongs;
// with PreVote and CheckQuorum (the defaults) it holds.
func sceneOutage(w io.Writer) error {
	fmt.Fprintln(w, "a partial partition (the 2020 etcd outage): n1 and n3 lose each other at 1s,")
	fmt.Fprintln(w, "n2 still reaches both; 60s of raft:")
	for _, c := range []struct{ name, label string }{
		{"raft-partial-partition-outage", "without CheckQuorum"},
		{"raft-partial-partition-stable", "with the defaults (PreVote, CheckQuorum)"},
	} {
		r, err := runBuiltin(c.name)
		if err != nil {
			return err
		}
		changes := 0
		for i := range r.Trace.Events {
			e := &r.Trace.Events[i]
			if e.Kind == trace.Note && e.Name == election.NoteLeader && e.T > 2e9 {
				changes++
			}
		}
		verdict := "fail"
		for _, ch := range r.Checks {
			if ch.Check == "eventual-leader" && ch.OK {
				verdict = "pass"
			}
		}
		fmt.Fprintf(w, "  %-42s %4d leader changes after 2s, eventual-leader %s\n", c.label, changes, verdict)
	}
	fmt.Fprintln(w, "a follower that still hears its leader must not help depose it.")
	fmt.Fprintln(w, "rerun: ordo sim raft-partial-partition-outage; ordo sim raft-partial-partition-stable")
	return nil
}

// sceneTimeoutAmbiguity is section 5's partial failure: a request times out
// and the client cannot tell why; a naive retry applies a transfer twice
// where an idempotency key applies it once.
func sceneTimeoutAmbiguity(w io.Writer) error {
	rows, err := scene.Table(scene.DefaultScene, 1)
	if err != nil {
		return err
	}
	applied := map[scene.Cause]map[partial.Strategy]string{}
	for _, o := range rows {
		if applied[o.Cause] == nil {
			applied[o.Cause] = map[partial.Strategy]string{}
		}
		applied[o.Cause][o.Strategy] = o.AppliedClass()
	}
	fmt.Fprintln(w, "a transfer times out; times the server applied it, by cause and retry strategy:")
	fmt.Fprintf(w, "  %-32s %-9s %-9s %s\n", "cause", "no retry", "naive", "idempotency key")
	for _, c := range scene.Causes {
		a := applied[c]
		fmt.Fprintf(w, "  %-32s %-9s %-9s %s\n", c, a[partial.NoRetry], a[partial.NaiveRetry], a[partial.WithKey])
		if a[partial.WithKey] != "1" {
			return fmt.Errorf("timeout scene: the key applied %s times under %q", a[partial.WithKey], c)
		}
	}
	fmt.Fprintln(w, "the client sees the same timeout every time; only the key makes retrying safe.")
	fmt.Fprintln(w, "rerun: ordo sim partial-failure --seed 1")
	return nil
}
