package election

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"ordo"
	"ordo/check"
	"ordo/internal/plural"
	"ordo/trace"
)

// The election checkers of the chapter's section 4 ("Safety: 동시에 최대
// 1명의 리더", "Liveness: 결국 리더가 선출됨") and section 5 (split brain,
// fencing). They judge a run as it happens (check.Online) from the role
// notes of the package doc, read with ReadNote, and from the run's process
// and fault events; they count servers only, and refuse runs of protocols
// that are not leader elections.

func init() {
	check.Register(singleLeader{})
	check.Register(staleLeader{})
	check.Register(oneLeaderPerTerm{})
	check.Register(EventualLeader{})
	check.Register(fencing{})
}

// Checks are the names of the election checkers, in report order.
var Checks = []string{"single-leader", "stale-leader", "one-leader-per-term", "eventual-leader", "isolated-leader", "fencing"}

// MaxReported bounds the violations one checker lists; the summary counts
// the rest.
const MaxReported = 50

func fmtT(ns int64) string { return time.Duration(ns).Round(10 * time.Microsecond).String() }

// ---- elections granted by a service ----------------------------------------

// ServiceElected is implemented by election nodes whose leadership is
// granted by a coordination service rather than by a majority of servers
// (package lease: the oldest key on etcd leads; chapter section 4,
// "외부 서비스 활용"). Their servers never talk to each other, so the
// liveness checks judge such a run by each server's link to that service:
// a server that reaches it owes agreement on the leader (eventual-leader),
// and a leader cut off from it must stop leading within Bound
// (isolated-leader: its lease runs out).
type ServiceElected interface {
	// Authority returns the index, in the roster's services, of the
	// service that grants leadership, and how long a leader cut off from
	// it may go on leading (the lease election: its TTL).
	Authority() (service int, bound time.Duration)
}

// authority is the node whose word makes a leader in a run: None when a
// majority of servers does.
type authority struct {
	id    ordo.NodeID
	bound time.Duration
}

// authorityOf finds the granting service of a run described by m: its
// protocol's nodes (built with the run's options) are ServiceElected and
// the run has that service.
func authorityOf(m *trace.Meta) authority {
	if m.Protocol == "" || len(m.Services) == 0 {
		return authority{}
	}
	p, err := ordo.Lookup(m.Protocol)
	if err != nil || p.Role != ordo.Server {
		return authority{}
	}
	opts, err := p.Resolve(m.Options)
	if err != nil {
		if opts, err = p.Resolve(nil); err != nil {
			return authority{}
		}
	}
	nd, err := p.New(ordo.Config{ID: 1, N: max(m.ServerCount(), 1), Opts: opts, Proto: p})
	if err != nil {
		return authority{}
	}
	se, ok := nd.(ServiceElected)
	if !ok {
		return authority{}
	}
	i, bound := se.Authority()
	svc := slices.Clone(m.Services)
	slices.Sort(svc)
	if i < 0 || i >= len(svc) || svc[i] < 1 || svc[i] > m.Nodes {
		return authority{}
	}
	return authority{id: ordo.NodeID(svc[i]), bound: bound}
}

// reaches reports whether server s exchanges messages with the authority
// both ways. The service's own up/down is not asked: live, an external
// service leaves no events in the trace.
func (a authority) reaches(net *check.Net, s int) bool {
	return net.Link(s, int(a.id)) && net.Link(int(a.id), s)
}

// judged are the servers liveness is asked of: running and reaching the
// authority, or (no authority) reaching a majority of servers.
func (a authority) judged(net *check.Net) []int {
	if a.id == ordo.None {
		return net.WithMajority()
	}
	var out []int
	for _, s := range net.Servers() {
		if net.Running(s) && a.reaches(net, s) {
			out = append(out, s)
		}
	}
	return out
}

// ---- single-leader and stale-leader --------------------------------------

// Two leaderships overlap when both servers hold the leader role and are
// running (up and not paused: a frozen process does nothing) at the same
// instant. An overlap is a split brain while both could act with a quorum
// — neither has been deposed — and a stale leader acting once one of them
// has been deposed: a majority of servers has noted a term above its own,
// so it can no longer gather a quorum, yet it acts until it learns (what
// fencing tokens exist for, section 5).

type singleLeader struct{}

func (singleLeader) Name() string { return "single-leader" }
func (singleLeader) Doc() string {
	return "at no instant of true time do two running servers act as leader while neither is deposed (section 4 Safety; section 5 split brain); a paused leader does not act"
}
func (c singleLeader) Check(t *trace.Trace) check.Result { return check.Replay(c, t) }
func (c singleLeader) Start(m *trace.Meta) (check.Judge, error) {
	return gate(c.Name(), m, newOverlaps(m, false)), nil
}

type staleLeader struct{}

func (staleLeader) Name() string { return "stale-leader" }
func (staleLeader) Doc() string {
	return "no deposed leader (a majority of servers has moved to a higher term) acts as leader — sends a message or uses its fencing token — beside the new one before it learns (section 5, fencing)"
}
func (c staleLeader) Check(t *trace.Trace) check.Result { return check.Replay(c, t) }
func (c staleLeader) Start(m *trace.Meta) (check.Judge, error) {
	return gate(c.Name(), m, newOverlaps(m, true)), nil
}

type pair struct{ a, b int } // span indices, a < b

type segment struct {
	from  int64
	stale bool
	// acted: the deposed leader of a stale segment sent a message (or used
	// its fencing token) during it. A deposed leader that holds the role
	// for a moment and steps down without a word — a paused process that
	// resumes, checks its lease and yields — has not acted.
	acted bool
}

type finding struct {
	a, b     int // span indices
	from, to int64
}

type overlaps struct {
	stale   bool // report stale-leader overlaps (else split brain)
	meta    *trace.Meta
	net     *check.Net
	spans   *SpanLog
	term    []int64 // by server: the highest term it noted
	deposed []bool  // by span
	open    []int   // open spans
	segs    map[pair]segment
	acting  []int // scratch
	found   []finding
	n       int   // findings of the reported kind
	other   int   // findings of the other kind
	idle    int   // stale overlaps in which the deposed leader did nothing
	total   int64 // ns in all, of the reported kind
}

func newOverlaps(m *trace.Meta, stale bool) *overlaps {
	return &overlaps{stale: stale, meta: m, net: check.NewNet(m), spans: NewSpanLog(m),
		term: make([]int64, m.Nodes+1), segs: map[pair]segment{}}
}

func (o *overlaps) Observe(e *trace.Event) {
	if len(o.segs) > 0 && (e.Kind == trace.Send || (e.Kind == trace.Note && e.Name == NoteFence)) {
		o.acts(e.Node)
	}
	o.net.Observe(e)
	opened, closed := o.spans.Observe(e)
	changed := opened >= 0 || closed >= 0 || check.Changes(e)
	if closed >= 0 {
		o.open = remove(o.open, closed)
	}
	if opened >= 0 {
		o.open = append(o.open, opened)
		o.deposed = append(o.deposed, false)
	}
	if e.Kind == trace.Note && o.meta.IsServer(int(e.Node)) {
		if v, ok := ReadNote(e.Node, e.Name, e.Attrs); ok && int64(v.Term) > o.term[e.Node] {
			o.term[e.Node] = int64(v.Term)
			changed = true
		}
	}
	if !changed {
		return
	}
	o.depose()
	o.update(e.T)
}

// acts marks the stale segments whose deposed leader is node as acted.
func (o *overlaps) acts(node ordo.NodeID) {
	for p, sg := range o.segs {
		if !sg.stale || sg.acted {
			continue
		}
		if (o.deposed[p.a] && o.spans.Span(p.a).Node == node) || (o.deposed[p.b] && o.spans.Span(p.b).Node == node) {
			sg.acted = true
			o.segs[p] = sg
		}
	}
}

// Wants implements check.Interest: sends matter only while two leaders
// overlap (a deposed one acts by sending).
func (o *overlaps) Wants(k trace.Kind) bool {
	return structural(k) || (k == trace.Send && len(o.segs) > 0)
}

// End implements check.Ender.
func (o *overlaps) End(t int64) { o.spans.Until(t) }

func remove(s []int, v int) []int {
	for i, x := range s {
		if x == v {
			return append(s[:i], s[i+1:]...)
		}
	}
	return s
}

// depose marks the open spans whose term a majority of servers has passed.
func (o *overlaps) depose() {
	for _, k := range o.open {
		if o.deposed[k] {
			continue
		}
		t := o.spans.Span(k).Term
		c := 0
		for _, s := range o.net.Servers() {
			if o.term[s] > t {
				c++
			}
		}
		o.deposed[k] = c >= o.net.Majority()
	}
}

// update closes and opens the overlap segments of running leaders at time
// at.
func (o *overlaps) update(at int64) {
	o.acting = o.acting[:0]
	for _, k := range o.open {
		if o.net.Running(int(o.spans.Span(k).Node)) {
			o.acting = append(o.acting, k)
		}
	}
	sort.Ints(o.acting)
	for p, sg := range o.segs {
		if !o.isActing(p.a) || !o.isActing(p.b) || sg.stale != (o.deposed[p.a] || o.deposed[p.b]) {
			o.finish(p, sg, at)
			delete(o.segs, p)
		}
	}
	for i, a := range o.acting {
		for _, b := range o.acting[i+1:] {
			p := pair{a, b}
			if _, ok := o.segs[p]; !ok {
				o.segs[p] = segment{from: at, stale: o.deposed[a] || o.deposed[b]}
			}
		}
	}
}

func (o *overlaps) isActing(k int) bool {
	for _, a := range o.acting {
		if a == k {
			return true
		}
	}
	return false
}

func (o *overlaps) finish(p pair, sg segment, to int64) {
	if to <= sg.from {
		return
	}
	if sg.stale && !sg.acted {
		o.idle++
		return
	}
	if sg.stale != o.stale {
		o.other++
		return
	}
	o.n++
	o.total += to - sg.from
	f := finding{a: p.a, b: p.b, from: sg.from, to: to}
	// Keep the MaxReported first in (span, span, time) order: the order of
	// a scan over the stored trace, whatever order overlaps end in.
	i := sort.Search(len(o.found), func(i int) bool { return less(f, o.found[i]) })
	if i >= MaxReported {
		return
	}
	o.found = append(o.found, finding{})
	copy(o.found[i+1:], o.found[i:])
	o.found[i] = f
	if len(o.found) > MaxReported {
		o.found = o.found[:MaxReported]
	}
}

func less(x, y finding) bool {
	if x.a != y.a {
		return x.a < y.a
	}
	if x.b != y.b {
		return x.b < y.b
	}
	return x.from < y.from
}

func (o *overlaps) Result() check.Result {
	end := o.spans.End()
	for p, sg := range o.segs {
		o.finish(p, sg, end)
	}
	clear(o.segs)
	name := "single-leader"
	if o.stale {
		name = "stale-leader"
	}
	r := check.Result{Check: name, OK: o.n == 0}
	for _, f := range o.found {
		a, b := o.spans.Span(f.a), o.spans.Span(f.b)
		msg := fmt.Sprintf("split brain: %v (term %d) and %v (term %d) both act as leader from %s to %s",
			a.Node, a.Term, b.Node, b.Term, fmtT(f.from), fmtT(f.to))
		if o.stale {
			old, cur := a, b
			if !o.deposed[f.a] {
				old, cur = b, a
			}
			msg = fmt.Sprintf("stale leader: %v (term %d) acts as leader from %s to %s after a majority moved past its term, beside %v (term %d)",
				old.Node, old.Term, fmtT(f.from), fmtT(f.to), cur.Node, cur.Term)
		}
		r.Violations = append(r.Violations, check.Violation{Message: msg, Events: []int{a.Begin, b.Begin}, From: f.from, To: f.to})
	}
	total := fmtT(o.total) // 10 µs: an overlap of 490 µs is not "0s"
	nspans := len(o.spans.spans)
	overlaps := func(n int) string { return plural.Count(n, "overlap") }
	leaderships := plural.Count(nspans, "leadership")
	switch {
	case !r.OK && o.stale:
		r.Summary = fmt.Sprintf("%s of a deposed leader with a new one, %s in all", overlaps(o.n), total)
	case !r.OK:
		r.Summary = fmt.Sprintf("%s of two leaders, %s in all", overlaps(o.n), total)
	case o.stale && o.other > 0:
		r.Summary = fmt.Sprintf("%s, no deposed leader acted (split brain, %s: see single-leader)", leaderships, overlaps(o.other))
	case o.stale && o.idle > 0:
		r.Summary = fmt.Sprintf("%s, no deposed leader acted (%d held the role a moment and yielded without acting)", leaderships, o.idle)
	case o.stale:
		r.Summary = leaderships + ", no deposed leader acted"
	case o.other > 0:
		r.Summary = fmt.Sprintf("%s, never two undeposed at once (%s with a deposed leader not yet told, which is the stale-leader check's to judge)", leaderships, overlaps(o.other))
	default:
		r.Summary = leaderships + ", never two at once"
	}
	return r
}

// ---- one-leader-per-term -------------------------------------------------

type oneLeaderPerTerm struct{}

func (oneLeaderPerTerm) Name() string { return "one-leader-per-term" }
func (oneLeaderPerTerm) Doc() string {
	return "no two servers become leader in the same term (Raft's Election Safety; section 4 \"Term 기반 리더십\")"
}
func (c oneLeaderPerTerm) Check(t *trace.Trace) check.Result { return check.Replay(c, t) }
func (c oneLeaderPerTerm) Start(m *trace.Meta) (check.Judge, error) {
	return gate(c.Name(), m, &perTerm{meta: m, first: map[int64]trace.Event{}, shared: map[int64]bool{}}), nil
}

type perTerm struct {
	meta   *trace.Meta
	first  map[int64]trace.Event // term → its first leader note (no attrs kept)
	shared map[int64]bool        // terms with two leaders
	vs     []check.Violation
}

func (p *perTerm) Observe(e *trace.Event) {
	if e.Kind != trace.Note || e.Name != NoteLeader || !p.meta.IsServer(int(e.Node)) {
		return
	}
	term, ok := e.Attrs.Int("term")
	if !ok {
		return
	}
	f, seen := p.first[term]
	if !seen {
		p.first[term] = trace.Event{ID: e.ID, Node: e.Node, T: e.T}
		return
	}
	if f.Node != e.Node {
		p.shared[term] = true
		if len(p.vs) < MaxReported {
			p.vs = append(p.vs, check.Violation{
				Message: fmt.Sprintf("term %d has two leaders: %v at %s and %v at %s", term, f.Node, fmtT(f.T), e.Node, fmtT(e.T)),
				Events:  []int{f.ID, e.ID}, From: f.T, To: e.T,
			})
		}
	}
}

// Wants implements check.Interest.
func (p *perTerm) Wants(k trace.Kind) bool { return k == trace.Note }

func (p *perTerm) Result() check.Result {
	r := check.Result{Check: "one-leader-per-term", OK: len(p.shared) == 0, Violations: p.vs}
	if r.OK {
		r.Summary = fmt.Sprintf("%d terms with a leader, one each", len(p.first))
	} else {
		r.Summary = fmt.Sprintf("%d terms with two leaders", len(p.shared))
	}
	return r
}

// ---- eventual-leader -----------------------------------------------------

// Agreement is the outcome of the eventual-leader analysis.
type Agreement struct {
	LastFault int64       // true time of the last fault event (0: none)
	Leader    ordo.NodeID // the leader the judged servers agree on at the end (None: no agreement)
	Since     int64       // since when that agreement holds
	// Judged are the servers liveness is asked of at the end: running
	// and reaching a majority of servers both ways. Empty: no majority is
	// connected and running, and liveness does not apply.
	Judged []ordo.NodeID
}

// TimeToLeader is how long after the last fault the final agreement began
// (0 if it held through the fault); -1 when there is no agreement.
func (a Agreement) TimeToLeader() time.Duration {
	if a.Leader == ordo.None {
		return -1
	}
	return time.Duration(max(0, a.Since-a.LastFault))
}

// isFault reports whether e disturbs the cluster (the end of faults is
// measured from the last of these).
func isFault(e *trace.Event) bool {
	switch e.Kind {
	case trace.Crash, trace.Restart, trace.Pause, trace.Resume, trace.Fault:
		return true
	case trace.Note:
		// A leadership transfer and a membership change are deliberate
		// disturbances (an operator's): a transfer to a server that
		// cannot win costs an election, like a crash of the leader.
		return e.Name == "clock-jump" || e.Name == NoteTransfer || e.Name == NoteConfChange
	}
	return false
}

// Notes of a replicated log's reconfigurations (package raft makes them).
const (
	NoteTransfer   = "transfer"
	NoteConfChange = "conf-change"
)

// Agreeing follows a run and finds the leader the judged servers agree on
// at the end, and since when: the servers judged are those running (up,
// not paused) and reaching a majority of servers both ways, as fault
// events leave the network (check.Net); exactly one of them must lead, and
// each of them that exchanges messages with it must follow it. Servers
// that cannot reach a majority owe nobody a leader, and neither do servers
// that reach a majority but not the leader (partial connectivity).
type Agreeing struct {
	meta     *trace.Meta
	net      *check.Net
	role     []Role
	believes []ordo.NodeID
	judged   []int
	a        Agreement
	agreed   ordo.NodeID
	since    int64
	// A replicated log's configuration and freshness, by server, from
	// its "voters" notes and its campaign notes (last_index, last_term):
	// nil voters means every server votes; logs[id].known is false until
	// the server campaigned.
	voters [][]int
	logs   []logPos
	// auth is the service that grants leadership (None: a majority of
	// servers does).
	auth authority
}

type logPos struct {
	index, term int64
	known       bool
}

// NoteVoters is a replica's note of the voters in force ("ids": "1,2,4");
// the raft package makes it.
const NoteVoters = "voters"

// NewAgreeing starts the analysis of a run described by m.
func NewAgreeing(m *trace.Meta) *Agreeing {
	return &Agreeing{meta: m, net: check.NewNet(m), role: make([]Role, m.Nodes+1),
		believes: make([]ordo.NodeID, m.Nodes+1), since: -1,
		voters: make([][]int, m.Nodes+1), logs: make([]logPos, m.Nodes+1), auth: authorityOf(m)}
}

// observeLog keeps what a replica's notes say of its configuration and
// its log's freshness.
func (g *Agreeing) observeLog(id int, e *trace.Event) {
	switch e.Name {
	case NoteVoters:
		ids, _ := e.Attrs.Get("ids").(string)
		var v []int
		for _, f := range strings.Split(ids, ",") {
			if n, err := strconv.Atoi(f); err == nil && n >= 1 && n <= g.meta.Nodes {
				v = append(v, n)
			}
		}
		g.voters[id] = v
	case "precandidate", NoteCandidate:
		i, ok1 := e.Attrs.Int("last_index")
		t, ok2 := e.Attrs.Int("last_term")
		if ok1 && ok2 {
			g.logs[id] = logPos{index: i, term: t, known: true}
		}
	}
}

// votersOf is the configuration server id believes in (every server when
// it noted none).
func (g *Agreeing) votersOf(id int) []int {
	if v := g.voters[id]; v != nil {
		return v
	}
	return g.net.Servers()
}

// isVoter reports whether id is a voter in the configuration of leader l
// (every server when l noted none).
func (g *Agreeing) isVoter(l ordo.NodeID, id int) bool {
	return slices.Contains(g.votersOf(int(l)), id)
}

// canWin reports whether running server s could win an election now: it
// is a voter in its own configuration, and a majority of those voters
// are running, connected with it both ways, and hold no log more
// up-to-date than its own (Raft's election restriction, paper 5.4.1;
// logs unknown to the trace count as voting for it).
func (g *Agreeing) canWin(s int) bool {
	v := g.votersOf(s)
	if !slices.Contains(v, s) {
		return false
	}
	votes := 0
	for _, o := range v {
		if o == s {
			votes++
			continue
		}
		if !g.net.Running(o) || !g.net.Link(s, o) || !g.net.Link(o, s) {
			continue
		}
		ls, lo := g.logs[s], g.logs[o]
		if !ls.known || !lo.known || ls.term > lo.term || (ls.term == lo.term && ls.index >= lo.index) {
			votes++
		}
	}
	return votes > len(v)/2
}

// QuorumLoss reports whether no judged server can win an election
// (canWin): the quorum-loss limit of Raft — every server that reaches a
// majority lacks either a majority of its voters or a log they would
// vote for — with the servers' reach and logs for the report.
func (g *Agreeing) QuorumLoss() (bool, string) {
	if len(g.judged) == 0 || g.auth.id != ordo.None {
		return false, "" // a service's election needs no quorum of servers
	}
	var parts []string
	for _, s := range g.judged {
		if g.canWin(s) {
			return false, ""
		}
		l := g.logs[s]
		p := fmt.Sprintf("n%d (voters %s", s, fmtInts(g.votersOf(s)))
		if l.known {
			p += fmt.Sprintf(", log %d@t%d", l.index, l.term)
		}
		parts = append(parts, p+")")
	}
	return true, strings.Join(parts, "; ")
}

func fmtInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return "{" + strings.Join(s, ",") + "}"
}

// Observe applies e.
func (g *Agreeing) Observe(e *trace.Event) {
	id := int(e.Node)
	server := id >= 1 && id <= g.meta.Nodes && g.meta.IsServer(id)
	if e.Node != ordo.None && !server {
		// A client's crash or note concerns no election; a service's
		// pause, resume or clock jump does (it grants leadership in a
		// lease election): agreement is owed only after it.
		if isFault(e) && g.meta.IsService(id) {
			g.a.LastFault = e.T
		}
		return
	}
	if isFault(e) {
		g.a.LastFault = e.T
	}
	g.net.Observe(e)
	conn := check.Changes(e)
	switch e.Kind {
	case trace.Start, trace.Restart:
		g.role[id], g.believes[id] = Follower, ordo.None
	case trace.Note:
		g.observeLog(id, e)
		if e.Name == NoteVoters {
			g.eval(e.T) // the judged servers' duties changed
			return
		}
		v, ok := ReadNote(e.Node, e.Name, e.Attrs)
		if !ok {
			return
		}
		g.role[id], g.believes[id] = v.Role, v.Leader
	default:
		if !conn {
			return
		}
	}
	if conn {
		g.judged = g.auth.judged(g.net)
	}
	g.eval(e.T)
}

func (g *Agreeing) eval(at int64) {
	var l ordo.NodeID
	ok := len(g.judged) > 0
	for _, id := range g.judged {
		if g.role[id] == Leader {
			if l != ordo.None {
				ok = false
			}
			l = ordo.NodeID(id)
		}
	}
	if l == ordo.None {
		ok = false
	}
	for _, id := range g.judged {
		if !ok {
			break
		}
		if ordo.NodeID(id) == l {
			continue
		}
		if g.auth.id != ordo.None {
			// A service's election: every server that reaches the service
			// learns the leader from it, whatever its links to the leader.
			if g.role[id] != Follower || g.believes[id] != l {
				ok = false
			}
			continue
		}
		if !g.net.Link(id, int(l)) || !g.net.Link(int(l), id) || !g.isVoter(l, id) {
			// Under partial connectivity a server may reach a majority
			// but not the leader (n3 of a bridge n1-n2-n3): it cannot
			// learn who leads, and protocols that protect a leader
			// (PreVote, CheckQuorum) rightly keep it from deposing one
			// the majority still hears. It owes no agreement. Nor does
			// a server the leader's configuration removed: the leader
			// no longer speaks to it.
			continue
		}
		if g.role[id] != Follower || g.believes[id] != l {
			ok = false
		}
	}
	switch {
	case !ok:
		g.agreed, g.since = ordo.None, -1
	case l != g.agreed:
		g.agreed, g.since = l, at
	}
}

// Agreement returns the analysis so far.
func (g *Agreeing) Agreement() Agreement {
	a := g.a
	a.Leader, a.Since = g.agreed, g.since
	a.Judged = make([]ordo.NodeID, len(g.judged))
	for i, id := range g.judged {
		a.Judged[i] = ordo.NodeID(id)
	}
	return a
}

// Running lists the servers running at the end, with how many servers
// each reaches (itself included), for reports: "n1 (1/5)".
func (g *Agreeing) running() string {
	var parts []string
	for _, s := range g.net.Servers() {
		if g.net.Running(s) {
			parts = append(parts, fmt.Sprintf("n%d reaches %d", s, g.net.Reach(s)))
		}
	}
	if len(parts) == 0 {
		return "no server is running"
	}
	return strings.Join(parts, ", ")
}

// FinalAgreement replays a stored trace's role notes and faults.
func FinalAgreement(t *trace.Trace) Agreement {
	g := NewAgreeing(&t.Meta)
	for i := range t.Events {
		g.Observe(&t.Events[i])
	}
	return g.Agreement()
}

// EventualBound is how long after the last fault eventual-leader waits by
// default: the trace's "leader_bound" option if set, else four times its
// largest "...timeout..." option (or "ttl": a lease), and never less than one
// second.
func EventualBound(m trace.Meta) time.Duration {
	if d, err := time.ParseDuration(m.Options["leader_bound"]); err == nil && d > 0 {
		return d
	}
	var worst time.Duration
	keys := make([]string, 0, len(m.Options))
	for k := range m.Options {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		// A lease election's timeout is its lease: ttl.
		if !strings.Contains(k, "timeout") && k != "ttl" {
			continue
		}
		if d, err := time.ParseDuration(m.Options[k]); err == nil {
			worst = max(worst, d)
		}
	}
	return max(time.Second, 4*worst)
}

// EventualLeader is the eventual-leader checker with an explicit bound
// (0: EventualBound of the trace).
type EventualLeader struct{ Bound time.Duration }

func (EventualLeader) Name() string { return "eventual-leader" }
func (EventualLeader) Doc() string {
	return "once faults stop, the running servers that reach a majority agree on one leader among them within a bound (section 4 Liveness); not applicable when no majority is connected and running at the end"
}
func (c EventualLeader) Check(t *trace.Trace) check.Result { return check.Replay(c, t) }
func (c EventualLeader) Start(m *trace.Meta) (check.Judge, error) {
	bound := c.Bound
	if bound == 0 {
		bound = EventualBound(*m)
	}
	return gate(c.Name(), m, &eventual{g: NewAgreeing(m), bound: bound}), nil
}

type eventual struct {
	g     *Agreeing
	bound time.Duration
	end   int64
}

func (v *eventual) Observe(e *trace.Event) {
	v.end = e.T
	v.g.Observe(e)
}

// Wants implements check.Interest.
func (v *eventual) Wants(k trace.Kind) bool { return structural(k) }

// End implements check.Ender.
func (v *eventual) End(t int64) { v.end = max(v.end, t) }

func (v *eventual) Result() check.Result {
	a := v.g.Agreement()
	bound := v.bound
	r := check.Result{Check: "eventual-leader", OK: true}
	ttl := a.TimeToLeader()
	switch {
	case len(a.Judged) == 0:
		r.OK = false
		r.Verdict = check.NotApplicable
		r.Summary = fmt.Sprintf("not applicable: no server is running and reaching a majority of the %d servers at the end (%s)", len(v.g.net.Servers()), v.g.running())
		if a := v.g.auth.id; a != ordo.None {
			r.Summary = fmt.Sprintf("not applicable: no server is running and reaching %v, the service that grants leadership, at the end", a)
		}
	case a.Leader == ordo.None && v.quorumLoss(&r):
	case a.Leader == ordo.None:
		r.OK = false
		reach := "a majority"
		if v.g.auth.id != ordo.None {
			reach = v.g.auth.id.String()
		}
		r.Violations = []check.Violation{{Message: fmt.Sprintf("no leader agreed on by the %d running servers that reach %s (%s) at the end of the run (last fault at %s)", len(a.Judged), reach, fmtIDs(a.Judged), fmtT(a.LastFault)), From: a.LastFault, To: v.end}}
		r.Summary = "no agreed leader at the end"
	case ttl > bound:
		r.OK = false
		r.Violations = []check.Violation{{Message: fmt.Sprintf("leader %v agreed on %s after the last fault, bound %s", a.Leader, ttl.Round(time.Millisecond), bound), From: a.LastFault, To: a.Since}}
		r.Summary = fmt.Sprintf("leader %v, time_to_leader %s > %s", a.Leader, ttl.Round(time.Millisecond), bound)
	default:
		r.Summary = fmt.Sprintf("leader %v, time_to_leader %s (bound %s)", a.Leader, ttl.Round(time.Microsecond), bound)
	}
	if r.Verdict != check.NotApplicable && v.end-a.LastFault > int64(bound) {
		// Once faults have been over for the bound, no running server may
		// still follow a leader it cannot hear (a crashed one, or one cut
		// off from it): it has had an election timeout to notice, and a
		// status naming that leader is a lie (issue 9, case 4: a
		// pre-candidate that kept believing in its old leader).
		for _, st := range v.g.StaleBeliefs() {
			r.OK = false
			r.Violations = append(r.Violations, check.Violation{Message: fmt.Sprintf("%v still follows %v at the end, which it cannot hear (the last fault was at %s, bound %s)", st[0], st[1], fmtT(a.LastFault), bound), From: a.LastFault, To: v.end})
		}
		if !r.OK && len(r.Violations) > 0 && r.Summary != "no agreed leader at the end" && !strings.Contains(r.Summary, ">") {
			r.Summary = fmt.Sprintf("%d servers still follow a leader they cannot hear", len(r.Violations))
		}
	}
	return r
}

// quorumLoss fills r with the named finding when no running server that
// reaches a majority can win an election (Agreeing.QuorumLoss): Raft's
// quorum-loss limit is a property of the run, not a liveness bug, so the
// verdict is not-applicable, saying why.
func (v *eventual) quorumLoss(r *check.Result) bool {
	lost, why := v.g.QuorumLoss()
	if !lost {
		return false
	}
	r.OK = false
	r.Verdict = check.NotApplicable
	r.Summary = "not applicable: quorum loss (Raft's limit): no running server that reaches a majority has a majority of its voters with a log no fresher than its own: " + why
	return true
}

// StaleBeliefs lists the running servers that follow a leader they cannot
// hear now: {follower, leader} pairs, in server order.
func (g *Agreeing) StaleBeliefs() [][2]ordo.NodeID {
	var out [][2]ordo.NodeID
	for _, s := range g.net.Servers() {
		l := g.believes[s]
		if !g.net.Running(s) || g.role[s] != Follower || l == ordo.None {
			continue
		}
		if g.auth.id != ordo.None {
			// It hears of the leader through the service: stale when it
			// reaches the service and still follows a leader that is gone.
			if g.auth.reaches(g.net, s) && !g.net.Running(int(l)) {
				out = append(out, [2]ordo.NodeID{ordo.NodeID(s), l})
			}
			continue
		}
		if !g.net.Running(int(l)) || !g.net.Link(int(l), s) {
			out = append(out, [2]ordo.NodeID{ordo.NodeID(s), l})
		}
	}
	return out
}

func fmtIDs(ids []ordo.NodeID) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = id.String()
	}
	return strings.Join(s, ",")
}

// ---- fencing -------------------------------------------------------------

type fencing struct{}

func (fencing) Name() string { return "fencing" }
func (fencing) Doc() string {
	return "tokens accepted by the protected resource only increase, in the resource's own order when its notes number the writes (Kleppmann's fencing tokens)"
}
func (c fencing) Check(t *trace.Trace) check.Result { return check.Replay(c, t) }

// Start reads "fence" notes {token, accepted} of protected resources when
// the run has any; otherwise it treats every new leadership as one write
// to a shared resource: its token must exceed every earlier leader's.
//
// A fence note may carry "resource" (the resource's node id: a node noting
// the answer to its write on the resource's behalf, as a live trace has
// no events of an external service's) and "seq" (the write's position in
// the resource's own order). Accepted writes with a seq are judged in seq
// order, not trace order (a merged live trace orders notes of different
// nodes by their clocks), and counted once per (resource, seq), so the
// resource's own note and its writer's note of the same write (both exist
// in the simulator) are one write.
func (c fencing) Start(m *trace.Meta) (check.Judge, error) {
	return gate(c.Name(), m, &fence{spans: NewSpanLog(m), highest: map[ordo.NodeID]seenToken{}, top: -1,
		seqd: map[ordo.NodeID]map[int64]seqWrite{}, refused: map[ordo.NodeID]*[2]int{}}), nil
}

// MaxSequenced bounds the sequenced writes the fencing checker keeps (the
// store's order is only known at the end): beyond it the verdict is
// unknown, never a pass.
const MaxSequenced = 1 << 20

type seenToken struct {
	tok int64
	ev  int // the note that accepted it
}

type seqWrite struct {
	tok    int64
	ev     int
	t      int64
	writer int64
}

type fence struct {
	// From the resources' own notes.
	fenced  bool
	highest map[ordo.NodeID]seenToken // resource → highest accepted (notes without seq, trace order)
	rvs     []check.Violation
	rbad    int
	// Sequenced writes: resource → seq → the accepted write; refused
	// writes counted by the resource itself [0] and by writers for it [1].
	seqd     map[ordo.NodeID]map[int64]seqWrite
	nseq     int
	overflow bool
	refused  map[ordo.NodeID]*[2]int
	// From the leaderships, when no resource notes.
	spans *SpanLog
	top   int // span with the highest token so far
	lvs   []check.Violation
	lbad  int
}

func (f *fence) Observe(e *trace.Event) {
	if e.Kind == trace.Note && e.Name == NoteFence {
		f.fenced = true
		res, proxy := e.Node, 0
		if r, ok := e.Attrs.Int("resource"); ok && r > 0 && r <= ordo.MaxNodeID {
			res, proxy = ordo.NodeID(r), 1
		}
		if acc, _ := e.Attrs.Get("accepted").(bool); !acc {
			c := f.refused[res]
			if c == nil {
				c = &[2]int{}
				f.refused[res] = c
			}
			c[proxy]++
			return
		}
		tok, _ := e.Attrs.Int("token")
		if seq, ok := e.Attrs.Int("seq"); ok && seq > 0 {
			f.sequenced(res, seq, tok, e)
			return
		}
		h, ok := f.highest[res]
		if ok && tok < h.tok {
			f.rbad++
			if len(f.rvs) < MaxReported {
				f.rvs = append(f.rvs, check.Violation{Message: fmt.Sprintf("resource %v accepted token %d after %d at %s", res, tok, h.tok, fmtT(e.T)), Events: []int{h.ev, e.ID}, To: e.T})
			}
			return
		}
		f.highest[res] = seenToken{tok, e.ID}
		return
	}
	k, _ := f.spans.Observe(e)
	if k < 0 {
		return
	}
	s := f.spans.Span(k)
	if f.top >= 0 {
		top := f.spans.Span(f.top)
		if s.Token < top.Token || (s.Token == top.Token && s.Node != top.Node) {
			f.lbad++
			if len(f.lvs) < MaxReported {
				f.lvs = append(f.lvs, check.Violation{
					Message: fmt.Sprintf("%v leads with token %d at %s, but %v already held token %d: a fence could not tell them apart",
						s.Node, s.Token, fmtT(s.From), top.Node, top.Token),
					Events: []int{top.Begin, s.Begin}, From: top.From, To: s.From,
				})
			}
			return
		}
	}
	f.top = k
}

// sequenced keeps accepted write seq of resource res (the first note of
// it: the same write noted twice is one).
func (f *fence) sequenced(res ordo.NodeID, seq, tok int64, e *trace.Event) {
	m := f.seqd[res]
	if m == nil {
		m = map[int64]seqWrite{}
		f.seqd[res] = m
	}
	if _, dup := m[seq]; dup {
		return
	}
	if f.nseq >= MaxSequenced {
		f.overflow = true
		return
	}
	f.nseq++
	w, _ := e.Attrs.Int("writer")
	m[seq] = seqWrite{tok: tok, ev: e.ID, t: e.T, writer: w}
}

// judgeSequenced walks each resource's accepted writes in its own order:
// a token below one accepted earlier is a stale writer let through.
func (f *fence) judgeSequenced() (bad int, vs []check.Violation) {
	res := make([]ordo.NodeID, 0, len(f.seqd))
	for r := range f.seqd {
		res = append(res, r)
	}
	slices.Sort(res)
	for _, r := range res {
		m := f.seqd[r]
		seqs := make([]int64, 0, len(m))
		for s := range m {
			seqs = append(seqs, s)
		}
		slices.Sort(seqs)
		var top seqWrite
		var topSeq int64
		for i, s := range seqs {
			w := m[s]
			if i > 0 && w.tok < top.tok {
				bad++
				if len(vs) < MaxReported {
					vs = append(vs, check.Violation{
						Message: fmt.Sprintf("resource %v accepted token %d (write %d, from n%d) after token %d (write %d, from n%d): two leaders writing, the older token last",
							r, w.tok, s, w.writer, top.tok, topSeq, top.writer),
						Events: []int{top.ev, w.ev}, From: min(top.t, w.t), To: max(top.t, w.t),
					})
				}
				continue
			}
			top, topSeq = w, s
		}
	}
	return bad, vs
}

// Wants implements check.Interest.
func (f *fence) Wants(k trace.Kind) bool { return structural(k) }

// End implements check.Ender.
func (f *fence) End(t int64) { f.spans.Until(t) }

func (f *fence) Result() check.Result {
	r := check.Result{Check: "fencing"}
	if f.fenced {
		sbad, svs := f.judgeSequenced()
		bad := f.rbad + sbad
		r.OK, r.Violations = bad == 0, append(slices.Clone(f.rvs), svs...)
		if len(r.Violations) > MaxReported {
			r.Violations = r.Violations[:MaxReported]
		}
		refused := 0
		for _, c := range f.refused {
			refused += max(c[0], c[1]) // a write noted by both the resource and its writer once
		}
		counts := fmt.Sprintf("%d writes accepted in the resources' order, %d refused", f.nseq, refused)
		switch {
		case !r.OK:
			r.Summary = fmt.Sprintf("%d stale tokens accepted (%s)", bad, counts)
		case f.overflow:
			r.OK, r.Verdict, r.Unknown = false, check.Unknown, true
			r.Summary = fmt.Sprintf("more than %d sequenced writes: no verdict (%s so far)", MaxSequenced, counts)
		case f.nseq > 0:
			r.Summary = "every resource saw increasing tokens (" + counts + ")"
		default:
			r.Summary = "every resource saw increasing tokens"
		}
		return r
	}
	r.OK, r.Violations = f.lbad == 0, f.lvs
	if r.OK {
		r.Summary = plural.Count(len(f.spans.spans), "leadership") + ", tokens increasing"
	} else {
		r.Summary = fmt.Sprintf("%d stale or shared tokens", len(r.Violations))
	}
	return r
}
