package dynamo

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"ordo"
	"ordo/check"
	_ "ordo/consistency" // no-lost-write judges the clients' histories
	"ordo/trace"
)

func init() {
	check.Register(Convergence{})
	check.Register(&CartCheck{})
	check.Register(&CartCheck{LostAdd: true})
}

func str(a trace.Attrs, k string) string {
	s, _ := a.Get(k).(string)
	return s
}

// Convergence is "convergence": at the end of the run every replica of
// every key holds the same versions (the digests the servers note as
// dynamo-version agree), and how long after the last fault that took.
// A replica that never noted a key it should hold has not converged.
type Convergence struct{}

// Name implements check.Checker.
func (Convergence) Name() string { return "convergence" }

// Doc implements check.Checker.
func (Convergence) Doc() string {
	return "dynamo: at the end every replica of a key holds the same versions; reports when they last changed"
}

// Check implements check.Checker.
func (c Convergence) Check(t *trace.Trace) check.Result { return check.Replay(c, t) }

// Start implements check.Online.
func (Convergence) Start(*trace.Meta) (check.Judge, error) {
	return &convJudge{digest: map[string]map[ordo.NodeID]string{}, replicas: map[string]string{}, changed: map[string]int64{}}, nil
}

type convJudge struct {
	digest    map[string]map[ordo.NodeID]string
	replicas  map[string]string
	changed   map[string]int64
	lastFault int64
	faults    bool
	end       int64
}

func (j *convJudge) Observe(e *trace.Event) {
	j.end = max(j.end, e.T)
	if e.Kind == trace.Fault || e.Kind == trace.Crash || e.Kind == trace.Restart {
		j.lastFault, j.faults = e.T, true
		return
	}
	if e.Kind != trace.Note || e.Name != NoteVersion {
		return
	}
	k := str(e.Attrs, "key")
	if j.digest[k] == nil {
		if len(j.digest) >= 1<<16 {
			return
		}
		j.digest[k] = map[ordo.NodeID]string{}
	}
	j.digest[k][e.Node] = str(e.Attrs, "digest")
	j.replicas[k] = str(e.Attrs, "replicas")
	j.changed[k] = e.T
}

// End implements check.Ender.
func (j *convJudge) End(t int64) { j.end = max(j.end, t) }

func (j *convJudge) Result() check.Result {
	res := check.Result{Check: "convergence"}
	if len(j.digest) == 0 {
		res.Verdict = check.NotApplicable
		res.Summary = "not applicable: no server noted a version (not a dynamo run?)"
		return res
	}
	keys := make([]string, 0, len(j.digest))
	for k := range j.digest {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var last int64
	bad := 0
	for _, k := range keys {
		last = max(last, j.changed[k])
		want := ""
		var differ []string
		for _, r := range strings.Split(j.replicas[k], ",") {
			var id int
			if _, err := fmt.Sscan(r, &id); err != nil {
				continue
			}
			d, ok := j.digest[k][ordo.NodeID(id)]
			switch {
			case !ok:
				differ = append(differ, fmt.Sprintf("n%d holds nothing", id))
			case want == "":
				want = d
			case d != want:
				differ = append(differ, fmt.Sprintf("n%d holds %s, not %s", id, d, want))
			}
		}
		if len(differ) > 0 {
			bad++
			if len(res.Violations) < check.MaxReported {
				res.Violations = append(res.Violations, check.Violation{Message: fmt.Sprintf("key %q (replicas %s) did not converge: %s", k, j.replicas[k], strings.Join(differ, "; ")), From: j.changed[k], To: j.end})
			}
		}
	}
	res.OK = bad == 0
	res.Summary = fmt.Sprintf("%d keys, %d converged; replicas last changed at %v", len(keys), len(keys)-bad, time.Duration(last))
	if j.faults && last >= j.lastFault {
		res.Summary += fmt.Sprintf(", %v after the last fault event", time.Duration(last-j.lastFault))
	} else if j.faults {
		res.Summary += fmt.Sprintf(", before the last fault event (at %v)", time.Duration(j.lastFault))
	}
	return res
}

// CartCheck judges shopping carts from the clients' cart-op notes, in
// real time:
//
//   - "no-resurrection": a get that began after a remove of item i was
//     acknowledged does not hold i, unless an add of i began after that
//     remove began. It assumes the remove observed every add of i begun
//     before it (true when the remover read after those adds were
//     replicated, as the scenarios arrange); a sharper judgement by the
//     add tags a remove saw is not built.
//   - "no-lost-add" (LostAdd): a get that began after an add of item i was
//     acknowledged holds i, unless a remove of i began after that add
//     began (a later or concurrent remove may take it).
type CartCheck struct{ LostAdd bool }

// Name implements check.Checker.
func (c *CartCheck) Name() string {
	if c.LostAdd {
		return "no-lost-add"
	}
	return "no-resurrection"
}

// Doc implements check.Checker.
func (c *CartCheck) Doc() string {
	if c.LostAdd {
		return "carts: a get after an acknowledged add holds the item unless a remove of it followed"
	}
	return "carts: a get after an acknowledged remove does not hold the item unless an add of it followed"
}

// Check implements check.Checker.
func (c *CartCheck) Check(t *trace.Trace) check.Result { return check.Replay(c, t) }

// Start implements check.Online.
func (c *CartCheck) Start(*trace.Meta) (check.Judge, error) {
	return &cartJudge{lostAdd: c.LostAdd, name: c.Name(), ops: map[cartKey]*cartOp{}}, nil
}

type cartKey struct {
	node ordo.NodeID
	id   int64
}

type cartOp struct {
	f, key, item string
	items        []string
	call, ret    int64 // ret 0: not acknowledged
	callEv       int
}

type cartJudge struct {
	lostAdd bool
	name    string
	ops     map[cartKey]*cartOp
	order   []*cartOp
}

const maxCartOps = 1 << 16

func (j *cartJudge) Observe(e *trace.Event) {
	if e.Kind != trace.Note || e.Name != NoteCart {
		return
	}
	id, _ := e.Attrs.Int("id")
	k := cartKey{e.Node, id}
	switch str(e.Attrs, "phase") {
	case "invoke":
		if len(j.order) >= maxCartOps {
			return
		}
		o := &cartOp{f: str(e.Attrs, "f"), key: str(e.Attrs, "key"), item: str(e.Attrs, "item"), call: e.T, callEv: e.ID}
		j.ops[k] = o
		j.order = append(j.order, o)
	case "ok":
		if o, ok := j.ops[k]; ok {
			o.ret = e.T
			if s := str(e.Attrs, "items"); s != "" {
				o.items = strings.Split(s, ",")
			}
		}
	}
}

func (j *cartJudge) Result() check.Result {
	res := check.Result{Check: j.name}
	gets, judged := 0, 0
	for _, g := range j.order {
		if g.f != "get" || g.ret == 0 {
			continue
		}
		gets++
		for _, w := range j.order {
			if w.key != g.key || w.ret == 0 || w.ret >= g.call {
				continue
			}
			var bad bool
			switch {
			case j.lostAdd && w.f == "add":
				bad = !slices.Contains(g.items, w.item) && !j.followed(w, "remove")
			case !j.lostAdd && w.f == "remove":
				bad = slices.Contains(g.items, w.item) && !j.followed(w, "add")
			default:
				continue
			}
			judged++
			if bad && len(res.Violations) < check.MaxReported {
				what := "holds removed item"
				if j.lostAdd {
					what = "lost added item"
				}
				res.Violations = append(res.Violations, check.Violation{
					Message: fmt.Sprintf("cart %q: a get [%s] %s %q (%s acknowledged at %v, before the get began at %v)", g.key, strings.Join(g.items, ","), what, w.item, w.f, time.Duration(w.ret), time.Duration(g.call)),
					Events:  []int{w.callEv, g.callEv}, From: w.call, To: g.ret,
				})
			}
		}
	}
	res.OK = len(res.Violations) == 0
	res.Summary = fmt.Sprintf("%d cart gets, %d judgements, %d violations", gets, judged, len(res.Violations))
	if judged == 0 {
		res.OK, res.Verdict = false, check.NotApplicable
		res.Summary = "not applicable: no cart get followed an acknowledged " + map[bool]string{true: "add", false: "remove"}[j.lostAdd]
	}
	return res
}

// followed reports whether an op f of w's item began after w began.
func (j *cartJudge) followed(w *cartOp, f string) bool {
	for _, o := range j.order {
		if o.f == f && o.key == w.key && o.item == w.item && o.call > w.call {
			return true
		}
	}
	return false
}
