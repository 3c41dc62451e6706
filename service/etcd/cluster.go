package etcd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"ordo/internal/spawn"
)

// MaxMembers bounds a cluster's size (etcd recommends at most 7 voters).
const MaxMembers = 9

// Options configure a cluster that Start launches.
type Options struct {
	N   int    // members, 1..MaxMembers
	Dir string // members' data under Dir/etcd1 .. Dir/etcdN; created if missing
	// Binary runs the members: it must understand MemberCommand (the ordo
	// binary, or a test binary whose TestMain calls MemberMain). Default:
	// this process's executable.
	Binary string
	// TLS: clients and peers speak TLS with certificates each member
	// generates (etcd's auto TLS); Client then skips verification.
	TLS bool
	// CA, Cert, Key: PEM files (all three or none; not with TLS). Members
	// then serve clients and peers over TLS with Cert/Key and refuse any
	// client or peer without a certificate signed by CA (mutual TLS);
	// Client presents Cert/Key and verifies the members against CA.
	CA, Cert, Key string
	Level         string // members' log level (default "warn")
	// TickMs, ElectionMs: heartbeat interval and election timeout in ms
	// (0: etcd's defaults, 100 and 1000).
	TickMs, ElectionMs uint
	// Detach lets the members outlive this process (`ordo cluster up
	// --detach`): StopDir(Dir) stops them later, from any process.
	Detach bool
	// Procs is each member's GOMAXPROCS, over a GOMAXPROCS in this
	// process's environment (0: the environment's, else Go's default, the
	// machine's CPUs: as etcd runs unless told).
	Procs int
}

// MaxProcs bounds Options.Procs.
const MaxProcs = 1024

// Cluster is a running etcd cluster of member processes started by Start.
type Cluster struct {
	opts    Options
	members []Member

	mu    sync.Mutex
	procs []*exec.Cmd      // nil: not running
	done  []chan struct{}  // closed when procs[i] has exited
	ids   map[uint64]int   // etcd member id → index, learnt from Status
	cli   *clientv3.Client // to every endpoint, for Leader
}

// Start launches opts.N member processes on free loopback ports and waits
// until every member serves and the cluster has a leader. Members die with
// this process (Linux: the kernel kills them if it dies). Errors: bad
// options, a port or process that cannot be had, a member that does not
// serve within 30 s (the error names its log file).
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.N < 1 || opts.N > MaxMembers {
		return nil, fmt.Errorf("etcd: %d members: want 1..%d", opts.N, MaxMembers)
	}
	if opts.Procs < 0 || opts.Procs > MaxProcs {
		return nil, fmt.Errorf("etcd: GOMAXPROCS %d: want 0 (Go's default) or 1..%d", opts.Procs, MaxProcs)
	}
	if opts.Dir == "" {
		return nil, errors.New("etcd: Options.Dir is required")
	}
	if opts.Level == "" {
		opts.Level = "warn"
	}
	var err error
	if opts.Binary == "" {
		if opts.Binary, err = os.Executable(); err != nil {
			return nil, err
		}
	}
	if opts.Dir, err = filepath.Abs(opts.Dir); err != nil {
		return nil, err
	}
	for _, p := range []*string{&opts.CA, &opts.Cert, &opts.Key} {
		if *p != "" {
			if *p, err = filepath.Abs(*p); err != nil {
				return nil, err
			}
		}
	}
	if err := checkCerts(opts.CA, opts.Cert, opts.Key, opts.TLS); err != nil {
		return nil, fmt.Errorf("etcd: %w", err)
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, err
	}
	addrs, err := spawn.FreePorts(2 * opts.N)
	if err != nil {
		return nil, err
	}
	scheme := "http://"
	if opts.TLS || opts.CA != "" {
		scheme = "https://"
	}
	c := &Cluster{opts: opts, procs: make([]*exec.Cmd, opts.N), done: make([]chan struct{}, opts.N)}
	var initial []string
	for i := range opts.N {
		name := fmt.Sprintf("etcd%d", i+1)
		m := Member{Name: name, Dir: filepath.Join(opts.Dir, name), Peer: scheme + addrs[2*i], Client: scheme + addrs[2*i+1],
			Token: "ordo-" + filepath.Base(opts.Dir), Log: filepath.Join(opts.Dir, name+".log"), Level: opts.Level, TLS: opts.TLS,
			CA: opts.CA, Cert: opts.Cert, Key: opts.Key, TickMs: opts.TickMs, ElectionMs: opts.ElectionMs}
		c.members = append(c.members, m)
		initial = append(initial, name+"="+m.Peer)
	}
	for i := range c.members {
		c.members[i].Cluster = strings.Join(initial, ",")
		if err := c.members[i].validate(); err != nil {
			return nil, err
		}
	}
	for i := range c.members {
		if err := c.spawn(i); err != nil {
			c.Stop()
			return nil, err
		}
	}
	if c.cli, err = c.Client(c.Endpoints()...); err != nil {
		c.Stop()
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, memberStartTimeout)
	defer cancel()
	for i := range c.members {
		if err := c.waitServing(ctx, i); err != nil {
			c.Stop()
			return nil, err
		}
	}
	if _, err := c.Leader(ctx); err != nil {
		c.Stop()
		return nil, err
	}
	if err := c.writeState(); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// N is the number of members.
func (c *Cluster) N() int { return len(c.members) }

// Endpoints are the members' client URLs, by index.
func (c *Cluster) Endpoints() []string {
	out := make([]string, len(c.members))
	for i, m := range c.members {
		out[i] = m.Client
	}
	return out
}

// Members are the members' configurations, by index.
func (c *Cluster) Members() []Member { return append([]Member(nil), c.members...) }

// Client opens a clientv3 client to the given endpoints (all of them: it
// balances and fails over between them; one: it talks to that member
// only). The caller closes it. Its logs are discarded.
func (c *Cluster) Client(endpoints ...string) (*clientv3.Client, error) {
	tc, err := clientConfig(c.opts.TLS, c.opts.CA, c.opts.Cert, c.opts.Key)
	if err != nil {
		return nil, err
	}
	return clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 5 * time.Second, Logger: zap.NewNop(), TLS: tc})
}

// clientTLS is a client's TLS for members with auto TLS (nil without).
func clientTLS(on bool) *tls.Config {
	if !on {
		return nil
	}
	// Auto-TLS certificates are self-signed: encrypted, unverified.
	return &tls.Config{InsecureSkipVerify: true}
}

// Leader is the index (0..N-1) of the member that reports itself leader,
// asking every running member; it waits (polling every 20 ms) until one
// does or ctx ends.
func (c *Cluster) Leader(ctx context.Context) (int, error) {
	for {
		for i, m := range c.members {
			if !c.Running(i) {
				continue
			}
			sctx, cancel := context.WithTimeout(ctx, time.Second)
			st, err := c.cli.Status(sctx, m.Client)
			cancel()
			if err != nil || st.Header == nil {
				continue
			}
			c.mu.Lock()
			if c.ids == nil {
				c.ids = map[uint64]int{}
			}
			c.ids[st.Header.MemberId] = i
			c.mu.Unlock()
			if st.Leader != 0 && st.Leader == st.Header.MemberId {
				return i, nil
			}
		}
		select {
		case <-ctx.Done():
			return -1, fmt.Errorf("etcd: no member reports itself leader: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Running reports whether member i's process runs.
func (c *Cluster) Running(i int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i < 0 || i >= len(c.procs) || c.procs[i] == nil {
		return false
	}
	select {
	case <-c.done[i]:
		return false
	default:
		return true
	}
}

// Kill sends SIGKILL to member i (a real crash) and waits for it to exit.
func (c *Cluster) Kill(i int) error {
	return c.signal(i, syscall.SIGKILL, 5*time.Second)
}

// Restart starts member i again from its own data directory (killing it
// first if it runs) and waits until it serves clients.
func (c *Cluster) Restart(ctx context.Context, i int) error {
	if i < 0 || i >= len(c.members) {
		return fmt.Errorf("etcd: member %d: want 0..%d", i, len(c.members)-1)
	}
	if c.Running(i) {
		if err := c.Kill(i); err != nil {
			return err
		}
	}
	if err := c.spawn(i); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, memberStartTimeout)
	defer cancel()
	if err := c.waitServing(ctx, i); err != nil {
		return err
	}
	return c.writeState()
}

// Stop stops every member gracefully (SIGTERM, SIGKILL after 5 s) and
// closes the launcher's client. The data directories stay.
func (c *Cluster) Stop() error {
	if c.cli != nil {
		c.cli.Close()
	}
	var wg sync.WaitGroup
	errs := make([]error, len(c.members))
	for i := range c.members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.signal(i, syscall.SIGTERM, 5*time.Second); err != nil {
				errs[i] = c.signal(i, syscall.SIGKILL, 5*time.Second)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// signal sends sig to member i if it runs and waits for it to exit.
func (c *Cluster) signal(i int, sig syscall.Signal, within time.Duration) error {
	if i < 0 || i >= len(c.members) {
		return fmt.Errorf("etcd: member %d: want 0..%d", i, len(c.members)-1)
	}
	c.mu.Lock()
	p, done := c.procs[i], c.done[i]
	c.mu.Unlock()
	if p == nil {
		return nil
	}
	select {
	case <-done:
		return nil
	default:
	}
	if err := p.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("etcd: signal member %d: %w", i, err)
	}
	select {
	case <-done:
		return nil
	case <-time.After(within):
		return fmt.Errorf("etcd: member %d (pid %d) did not exit within %v of %v", i, p.Process.Pid, within, sig)
	}
}

func (c *Cluster) spawn(i int) error {
	m := c.members[i]
	logf, err := os.OpenFile(m.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(c.opts.Binary, append(append([]string(nil), MemberCommand...), m.Args()...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if c.opts.Procs > 0 {
		spawn.SetProcs(cmd, c.opts.Procs)
	}
	spawn.Prepare(cmd, !c.opts.Detach)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("etcd: starting member %s: %w", m.Name, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }() // reap
	c.mu.Lock()
	c.procs[i], c.done[i] = cmd, done
	c.mu.Unlock()
	return nil
}

// waitServing waits until member i answers a Status request.
func (c *Cluster) waitServing(ctx context.Context, i int) error {
	m := c.members[i]
	for {
		c.mu.Lock()
		done := c.done[i]
		c.mu.Unlock()
		select {
		case <-done:
			return fmt.Errorf("etcd: member %s exited at start; see %s", m.Name, m.Log)
		default:
		}
		sctx, cancel := context.WithTimeout(ctx, time.Second)
		_, err := c.cli.Status(sctx, m.Client)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("etcd: member %s does not serve (%v); see %s", m.Name, err, m.Log)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Pids are the running members' process ids (for CPU accounting).
func (c *Cluster) Pids() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []int
	for i, p := range c.procs {
		if p == nil {
			continue
		}
		select {
		case <-c.done[i]:
		default:
			out = append(out, p.Process.Pid)
		}
	}
	return out
}
