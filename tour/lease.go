package tour

import (
	"fmt"
	"io"
	"strings"
	"time"

	"ordo/check"
	"ordo/election"
	"ordo/election/lease"
	"ordo/trace"
)

// Section 4's modern election on an external service: an ephemeral key
// under /leader-election/ on a model of etcd, a crash of the leader, and a
// leader paused past its lease — what failing closed and fencing tokens
// each stop.

func sceneLease(w io.Writer) error {
	r, err := runBuiltin("lease-leader-crash")
	if err != nil {
		return err
	}
	spans := election.LeaderSpans(r.Trace)
	// The scene checks its own story: one leader before the crash, which
	// the crash hits, and one after it with a larger token.
	if len(spans) != 2 || spans[0].Node != 2 || spans[0].Open || spans[1].Token <= spans[0].Token {
		return fmt.Errorf("lease scene: leaderships %+v, want n2 then a successor with a larger token", spans)
	}
	// The dead leader's key goes with its lease: revoked by its successor,
	// whose probes proved the lease expired, or by the service's lessor
	// on its next pass — whichever came first after the crash.
	var gone *trace.Event
	for i := range r.Trace.Events {
		e := &r.Trace.Events[i]
		if e.Kind == trace.Note && e.T > int64(3*time.Second) && (e.Name == lease.NotePredRevoked || e.Name == "lease-expired") {
			gone = e
			break
		}
	}
	if gone == nil {
		return fmt.Errorf("lease scene: the crashed leader's lease was neither revoked nor expired")
	}
	ms := func(ns int64) string { return fmtDur(time.Duration(ns).Round(time.Millisecond)) }
	fmt.Fprintln(w, "three candidates (n1..n3), a model of etcd (n4) and a fenced store (n5); TTL 2s:")
	fmt.Fprintf(w, "  %6s  %v's key under /leader-election/ is the oldest: it leads with fencing token %d;\n", ms(spans[0].From), spans[0].Node, spans[0].Token)
	fmt.Fprintln(w, "          the others each watch only the key just before their own")
	fmt.Fprintf(w, "  %6s  %v crashes: its keepalives stop\n", "3s", spans[0].Node)
	if gone.Name == lease.NotePredRevoked {
		fmt.Fprintf(w, "  %6s  %v, its successor, has asked how long the lease has left until the answers\n", ms(gone.T), gone.Node)
		fmt.Fprintln(w, "          proved it expired, and revokes it (etcd's lessor would look only every 500ms):")
		fmt.Fprintln(w, "          the key goes")
	} else {
		fmt.Fprintf(w, "  %6s  the service's lessor finds the lease expired and deletes its key\n", ms(gone.T))
	}
	fmt.Fprintf(w, "  %6s  %v re-checks its own key and leads with token %d: failover %s\n",
		ms(spans[1].From), spans[1].Node, spans[1].Token, fmtDur((time.Duration(spans[1].From) - 3*time.Second).Round(time.Millisecond)))

	fmt.Fprintln(w, "the leader n2 freezes at 3s for 4s (a pause longer than its TTL); n3 takes over:")
	for _, c := range []struct {
		file, label   string
		stale, fenced bool // the expected verdicts of stale-leader and fencing
	}{
		{"lease-paused-leader", "fails closed (the recipe)", true, true},
		{"lease-paused-leader-fenced", "no fail-closed, fenced store", false, true},
		{"lease-paused-leader-unfenced", "no fail-closed, unfenced store", false, false},
	} {
		r, err := runBuiltin(c.file)
		if err != nil {
			return err
		}
		stale, fence := verdict(r.Checks, "stale-leader"), verdict(r.Checks, "fencing")
		if stale == nil || fence == nil || stale.OK != c.stale || fence.OK != c.fenced {
			return fmt.Errorf("lease scene: %s: stale-leader and fencing verdicts differ from the story", c.file)
		}
		if err := pausedStory(r.Trace, c.stale, c.fenced); err != nil {
			return fmt.Errorf("lease scene: %s: %w", c.file, err)
		}
		what := "n2 steps down on waking, before it writes"
		switch {
		case !c.stale && c.fenced:
			what = "n2 writes token 2; the store refuses it"
		case !c.fenced:
			what = "the store accepts token 2 after 3: two leaders writing"
		}
		fmt.Fprintf(w, "  %-31s stale-leader %s  fencing %s\n    %s\n", c.label, mark(stale.OK), mark(fence.OK), what)
		if !fence.OK && len(fence.Violations) > 0 {
			fmt.Fprintf(w, "    %s\n", strings.SplitN(fence.Violations[0].Message, ":", 2)[0])
		}
	}
	fmt.Fprintln(w, "a lease alone cannot stop a paused leader: failing closed stops it from acting,")
	fmt.Fprintln(w, "the fencing token stops the store from believing it if it acts anyway.")
	fmt.Fprintln(w, "rerun: ordo sim lease-leader-crash; ordo sim lease-paused-leader-unfenced")
	fmt.Fprintln(w, "on a real etcd: ordo cluster up --protocol lease")
	return nil
}

// pausedStory checks what the scene says of the paused leader n2 after it
// wakes at 7s: failing closed, it steps down at its deadline and writes
// nothing more; otherwise it writes, and the store refuses (fenced) or
// accepts (unfenced) its token.
func pausedStory(t *trace.Trace, failsClosed, fenced bool) error {
	lostDeadline, refused, accepted := false, 0, 0
	for i := range t.Events {
		e := &t.Events[i]
		if e.Kind != trace.Note || e.T < int64(7*time.Second) {
			continue
		}
		if e.Node == 2 && e.Name == lease.NoteSessionLost && e.Attrs.Get("why") == lease.LostDeadline {
			lostDeadline = true
		}
		if w, _ := e.Attrs.Int("writer"); e.Name == election.NoteFence && e.Node == 5 && w == 2 {
			if ok, _ := e.Attrs.Get("accepted").(bool); ok {
				accepted++
			} else {
				refused++
			}
		}
	}
	switch {
	case failsClosed && (!lostDeadline || refused+accepted > 0):
		return fmt.Errorf("n2 woke: session lost at its deadline %v, %d writes after", lostDeadline, refused+accepted)
	case !failsClosed && fenced && (refused == 0 || accepted > 0):
		return fmt.Errorf("n2 woke: %d writes refused, %d accepted; want refused only", refused, accepted)
	case !failsClosed && !fenced && accepted == 0:
		return fmt.Errorf("n2 woke: no write of its accepted")
	}
	return nil
}

func verdict(rs []check.Result, name string) *check.Result {
	for i := range rs {
		if rs[i].Check == name {
			return &rs[i]
		}
	}
	return nil
}

func mark(ok bool) string {
	if ok {
		return "✓"
	}
	return "✗"
}
