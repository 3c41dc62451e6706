package resilience_test

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"ordo"
	"ordo/resilience"
	"ordo/sim"
	"ordo/trace"
)

// transfer is a non-idempotent request under an idempotency key.
type transfer struct {
	Key    string
	Amount int64
}

func (transfer) Kind() string { return "transfer" }

type transferOK struct{ Key string }

func (transferOK) Kind() string { return "transfer-ok" }

// bank is node 1: it applies every transfer it has not seen under its
// key, in the same event as the table records it, so the storage contract
// (one event's writes commit together) makes the pair atomic.
type bank struct{ tbl *resilience.Table }

func (b *bank) Start(env ordo.Env) {
	tbl, err := resilience.NewTable(resilience.TableConfig{Store: env.Store(), Prefix: "idem/", MaxEntries: 1000, TTL: time.Hour}, resilience.AtTime(env.Monotonic()))
	if err != nil {
		panic(ordo.Corrupt{Key: "idem/", Err: err})
	}
	b.tbl = tbl
}

func (b *bank) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	req := m.(transfer)
	fp := resilience.FingerprintOf([]byte(strconv.FormatInt(req.Amount, 10)))
	c, err := b.tbl.Begin(resilience.AtTime(env.Monotonic()), req.Key, fp)
	switch {
	case err != nil:
		env.Note("refused", "key", req.Key, "err", err.Error())
		return
	case c.Replay:
		env.Note("replay", "key", req.Key)
	default:
		k := "applied/" + req.Key
		n := 0
		if v, ok := env.Store().Get(k); ok {
			n, _ = strconv.Atoi(string(v))
		}
		env.Store().Put(k, []byte(strconv.Itoa(n+1)))
		if err := b.tbl.Finish(resilience.AtTime(env.Monotonic()), req.Key, nil); err != nil {
			panic(err)
		}
	}
	env.Send(from, transferOK{Key: req.Key})
}

func (b *bank) Fire(ordo.Env, ordo.Timer) {}

// payer (nodes 2..) sends transfers one at a time, retrying each under
// its key every 15ms until it is acknowledged.
type payer struct {
	n    int64
	want string
}

func (p *payer) Start(env ordo.Env) { p.next(env) }

func (p *payer) next(env ordo.Env) {
	p.n++
	p.want = fmt.Sprintf("%v-%d", env.ID(), p.n)
	p.send(env)
}

func (p *payer) send(env ordo.Env) {
	env.Send(1, transfer{Key: p.want, Amount: p.n})
	env.After(15*time.Millisecond, ordo.Timer{Name: "retry", Arg: p.n})
}

func (p *payer) Receive(env ordo.Env, _ ordo.NodeID, m ordo.Message) {
	if m.(transferOK).Key == p.want {
		p.next(env)
	}
}

func (p *payer) Fire(env ordo.Env, t ordo.Timer) {
	if t.Arg == p.n {
		p.send(env)
	}
}

var bankProto = &ordo.Protocol{
	Name:     "resilience-bank",
	Messages: []ordo.Message{transfer{}, transferOK{}},
	New: func(cfg ordo.Config) (ordo.Node, error) {
		if cfg.ID == 1 {
			return &bank{}, nil
		}
		return &payer{}, nil
	},
}

// In the simulator, under message loss, duplication, delay and crashes of
// the bank with torn batches (a payer's restart forgets its pending
// transfer), the table never applies one key twice: section 5's causes of
// a timeout (request lost, server crashed, reply lost, server slow) all
// end in retries that the table deduplicates.
func TestSimTableOnceUnderCrashes(t *testing.T) {
	var applied, replays, crashes int
	for seed := uint64(1); seed <= 20; seed++ {
		cfg := sim.Config{Protocol: bankProto, Nodes: 4, Seed: seed, Trace: true,
			Disk: sim.Disk{SyncLatency: time.Millisecond, Tear: 0.5}}
		cfg.Network.Default = sim.Link{Latency: sim.Dist{Kind: sim.Uniform, A: 2 * time.Millisecond, B: 10 * time.Millisecond}, Loss: 0.2, Duplicate: 0.1}
		s, err := sim.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 10; i++ {
			at := time.Duration(i)*97*time.Millisecond + time.Duration(seed)*time.Millisecond
			s.At(at, func(s *sim.Sim) {
				if s.Up(1) {
					if err := s.CrashTorn(1); err != nil {
						t.Error(err)
					}
					crashes++
				}
			})
			s.At(at+20*time.Millisecond, func(s *sim.Sim) {
				if !s.Up(1) {
					if err := s.Restart(1); err != nil {
						t.Error(err)
					}
				}
			})
		}
		if err := s.RunFor(1200 * time.Millisecond); err != nil {
			t.Fatal(err)
		}
		s.Store(1).Scan("applied/", "applied0", func(k string, v []byte) bool {
			applied++
			if string(v) != "1" {
				t.Errorf("seed %d: %s applied %s times (replay: go test ./resilience -run TestSimTableOnceUnderCrashes)", seed, k, v)
			}
			return true
		})
		for _, e := range s.Trace().Events {
			if e.Kind == trace.Note && e.Name == "replay" {
				replays++
			}
		}
	}
	t.Logf("20 seeds: %d transfers applied once each, %d duplicates replayed, %d crashes", applied, replays, crashes)
	if applied == 0 || replays == 0 || crashes == 0 {
		t.Fatalf("vacuous run: %d applied, %d replays, %d crashes", applied, replays, crashes)
	}
}
