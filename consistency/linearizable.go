package consistency

import (
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"

	"ordo/check"
	"ordo/clock"
	"ordo/history"
	"ordo/trace"
)

// Linearizable checks the clients' history (package history) for
// linearizability (Herlihy and Wing 1990; the chapter's strongest
// consistency model): there must be one total order of the operations,
// consistent with their real-time order (an operation that returned before
// another was invoked comes first), in which every get returns the value of
// the latest put or successful cas of its key.
//
// The search is porcupine's (github.com/anishathalye/porcupine) over a
// key-value model partitioned by key (a history is linearizable iff each
// key's is). Outcomes follow the history convention: fail operations are
// dropped (they took no effect), info operations are open-ended (they may
// take effect at any point after their call, or never), an info get is
// dropped (it has no effect and told nobody anything).
//
// The search is NP-hard in general; one that exceeds Timeout is reported as
// Unknown, never as a pass. On a violation porcupine's HTML visualization
// of the failing keys is written to Dir (or $ORDO_VIZ_DIR, or the system's
// temporary directory) and the violation names the file.
type Linearizable struct {
	// Timeout bounds the search (0: $ORDO_LINEARIZABLE_TIMEOUT, a Go
	// duration up to MaxLinearizableTimeout, else
	// DefaultLinearizableTimeout).
	Timeout time.Duration
	// Dir is where visualizations go ("": $ORDO_VIZ_DIR, else
	// os.TempDir(); NoPages: none are written).
	Dir string
}

// NoPages as Linearizable.Dir (or $ORDO_VIZ_DIR) writes no visualization:
// a campaign of many failing seeds (ordo explore) would leave a page for
// each; its replay command writes the one asked for.
const NoPages = "-"

// Bounds of one linearizability check's search.
const (
	DefaultLinearizableTimeout = 10 * time.Second
	MaxLinearizableTimeout     = time.Hour
)

func init() { check.Register(&Linearizable{}) }

// Name implements check.Checker.
func (*Linearizable) Name() string { return "linearizable" }

// Doc implements check.Checker.
func (*Linearizable) Doc() string {
	return "the clients' history of gets, puts and cas is linearizable per key (porcupine; unknown on a timeout)"
}

// Check implements Checker: the online judge replayed over t.
func (l *Linearizable) Check(t *trace.Trace) check.Result { return check.Replay(l, t) }

// Start implements Online: the history is collected as the run goes, and
// searched when it is over.
func (l *Linearizable) Start(m *trace.Meta) (check.Judge, error) {
	return &historyJudge{r: history.NewReader(), done: func(ops []history.Operation, _ func(a, b int) bool) check.Result {
		return l.CheckHistory(ops, runLabel(m))
	}}, nil
}

// runLabel names a run in file names: its scenario (or protocol) and seed.
func runLabel(m *trace.Meta) string {
	label := m.Scenario
	if label == "" {
		label = m.Protocol
	}
	if m.Seed != 0 {
		label += fmt.Sprintf("-seed%d", m.Seed)
	}
	return label
}

// historyJudge collects a run's client history (package history) as it
// happens and judges it at the end; with vectors it also keeps the vector
// stamps of the history's events, for happens-before.
type historyJudge struct {
	r       *history.Reader
	vectors map[int]clock.Vector // event id → stamp (history notes only)
	done    func(ops []history.Operation, hb func(a, b int) bool) check.Result
	name    string
}

func (j *historyJudge) Observe(e *trace.Event) {
	if j.r.Add(e) != nil || j.vectors == nil || e.Kind != trace.Note || !history.IsNote(e.Name) {
		return
	}
	j.vectors[e.ID] = e.Vector.Clone() // the runtime may reuse e's vector
}

func (j *historyJudge) Result() check.Result {
	ops, err := j.r.Operations()
	if err != nil {
		return check.Result{Verdict: check.Fail, Violations: []check.Violation{{Message: err.Error()}}, Summary: "the client history is malformed"}
	}
	if len(ops) == 0 {
		return check.Result{Verdict: check.NotApplicable, Summary: "not applicable: the run recorded no client operation"}
	}
	hb := func(a, b int) bool {
		va, vb := j.vectors[a], j.vectors[b]
		return len(va) > 0 && len(vb) > 0 && clock.Compare(va, vb) == clock.Before
	}
	return j.done(ops, hb)
}

// kvInput and kvOutput are the model's operation input and output.
type kvInput struct {
	F             history.Func
	Key           string
	Value, Expect string
}

type kvOutput struct {
	Result  string
	Unknown bool // info: the outcome was never seen
}

// kvModel is one key's register: the state is its value ("" before any
// write). It is nondeterministic only for a cas of unknown outcome, which
// may or may not have taken effect.
var kvModel = porcupine.NondeterministicModel{
	Partition: func(h []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		var keys []string
		for _, o := range h {
			k := o.Input.(kvInput).Key
			if _, ok := byKey[k]; !ok {
				keys = append(keys, k)
			}
			byKey[k] = append(byKey[k], o)
		}
		sort.Strings(keys)
		out := make([][]porcupine.Operation, len(keys))
		for i, k := range keys {
			out[i] = byKey[k]
		}
		return out
	},
	Init: func() []any { return []any{""} },
	Step: func(state, input, output any) []any {
		s, in, out := state.(string), input.(kvInput), output.(kvOutput)
		switch in.F {
		case history.Get:
			if out.Unknown || out.Result == s {
				return []any{s}
			}
			return nil
		case history.Put:
			return []any{in.Value}
		case history.Delete:
			return []any{""}
		case history.CAS:
			switch {
			case s != in.Expect && out.Unknown:
				return []any{s} // it took no effect (or has not run yet)
			case s != in.Expect:
				return nil // an ok cas needs its expected value
			case out.Unknown:
				return []any{in.Value, s}
			}
			return []any{in.Value}
		}
		return nil
	},
	Hash: func(state any) uint64 {
		h := fnv.New64a()
		h.Write([]byte(state.(string)))
		return h.Sum64()
	},
	DescribeOperation: func(input, output any) string {
		in, out := input.(kvInput), output.(kvOutput)
		res := ""
		switch {
		case out.Unknown:
			res = " → ?"
		case in.F == history.Get:
			res = fmt.Sprintf(" → %q", out.Result)
		}
		switch in.F {
		case history.Put:
			return fmt.Sprintf("put(%q, %q)%s", in.Key, in.Value, res)
		case history.CAS:
			return fmt.Sprintf("cas(%q, %q→%q)%s", in.Key, in.Expect, in.Value, res)
		case history.Delete:
			return fmt.Sprintf("delete(%q)%s", in.Key, res)
		}
		return fmt.Sprintf("get(%q)%s", in.Key, res)
	},
	DescribeState: func(state any) string { return fmt.Sprintf("%q", state.(string)) },
	DescribeOperationMetadata: func(info any) string {
		if s, ok := info.(string); ok {
			return s
		}
		return ""
	},
}

var kvPorcupine = kvModel.ToModel()

// porcupineOps turns one history into porcupine's operations, keeping for
// each the index of its source in ops. ClientId is one per (client,
// process), as porcupine's visualization draws one line per client.
func porcupineOps(ops []history.Operation) ([]porcupine.Operation, []int) {
	type proc struct {
		c int
		p int
	}
	type kv struct{ key, value string }
	observed := map[kv]bool{}
	for _, o := range ops {
		switch {
		case o.Stale:
		case o.F == history.Get && o.Outcome == history.OutcomeOK:
			observed[kv{o.Key, o.Result}] = true
		case o.F == history.CAS && o.Outcome != history.OutcomeFail:
			observed[kv{o.Key, o.Expect}] = true
		}
	}
	ids := map[proc]int{}
	var out []porcupine.Operation
	var src []int
	for i, o := range ops {
		if o.Outcome == history.OutcomeFail || (o.Outcome == history.OutcomeInfo && o.F == history.Get) || o.Stale {
			// A stale (serializable) get promised no recency.
			continue
		}
		if o.Outcome == history.OutcomeInfo && !observed[kv{o.Key, o.Value}] {
			// An open-ended write whose value nobody observed can be
			// linearized after everything else, where it changes no
			// answer: dropping it keeps the verdict and spares the
			// search a branch at every step (Knossos and Jepsen prune
			// the same way).
			continue
		}
		k := proc{int(o.Client), o.Process}
		id, ok := ids[k]
		if !ok {
			id = len(ids)
			ids[k] = id
		}
		ret := o.Return
		if o.Outcome == history.OutcomeInfo {
			ret = history.Open
		}
		out = append(out, porcupine.Operation{
			ClientId: id,
			Input:    kvInput{F: o.F, Key: o.Key, Value: o.Value, Expect: o.Expect},
			Call:     o.Call,
			Output:   kvOutput{Result: o.Result, Unknown: o.Outcome != history.OutcomeOK},
			Return:   ret,
			Metadata: fmt.Sprintf("%v#%d (process %d, e%d)", o.Client, o.ID, o.Process, o.CallEvent),
		})
		src = append(src, i)
	}
	return out, src
}

// LinearizableVizFile is how a violation names its visualization:
// "porcupine visualization: PATH".
var LinearizableVizFile = regexp.MustCompile(`porcupine visualization: (\S+\.html)`)

// CheckHistory checks ops (from history.FromTrace). label names the
// visualization file ("register-stale-reads-seed7").
func (l *Linearizable) CheckHistory(ops []history.Operation, label string) check.Result {
	res := check.Result{Check: l.Name()}
	timeout := l.Timeout
	if timeout <= 0 {
		timeout = DefaultLinearizableTimeout
		if d, err := time.ParseDuration(os.Getenv("ORDO_LINEARIZABLE_TIMEOUT")); err == nil && d > 0 {
			timeout = min(d, MaxLinearizableTimeout)
		}
	}
	pops, src := porcupineOps(ops)
	if len(pops) == 0 {
		res.Verdict = check.NotApplicable
		res.Summary = fmt.Sprintf("not applicable: no client operation to check (%d recorded, none ok or open-ended)", len(ops))
		return res
	}
	// One key at a time (porcupine would run them in parallel; the
	// machine is shared), so a verdict names its key.
	keyOf := func(i int) string { return pops[i].Input.(kvInput).Key }
	byKey := map[string][]int{}
	var keys []string
	for i := range pops {
		k := keyOf(i)
		if _, ok := byKey[k]; !ok {
			keys = append(keys, k)
		}
		byKey[k] = append(byKey[k], i)
	}
	sort.Strings(keys)
	var bad [][]porcupine.Operation
	var badSrc [][]int
	var unknown []string
	deadline := time.Now().Add(timeout)
	for ki, key := range keys {
		part := make([]porcupine.Operation, 0, len(byKey[key]))
		s := make([]int, 0, len(byKey[key]))
		for _, i := range byKey[key] {
			part = append(part, pops[i])
			s = append(s, src[i])
		}
		// Each key left gets an equal share of the time left, so one
		// hard key cannot starve the others of a verdict (one illegal
		// key is enough to fail the history).
		left := time.Until(deadline) / time.Duration(len(keys)-ki)
		if left <= 0 {
			unknown = append(unknown, fmt.Sprintf("%q", key))
			continue
		}
		switch porcupine.CheckOperationsTimeout(kvPorcupine, part, left) {
		case porcupine.Illegal:
			bad = append(bad, part)
			badSrc = append(badSrc, s)
		case porcupine.Unknown:
			unknown = append(unknown, fmt.Sprintf("%q", key))
		}
	}
	if len(bad) == 0 {
		if len(unknown) > 0 {
			res.Verdict, res.Unknown = check.Unknown, true
			res.Summary = fmt.Sprintf("unknown: the search exceeded %v on key %s (%d ops on %d keys); no verdict", timeout, strings.Join(unknown, ", "), len(pops), len(keys))
			return res
		}
		res.Verdict, res.OK = check.Pass, true
		res.Summary = fmt.Sprintf("linearizable: %d ops on %d keys (%d recorded)", len(pops), len(keys), len(ops))
		return res
	}
	// The visualization of the failing keys only: it is what a reader
	// needs, and the verbose search is repeated on them alone.
	var all []porcupine.Operation
	for _, p := range bad {
		all = append(all, p...)
	}
	path, info, verr := l.visualize(all, label, timeout)
	where, file := "porcupine visualization: "+path, path
	if verr != nil {
		where, file = "no visualization: "+verr.Error(), ""
	}
	// Porcupine's partitions of the failing ops are the bad keys in the
	// same (sorted) order; each comes with its longest linearizable
	// prefixes, and the earliest op left out of the longest is where
	// every linearization gets stuck.
	partials := info.PartialLinearizationsOperations()
	for i, p := range bad {
		key := p[0].Input.(kvInput).Key
		stuck, longest := badSrc[i][0], 0
		if i < len(partials) {
			var in map[any]bool
			for _, lin := range partials[i] {
				if len(lin) > longest || in == nil {
					longest, in = len(lin), map[any]bool{}
					for _, o := range lin {
						in[o.Metadata] = true
					}
				}
			}
			first := int64(-1)
			for k, o := range p {
				if !in[o.Metadata] && (first < 0 || o.Call < first) {
					first, stuck = o.Call, badSrc[i][k]
				}
			}
		}
		o := ops[stuck]
		v := check.Violation{
			Message: fmt.Sprintf("key %q: no linearization of its %d operations exists: the longest linearizable prefix orders %d of them and cannot take %s (e%d); %s", key, len(p), longest, o, o.CallEvent, where),
			Events:  events(o.CallEvent, o.ReturnEvent),
			File:    file,
			From:    o.Call,
		}
		if o.Return != history.Open {
			v.To = o.Return
		}
		if len(res.Violations) < check.MaxReported {
			res.Violations = append(res.Violations, v)
		}
	}
	res.Verdict = check.Fail
	res.Summary = fmt.Sprintf("NOT linearizable: %d of %d keys have no linearization (%d ops); %s", len(bad), len(keys), len(pops), where)
	return res
}

func (l *Linearizable) visualize(ops []porcupine.Operation, label string, timeout time.Duration) (string, porcupine.LinearizationInfo, error) {
	_, info := porcupine.CheckOperationsVerbose(kvPorcupine, ops, timeout)
	dir := l.Dir
	if dir == "" {
		dir = os.Getenv("ORDO_VIZ_DIR")
	}
	if dir == "" {
		dir = os.TempDir()
	}
	if dir == NoPages {
		return "", info, errors.New("pages are off in a campaign: the seed's replay command writes one")
	}
	name := "ordo-linearizable-" + strings.Map(func(r rune) rune {
		if r == '/' || r == os.PathSeparator || r == '*' || r == ' ' {
			return '_'
		}
		return r
	}, label) + "-*.html"
	f, err := os.CreateTemp(dir, name)
	if err != nil {
		return "", info, err
	}
	if err := f.Chmod(0o644); err != nil { // a page to open in a browser, not a secret
		f.Close()
		return "", info, err
	}
	if err := porcupine.Visualize(kvPorcupine, info, f); err != nil {
		f.Close()
		return "", info, err
	}
	return f.Name(), info, f.Close()
}
