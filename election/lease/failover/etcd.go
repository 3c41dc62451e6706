package failover

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"time"

	"ordo/service/etcd"
)

// etcdElection is etcd's own recipe: K candidate processes campaigning
// with concurrency.Election under one prefix of one etcd.
type etcdElection struct {
	binary, dir string
	cluster     *etcd.Cluster
	ttl         time.Duration
	cands       []*etcd.Candidate
	events      chan indexed
	leader      int       // index of the candidate that leads; -1 unknown
	leaderAt    time.Time // when it reported so
	row         Row
	started     int // candidate processes started, for their names
	rng         *rand.Rand
}

type indexed struct {
	i  int
	k  *etcd.Candidate
	ev etcd.CandidateEvent
}

// electionPrefix is etcd's recipe's prefix, apart from ordo's.
const electionPrefix = "/etcd-election/"

func startEtcdElection(ctx context.Context, o Options, c *etcd.Cluster, ttl time.Duration) (*etcdElection, error) {
	s := &etcdElection{binary: o.Binary, dir: filepath.Join(o.Dir, fmt.Sprintf("etcd-election-ttl%ds", int(ttl.Seconds()))), cluster: c, ttl: ttl,
		events: make(chan indexed, 4*o.Candidates+16), leader: -1, row: Row{System: EtcdElection, TTL: ttl.String()},
		rng: rand.New(rand.NewPCG(o.Seed, uint64(ttl)))}
	if err := mkdir(s.dir); err != nil {
		return nil, err
	}
	s.cands = make([]*etcd.Candidate, o.Candidates)
	for i := range s.cands {
		if err := s.spawn(ctx, i); err != nil {
			s.close()
			return nil, err
		}
	}
	// The first leader: whoever campaigned first.
	deadline := time.Now().Add(within(ttl))
	for s.leader < 0 {
		if _, err := s.next(ctx, time.Until(deadline)); err != nil {
			s.close()
			return nil, fmt.Errorf("%s: no first leader: %w", EtcdElection, err)
		}
	}
	return s, nil
}

// spawn starts candidate i and waits until its session is open.
func (s *etcdElection) spawn(ctx context.Context, i int) error {
	s.started++
	name := fmt.Sprintf("c%d", i+1)
	k, err := etcd.StartCandidate(s.binary, etcd.Campaign{Name: name, Endpoints: s.cluster.Endpoints(), TTL: int(s.ttl / time.Second), Prefix: electionPrefix},
		filepath.Join(s.dir, name+".log"))
	if err != nil {
		return err
	}
	s.cands[i] = k
	go func() {
		for {
			select {
			case ev := <-k.Events():
				s.events <- indexed{i, k, ev}
			case <-k.Done():
				for {
					select {
					case ev := <-k.Events():
						s.events <- indexed{i, k, ev}
					default:
						return
					}
				}
			}
		}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ev, err := s.next(ctx, time.Until(deadline))
		if err != nil {
			return fmt.Errorf("candidate %s: %w (see %s)", name, err, filepath.Join(s.dir, name+".log"))
		}
		if ev.k == k && ev.ev.Kind == "ready" {
			return nil
		}
	}
}

// next is the next report of a live candidate (reports of processes
// since replaced are dropped). A candidate that lost its session (its
// lease expired under it: an overloaded machine starves its keepalives)
// has exited: it is started again, counted in Row.Lost, and its report
// returned for the caller to judge.
func (s *etcdElection) next(ctx context.Context, within time.Duration) (indexed, error) {
	timeout := time.NewTimer(within)
	defer timeout.Stop()
	for {
		select {
		case ev := <-s.events:
			if s.cands[ev.i] != ev.k {
				continue
			}
			if err := ev.k.Err(); err != nil {
				return ev, err
			}
			if ev.ev.Kind == "leader" {
				s.leader, s.leaderAt = ev.i, ev.ev.At
			}
			if ev.ev.Kind == "lost" {
				s.row.Lost++
				if err := s.spawn(ctx, ev.i); err != nil {
					return ev, err
				}
			}
			return ev, nil
		case <-timeout.C:
			return indexed{}, errNoReport
		case <-ctx.Done():
			return indexed{}, ctx.Err()
		}
	}
}

var errNoReport = errors.New("no report in time")

// round kills the leading candidate, times the next leader's report and
// starts the killed candidate again, so every round has K candidates.
func (s *etcdElection) round(ctx context.Context) (float64, string, error) {
	// Settle as ordo's clusters do: the others have campaigned (their
	// keys exist) and the leader has kept its lease alive a while.
	time.Sleep(settle + jitter(s.rng))
	// Reports that came meanwhile: a lost session, a new leader.
	for len(s.events) > 0 {
		_, err := s.next(ctx, 100*time.Millisecond) // it keeps s.leader
		if err == errNoReport {
			break // only reports of replaced processes were queued
		}
		if err != nil {
			return 0, "", err
		}
	}
	old := s.leader
	at, err := s.cands[old].Kill()
	if err != nil {
		return 0, "", err
	}
	deadline := time.Now().Add(within(s.ttl))
	for s.leader == old {
		if _, err := s.next(ctx, time.Until(deadline)); err != nil {
			return 0, "", fmt.Errorf("after killing candidate c%d: %w", old+1, err)
		}
	}
	ms := math.Round(float64(s.leaderAt.Sub(at))/1e5) / 10
	desc := fmt.Sprintf("killed c%d → c%d leads", old+1, s.leader+1)
	if ms < 0 {
		// The leader had lost its lease before the kill: this round
		// measured the machine, not a failover.
		ms, desc = -1, desc+" (before the kill: the old leader had lost its lease; not measured)"
	}
	s.row.FailoverMs = append(s.row.FailoverMs, ms)
	if err := s.spawn(ctx, old); err != nil {
		return 0, "", err
	}
	return ms, desc, nil
}

func (s *etcdElection) finish() (Row, error) {
	s.close()
	return s.row, nil
}

func (s *etcdElection) close() {
	for _, k := range s.cands {
		if k != nil {
			k.Stop()
		}
	}
}
