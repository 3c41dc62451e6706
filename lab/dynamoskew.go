package lab

import (
	"fmt"
	"io"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"ordo"
	"ordo/check"
	"ordo/dynamo"
	"ordo/history"
	"ordo/scenario"
	"ordo/scenarios"
	"ordo/sim"
	"ordo/trace"
)

// The lww-vs-vector tables (issue 12; the chapter's section 2, "타임스탬프
// 기반 순서화의 위험", and section 3, "Vector Clock 활용 예: DynamoDB"):
// the same read-modify-write clients on the same Dynamo-style store, once
// per way with concurrent writes — last-write-wins by the coordinator's
// wall clock, client resolution with dotted version vectors, client
// resolution with one vector clock per object — over a grid of clock
// skew and writer counts. Every figure is counted in the run's trace:
// lost writes from the servers' lost-write notes and the clients'
// history, siblings from dynamo-concurrent and dynamo-version notes.
// `ordo sim lww-vs-vector` is the shell around it.

// DynamoStrategy is one way with concurrent writes: server options over
// the base scenario's.
type DynamoStrategy struct {
	Name    string // lww, dvv, vv: the suffix of its scenario file
	Label   string
	Options map[string]string
}

// DynamoStrategies are the three strategies of the tables, in their order.
var DynamoStrategies = []DynamoStrategy{
	{Name: "lww", Label: "last-write-wins", Options: map[string]string{"resolution": "lww", "versions": "dvv"}},
	{Name: "dvv", Label: "client, DVV", Options: map[string]string{"resolution": "client", "versions": "dvv"}},
	{Name: "vv", Label: "client, per-replica VV", Options: map[string]string{"resolution": "client", "versions": "vv"}},
}

// The grid of the tables: clock skew (the spread between the fastest and
// the slowest server's clock) and concurrent writers (clients).
var (
	SkewSteps   = []time.Duration{0, 10 * time.Millisecond, 100 * time.Millisecond, time.Second}
	WriterSteps = []int{2, 8, 32}
)

// SkewBase is the built-in scenario of the tables' runs (its DVV file);
// lww-vs-vector-lww and -vv are the same run with the other strategies.
// Its clocks are SkewClocks at SkewOfFiles, its clients WritersOfFiles.
const (
	SkewBase       = "lww-vs-vector-dvv"
	SkewOfFiles    = 100 * time.Millisecond
	WritersOfFiles = 8
	// SkewSeed is the tables' default seed: every cell runs with it.
	SkewSeed = 1
)

// SkewClocks is the clock model of skew s on servers 1..n: offsets
// spread evenly over ±s/2 (server 1 slowest, n fastest), drift of
// ±100 ppm alternating, and NTP every second to within ±s/2, so the
// servers stay about s apart for the whole run while which one is ahead
// changes at each sync. Skew 0 is perfect clocks.
func SkewClocks(n int, s time.Duration) (def sim.ClockModel, of map[ordo.NodeID]sim.ClockModel) {
	if s == 0 {
		return sim.ClockModel{}, nil
	}
	def = sim.ClockModel{DriftPPM: 100, NTPEvery: time.Second, NTPError: s / 2}
	of = map[ordo.NodeID]sim.ClockModel{}
	for i := 1; i <= n; i++ {
		m := def
		if n > 1 {
			m.Offset = -s/2 + s*time.Duration(i-1)/time.Duration(n-1)
		}
		if i%2 == 0 {
			m.DriftPPM = -100
		}
		of[ordo.NodeID(i)] = m
	}
	return def, of
}

// LoadSkewBase parses the built-in base scenario.
func LoadSkewBase() (*scenario.Scenario, error) {
	return loadBuiltin(SkewBase)
}

func loadBuiltin(name string) (*scenario.Scenario, error) {
	data, err := scenarios.Read(name)
	if err != nil {
		return nil, err
	}
	return scenario.Parse("scenarios/"+name+".yaml", data)
}

// SkewScenario is base with strategy st, clocks of skew s and writers
// clients (the base's one client group). base is not changed.
func SkewScenario(base *scenario.Scenario, st DynamoStrategy, s time.Duration, writers int) (*scenario.Scenario, error) {
	if len(base.Clients) != 1 {
		return nil, fmt.Errorf("%s: want one client group, have %d", base.File, len(base.Clients))
	}
	sc := *base
	sc.Options = maps.Clone(base.Options)
	maps.Copy(sc.Options, st.Options)
	sc.Clients = slices.Clone(base.Clients)
	sc.Clients[0].Count = writers
	sc.Clock, sc.ClockOf = SkewClocks(base.Nodes, s)
	sc.Name = fmt.Sprintf("%s %s skew=%v writers=%d", base.Name, st.Name, s, writers)
	// The tables count from notes and expect no verdict; the history
	// checkers, quadratic in the operations of 32 writers, are the
	// scenario files' business. Convergence is cheap and says the run
	// settled.
	sc.Checks, sc.Expect = []string{"convergence"}, nil
	return &sc, nil
}

// SkewCell is one run of the tables.
type SkewCell struct {
	Strategy string        `json:"strategy"`
	Skew     time.Duration `json:"skew_ns"`
	Writers  int           `json:"writers"`
	Seed     uint64        `json:"seed"`
	// Acked counts acknowledged puts; Lost those of them a replica
	// discarded (noted lost-write) that no get ever returned: thrown away
	// unseen, so no later write could have meant to replace them.
	Acked, Lost int
	// Siblings counts the writes some replica held beside another (the
	// values of dynamo-concurrent notes); MaxSiblings is the largest
	// sibling set a replica held (dynamo-version's siblings).
	Siblings, MaxSiblings int
	// MaxAcked is the most acknowledged writes one sibling set held. A
	// put that timed out (its outcome unknown to its client, say in a
	// partition) may still be stored and return as a sibling beside its
	// client's next write, which could not have seen it: MaxSiblings
	// counts it, MaxAcked does not.
	MaxAcked int
	// Capped counts puts refused and merges kept beyond max_siblings
	// (dynamo-sibling-cap): a MaxSiblings at the cap is a floor.
	Capped int
	Checks []check.Result `json:"-"`
}

// Verdict is the verdict of the named check in the cell's run ("" when
// it did not run).
func (c *SkewCell) Verdict(name string) check.Verdict {
	for _, r := range c.Checks {
		if r.Check == name {
			return r.Verdict
		}
	}
	return ""
}

// RunSkew runs sc with seed and counts its cell.
func RunSkew(sc *scenario.Scenario, seed uint64) (SkewCell, error) {
	res, err := sc.Run(scenario.RunOptions{Seed: &seed, Trace: true})
	if err != nil {
		return SkewCell{}, err
	}
	c, err := MeasureSkew(res.Trace)
	if err != nil {
		return SkewCell{}, fmt.Errorf("%s: %w", sc.Name, err)
	}
	c.Seed, c.Checks = seed, res.Checks
	return c, nil
}

// MeasureSkew counts a dynamo run's lost writes and siblings from its
// trace (SkewCell's fields but the configuration's).
func MeasureSkew(tr *trace.Trace) (SkewCell, error) {
	ops, err := history.FromTrace(tr)
	if err != nil {
		return SkewCell{}, err
	}
	acked := map[string]bool{}
	var c SkewCell
	for _, o := range ops {
		if o.F == history.Put && o.Outcome == history.OutcomeOK {
			acked[o.Value] = true
			c.Acked++
		}
	}
	read := map[string]bool{}
	discarded := map[string]bool{}
	sibling := map[string]bool{}
	for i := range tr.Events {
		e := &tr.Events[i]
		if e.Kind != trace.Note {
			continue
		}
		switch e.Name {
		case dynamo.NoteGet:
			for _, v := range values(e, "values") {
				read[v] = true
			}
		case dynamo.NoteLost:
			if v, _ := e.Attrs.Get("value").(string); v != "" {
				discarded[v] = true
			}
		case dynamo.NoteConcurrent:
			n := 0
			for _, v := range values(e, "values") {
				sibling[v] = true
				if acked[v] {
					n++
				}
			}
			c.MaxAcked = max(c.MaxAcked, n)
		case dynamo.NoteVersion:
			if n, ok := e.Attrs.Int("siblings"); ok {
				c.MaxSiblings = max(c.MaxSiblings, int(n))
			}
		case dynamo.NoteCap:
			c.Capped++
		}
	}
	for v := range discarded {
		if acked[v] && !read[v] {
			c.Lost++
		}
	}
	c.Siblings = len(sibling)
	return c, nil
}

func values(e *trace.Event, key string) []string {
	s, _ := e.Attrs.Get(key).(string)
	if s == "" {
		return nil
	}
	return strings.Split(s, "|")
}

// SkewTable runs every cell of the grid (strategies × SkewSteps ×
// WriterSteps) with seed, on workers goroutines (0: one per core); each
// run is deterministic, so the table does not depend on workers. Cells
// come back strategy by strategy, then by skew, then by writers.
func SkewTable(seed uint64, workers int) ([]SkewCell, error) {
	base, err := LoadSkewBase()
	if err != nil {
		return nil, err
	}
	type job struct {
		i  int
		sc *scenario.Scenario
	}
	var jobs []job
	var cells []SkewCell
	for _, st := range DynamoStrategies {
		for _, s := range SkewSteps {
			for _, w := range WriterSteps {
				sc, err := SkewScenario(base, st, s, w)
				if err != nil {
					return nil, err
				}
				jobs = append(jobs, job{len(cells), sc})
				cells = append(cells, SkewCell{Strategy: st.Name, Skew: s, Writers: w, Seed: seed})
			}
		}
	}
	if workers < 1 {
		workers = runtime.GOMAXPROCS(0)
	}
	errs := make([]error, len(jobs))
	next := make(chan job)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range next {
				c, err := RunSkew(j.sc, seed)
				if err != nil {
					errs[j.i] = err
					continue
				}
				c.Strategy, c.Skew, c.Writers = cells[j.i].Strategy, cells[j.i].Skew, cells[j.i].Writers
				cells[j.i] = c
			}
		}()
	}
	for _, j := range jobs {
		next <- j
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return cells, nil
}

// SkewCellOf finds a cell of the grid (nil when it is not there).
func SkewCellOf(cells []SkewCell, strategy string, s time.Duration, writers int) *SkewCell {
	for i := range cells {
		if c := &cells[i]; c.Strategy == strategy && c.Skew == s && c.Writers == writers {
			return c
		}
	}
	return nil
}

func skewLabel(s time.Duration) string {
	if s == 0 {
		return "0"
	}
	return s.String()
}

func strategyLabel(name string) string {
	for _, st := range DynamoStrategies {
		if st.Name == name {
			return st.Label
		}
	}
	return name
}

// WriteLostTable prints the lost-write table: for each strategy and
// skew, the acknowledged writes lost of those acknowledged, per writer
// count.
func WriteLostTable(w io.Writer, cells []SkewCell) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	hdr := "strategy\tskew\t"
	for _, n := range WriterSteps {
		hdr += fmt.Sprintf("%d writers\t", n)
	}
	fmt.Fprintln(tw, hdr)
	for _, st := range DynamoStrategies {
		for _, s := range SkewSteps {
			row := st.Label + "\t" + skewLabel(s) + "\t"
			for _, n := range WriterSteps {
				c := SkewCellOf(cells, st.Name, s, n)
				if c == nil {
					row += "-\t"
					continue
				}
				row += fmt.Sprintf("%d/%d (%.0f%%)\t", c.Lost, c.Acked, pct(c.Lost, c.Acked))
			}
			fmt.Fprintln(tw, row)
		}
	}
	return tw.Flush()
}

// WriteSiblingTable prints the sibling table: for each vector strategy
// (last-write-wins keeps one value) and skew,
// the writes that became siblings, the largest sibling set and the most
// acknowledged writes in one set, per writer count; "!" marks acknowledged
// writes in one set beyond the writers, "≥" a set at max_siblings.
func WriteSiblingTable(w io.Writer, cells []SkewCell) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	hdr := "strategy\tskew\t"
	for _, n := range WriterSteps {
		hdr += fmt.Sprintf("%d writers\t", n)
	}
	fmt.Fprintln(tw, hdr)
	for _, st := range DynamoStrategies {
		if st.Options["resolution"] == "lww" {
			continue // one value per key: never a sibling
		}
		for _, s := range SkewSteps {
			row := st.Label + "\t" + skewLabel(s) + "\t"
			for _, n := range WriterSteps {
				c := SkewCellOf(cells, st.Name, s, n)
				if c == nil {
					row += "-\t"
					continue
				}
				mark := ""
				if c.MaxAcked > c.Writers {
					mark = "!"
				}
				floor := ""
				if c.Capped > 0 {
					floor = "≥"
				}
				row += fmt.Sprintf("%d, max %s%d (%d acked)%s\t", c.Siblings, floor, c.MaxSiblings, c.MaxAcked, mark)
			}
			fmt.Fprintln(tw, row)
		}
	}
	return tw.Flush()
}

func pct(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}
