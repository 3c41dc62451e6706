package bench

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"time"

	"ordo"
	"ordo/internal/spawn"
	"ordo/kv"
	"ordo/kv/client"
	"ordo/live"
	"ordo/trace"
)

// OrdoOptions configure exercise 3's database for the bench.
type OrdoOptions struct {
	Binary  string            // the ordo binary that runs the nodes (default: this executable)
	TLS     bool              // mutual TLS between nodes and TLS on the client API (default: both off)
	Options map[string]string // protocol options of "kv" (default: its defaults)
	Seed    uint64
	// Unbatched gives each closed-loop client a kv/client of its own,
	// each put its own HTTP request. By default the clients share one
	// kv/client, whose concurrent puts share HTTP requests (batching),
	// as etcd's clients share one clientv3 and its gRPC connection.
	Unbatched bool
}

// procs says the nodes' GOMAXPROCS as the cluster launcher sets it
// (spawn.Share).
func procs() string {
	if n, ok := spawn.EnvProcs(); ok {
		return fmt.Sprintf("GOMAXPROCS %d (the environment's)", n)
	}
	n := runtime.GOMAXPROCS(0)
	return fmt.Sprintf("GOMAXPROCS this machine's %d CPUs shared among the nodes (%d each for 3 nodes, %d for 5)", n, spawn.Share(n, 3), spawn.Share(n, 5))
}

// OrdoSystem is exercise 3's database as `ordo cluster up --protocol kv`
// starts it (live.Up: one process per node, fsync before every
// acknowledgement), driven over its HTTP/JSON client API by package
// kv/client, one client (one session) per closed-loop client.
func OrdoSystem(o OrdoOptions) System {
	tls := "off"
	if o.TLS {
		tls = "on (peers mutual TLS, client API HTTPS, cluster CA)"
	}
	opts := "protocol defaults (heartbeat 15ms, election timeout 150-300ms)"
	if len(o.Options) > 0 {
		var kvs []string
		for k, v := range o.Options {
			kvs = append(kvs, k+"="+v)
		}
		slices.Sort(kvs)
		opts = "options " + strings.Join(kvs, " ")
	}
	cl := "one kv/client shared by the workers, concurrent puts batched into one HTTP request"
	if o.Unbatched {
		cl = "one kv/client per worker, one HTTP request per put"
	}
	return System{
		Name: "ordo",
		About: fmt.Sprintf("ordo cluster up --protocol %s: one process per node, fsync before acknowledging, TLS %s, %s, %s, kv/client over HTTP/JSON (%s, follows the leader)",
			kv.Protocol.Name, tls, opts, procs(), cl),
		Start: func(ctx context.Context, nodes int, dir string) (Driver, error) {
			c, err := live.Up(live.UpOptions{N: nodes, Protocol: kv.Protocol.Name, Options: o.Options, Insecure: !o.TLS,
				Dir: dir, Binary: o.Binary, Seed: o.Seed, LogLevel: "warn", DieWithParent: true, ClientAPI: true})
			if err != nil {
				return nil, err
			}
			cfg, err := client.ClusterConfig(dir)
			if err != nil {
				c.Down()
				return nil, err
			}
			d := &ordoDriver{c: c, cfg: cfg}
			if !o.Unbatched {
				if d.shared, err = client.New(cfg); err != nil {
					c.Down()
					return nil, err
				}
			}
			// Wait for a leader, as etcd.Start does, so the first cell's
			// warm-up is not an election.
			lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			if _, err := d.Leader(lctx); err != nil {
				c.Down()
				return nil, err
			}
			return d, nil
		},
	}
}

type ordoDriver struct {
	c      *live.Cluster
	cfg    client.Config
	shared *client.Client // the workers' client; nil: one each (Unbatched)
}

// ordoClient is one closed-loop client's kv client.
type ordoClient struct {
	*client.Client
	own bool // closed with the worker
}

func (o ordoClient) Put(ctx context.Context, key string, value []byte) error {
	_, err := o.Client.Put(ctx, key, string(value))
	return err
}

func (o ordoClient) Close() error {
	if o.own {
		o.Client.Close()
	}
	return nil
}

func (d *ordoDriver) Fork() (Putter, error) {
	if d.shared != nil {
		return ordoClient{Client: d.shared}, nil
	}
	cl, err := client.New(d.cfg)
	if err != nil {
		return nil, err
	}
	return ordoClient{Client: cl, own: true}, nil
}

// Put with a one-off client: the closed-loop clients use Fork.
func (d *ordoDriver) Put(ctx context.Context, key string, value []byte) error {
	p, err := d.Fork()
	if err != nil {
		return err
	}
	defer p.(ordoClient).Close()
	return p.Put(ctx, key, value)
}

// Leader is the running server whose status says it leads (the highest
// term if two do, a deposed one not knowing yet), polled every 20 ms.
func (d *ordoDriver) Leader(ctx context.Context) (int, error) {
	for {
		best, term := -1, int64(-1)
		for i := 1; i <= d.c.N(); i++ {
			s, err := d.c.Status(ordo.NodeID(i))
			if err == nil && s.Role == "leader" && s.Term > term {
				best, term = i-1, s.Term
			}
		}
		if best >= 0 {
			return best, nil
		}
		select {
		case <-ctx.Done():
			return -1, fmt.Errorf("ordo: no node reports itself leader: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (d *ordoDriver) Kill(i int) error { return d.c.Kill(ordo.NodeID(i + 1)) }

func (d *ordoDriver) Restart(ctx context.Context, i int) error {
	return d.c.Restart(ordo.NodeID(i + 1))
}

func (d *ordoDriver) Close() error {
	if d.shared != nil {
		d.shared.Close()
	}
	return d.c.Down()
}

// BatchStats is the shared client's batching (Batching); zero unbatched.
func (d *ordoDriver) BatchStats() (requests, puts int64) {
	if d.shared == nil {
		return 0, 0
	}
	st := d.shared.BatchStats()
	return st.Requests, st.Writes
}

// Rounds merges the nodes' traces (live.Merge: each file bounded, a torn
// last line cut) and breaks down the rounds of each set of periods
// (kv.Rounds), on the trace's clock: ns since the cluster's epoch.
func (d *ordoDriver) Rounds(sets [][]Period) ([]*kv.RoundBreakdown, error) {
	epoch, err := d.c.Cfg.EpochTime()
	if err != nil {
		return nil, err
	}
	t, err := live.Merge(d.c.Cfg)
	if err != nil {
		return nil, err
	}
	out := make([]*kv.RoundBreakdown, len(sets))
	var errs []error
	for i, set := range sets {
		var ws []kv.Window
		for _, p := range set {
			ws = append(ws, kv.Window{From: p.From.Sub(epoch).Nanoseconds(), To: p.To.Sub(epoch).Nanoseconds()})
		}
		if len(ws) == 0 {
			continue // a cell that did not run
		}
		b, err := kv.Rounds([]*trace.Trace{t}, ws...)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out[i] = &b
	}
	return out, errors.Join(errs...)
}

// Pids are the node processes (live.Cluster's state), for CPU accounting.
func (d *ordoDriver) Pids() []int {
	var out []int
	for _, pid := range d.c.State.Pids {
		if pid > 0 {
			out = append(out, pid)
		}
	}
	return out
}
