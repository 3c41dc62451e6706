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
	Violations          int            `json:"violations"`
	Checks              []check.Result `json:"checks"`
	Dir                 string         `json:"dir,omitempty"`
	Trace               string         `json:"trace,omitempty"`
	Events              int            `json:"events"`
}

type chaosMark struct {
	at     int64 // trace time, ns
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
	c, err := Up(o.Up)
	if err != nil {
		return nil, err
	}
	defer func() {
		if c != nil {
			c.Down()
		}
	}()
	within := 5*time.Second + 20*electionMax(c.Cfg)
	rng := rand.New(rand.NewPCG(o.Up.Seed, 0xc4a05))
	var kills, cuts []chaosMark
	n := c.N()
	settle := electionMin(c.Cfg)
	for round := 1; round <= o.Rounds; round++ {
		// Each failover starts from a steady cluster: every node has
		// followed one leader for a minimum election timeout, as in a
		// production cluster that fails.
		l, term, err := c.WaitSteady(within, settle)
		if err != nil {
			return nil, fmt.Errorf("round %d: before the kill: %w", round, err)
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
			if o := ordo.NodeID(1 + rng.IntN(n)); !slices.Contains(minority, o) {
				minority = append(minority, o)
			}
		}
		slices.Sort(minority)
		var majority []ordo.NodeID
		for i := 1; i <= n; i++ {
			if !slices.Contains(minority, ordo.NodeID(i)) {
				majority = append(majority, ordo.NodeID(i))
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
		cuts = append(cuts, cut)
		if err := c.Heal(); err != nil {
			return nil, fmt.Errorf("round %d: %w", round, err)
		}
		if _, _, err := c.WaitLeader(term3-1, nil, within); err != nil {
			return nil, fmt.Errorf("round %d: after healing: %w", round, err)
		}
		fmt.Fprintf(progress, "round %d: killed leader n%d (term %d) → n%d leads term %d (polled %.0f ms); cut %v → n%d leads term %d; healed\n",
			round, l, term, l2, term2, polled, minority, l3, term3)
	}
	dir := c.Dir
	if err := c.Down(); err != nil {
		return nil, err
	}
	c = nil
	cfg, err := LoadConfig(filepath.Join(dir, ConfigFileName))
	if err != nil {
		return nil, err
	}
	tr, err := Merge(cfg)
	if err != nil {
		return nil, err
	}
	out := filepath.Join(dir, "merged.jsonl")
	if err := tr.WriteFile(out); err != nil {
		return nil, err
	}
	rep = &ChaosReport{Nodes: n, Rounds: o.Rounds, Protocol: cfg.Protocol, Options: cfg.Options, Dir: dir, Trace: out, Events: len(tr.Events)}
	for _, k := range kills {
		f := Failover(tr, k.at, k.term, k.killed, nil)
		rep.FailoverMs = append(rep.FailoverMs, f)
		rep.ElectionMs = append(rep.ElectionMs, electionPart(tr, k.at, k.term, f))
	}
	for _, k := range cuts {
		rep.PartitionFailoverMs = append(rep.PartitionFailoverMs, Failover(tr, k.at, k.term, 0, k.in))
	}
	rep.P50Ms, rep.P99Ms, rep.MaxMs = Percentile(rep.FailoverMs, 50), Percentile(rep.FailoverMs, 99), Percentile(rep.FailoverMs, 100)
	rep.PartitionP50Ms = Percentile(rep.PartitionFailoverMs, 50)
	rep.Checks, err = check.Run(tr, o.Checks)
	if err != nil {
		return nil, err
	}
	for _, r := range rep.Checks {
		if !r.OK {
			rep.Violations += max(1, len(r.Violations))
		}
	}
	return rep, nil
}

func electionMax(cfg *Config) time.Duration { return protoDuration(cfg, "election_timeout_max") }
func electionMin(cfg *Config) time.Duration { return protoDuration(cfg, "election_timeout_min") }

// protoDuration reads a duration option of the cluster's protocol, its
// default filled in by Resolve (1s if the protocol has no such option).
func protoDuration(cfg *Config, name string) time.Duration {
	if p, err := ordo.Lookup(cfg.Protocol); err == nil {
		if opts, err := p.Resolve(cfg.Options); err == nil {
			if d, err := time.ParseDuration(opts[name]); err == nil {
				return d
			}
		}
	}
	return time.Second
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
			if !nv.Up || nv.Status.Role != "leader" || nv.Status.Term <= after || (group != nil && !slices.Contains(group, nv.ID)) {
				continue
			}
			agree := 0
			for _, o := range last {
				if o.Up && o.Status.Term == nv.Status.Term && o.Status.Leader == nv.ID {
					agree++
				}
			}
			if agree > c.N()/2 {
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

// Failover measures on a trace the time in milliseconds from from (ns) to
// the first moment a node other than killed (and in group, if given) has
// noted "leader" with a term above term, and a majority of the cluster —
// the leader and the nodes that noted "follower" of it in that term — knows
// it. It returns -1 when no such moment is in the trace.
func Failover(t *trace.Trace, from, term int64, killed ordo.NodeID, group []ordo.NodeID) float64 {
	type key struct {
		node ordo.NodeID
		term int64
	}
	acks := map[key]map[ordo.NodeID]bool{}
	need := t.Meta.Nodes/2 + 1
	for i := range t.Events {
		e := &t.Events[i]
		if e.T < from || e.Kind != trace.Note {
			continue
		}
		tm, ok := e.Attrs.Int("term")
		if !ok || tm <= term {
			continue
		}
		var k key
		switch e.Name {
		case "leader":
			if e.Node == killed || (group != nil && !slices.Contains(group, e.Node)) {
				continue
			}
			k = key{e.Node, tm}
		case "follower":
			l, ok := e.Attrs.Int("leader")
			if !ok || l == 0 {
				continue
			}
			k = key{ordo.NodeID(l), tm}
		default:
			continue
		}
		if acks[k] == nil {
			acks[k] = map[ordo.NodeID]bool{}
		}
		acks[k][e.Node] = true
		if acks[k][k.node] && len(acks[k]) >= need {
			return math.Round(float64(e.T-from)/1e5) / 10
		}
	}
	return -1
}

// electionPart is the time from the last "precandidate" or "candidate"
// note of the leader that ended a failover of f ms begun at from, to the
// end of that failover.
func electionPart(t *trace.Trace, from, term int64, f float64) float64 {
	if f < 0 {
		return -1
	}
	end := from + int64(f*1e6)
	var winner ordo.NodeID
	for i := range t.Events {
		e := &t.Events[i]
		if e.T >= from && e.T <= end && e.Kind == trace.Note && e.Name == "leader" {
			if tm, _ := e.Attrs.Int("term"); tm > term {
				winner = e.Node
			}
		}
	}
	began := int64(-1)
	for i := range t.Events {
		e := &t.Events[i]
		if e.T >= from && e.T <= end && e.Node == winner && e.Kind == trace.Note && (e.Name == "precandidate" || e.Name == "candidate") && began < 0 {
			began = e.T
		}
		if e.Node == winner && e.Kind == trace.Note && e.Name == "leader" && e.T >= from {
			break
		}
		if e.Node == winner && e.Kind == trace.Note && e.Name == "follower" && e.T >= from {
			began = -1 // an attempt that failed; the winning one comes later
		}
	}
	if began < 0 {
		return -1
	}
	return math.Round(float64(end-began)/1e5) / 10
}

// Percentile is the nearest-rank percentile p (0..100] of xs, negative
// values (not measured) ignored; 0 for no values.
func Percentile(xs []float64, p float64) float64 {
	var v []float64
	for _, x := range xs {
		if x >= 0 {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	r := int(math.Ceil(p / 100 * float64(len(v))))
	r = min(max(r, 1), len(v))
	return math.Round(v[r-1]*10) / 10
}
