package lab

import (
	"fmt"
	"math/rand/v2"
	"time"

	"ordo"
	"ordo/election"
	"ordo/sim"
	"ordo/trace"
)

// ElectionKinds are the message kinds that belong to an election (not to
// heartbeats or hop acknowledgements), per protocol.
var ElectionKinds = map[string][]string{
	"bully": {"ELECTION", "OK", "COORDINATOR"},
	"ring":  {"ELECTION", "COORDINATOR"},
	"raft":  {"RequestVote", "RequestVoteResp"},
}

// Failover is one leader crash and what followed.
type Failover struct {
	Seed    uint64
	Old     ordo.NodeID
	New     ordo.NodeID
	CrashAt time.Duration
	Elected time.Duration // crash → the new leader's "leader" note (-1: none)
	Agreed  time.Duration // crash → every running node follows it (-1: none)
	// Messages counts every message sent from the crash to the end of
	// the observation, by kind (election kinds only occur in elections).
	Messages map[string]int
	// ToElect counts every message sent from the crash to the new
	// leader's note, heartbeats included.
	ToElect int
}

// FailoverConfig describes a leader-crash measurement.
type FailoverConfig struct {
	Protocol string
	Options  map[string]string
	Nodes    int
	Latency  sim.Dist
	ClockOf  map[ordo.NodeID]sim.ClockModel
	Warmup   time.Duration // run this long before the crash (default 2s)
	After    time.Duration // observe this long after it (default 3s)
}

// RunFailover boots the cluster, lets it elect, crashes the leader at a
// moment drawn from seed (uniform within a heartbeat-scale window, so the
// crash falls anywhere between two heartbeats) and measures the recovery.
func RunFailover(c FailoverConfig, seed uint64) (*Failover, error) {
	if c.Warmup == 0 {
		c.Warmup = 2 * time.Second
	}
	if c.After == 0 {
		c.After = 3 * time.Second
	}
	s, err := New(Spec{Protocol: c.Protocol, Options: c.Options, Nodes: c.Nodes, Seed: seed, Latency: c.Latency, ClockOf: c.ClockOf})
	if err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(seed, 0x63726173)) // "cras"
	crashAt := c.Warmup + time.Duration(r.Int64N(int64(100*time.Millisecond)))
	if err := s.RunUntil(crashAt); err != nil {
		return nil, err
	}
	a := election.FinalAgreement(s.Trace())
	if a.Leader == ordo.None {
		return nil, fmt.Errorf("seed %d: no agreed leader after %v of warm-up", seed, crashAt)
	}
	mark := len(s.Trace().Events)
	s.Crash(a.Leader)
	if err := s.RunUntil(crashAt + c.After); err != nil {
		return nil, err
	}
	f := &Failover{Seed: seed, Old: a.Leader, CrashAt: crashAt, Elected: -1, Agreed: -1, Messages: map[string]int{}}
	evs := s.Trace().Events[mark:]
	var electedAt int64 = -1
	for i := range evs {
		e := &evs[i]
		if e.Kind == trace.Note && e.Name == "leader" && e.Node != a.Leader && f.New == ordo.None {
			f.New, electedAt = e.Node, e.T
			f.Elected = time.Duration(e.T) - crashAt
		}
		if e.Kind == trace.Send {
			f.Messages[e.MsgKind]++
			if electedAt < 0 {
				f.ToElect++
			}
		}
	}
	if b := election.FinalAgreement(s.Trace()); b.Leader != ordo.None && b.Leader == f.New {
		f.Agreed = time.Duration(b.Since) - crashAt
	}
	return f, nil
}

// BenchRow is one line of `ordo bench elect`.
type BenchRow struct {
	Protocol    string
	N           int
	Case        string // "best" or "worst"
	Detector    ordo.NodeID
	Messages    int // election messages (ElectionKinds) from the crash to the new leader
	All         int // every message sent from the crash to the new leader, heartbeats and acks included
	TimeToElect time.Duration
	Theory      string
	Lo, Hi      int // the theory's bounds for Messages
}

// BenchSizes are the cluster sizes of the benchmark.
var BenchSizes = []int{3, 5, 9, 17, 33, 65}

// Bench measures one protocol at one size: the leader (node n, or Raft's
// elected leader) crashes, and the election that follows is counted. For
// Bully and Ring the case chooses which node's failure detector fires
// first (a fast clock on that node, no jitter): best = the highest
// survivor, worst = node 1.
func Bench(protocol, variant string, n int, worst bool) (*BenchRow, error) {
	row := &BenchRow{Protocol: protocol, N: n, Case: "best"}
	if worst {
		row.Case = "worst"
	}
	c := FailoverConfig{Protocol: protocol, Nodes: n, Options: map[string]string{}}
	kinds := ElectionKinds[protocol]
	switch protocol {
	case "bully", "ring":
		if variant != "" {
			c.Options["variant"] = variant
			row.Protocol = protocol + "/" + variant
		}
		c.Options["suspect_jitter"] = "0s"
		c.Options["timeout"] = "300ms"
		det := ordo.NodeID(n - 1)
		if worst {
			det = 1
		}
		row.Detector = det
		// Every detector fires at the same timeout; the chosen one's clock
		// runs twice as fast, so it fires first, by half the timeout —
		// time for the whole election to finish before anyone else looks.
		c.ClockOf = map[ordo.NodeID]sim.ClockModel{det: {DriftPPM: 1_000_000}}
	case "raft":
		c.Options["prevote"] = "true"
	default:
		return nil, fmt.Errorf("bench: unknown protocol %q", protocol)
	}
	var best *Failover
	seeds := 1
	if protocol == "raft" {
		seeds = 8 // Raft's case is chance: the best and worst of 8 seeds
	}
	for seed := uint64(1); seed <= uint64(seeds); seed++ {
		f, err := RunFailover(c, seed)
		if err != nil {
			return nil, err
		}
		if f.New == ordo.None {
			return nil, fmt.Errorf("bench %s n=%d seed %d: no new leader", protocol, n, seed)
		}
		m := 0
		for _, k := range kinds {
			m += f.Messages[k]
		}
		if best == nil || (!worst && m < row.Messages) || (worst && m > row.Messages) {
			best, row.Messages = f, m
			row.All = f.ToElect
			row.TimeToElect = f.Elected
		}
	}
	row.Theory, row.Lo, row.Hi = theory(row.Protocol, n, worst)
	return row, nil
}

// theory returns the textbook count for an election after the leader (one
// of n) crashed, and the bounds a measurement must fall in. Sends to the
// crashed node count (the sender cannot know).
func theory(protocol string, n int, worst bool) (string, int, int) {
	switch protocol {
	case "bully":
		if !worst {
			// n−1 ELECTION to the dead leader... only one, then COORDINATOR to all.
			return "n (1 ELECTION + n−1 COORDINATOR)", n - 1, n + 1
		}
		return "Θ(n²) (n²/2 ELECTION+OK)", (n - 1) * (n - 2) / 2, n * n
	case "ring", "ring/collect":
		return "2n (ELECTION and COORDINATOR once round)", 2 * (n - 1), 2*n + 2
	case "ring/chang-roberts":
		return "2n .. 3n−1 (Chang–Roberts)", 2 * (n - 1), 3*n - 1
	case "raft":
		if !worst {
			return "2(n−1) (RequestVote + responses)", 2*(n-1) - 1, 2 * (n - 1)
		}
		return "2(n−1) per round; split votes repeat it", 2*(n-1) - 1, 8 * (n - 1)
	}
	return "?", 0, 1 << 30
}
