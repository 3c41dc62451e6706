package failover

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"time"

	"ordo"
	"ordo/check"
	"ordo/election"
	"ordo/live"
	"ordo/trace"
)

// ordoCluster is one of ordo's elections on a live cluster: K server
// processes (plus, for the lease election, its service nodes).
type ordoCluster struct {
	c      *live.Cluster
	epoch  time.Time
	wait   time.Duration // bound on a new leader after a kill
	settle time.Duration
	marks  []mark
	row    Row
	checks []string
	rng    *rand.Rand
}

// mark is one kill: its instant (ns since the cluster's epoch, the time
// base of its traces), the leader's term and id.
type mark struct {
	at     int64
	term   int64
	killed ordo.NodeID
}

func startOrdoRaft(o Options) (*ordoCluster, error) {
	up := live.UpOptions{N: o.Candidates, Protocol: "raft", Options: o.Raft, Dir: filepath.Join(o.Dir, "ordo-raft"), Binary: o.Binary,
		Seed: o.Seed, LogLevel: "warn", DieWithParent: true, Fresh: true}
	_, hi, err := election.Timeouts("raft", o.Raft, o.Candidates)
	if err != nil {
		return nil, err
	}
	return startOrdoCluster(up, Row{System: OrdoRaft}, 10*time.Second+20*hi, 0, []string{"single-leader", "one-leader-per-term"})
}

// startOrdoCluster starts a live cluster; wait bounds every wait for a
// leader, stream picks the cluster's jitter source, checks run at the end.
func startOrdoCluster(up live.UpOptions, row Row, wait time.Duration, stream uint64, checks []string) (*ordoCluster, error) {
	for _, name := range checks {
		if _, err := check.Lookup(name); err != nil {
			return nil, err
		}
	}
	c, err := live.Up(up)
	if err != nil {
		return nil, err
	}
	epoch, err := c.Cfg.EpochTime()
	if err != nil {
		c.Down()
		return nil, err
	}
	return &ordoCluster{c: c, epoch: epoch, wait: wait, settle: settle, row: row, checks: checks, rng: rand.New(rand.NewPCG(up.Seed, stream))}, nil
}

// now is wall-clock ns since the cluster's epoch, as the nodes' traces
// stamp their events.
func (s *ordoCluster) now() int64 { return int64(time.Since(s.epoch)) }

// round waits until every server follows one leader for settle, kills
// the leader, waits (polling the nodes) until a majority knows a new one,
// and restarts the killed node from its disk. Its figure is the table's:
// until the next leader's note (-1: not found in the trace files), and
// desc gives the polled majority figure beside it.
func (s *ordoCluster) round(ctx context.Context) (float64, string, error) {
	l, term, err := s.c.WaitSteady(s.wait, s.settle)
	if err != nil {
		return 0, "", fmt.Errorf("before the kill: %w", err)
	}
	time.Sleep(jitter(s.rng))
	if err := ctx.Err(); err != nil {
		return 0, "", err
	}
	ends := s.traceEnds() // before the instant of the kill: note.go
	m := mark{at: s.now(), term: term, killed: l}
	if err := s.c.Kill(l); err != nil {
		return 0, "", err
	}
	l2, term2, err := s.c.WaitLeader(term, nil, s.wait)
	if err != nil {
		return 0, "", fmt.Errorf("after killing leader n%d: %w", l, err)
	}
	polled := math.Round(float64(s.now()-m.at)/1e5) / 10
	// The table's figure: the next leader's note (the majority's, polled,
	// beside it, labelled).
	note := s.leaderNote(m, ends)
	s.marks = append(s.marks, m)
	if err := s.c.Restart(l); err != nil {
		return 0, "", err
	}
	desc := fmt.Sprintf("killed n%d (term %d) → n%d leads term %d (a majority knows by %.1f ms, polled)", l, term, l2, term2, polled)
	if note < 0 {
		desc = fmt.Sprintf("killed n%d (term %d) → n%d leads term %d (its leader note not yet in its trace file; a majority knows by %.1f ms, polled)", l, term, l2, term2, polled)
	}
	return note, desc, nil
}

// finish stops the cluster, merges its traces and measures every kill on
// the merged trace; it runs the checks.
func (s *ordoCluster) finish() (Row, error) {
	dir, c := s.c.Dir, s.c
	s.c = nil
	tr, err := c.DownAndMerge()
	if err != nil {
		return s.row, err
	}
	out := filepath.Join(dir, "merged.jsonl")
	if err := tr.WriteFile(out); err != nil {
		return s.row, err
	}
	s.row.Trace = out
	for _, m := range s.marks {
		s.row.FailoverMs = append(s.row.FailoverMs, LeaderNoteMs(tr, m.at, m.term, m.killed))
		s.row.AckMs = append(s.row.AckMs, election.FailoverMs(tr, m.at, m.term, m.killed, nil))
	}
	res, err := check.Run(tr, s.checks)
	if err != nil {
		return s.row, err
	}
	var verdicts []string
	for _, r := range res {
		if r.Failed() {
			s.row.Violations += max(1, len(r.Violations))
		}
		verdicts = append(verdicts, fmt.Sprintf("%s %s", r.Check, r.Verdict))
	}
	s.row.Checks = strings.Join(verdicts, ", ")
	return s.row, nil
}

func (s *ordoCluster) close() {
	if s.c != nil {
		s.c.Down()
		s.c = nil
	}
}

// LeaderNoteMs is, on a merged trace, the time in ms from from (ns since
// the epoch) to the first "leader" note of a term above term by a node
// other than killed: the moment the next leader knows it leads. -1 when
// the trace has none.
func LeaderNoteMs(t *trace.Trace, from, term int64, killed ordo.NodeID) float64 {
	for i := range t.Events {
		e := &t.Events[i]
		if e.T < from || e.Kind != trace.Note || e.Name != election.NoteLeader || e.Node == killed {
			continue
		}
		if tm, ok := e.Attrs.Int("term"); ok && tm > term {
			return math.Round(float64(e.T-from)/1e5) / 10
		}
	}
	return -1
}
