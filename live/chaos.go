package live

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"time"

	"ordo"
	"ordo/check"
	"ordo/election"
	"ordo/history"
	"ordo/measure"
	"ordo/trace"
)

// ChaosOptions configure `ordo cluster chaos`.
type ChaosOptions struct {
	Up     UpOptions
	Rounds int
	// Checks run on the merged trace (default: one-leader-per-term,
	// single-leader).
	Checks []string
	// Progress receives one line per round (nil: quiet).
	Progress io.Writer
	// Pause adds a third step to every round: the leader is paused
	// (SIGSTOP) for twice the maximum election timeout, a new leader is
	// awaited among the others, and the old one resumes — a GC pause or
	// an overloaded host, the partial failure a timeout cannot tell from
	// a crash.
	Pause bool
}

// ChaosReport is what a chaos run measured. Times are milliseconds.
type ChaosReport struct {
	Nodes    int               `json:"nodes"`
	Rounds   int               `json:"rounds"`
	Protocol string            `json:"protocol"`
	Options  map[string]string `json:"options,omitempty"`
	// FailoverMs: per round, from the SIGKILL of the leader to the moment
	// a new leader of a higher term is acknowledged by a majority (see
	// docs/live.md), read off the merged trace.
	FailoverMs []float64 `json:"failover_ms"`
	P50Ms      float64   `json:"p50_ms"`
	P99Ms      float64   `json:"p99_ms"`
	MaxMs      float64   `json:"max_ms"`
	// PartitionFailoverMs: per round, from cutting the leader into a
	// minority of two to a majority-acknowledged leader in the majority.
	// ElectionMs: per round, the part of FailoverMs after the winner
	// began its (pre)vote: messages, fsyncs and the heartbeat that tells
	// the majority — the rest is waiting for an election timeout.
	ElectionMs          []float64      `json:"election_ms"`
	PartitionFailoverMs []float64      `json:"partition_failover_ms"`
	PartitionP50Ms      float64        `json:"partition_p50_ms"`
	PartitionP99Ms      float64        `json:"partition_p99_ms"`
	Violations          int            `json:"violations"`
	Checks              []check.Result `json:"checks"`
	Dir                 string         `json:"dir,omitempty"`
	Trace               string         `json:"trace,omitempty"`
	Events              int            `json:"events"`
	// With clients (a database run): WriteFailoverMs, per kill, from the
	// SIGKILL to the next acknowledged write of any client; Ops counts the
	// clients' operations by outcome.
	WriteFailoverMs []float64      `json:"write_failover_ms,omitempty"`
	WriteP50Ms      float64        `json:"write_failover_p50_ms,omitempty"`
	WriteP99Ms      float64        `json:"write_failover_p99_ms,omitempty"`
	Ops             map[string]int `json:"ops,omitempty"`
	// Latencies are the clients' acknowledged operations (at most
	// MaxChaosPoints, evenly sampled): when each was invoked and how long
	// it took, ms since the cluster's epoch; Periods the faults (a kill
	// until the next acknowledged write, a partition until the heal, a
	// pause until the resume), for a latency-over-time picture.
	Latencies []ChaosPoint  `json:"-"`
	Periods   []ChaosPeriod `json:"periods,omitempty"`
}

// ChaosPoint is one acknowledged client operation.
type ChaosPoint struct{ AtMs, LatencyMs float64 }

// ChaosPeriod is one fault of a chaos run, ms since the cluster's epoch.
type ChaosPeriod struct {
	Kind   string  `json:"kind"`
	FromMs float64 `json:"from_ms"`
	ToMs   float64 `json:"to_ms"`
}

// MaxChaosPoints bounds ChaosReport.Latencies.
const MaxChaosPoints = 5000

type chaosMark struct {
	at     int64 // trace time, ns
	end    int64 // when the fault was undone (heal, resume; 0: kills)
	term   int64 // a leader must have a higher term
	killed ordo.NodeID
	in     []ordo.NodeID // the new leader must be one of these (nil: any)
}

// Chaos starts a cluster and runs rounds of: SIGKILL the leader, wait for
// a new one, restart the old one; cut the leader off into a minority of
// (n-1)/2 nodes, wait for a leader in the majority, heal. Then it stops
// the cluster, merges the traces, measures every failover on the merged
// trace and runs the checkers.
func Chaos(o ChaosOptions) (rep *ChaosReport, err error) {
	if o.Rounds < 1 || o.Rounds > 10000 {
		return nil, fmt.Errorf("--rounds %d: want 1..10000", o.Rounds)
	}
	if o.Up.N < 3 {
		return nil, fmt.Errorf("-n %d: chaos needs at least 3 nodes (a majority must survive one loss)", o.Up.N)
	}
	if len(o.Checks) == 0 {
		o.Checks = []string{"one-leader-per-term", "single-leader"}
		if o.Up.Clients > 0 {
			// A database run: the clients' history is judged too.
			o.Checks = append(o.Checks, ClientChecks(o.Up.Protocol)...)
		}
	}
	for _, name := range o.Checks {
		if _, err := check.Lookup(name); err != nil {
			return nil, err
		}
	}
	progress := o.Progress
	if progress == nil {
		progress = io.Discard
	}
	o.Up.DieWithParent = true
	if o.Up.Name == "" {
		o.Up.Name = "chaos" // its merged trace's scenario
	}
	c, err := Up(o.Up)
	if err != nil {
		return nil, err
	}
	defer func() {
		if c != nil {
			c.Down()
		}
	}()
	settle, maxTimeout := electionTimeouts(c.Cfg)
	within := 5*time.Second + 20*maxTimeout
	rng := rand.New(rand.NewPCG(o.Up.Seed, 0xc4a05))
	var kills, cuts, pauses []chaosMark
	servers := c.Servers()
	n := len(servers)
	for round := 1; round <= o.Rounds; round++ {
		// Each failover starts from a steady cluster: every node has
		// followed one leader for a minimum election timeout, as in a
		// production cluster that fails.
		l, term, err := c.WaitSteady(within, settle)
		if err != nil {
			return nil, fmt.Errorf("round %d: before the kill: %w", round, err)
		}
		if o.Up.Clients > 0 {
			// Let the clients write to this leader first: the kill then
			// lands on a leader with writes in flight.
			time.Sleep(settle)
		}
		kill := chaosMark{at: c.now(), term: term, killed: l}
		if err := c.Kill(l); err != nil {
			return nil, fmt.Errorf("round %d: %w", round, err)
		}
		l2, term2, err := c.WaitLeader(term, nil, within)
		if err != nil {
			return nil, fmt.Errorf("round %d: after killing leader n%d: %w", round, l, err)
		}
		polled := float64(c.now()-kill.at) / 1e6
		kills = append(kills, kill)
		if err := c.Restart(l); err != nil {
			return nil, fmt.Errorf("round %d: %w", round, err)
		}
		if l2, term2, err = c.WaitSteady(within, settle); err != nil {
			return nil, fmt.Errorf("round %d: after restarting n%d: %w", round, l, err)
		}
		// Cut the leader off into the largest minority, (n-1)/2 nodes:
		// with 5 nodes the leader and one other, as in the chapter.
		minority := []ordo.NodeID{l2}
		for len(minority) < (n-1)/2 {
			if o := servers[rng.IntN(n)]; !slices.Contains(minority, o) {
				minority = append(minority, o)
			}
		}
		slices.Sort(minority)
		var majority []ordo.NodeID
		for _, id := range servers {
			if !slices.Contains(minority, id) {
				majority = append(majority, id)
			}
		}
		cut := chaosMark{at: c.now(), term: term2, in: majority}
		if err := c.Partition([][]ordo.NodeID{minority, majority}); err != nil {
			return nil, fmt.Errorf("round %d: %w", round, err)
		}
		l3, term3, err := c.WaitLeader(term2, majority, within)
		if err != nil {
			return nil, fmt.Errorf("round %d: after partition %s: %w", round, c.State.Partition, err)
		}
		if err := c.Heal(); err != nil {
			return nil, fmt.Errorf("round %d: %w", round, err)
		}
		cut.end = c.now()
		cuts = append(cuts, cut)
		if _, _, err := c.WaitLeader(term3-1, nil, within); err != nil {
			return nil, fmt.Errorf("round %d: after healing: %w", round, err)
		}
		paused := ""
		if o.Pause {
			l4, term4, err := c.WaitSteady(within, settle)
			if err != nil {
				return nil, fmt.Errorf("round %d: before the pause: %w", round, err)
			}
			pause := chaosMark{at: c.now(), killed: l4}
			if err := c.Pause(l4); err != nil {
				return nil, fmt.Errorf("round %d: %w", round, err)
			}
			others := slices.DeleteFunc(slices.Clone(servers), func(id ordo.NodeID) bool { return id == l4 })
			l5, term5, err := c.WaitLeader(term4, others, within)
			if err != nil {
				c.Resume(l4)
				return nil, fmt.Errorf("round %d: after pausing leader n%d: %w", round, l4, err)
			}
			time.Sleep(2 * maxTimeout) // the paused leader's lease and timers run out while it sleeps
			if err := c.Resume(l4); err != nil {
				return nil, fmt.Errorf("round %d: %w", round, err)
			}
			pause.end = c.now()
			pauses = append(pauses, pause)
			paused = fmt.Sprintf("; paused n%d → n%d leads term %d; resumed", l4, l5, term5)
		}
		fmt.Fprintf(progress, "round %d: killed leader n%d (term %d) → n%d leads term %d (polled %.0f ms); cut %v → n%d leads term %d; healed%s\n",
			round, l, term, l2, term2, polled, minority, l3, term3, paused)
	}
	dir, cfg := c.Dir, c.Cfg
	tr, err := c.DownAndMerge()
	c = nil
	if err != nil {
		return nil, err
	}
	out := filepath.Join(dir, "merged.jsonl")
	if err := tr.WriteFile(out); err != nil {
		return nil, err
	}
	rep = &ChaosReport{Nodes: n, Rounds: o.Rounds, Protocol: cfg.Protocol, Options: redacted(cfg), Dir: dir, Trace: out, Events: len(tr.Events)}
	for _, k := range kills {
		f := election.FailoverMs(tr, k.at, k.term, k.killed, nil)
		rep.FailoverMs = append(rep.FailoverMs, f)
		rep.ElectionMs = append(rep.ElectionMs, election.ElectionMs(tr, k.at, k.term, f))
	}
	for _, k := range cuts {
		rep.PartitionFailoverMs = append(rep.PartitionFailoverMs, election.FailoverMs(tr, k.at, k.term, 0, k.in))
	}
	rep.P50Ms, rep.P99Ms, rep.MaxMs = percentileMs(rep.FailoverMs, 50), percentileMs(rep.FailoverMs, 99), percentileMs(rep.FailoverMs, 100)
	rep.PartitionP50Ms = percentileMs(rep.PartitionFailoverMs, 50)
	rep.PartitionP99Ms = percentileMs(rep.PartitionFailoverMs, 99)
	if o.Up.Clients > 0 {
		if err := rep.measureWrites(tr, kills); err != nil {
			return nil, err
		}
		for i, k := range kills {
			end := k.at
			if f := rep.WriteFailoverMs[i]; f >= 0 {
				end += int64(f * 1e6)
			}
			rep.Periods = append(rep.Periods, ChaosPeriod{Kind: "kill", FromMs: float64(k.at) / 1e6, ToMs: float64(end) / 1e6})
		}
		for _, k := range cuts {
			rep.Periods = append(rep.Periods, ChaosPeriod{Kind: "partition", FromMs: float64(k.at) / 1e6, ToMs: float64(k.end) / 1e6})
		}
		for _, k := range pauses {
			rep.Periods = append(rep.Periods, ChaosPeriod{Kind: "pause", FromMs: float64(k.at) / 1e6, ToMs: float64(k.end) / 1e6})
		}
	}
	rep.Checks, err = check.Run(tr, o.Checks)
	if err != nil {
		return nil, err
	}
	for _, r := range rep.Checks {
		if r.Failed() {
			rep.Violations += max(1, len(r.Violations))
		}
	}
	return rep, nil
}

// electionTimeouts is the election timeout range of the cluster's
// protocol, as the election package reads it from its options (1s, 1s if
// the protocol reports none).
func electionTimeouts(cfg *Config) (lo, hi time.Duration) {
	lo, hi, err := election.Timeouts(cfg.Protocol, cfg.Options, len(cfg.Nodes))
	if err != nil {
		return time.Second, time.Second
	}
	return lo, hi
}

// percentileMs is the nearest-rank percentile p of the measured failovers
// xs in ms (negative: not measured, ignored), to 0.1 ms; 0 for none.
func percentileMs(xs []float64, p float64) float64 {
	var v []float64
	for _, x := range xs {
		if x >= 0 {
			v = append(v, x)
		}
	}
	return math.Round(measure.Percentile(v, p)*10) / 10
}

// WaitLeader polls the nodes until one node in group (nil: any) notes
// itself leader with a term above after and a majority of the cluster
// (counting the leader) reports that leader in that term.
func (c *Cluster) WaitLeader(after int64, group []ordo.NodeID, within time.Duration) (ordo.NodeID, int64, error) {
	deadline := time.Now().Add(within)
	var last []NodeView
	for time.Now().Before(deadline) {
		last = c.View()
		for _, nv := range last {
			if !nv.Up || nv.Status.Role != election.NoteLeader || nv.Status.Term <= after || (group != nil && !slices.Contains(group, nv.ID)) {
				continue
			}
			agree := 0
			for _, o := range last {
				if o.Up && o.Status.Term == nv.Status.Term && o.Status.Leader == nv.ID {
					agree++
				}
			}
			if agree > len(c.Servers())/2 {
				return nv.ID, nv.Status.Term, nil
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	desc := ""
	for _, nv := range last {
		if nv.Up {
			desc += fmt.Sprintf(" n%d:%s/t%d/l%d", nv.ID, nv.Status.Role, nv.Status.Term, nv.Status.Leader)
		} else {
			desc += fmt.Sprintf(" n%d:down", nv.ID)
		}
	}
	return 0, 0, fmt.Errorf("no majority-acknowledged leader with term > %d within %v (%s)", after, within, desc)
}

// WaitSteady waits until every node is up and follows one leader in one
// term, and has done so for settle.
func (c *Cluster) WaitSteady(within, settle time.Duration) (ordo.NodeID, int64, error) {
	deadline := time.Now().Add(within)
	var since time.Time
	var leader ordo.NodeID
	var term int64
	for time.Now().Before(deadline) {
		v := c.View()
		v = slices.DeleteFunc(v, func(nv NodeView) bool { return c.Cfg.RoleOf(nv.ID) != ordo.Server })
		ok := v[0].Up && v[0].Status.Leader != 0
		for _, nv := range v {
			ok = ok && nv.Up && nv.Status.Leader == v[0].Status.Leader && nv.Status.Term == v[0].Status.Term
		}
		switch {
		case !ok:
			since = time.Time{}
		case since.IsZero() || v[0].Status.Leader != leader || v[0].Status.Term != term:
			since, leader, term = time.Now(), v[0].Status.Leader, v[0].Status.Term
		case time.Since(since) >= settle:
			return leader, term, nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return 0, 0, fmt.Errorf("the cluster did not settle on one leader within %v", within)
}

// ClientChecks are the checkers of a database run with clients: the
// clients' history is linearizable, no acknowledged write is lost, and the
// replicas applied the same log (agreement) when the protocol notes what
// it applied. Checkers not registered (a build without package kv) are
// left out.
func ClientChecks(protocol string) []string {
	var out []string
	for _, name := range []string{"linearizable", "no-lost-write", "agreement"} {
		if _, err := check.Lookup(name); err == nil {
			out = append(out, name)
		}
	}
	return out
}

// measureWrites reads the clients' history off the merged trace: for each
// kill, the time from the SIGKILL to the first write acknowledged after it
// (a write that returned ok: its response left after the kill), and the
// count of operations by outcome.
func (rep *ChaosReport) measureWrites(tr *trace.Trace, kills []chaosMark) error {
	ops, err := history.FromTrace(tr)
	if err != nil {
		return fmt.Errorf("the clients' history: %w", err)
	}
	rep.Ops = map[string]int{}
	ok := 0
	for _, op := range ops {
		rep.Ops[op.Outcome.String()]++
		if op.Outcome == history.OutcomeOK {
			ok++
		}
	}
	every := max(1, (ok+MaxChaosPoints-1)/MaxChaosPoints)
	k := 0
	for _, op := range ops {
		if op.Outcome != history.OutcomeOK {
			continue
		}
		if k++; k%every == 0 {
			rep.Latencies = append(rep.Latencies, ChaosPoint{AtMs: float64(op.Call) / 1e6, LatencyMs: float64(op.Return-op.Call) / 1e6})
		}
	}
	for _, k := range kills {
		first := int64(-1)
		for _, op := range ops {
			if op.Outcome != history.OutcomeOK || op.F == history.Get || op.Return < k.at {
				continue
			}
			if first < 0 || op.Return < first {
				first = op.Return
			}
		}
		f := -1.0
		if first >= 0 {
			f = float64(first-k.at) / 1e6
		}
		rep.WriteFailoverMs = append(rep.WriteFailoverMs, f)
	}
	rep.WriteP50Ms, rep.WriteP99Ms = percentileMs(rep.WriteFailoverMs, 50), percentileMs(rep.WriteFailoverMs, 99)
	return nil
}

// redacted is cfg's options with the protocol's Secret options hidden.
func redacted(cfg *Config) map[string]string {
	if p, err := ordo.Lookup(cfg.Protocol); err == nil {
		return p.Redact(cfg.Options)
	}
	return cfg.Options
}
