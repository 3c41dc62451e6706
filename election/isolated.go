package election

import (
	"fmt"
	"time"

	"ordo"
	"ordo/check"
	"ordo/internal/plural"
	"ordo/trace"
)

// ---- isolated-leader --------------------------------------------------------

// A leader must be in contact with a majority of servers: one that cannot
// exchange messages with a quorum can commit nothing and serve no
// linearizable read, yet a protocol without CheckQuorum lets it believe it
// leads for as long as the partition lasts (issue 9, case 6: a star with
// check_quorum off left a leaf leading for a minute while it reached one
// node, and every other check passed). The finding: a running server held
// the leader role for longer than Bound while it reached fewer than a
// majority of servers both ways. Connectivity comes from the run's fault
// events (check.Net), as for eventual-leader.

func init() { check.Register(IsolatedLeader{}) }

// IsolatedLeader is the isolated-leader checker with an explicit bound (0:
// IsolationBound of the trace).
type IsolatedLeader struct{ Bound time.Duration }

// Name implements check.Checker.
func (IsolatedLeader) Name() string { return "isolated-leader" }

// Doc implements check.Checker.
func (IsolatedLeader) Doc() string {
	return "no running server holds the leader role for longer than a bound while it cannot reach a majority of servers (section 5: a leader without a quorum must step down, as CheckQuorum makes it)"
}

// Check implements check.Checker.
func (c IsolatedLeader) Check(t *trace.Trace) check.Result { return check.Replay(c, t) }

// Start implements check.Online.
func (c IsolatedLeader) Start(m *trace.Meta) (check.Judge, error) {
	bound := c.Bound
	auth := authorityOf(m)
	if bound == 0 {
		bound = IsolationBound(*m)
		if _, set := m.Options["isolation_bound"]; auth.id != ordo.None && !set {
			bound = max(auth.bound, time.Millisecond) // a service's election: its lease
		}
	}
	return gate(c.Name(), m, &isolated{bound: bound, auth: auth, net: check.NewNet(m), spans: NewSpanLog(m),
		since: make([]int64, m.Nodes+1), reported: make([]bool, m.Nodes+1)}), nil
}

// IsolationBound is how long a leader may go on leading without a quorum:
// the run's election_timeout_max option when it has one (a CheckQuorum
// leader steps down within a heartbeat and its lease, both below it), else
// its largest timeout option, else one second. The option isolation_bound
// overrides it.
func IsolationBound(m trace.Meta) time.Duration {
	for _, k := range []string{"isolation_bound", "election_timeout_max"} {
		if d, err := time.ParseDuration(m.Options[k]); err == nil && d > 0 {
			return d
		}
	}
	return max(time.Second, EventualBound(m)/4)
}

type isolated struct {
	bound    time.Duration
	auth     authority // a service's election: isolation is from it
	net      *check.Net
	spans    *SpanLog
	since    []int64 // by node: when it began leading without a quorum, -1 when not
	reported []bool  // by node: this leadership was reported already
	found    []check.Violation
	// isolatedCount is how many servers lead without a quorum now.
	isolatedCount int
	count         int
	now           int64
}

func (j *isolated) Observe(e *trace.Event) {
	j.advance(e.T)
	j.net.Observe(e)
	opened, closed := j.spans.Observe(e)
	if closed >= 0 {
		j.reported[j.spans.Span(closed).Node] = false
	}
	if opened >= 0 {
		j.reported[j.spans.Span(opened).Node] = false
	}
	// Isolation changes only with connectivity or leadership: most events
	// (sends, receives, timers) leave it as it was.
	if opened >= 0 || closed >= 0 || check.Changes(e) {
		j.update(e.T)
	}
}

// advance reports every leader whose isolation has outlasted the bound by t.
func (j *isolated) advance(t int64) {
	j.now = t
	if j.isolatedCount == 0 {
		return
	}
	for id := 1; id < len(j.since); id++ {
		if j.since[id] > 0 && !j.reported[id] && t-j.since[id] > int64(j.bound) {
			j.report(id, j.since[id]-1+int64(j.bound))
		}
	}
}

// Wants implements check.Interest.
func (j *isolated) Wants(k trace.Kind) bool { return structural(k) }

// End implements check.Ender.
func (j *isolated) End(t int64) {
	j.spans.Until(t)
	j.advance(t)
}

func (j *isolated) report(id int, t int64) {
	j.reported[id] = true
	j.count++
	if len(j.found) < MaxReported {
		k := j.spans.Leading(id)
		term := int64(0)
		if k >= 0 {
			term = j.spans.Span(k).Term
		}
		what := fmt.Sprintf("a majority of the %d servers", len(j.net.Servers()))
		if j.auth.id != ordo.None {
			what = j.auth.id.String() + ", the service that grants leadership,"
		}
		j.found = append(j.found, check.Violation{
			Message: fmt.Sprintf("isolated leader: n%d (term %d) leads from %s without reaching %s for more than %s",
				id, term, fmtT(j.since[id]-1), what, j.bound),
			From: j.since[id] - 1, To: t})
	}
}

// update starts or ends each server's isolation after an event. since is
// stored as t+1 so that 0 can mean "not isolated" even at time 0.
func (j *isolated) update(t int64) {
	maj := j.net.Majority()
	j.isolatedCount = 0
	for _, s := range j.net.Servers() {
		leading := j.spans.Leading(s) >= 0 && j.net.Running(s)
		cut := leading && j.net.Reach(s) < maj
		if j.auth.id != ordo.None {
			cut = leading && !j.auth.reaches(j.net, s)
		}
		switch {
		case cut && j.since[s] == 0:
			j.since[s] = t + 1
		case !cut:
			j.since[s] = 0
		}
		if j.since[s] != 0 {
			j.isolatedCount++
		}
	}
}

func (j *isolated) Result() check.Result {
	j.advance(j.now)
	r := check.Result{Check: "isolated-leader", Verdict: check.Pass, OK: true, Violations: j.found}
	if j.count > 0 {
		r.Verdict, r.OK = check.Fail, false
		r.Summary = fmt.Sprintf("%s outlived %s quorum by more than %s", plural.Count(j.count, "leadership"), plural.Noun(j.count, "its", "their"), j.bound)
		if j.auth.id != ordo.None {
			r.Summary = fmt.Sprintf("%s outlived %s link to %v by more than %s", plural.Count(j.count, "leadership"), plural.Noun(j.count, "its", "their"), j.auth.id, j.bound)
		}
		return r
	}
	r.Summary = fmt.Sprintf("every leader reached a majority, or stepped down within %s", j.bound)
	if j.auth.id != ordo.None {
		r.Summary = fmt.Sprintf("every leader reached %v, or stepped down within %s", j.auth.id, j.bound)
	}
	return r
}
