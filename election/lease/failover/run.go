package failover

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"time"

	_ "ordo/coord"          // the lease election's services
	_ "ordo/election/lease" // the systems Run measures
	_ "ordo/election/raft"
	"ordo/measure"
	"ordo/service/etcd"
)

// The systems Run can measure.
const (
	// EtcdElection is etcd's own recipe (concurrency.Election), one
	// candidate process per node.
	EtcdElection = "etcd-election"
	// OrdoLease is ordo's lease election (protocol "lease") on a live
	// cluster whose service nodes reach the same etcd.
	OrdoLease = "ordo-lease"
	// OrdoLeaseNoProbe is ordo's lease election with probe=0: the
	// successor waits for etcd's lessor to revoke a dead leader's lease,
	// as etcd's recipe does (not measured unless asked for: it shows
	// what the probes save).
	OrdoLeaseNoProbe = "ordo-lease-noprobe"
	// OrdoRaft is ordo's Raft-style election on a live cluster (no
	// etcd, no TTL: its election timeout decides), for reference.
	OrdoRaft = "ordo-raft"
)

// Bounds on a run.
const (
	MaxRounds     = 1000
	MaxCandidates = 9
	MinTTL        = 2 * time.Second
	MaxTTL        = time.Minute
	maxTTLs       = 4
)

// Options configure Run.
type Options struct {
	Dir string // every process's data and logs go under Dir (created)
	// Binary runs the processes (default: this executable); it must
	// understand `node`, `service etcd-member` and `service etcd-campaign`.
	Binary string
	// TTLs are the session TTLs to measure the lease-based systems at,
	// whole seconds, MinTTL..MaxTTL (default 2s, 5s).
	TTLs []time.Duration
	// Rounds per system (default 20): round r kills the leader of every
	// system in turn before round r+1 begins (interleaved).
	Rounds int
	// Candidates per election (default 3): nodes of an ordo cluster,
	// candidate processes of etcd's recipe.
	Candidates int
	// Systems to measure (default all three), see the constants.
	Systems []string
	// EtcdMembers is the size of each embedded etcd (default 1).
	EtcdMembers int
	// Seed seeds the ordo clusters.
	Seed uint64
	// Progress receives one line per kill (nil: quiet).
	Progress io.Writer
	// Raft is the Raft-style election's options (nil: its defaults).
	Raft map[string]string
}

// Row is one system at one TTL.
type Row struct {
	System string `json:"system"`
	TTL    string `json:"ttl,omitempty"` // "" for ordo-raft, which has none
	// FailoverMs per round, from the SIGKILL to the new leader (-1: not
	// measured).
	FailoverMs []float64 `json:"failover_ms"`
	P50Ms      float64   `json:"p50_ms"`
	P99Ms      float64   `json:"p99_ms"`
	MaxMs      float64   `json:"max_ms"`
	// AckMs (ordo's clusters): per round, until a majority of the servers
	// knows the new leader (election.FailoverMs), for the raft figures of
	// `ordo cluster chaos`.
	AckMs    []float64 `json:"ack_ms,omitempty"`
	AckP50Ms float64   `json:"ack_p50_ms,omitempty"`
	// Violations: failed checks on an ordo cluster's merged trace
	// (single-leader, fencing for the lease election).
	// Lost: sessions etcd's candidates lost outside a kill (their
	// keepalives starved on an overloaded machine); each was restarted.
	Lost       int    `json:"lost_sessions,omitempty"`
	Violations int    `json:"violations"`
	Checks     string `json:"checks,omitempty"`
	Trace      string `json:"trace,omitempty"`
}

// Ratio compares ordo's lease election with etcd's recipe at one TTL,
// measured in the same run: below 1 ordo is faster.
type Ratio struct {
	TTL string  `json:"ttl"`
	P50 float64 `json:"p50"` // ordo-lease p50 / etcd-election p50
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// Report is what Run measured.
type Report struct {
	Rounds      int     `json:"rounds"`
	Candidates  int     `json:"candidates"`
	EtcdMembers int     `json:"etcd_members"`
	Rows        []Row   `json:"rows"`
	Ratios      []Ratio `json:"ratios,omitempty"`
	Dir         string  `json:"dir"`
	WallSeconds float64 `json:"wall_s"`
}

// system is one election under measurement.
type system interface {
	// round kills the current leader and waits for the next; it returns
	// the round's failover (ms; -1: not measured yet) as the report's
	// table measures it, for the progress line, with a description.
	round(ctx context.Context) (ms float64, desc string, err error)
	// finish stops everything and returns the system's row.
	finish() (Row, error)
	// close stops everything without measuring (after an error).
	close()
}

// Run measures the systems' failovers in interleaved rounds: in each
// round, for every TTL, etcd's recipe then ordo's lease election, then
// the Raft-style election once. Errors: bad options, a process or etcd
// that cannot start, a round where no new leader comes within
// 3·TTL + 10 s.
func Run(ctx context.Context, o Options) (*Report, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	start := time.Now()
	progress := o.Progress
	if progress == nil {
		progress = io.Discard
	}
	var systems []system
	var names []string
	defer func() {
		for i := len(systems) - 1; i >= 0; i-- {
			systems[i].close()
		}
	}()
	for _, ttl := range o.TTLs {
		var cluster *etcd.Cluster
		need := slices.Contains(o.Systems, EtcdElection) || slices.Contains(o.Systems, OrdoLease) || slices.Contains(o.Systems, OrdoLeaseNoProbe)
		if need {
			dir := filepath.Join(o.Dir, fmt.Sprintf("etcd-ttl%ds", int(ttl.Seconds())))
			c, err := etcd.Start(ctx, etcd.Options{N: o.EtcdMembers, Dir: dir, Binary: o.Binary})
			if err != nil {
				return nil, err
			}
			systems = append(systems, etcdCloser{c})
			names = append(names, "")
			cluster = c
		}
		if slices.Contains(o.Systems, EtcdElection) {
			s, err := startEtcdElection(ctx, o, cluster, ttl)
			if err != nil {
				return nil, err
			}
			systems = append(systems, s)
			names = append(names, fmt.Sprintf("%s ttl %v", EtcdElection, ttl))
		}
		for _, sys := range []string{OrdoLease, OrdoLeaseNoProbe} {
			if !slices.Contains(o.Systems, sys) {
				continue
			}
			s, err := startOrdoLease(o, cluster, ttl, sys)
			if err != nil {
				return nil, err
			}
			systems = append(systems, s)
			names = append(names, fmt.Sprintf("%s ttl %v", sys, ttl))
		}
	}
	if slices.Contains(o.Systems, OrdoRaft) {
		s, err := startOrdoRaft(o)
		if err != nil {
			return nil, err
		}
		systems = append(systems, s)
		names = append(names, OrdoRaft)
	}
	for r := 1; r <= o.Rounds; r++ {
		for i, s := range systems {
			if names[i] == "" {
				continue
			}
			ms, desc, err := s.round(ctx)
			if err != nil {
				return nil, fmt.Errorf("round %d, %s: %w", r, names[i], err)
			}
			fig := fmt.Sprintf("%8.1f ms", ms)
			if ms < 0 {
				fig = "       ? ms" // not measured here; the table measures on the merged trace
			}
			fmt.Fprintf(progress, "round %d %-29s %s  %s\n", r, names[i], fig, desc)
		}
	}
	rep := &Report{Rounds: o.Rounds, Candidates: o.Candidates, EtcdMembers: o.EtcdMembers, Dir: o.Dir}
	// Finish in reverse: ordo's clusters stop before the etcds they use.
	var errs []error
	rows := make([]Row, len(systems))
	for i := len(systems) - 1; i >= 0; i-- {
		row, err := systems[i].finish()
		errs = append(errs, err)
		rows[i] = row
	}
	systems = nil
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for i, row := range rows {
		if names[i] == "" {
			continue
		}
		row.P50Ms, row.P99Ms, row.MaxMs = PercentileMs(row.FailoverMs, 50), PercentileMs(row.FailoverMs, 99), PercentileMs(row.FailoverMs, 100)
		if row.AckMs != nil {
			row.AckP50Ms = PercentileMs(row.AckMs, 50)
		}
		rep.Rows = append(rep.Rows, row)
	}
	for _, ttl := range o.TTLs {
		var e, l *Row
		for i := range rep.Rows {
			if rep.Rows[i].TTL == ttl.String() {
				switch rep.Rows[i].System {
				case EtcdElection:
					e = &rep.Rows[i]
				case OrdoLease:
					l = &rep.Rows[i]
				}
			}
		}
		if e != nil && l != nil {
			rep.Ratios = append(rep.Ratios, Ratio{TTL: ttl.String(), P50: ratio(l.P50Ms, e.P50Ms), P99: ratio(l.P99Ms, e.P99Ms), Max: ratio(l.MaxMs, e.MaxMs)})
		}
	}
	rep.WallSeconds = math.Round(time.Since(start).Seconds()*10) / 10
	return rep, nil
}

// Validate checks o as Run would, without touching the disk: a command
// refuses bad flags before it creates a directory for the run. Dir may be
// empty here (Run requires it).
func (o Options) Validate() error { return o.normalize() }

func (o *Options) defaults() error {
	if o.Dir == "" {
		return errors.New("failover: Options.Dir is required")
	}
	if err := o.normalize(); err != nil {
		return err
	}
	var err error
	if o.Dir, err = filepath.Abs(o.Dir); err != nil {
		return err
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return err
	}
	if o.Binary == "" {
		if o.Binary, err = os.Executable(); err != nil {
			return err
		}
	}
	return nil
}

// normalize fills in the defaults and checks every bound.
func (o *Options) normalize() error {
	if len(o.TTLs) == 0 {
		o.TTLs = []time.Duration{2 * time.Second, 5 * time.Second}
	}
	if len(o.TTLs) > maxTTLs {
		return fmt.Errorf("--ttl names %d TTLs, at most %d", len(o.TTLs), maxTTLs)
	}
	for i, t := range o.TTLs {
		if t < MinTTL || t > MaxTTL || t%time.Second != 0 {
			return fmt.Errorf("--ttl %v: want whole seconds, %v..%v", t, MinTTL, MaxTTL)
		}
		if slices.Contains(o.TTLs[:i], t) {
			return fmt.Errorf("--ttl %v given twice", t)
		}
	}
	if o.Rounds == 0 {
		o.Rounds = 20
	}
	if o.Rounds < 1 || o.Rounds > MaxRounds {
		return fmt.Errorf("--rounds %d: want 1..%d", o.Rounds, MaxRounds)
	}
	if o.Candidates == 0 {
		o.Candidates = 3
	}
	if o.Candidates < 2 || o.Candidates > MaxCandidates {
		return fmt.Errorf("--candidates %d: want 2..%d (one must survive the kill)", o.Candidates, MaxCandidates)
	}
	if len(o.Systems) == 0 {
		o.Systems = []string{EtcdElection, OrdoLease, OrdoRaft}
	}
	for _, s := range o.Systems {
		if s != EtcdElection && s != OrdoLease && s != OrdoLeaseNoProbe && s != OrdoRaft {
			return fmt.Errorf("system %q: want %s, %s, %s or %s", s, EtcdElection, OrdoLease, OrdoLeaseNoProbe, OrdoRaft)
		}
	}
	if o.EtcdMembers == 0 {
		o.EtcdMembers = 1
	}
	if o.EtcdMembers < 1 || o.EtcdMembers > etcd.MaxMembers {
		return fmt.Errorf("--etcd-members %d: want 1..%d", o.EtcdMembers, etcd.MaxMembers)
	}
	return nil
}

// within bounds the wait for a new leader after a kill at ttl: the lease
// runs out within ttl, etcd's lessor checks expiry every 500 ms, and a
// busy machine gets its slack.
func within(ttl time.Duration) time.Duration { return 3*ttl + 10*time.Second }

// PercentileMs is the nearest-rank percentile p of xs in ms (negative:
// not measured, ignored), to 0.1 ms; 0 for none.
func PercentileMs(xs []float64, p float64) float64 {
	var v []float64
	for _, x := range xs {
		if x >= 0 {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return 0
	}
	return math.Round(measure.Percentile(v, p)*10) / 10
}

func ratio(a, b float64) float64 {
	if b <= 0 {
		return 0
	}
	return math.Round(a/b*1000) / 1000
}

// etcdCloser stops an embedded etcd last.
type etcdCloser struct{ c *etcd.Cluster }

func (e etcdCloser) round(context.Context) (float64, string, error) { return 0, "", nil }
func (e etcdCloser) finish() (Row, error)                           { return Row{}, e.c.Stop() }
func (e etcdCloser) close()                                         { e.c.Stop() }
