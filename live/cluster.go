package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"ordo"
	"ordo/fault"
	"ordo/internal/plural"
	"ordo/internal/spawn"
	"ordo/live/transport"
)

// ConfigFileName and StateFileName are the files of a cluster directory.
const (
	ConfigFileName = "cluster.yaml"
	StateFileName  = "state.json"
)

// State is what a cluster directory records about the running processes, so
// that later commands (`ordo cluster kill 3`) find them.
type State struct {
	Binary string `json:"binary"`
	// Pids of the node processes, by id; 0 when the node is down.
	Pids map[int]int `json:"pids"`
	// Faults the cluster commands set, re-applied to a restarted node.
	Faults    map[int]transport.Faults `json:"faults,omitempty"`
	Partition string                   `json:"partition,omitempty"`
	// Stopped: `ordo cluster down` stopped the cluster; live views end
	// and operations on it fail (RequireRunning).
	Stopped bool `json:"stopped,omitempty"`
}

// Cluster is a set of local node processes described by a directory.
type Cluster struct {
	Dir   string
	Cfg   *Config
	State State

	// DieWithParent makes the nodes this process starts die with it
	// (Linux); set by supervising commands and tests.
	DieWithParent bool

	mu       sync.Mutex
	children map[int]*exec.Cmd // nodes started by this process
	waited   map[int]chan struct{}
	net      *Netns // the kernel's network faults (netns.go); nil without --netns
	client   *http.Client
	token    string       // the admin endpoint's bearer token (adminclient.go)
	hold     map[int]bool // nodes to start held (UpOptions.HoldClients), guarded by mu
}

// Release starts the protocols of nodes started held (UpOptions.HoldClients),
// as close together as the admin calls go.
func (c *Cluster) Release(ids []ordo.NodeID) error {
	for _, id := range ids {
		if err := c.adminPost(id, "/release"); err != nil {
			return err
		}
	}
	return nil
}

// UpOptions configure a new local cluster.
type UpOptions struct {
	N        int // servers
	Protocol string
	Options  map[string]string
	// Clients client nodes follow the servers (ids N+1..N+Clients), each
	// its own process running ClientProtocol (default: Protocol's client).
	Clients        int
	ClientProtocol string
	ClientOptions  map[string]string
	// ClientGroups, instead of the three fields above, lists the client
	// nodes group by group (a scenario's clients:), each node with its
	// group's protocol and options (the cluster file's nodes[i].protocol
	// and options). A group without a protocol runs Protocol's client.
	ClientGroups []UpClientGroup
	// Insecure turns off mutual TLS between the nodes (plain TCP, as
	// an attacker on the network would like it). Off by default: Up
	// generates a development CA and certificates (transport.GenerateDevCA).
	Insecure bool
	Dir      string // created if missing; must not hold a running cluster
	Binary   string // the ordo binary to run nodes with (default: this one)
	Seed     uint64
	LogLevel string
	// DieWithParent: see Cluster.DieWithParent.
	DieWithParent bool
	// Fresh lets Up delete a stopped run's node directories, fault log and
	// merged trace found in Dir; without it Up refuses to start there.
	Fresh bool
	// Netns puts each node in its own network namespace, where network
	// faults are nftables rules (netns.go); needs root.
	Netns bool
	// ClientAPI gives every server a client API address (the cluster
	// file's client:) and writes a client token (ClientTokenFileName):
	// for protocols whose nodes serve clients over HTTP (kv).
	ClientAPI bool
	// KeepMessages makes the nodes keep each send's message in their
	// traces (Config.KeepMessages).
	KeepMessages bool
	// HoldClients starts the client nodes held (ordo node --hold): their
	// protocols start at Cluster.Release. A client restarted later is not
	// held.
	HoldClients bool
	// Name names the cluster in its file and its merged trace
	// (trace.Meta.Scenario): a scenario's name for a run (Run), "chaos"
	// for Chaos; default "local", a cluster started by hand.
	Name string
	// Services are the service nodes, after the clients (nil: one per
	// name in the protocol's Services, default options; empty: none).
	Services []UpService
	// ServiceOptions are given to every service node whose protocol
	// declares the option, over its own: the etcd endpoints (endpoints)
	// for coord and fenced-store. An option no service declares is an
	// error.
	ServiceOptions map[string]string
}

// UpClientGroup is Count client nodes running Protocol with Options.
type UpClientGroup struct {
	Count    int
	Protocol string
	Options  map[string]string
}

// UpService is one service node of a new cluster: a service protocol and
// its options.
type UpService struct {
	Protocol string
	Options  map[string]string
}

// CheckSize refuses a cluster of n servers and clients clients that Up
// would refuse, so that a command can say so before it starts anything
// else (an etcd for the cluster).
func CheckSize(n, clients int) error {
	if n < 1 || n > MaxClusterNodes {
		return fmt.Errorf("-n %d: want 1..%d nodes", n, MaxClusterNodes)
	}
	if clients < 0 || n+clients > MaxClusterNodes {
		return fmt.Errorf("--clients %d: want 0..%d (at most %d nodes in all)", clients, MaxClusterNodes-n, MaxClusterNodes)
	}
	return nil
}

// Up writes a cluster file for N servers and Clients clients on free
// loopback ports into Dir, with a development CA and node certificates
// (unless Insecure) and an admin token (AdminTokenFileName, 0600), and
// starts every node.
func Up(o UpOptions) (*Cluster, error) {
	// groupOf[i] is the group of client i (0-based), when groups are given.
	var groupOf []UpClientGroup
	if len(o.ClientGroups) > 0 {
		if o.Clients != 0 || o.ClientProtocol != "" || len(o.ClientOptions) > 0 {
			return nil, fmt.Errorf("client groups and --clients, a client protocol or client options: give one or the other")
		}
		for _, g := range o.ClientGroups {
			if g.Count < 1 || g.Count > MaxClusterNodes {
				return nil, fmt.Errorf("a client group of %d nodes: want 1..%d", g.Count, MaxClusterNodes)
			}
			for range g.Count {
				groupOf = append(groupOf, g)
			}
			if len(groupOf) > MaxClusterNodes {
				break // CheckSize says so
			}
		}
		o.Clients = len(groupOf)
	}
	if err := CheckSize(o.N, o.Clients); err != nil {
		return nil, err
	}
	if o.Clients == 0 && (o.ClientProtocol != "" || len(o.ClientOptions) > 0) {
		return nil, fmt.Errorf("a client protocol or client options without --clients")
	}
	proto, err := ordo.Lookup(o.Protocol)
	if err != nil {
		return nil, err
	}
	if proto.SimOnly != "" {
		return nil, fmt.Errorf("protocol %s runs in the simulator only: %s (use ordo sim)", proto.Name, proto.SimOnly)
	}
	if _, err := CheckOptions(proto, o.Options, o.N); err != nil {
		return nil, err
	}
	if o.Clients > 0 && o.ClientProtocol == "" && proto.Client == "" && groupOf == nil {
		return nil, fmt.Errorf("protocol %s names no client protocol: give one (--client-protocol)", proto.Name)
	}
	svcNodes, err := serviceNodes(proto, o.Services, o.N+o.Clients, o.ServiceOptions)
	if err != nil {
		return nil, err
	}
	if o.N+o.Clients+len(svcNodes) > MaxClusterNodes {
		return nil, fmt.Errorf("%s, %s and %s: at most %d nodes in all", plural.Count(o.N, "server"), plural.Count(o.Clients, "client"), plural.Count(len(svcNodes), "service"), MaxClusterNodes)
	}
	total := o.N + o.Clients // the processes; the services follow
	o.ClientAPI = o.ClientAPI || ClientAPIOf(o.Protocol) != nil
	if o.Netns {
		if err := CheckNetns(); err != nil {
			return nil, err
		}
	}
	if o.Binary == "" {
		if o.Binary, err = os.Executable(); err != nil {
			return nil, err
		}
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, err
	}
	if old, err := Open(dir); err == nil && len(old.Running()) > 0 {
		return nil, fmt.Errorf("%s holds a running cluster (nodes %v); `ordo cluster down --dir %s` first", dir, old.Running(), dir)
	}
	// A fresh cluster: old node data would restore old terms and traces.
	// Those traces are a stopped run's record: deleted only when asked.
	if !o.Fresh {
		if old := staleRun(dir); len(old) > 0 {
			return nil, fmt.Errorf("%s holds a stopped run's data (%s): start it again from its data with ordo cluster start, replace it with ordo cluster up --fresh (its traces would be lost), or choose another directory", dir, strings.Join(old, ", "))
		}
	}
	for i := 1; i <= MaxClusterNodes; i++ {
		os.RemoveAll(filepath.Join(dir, fmt.Sprintf("node%d", i)))
	}
	cleanupStaleNetns(dir)
	for _, f := range []string{FaultsFileName, StateFileName, "merged.jsonl"} {
		os.Remove(filepath.Join(dir, f))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	ports := 2 * total
	if o.ClientAPI {
		ports += o.N // a client address per server
	}
	addrs, err := spawn.FreePorts(ports)
	if err != nil {
		return nil, err
	}
	name := o.Name
	if name == "" {
		name = "local"
	}
	cfg := &Config{Name: name, Protocol: o.Protocol, Options: o.Options, Seed: o.Seed,
		Epoch: time.Now().UTC().Format(time.RFC3339Nano), TLS: !o.Insecure, LogLevel: o.LogLevel, KeepMessages: o.KeepMessages}
	if cfg.TLS {
		cfg.TLSDir = "tls"
		if err := transport.GenerateDevCA(filepath.Join(dir, "tls"), total); err != nil {
			return nil, err
		}
	}
	// The cluster's secret, whether or not its protocols have a Secret
	// option: a key a protocol derives from it (Protocol.FillSecrets) is
	// known to the nodes only, never written to a trace.
	cfg.Secret = SecretFileName
	if _, err := GenerateAdminToken(filepath.Join(dir, SecretFileName)); err != nil {
		return nil, err
	}
	cfg.AdminToken = AdminTokenFileName
	token, err := GenerateAdminToken(filepath.Join(dir, AdminTokenFileName))
	if err != nil {
		return nil, err
	}
	if o.ClientAPI {
		cfg.ClientToken = ClientTokenFileName
		if _, err := GenerateAdminToken(filepath.Join(dir, ClientTokenFileName)); err != nil {
			return nil, err
		}
	}
	for i := 1; i <= total; i++ {
		nc := NodeConfig{ID: i, Addr: addrs[2*i-2], Admin: addrs[2*i-1], Dir: fmt.Sprintf("node%d", i)}
		if o.ClientAPI && i <= o.N {
			nc.Client = addrs[2*total+i-1]
		}
		if o.Netns {
			nc.Addr = NetnsAddr(ordo.NodeID(i))
		}
		if i > o.N {
			nc.Role = ordo.Client.String()
			if groupOf != nil {
				g := groupOf[i-o.N-1]
				nc.Protocol, nc.Options = g.Protocol, g.Options
				if nc.Protocol == "" {
					if proto.Client == "" {
						return nil, fmt.Errorf("protocol %s names no client protocol: give each client group one", proto.Name)
					}
					nc.Protocol = proto.Client
				}
			}
		}
		cfg.Nodes = append(cfg.Nodes, nc)
	}
	cfg.Nodes = append(cfg.Nodes, svcNodes...)
	if o.Clients > 0 && (o.ClientProtocol != "" || len(o.ClientOptions) > 0) {
		cfg.Clients = &ClientsConfig{Protocol: o.ClientProtocol, Options: o.ClientOptions}
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := cfg.CheckProtocols(); err != nil {
		return nil, err
	}
	if err := cfg.Write(filepath.Join(dir, ConfigFileName)); err != nil {
		return nil, err
	}
	cfg.SetDir(dir)
	c := newCluster(dir, cfg)
	c.token = token
	if o.Netns {
		if c.net, err = SetupNetns(dir, total); err != nil {
			return nil, err
		}
	}
	c.State = State{Binary: o.Binary, Pids: map[int]int{}}
	c.DieWithParent = o.DieWithParent
	if o.HoldClients {
		c.hold = map[int]bool{}
		for i := o.N + 1; i <= total; i++ {
			c.hold[i] = true
		}
	}
	for i := 1; i <= total; i++ {
		if err := c.spawn(ordo.NodeID(i)); err != nil {
			c.Down()
			return nil, err
		}
	}
	if err := c.saveState(); err != nil {
		return nil, err
	}
	for i := 1; i <= total; i++ {
		if err := c.waitReady(ordo.NodeID(i), 10*time.Second); err != nil {
			c.Down()
			return nil, err
		}
	}
	return c, nil
}

// serviceNodes is the cluster file's entries of the services (nil:
// protocol p's), numbered from after+1, each given the options of opts its
// protocol declares (every option must be declared by one of them).
func serviceNodes(p *ordo.Protocol, given []UpService, after int, opts map[string]string) ([]NodeConfig, error) {
	if given == nil {
		for _, name := range p.Services {
			given = append(given, UpService{Protocol: name})
		}
	}
	used := map[string]bool{}
	var out []NodeConfig
	for i, g := range given {
		name := g.Protocol
		sp, err := ordo.Lookup(name)
		if err != nil {
			return nil, fmt.Errorf("service %d: %w", i+1, err)
		}
		if sp.Role != ordo.Service {
			return nil, fmt.Errorf("service %d: %s is a %s protocol, not a service protocol", i+1, name, sp.Role)
		}
		nc := NodeConfig{ID: after + i + 1, Role: ordo.Service.String(), Protocol: name}
		if len(g.Options) > 0 {
			nc.Options = maps.Clone(g.Options)
		}
		for k, v := range opts {
			if slices.Contains(sp.OptionNames(), k) {
				if nc.Options == nil {
					nc.Options = map[string]string{}
				}
				nc.Options[k], used[k] = v, true
			}
		}
		if _, err := sp.Resolve(nc.Options); err != nil {
			return nil, fmt.Errorf("service %s: %w", name, err)
		}
		out = append(out, nc)
	}
	var unused []string
	for k := range opts {
		if !used[k] {
			unused = append(unused, k)
		}
	}
	if len(unused) > 0 {
		sort.Strings(unused)
		if len(given) == 0 {
			return nil, fmt.Errorf("service options %s given, but the cluster has no service", strings.Join(unused, ", "))
		}
		var names []string
		for _, g := range given {
			names = append(names, g.Protocol)
		}
		return nil, fmt.Errorf("service options %s: no service of the cluster (%s) has them", strings.Join(unused, ", "), strings.Join(names, ", "))
	}
	return out, nil
}

// staleRun lists what a previous run left in dir that Up would delete.
func staleRun(dir string) []string {
	var old []string
	for i := 1; i <= MaxClusterNodes; i++ {
		if _, err := os.Lstat(filepath.Join(dir, fmt.Sprintf("node%d", i))); err == nil {
			old = append(old, fmt.Sprintf("node%d/", i))
		}
	}
	for _, f := range []string{FaultsFileName, "merged.jsonl"} {
		if _, err := os.Lstat(filepath.Join(dir, f)); err == nil {
			old = append(old, f)
		}
	}
	return old
}

func newCluster(dir string, cfg *Config) *Cluster {
	c := &Cluster{Dir: dir, Cfg: cfg, children: map[int]*exec.Cmd{}, waited: map[int]chan struct{}{},
		client: &http.Client{Timeout: 2 * time.Second, Transport: &bearer{base: &http.Transport{MaxIdleConnsPerHost: 2, DisableCompression: true}}}}
	c.client.Transport.(*bearer).token = func() string { return c.token }
	return c
}

// Open reads a cluster directory written by Up.
func Open(dir string) (*Cluster, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	cfg, err := LoadConfig(filepath.Join(dir, ConfigFileName))
	if err != nil {
		return nil, err
	}
	c := newCluster(dir, cfg)
	if cfg.AdminToken != "" {
		if c.token, err = ReadAdminToken(cfg.Path(cfg.AdminToken)); err != nil {
			return nil, err
		}
	}
	b, err := ordo.ReadInput(filepath.Join(dir, StateFileName), nil, ordo.MaxSourceBytes)
	if err != nil {
		return nil, fmt.Errorf("%s: no cluster state (was it started with `ordo cluster up`?): %w", dir, err)
	}
	if c.State, err = decodeState(b, len(cfg.Nodes)); err != nil { // bounded pids: they are signalled
		return nil, err
	}
	if c.State.Pids == nil {
		c.State.Pids = map[int]int{}
	}
	if c.net, err = OpenNetns(dir); err != nil {
		return nil, err
	}
	return c, nil
}

// Reload re-reads the state file (another command may have changed it).
func (c *Cluster) Reload() error {
	b, err := ordo.ReadInput(filepath.Join(c.Dir, StateFileName), nil, ordo.MaxSourceBytes)
	if err != nil {
		return err
	}
	s, err := decodeState(b, len(c.Cfg.Nodes))
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.State = s
	if c.State.Pids == nil {
		c.State.Pids = map[int]int{}
	}
	c.mu.Unlock()
	return nil
}

func (c *Cluster) saveState() error {
	c.mu.Lock()
	b, err := json.MarshalIndent(c.State, "", "  ")
	c.mu.Unlock()
	if err != nil {
		return err
	}
	return WriteFileAtomic(filepath.Join(c.Dir, StateFileName), b)
}

// N is the cluster's size: its nodes of every role.
func (c *Cluster) N() int { return len(c.Cfg.Nodes) }

// Servers lists the server ids (1..S): what chaos and quorums count.
func (c *Cluster) Servers() []ordo.NodeID { return c.Cfg.Servers() }

// Running lists the nodes whose recorded process is alive.
func (c *Cluster) Running() []ordo.NodeID {
	var out []ordo.NodeID
	for _, id := range c.Cfg.Processes() {
		if c.alive(id) {
			out = append(out, id)
		}
	}
	return out
}

// Processes lists the nodes that run as processes (servers and clients):
// a service node is reached through each process's adapter
// (service_runtime.go).
func (c *Cluster) Processes() []ordo.NodeID { return c.Cfg.Processes() }

// alive reports whether node id's recorded process exists and is that
// node (the pid is not reused by something else).
func (c *Cluster) alive(id ordo.NodeID) bool {
	c.mu.Lock()
	pid := c.State.Pids[int(id)]
	ch := c.waited[int(id)]
	c.mu.Unlock()
	if pid <= 0 {
		return false
	}
	if ch != nil {
		select {
		case <-ch:
			return false // our child, reaped
		default:
		}
	}
	return c.isNode(pid, id)
}

// isNode checks that pid runs `ordo node` for this cluster and id before we
// send it a signal.
func (c *Cluster) isNode(pid int, id ordo.NodeID) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return false
	}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil {
		args := strings.Split(string(b), "\x00")
		cfg := filepath.Join(c.Dir, ConfigFileName)
		hasCfg, hasID := false, false
		for i, a := range args {
			if a == cfg {
				hasCfg = true
			}
			if a == "--id" && i+1 < len(args) && args[i+1] == strconv.Itoa(int(id)) {
				hasID = true
			}
		}
		if string(b) != "" {
			return hasCfg && hasID
		}
	}
	// No /proc: ask the node itself.
	s, err := c.Status(id)
	return err == nil && s.Pid == pid
}

func (c *Cluster) spawn(id ordo.NodeID) error {
	if err := c.Cfg.notService(id); err != nil {
		return err
	}
	nc, _ := c.Cfg.Node(id)
	dir := c.Cfg.Path(nc.Dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	logf, err := os.OpenFile(c.LogPath(id), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(c.State.Binary, "node", "--config", filepath.Join(c.Dir, ConfigFileName), "--id", strconv.Itoa(int(id)))
	c.mu.Lock()
	if c.hold[int(id)] {
		cmd.Args = append(cmd.Args, "--hold")
		delete(c.hold, int(id)) // a restart is not held
	}
	c.mu.Unlock()
	cmd.Stdout, cmd.Stderr = logf, logf
	spawn.Prepare(cmd, c.DieWithParent) // a node gets its log, ExtraFiles and nothing else of the launcher's
	if c.net != nil {
		release, err := c.net.netnsCommand(cmd, id, nc.Admin)
		if err != nil {
			logf.Close()
			return err
		}
		defer release()
		if nc.Client != "" && c.Cfg.RoleOf(id) == ordo.Server {
			// The client API listens in the host's namespace (gateway.go).
			release, err := inheritClientListener(cmd, nc.Client)
			if err != nil {
				logf.Close()
				return err
			}
			defer release()
		}
	}
	if _, valid := spawn.EnvProcs(); !valid {
		// The nodes of a cluster share this machine's CPUs (the node
		// processes, servers and clients; a service the cluster uses,
		// such as the embedded etcd of --protocol lease, keeps Go's
		// default). A valid GOMAXPROCS of the environment is the user's.
		spawn.SetProcs(cmd, spawn.Share(runtime.GOMAXPROCS(0), len(c.Cfg.Processes())))
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("starting node %d: %w", id, err)
	}
	logf.Close()
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }() // reap
	c.mu.Lock()
	c.children[int(id)] = cmd
	c.waited[int(id)] = done
	c.State.Pids[int(id)] = cmd.Process.Pid
	c.mu.Unlock()
	return nil
}

// LogPath is the file that takes node id's output (in its directory).
func (c *Cluster) LogPath(id ordo.NodeID) string {
	nc, _ := c.Cfg.Node(id)
	return filepath.Join(c.Cfg.Path(nc.Dir), "node.log")
}

func (c *Cluster) waitReady(id ordo.NodeID, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		if _, err := c.Status(id); err == nil {
			return nil
		}
		c.mu.Lock()
		ch := c.waited[int(id)]
		c.mu.Unlock()
		if ch != nil {
			select {
			case <-ch:
				return fmt.Errorf("node %d exited at start; see %s", id, c.LogPath(id))
			default:
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("node %d did not answer on its admin endpoint within %v", id, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// now is wall-clock ns since the cluster's epoch, the time base of traces.
func (c *Cluster) now() int64 {
	e, _ := c.Cfg.EpochTime()
	return time.Since(e).Nanoseconds()
}

// Kill sends SIGKILL to node id: a real crash. The kill's moment is left in
// the node's directory for its trace and logged as a fault.
func (c *Cluster) Kill(id ordo.NodeID) error {
	nc, err := c.Cfg.Node(id)
	if err != nil {
		return err
	}
	pid, err := c.runningPid(id)
	if err != nil {
		return err
	}
	at := time.Now()
	e, _ := c.Cfg.EpochTime()
	os.WriteFile(filepath.Join(c.Cfg.Path(nc.Dir), KilledFileName), []byte(strconv.FormatInt(at.UnixNano(), 10)), 0o644)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill node %d (pid %d): %w", id, pid, err)
	}
	LogFault(c.Cfg, at.Sub(e).Nanoseconds(), "kill", "node", int(id), "pid", pid)
	c.waitExit(id, pid, 5*time.Second)
	c.mu.Lock()
	c.State.Pids[int(id)] = 0
	c.mu.Unlock()
	return c.saveState()
}

// runningPid is node id's process, or an error if it does not run.
func (c *Cluster) runningPid(id ordo.NodeID) (int, error) {
	if err := c.Cfg.notService(id); err != nil {
		return 0, err
	}
	c.mu.Lock()
	pid := c.State.Pids[int(id)]
	c.mu.Unlock()
	if pid <= 0 || !c.alive(id) {
		return 0, fmt.Errorf("node %d is not running", id)
	}
	return pid, nil
}

func (c *Cluster) waitExit(id ordo.NodeID, pid int, within time.Duration) bool {
	c.mu.Lock()
	ch := c.waited[int(id)]
	c.mu.Unlock()
	if ch != nil {
		select {
		case <-ch:
			return true
		case <-time.After(within):
			return false
		}
	}
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if syscall.Kill(pid, 0) != nil {
			return true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return false
}

// Stop sends SIGTERM to node id (a graceful stop) and waits for it, then
// SIGKILL after the grace period.
func (c *Cluster) Stop(id ordo.NodeID) error {
	if c.Cfg.RoleOf(id) == ordo.Service {
		return nil // no process
	}
	pid, err := c.runningPid(id)
	if err != nil {
		return nil
	}
	c.continuePaused(id, pid) // a stopped process cannot stop gracefully (faults.go)
	syscall.Kill(pid, syscall.SIGTERM)
	if !c.waitExit(id, pid, 3*time.Second) {
		syscall.Kill(pid, syscall.SIGKILL)
		c.waitExit(id, pid, 2*time.Second)
	}
	c.mu.Lock()
	c.State.Pids[int(id)] = 0
	c.mu.Unlock()
	return c.saveState()
}

// Restart starts node id again (killing it first if it runs). It comes
// back from its own disk, and the cluster's current faults are re-applied.
func (c *Cluster) Restart(id ordo.NodeID) error {
	if _, err := c.Cfg.Node(id); err != nil {
		return err
	}
	if err := c.Cfg.notService(id); err != nil {
		return err
	}
	if c.alive(id) {
		if err := c.Kill(id); err != nil {
			return err
		}
	}
	if err := c.guardAmnesia(id); err != nil { // a node that lost its disk (amnesia.go)
		return err
	}
	if err := c.spawn(id); err != nil {
		return err
	}
	if err := c.saveState(); err != nil {
		return err
	}
	LogFault(c.Cfg, c.now(), "restart", "node", int(id))
	if err := c.waitReady(id, 10*time.Second); err != nil {
		return err
	}
	c.mu.Lock()
	f, ok := c.State.Faults[int(id)]
	c.mu.Unlock()
	if ok {
		return c.setFaults(id, f)
	}
	return nil
}

// Down stops every node gracefully.
func (c *Cluster) Down() error {
	var wg sync.WaitGroup
	for _, id := range c.Processes() {
		wg.Add(1)
		go func(id ordo.NodeID) {
			defer wg.Done()
			c.Stop(id)
		}(id)
	}
	wg.Wait()
	c.mu.Lock()
	c.State.Faults, c.State.Partition = nil, ""
	c.State.Stopped = true
	c.mu.Unlock()
	if c.net != nil {
		if err := c.net.Teardown(); err != nil {
			return err
		}
	}
	c.client.CloseIdleConnections()
	return c.saveState()
}

// ParseGroups reads a partition of this cluster in the fault package's
// notation (fault.Members.ParseGroups, with the cluster's roles:
// Members): every server in exactly one group, a client or a service in
// at most one (one named in none stays connected to every group, as in
// the simulator). "1,2,3/4" cuts every server of three off from service
// 4; a partition cannot cut one server alone from a service (it names
// every server): two one-way cuts, 1->4 and 4->1, do.
func (c *Cluster) ParseGroups(s string) ([][]ordo.NodeID, error) {
	return c.Members().ParseGroups(s)
}

// Partition cuts the cluster into groups that cannot reach each other. A
// node in no group (a client the partition does not name) keeps every
// link, as in the simulator.
func (c *Cluster) Partition(groups [][]ordo.NodeID) error {
	desc := fault.FormatGroups(groups)
	return c.setShape(groupsBlocked(c.N(), groups), desc, "partition", "groups", desc)
}

// SetFaults sets one node's fault layer (one-way cuts, delay, loss).
func (c *Cluster) SetFaults(id ordo.NodeID, f transport.Faults) error {
	if err := c.Cfg.notService(id); err != nil {
		return err
	}
	var err error
	if c.net != nil {
		// The kernel's rules; recorded below as well, so that a later
		// change to one setting (loss) keeps the others (the cuts).
		if err = c.netSetFaults(id, f); err != nil {
			return err
		}
	} else {
		if err := f.Validate(id, c.N()); err != nil {
			return err
		}
		LogFault(c.Cfg, c.now(), "faults", "node", int(id), "block_out", fmt.Sprint(f.BlockOut), "block_in", fmt.Sprint(f.BlockIn), "delay", time.Duration(f.Delay).String(), "loss", f.Loss)
		if !c.Paused(id) { // a paused node gets it when it resumes (faults.go)
			err = c.setFaults(id, f)
		}
	}
	c.mu.Lock()
	if c.State.Faults == nil {
		c.State.Faults = map[int]transport.Faults{}
	}
	c.State.Faults[int(id)] = f
	c.mu.Unlock()
	if serr := c.saveState(); err == nil {
		err = serr
	}
	return err
}

// Heal clears every node's faults.
func (c *Cluster) Heal() error {
	if c.net != nil {
		err := c.netHeal()
		if len(c.Cfg.Roster().Services) > 0 {
			// The cuts to services are the nodes' own (faults.go, setShape).
			clear := map[int]transport.Faults{}
			for _, id := range c.Processes() {
				clear[int(id)] = transport.Faults{}
			}
			err = errors.Join(err, c.applyAll(clear))
		}
		return err
	}
	LogFault(c.Cfg, c.now(), "heal")
	faults := map[int]transport.Faults{}
	for _, id := range c.Processes() {
		faults[int(id)] = transport.Faults{}
	}
	err := c.applyAll(faults)
	c.mu.Lock()
	c.State.Faults, c.State.Partition = nil, ""
	c.mu.Unlock()
	if serr := c.saveState(); err == nil {
		err = serr
	}
	return err
}

// applyAll sets faults on every running node at once, so the cut is as
// close to simultaneous as the admin endpoints allow.
func (c *Cluster) applyAll(faults map[int]transport.Faults) error {
	var wg sync.WaitGroup
	errs := make([]error, c.N()+1)
	for id, f := range faults {
		if !c.alive(ordo.NodeID(id)) || c.Paused(ordo.NodeID(id)) {
			continue // a paused node gets it when it resumes (faults.go)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[id] = c.setFaults(ordo.NodeID(id), f)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (c *Cluster) setFaults(id ordo.NodeID, f transport.Faults) error {
	if err := c.Cfg.notService(id); err != nil {
		return err
	}
	body, _ := json.Marshal(f)
	nc, _ := c.Cfg.Node(id)
	resp, err := c.client.Post("http://"+nc.Admin+"/faults", "application/json", strings.NewReader(string(body)))
	if err != nil {
		return fmt.Errorf("node %d: %w", id, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("node %d: %s", id, strings.TrimSpace(string(msg)))
	}
	return nil
}

// Status asks node id's admin endpoint for its status.
func (c *Cluster) Status(id ordo.NodeID) (Status, error) {
	var s Status
	nc, err := c.Cfg.Node(id)
	if err != nil {
		return s, err
	}
	if err := c.Cfg.notService(id); err != nil {
		return s, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+nc.Admin+"/status", nil)
	resp, err := c.client.Do(req)
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return s, fmt.Errorf("node %d: status %s", id, resp.Status)
	}
	err = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&s)
	return s, err
}

// NodeView is one row of the cluster's status.
type NodeView struct {
	ID ordo.NodeID `json:"id"`
	// Kind is the node's role in the cluster: server, client or service.
	Kind string `json:"kind"`
	// Service is a service node's protocol (no process: no status).
	Service string `json:"service,omitempty"`
	Up      bool   `json:"up"`
	Paused  bool   `json:"paused,omitempty"` // stopped by ordo cluster pause: alive, silent
	Pid     int    `json:"pid,omitempty"`
	// Client is the server's client API address (cluster file), if any.
	Client string  `json:"client,omitempty"`
	Status *Status `json:"status,omitempty"`
	Err    string  `json:"error,omitempty"`
}

// View asks every node for its status, in parallel.
func (c *Cluster) View() []NodeView {
	out := make([]NodeView, c.N())
	var wg sync.WaitGroup
	for i := range out {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := ordo.NodeID(i + 1)
			out[i].ID = id
			out[i].Kind = c.Cfg.RoleOf(id).String()
			if nc, err := c.Cfg.Node(id); err == nil {
				out[i].Client = nc.Client
				if out[i].Kind == ordo.Service.String() {
					out[i].Service = nc.Protocol
					return
				}
			}
			s, err := c.Status(id)
			if err != nil {
				out[i].Err = "down"
				if c.Paused(id) && c.alive(id) {
					c.mu.Lock()
					out[i].Paused, out[i].Pid, out[i].Err = true, c.State.Pids[int(id)], "paused"
					c.mu.Unlock()
				}
				return
			}
			out[i].Up, out[i].Status = true, &s
		}()
	}
	wg.Wait()
	c.markNetCuts(out) // netns.go: the kernel's cuts
	return out
}

// FormatView renders a view as a table. The protocol's columns sit
// between PID and BOOT: an election's ROLE, TERM and LEADER, or those its
// protocol registered (RegisterColumns: a PBFT replica's view and
// sequence numbers).
func FormatView(w io.Writer, v []NodeView, partition string) {
	cols := columnsOf(v)
	if cols.Summary != nil {
		if line := cols.Summary(v); line != "" {
			fmt.Fprintln(w, line)
		}
	}
	if partition != "" {
		fmt.Fprintf(w, "partition: %s\n", partition)
	}
	// A cluster with clients shows each node's kind (server or client);
	// ROLE stays what the protocol notes (leader, follower, ...).
	kinds := slices.ContainsFunc(v, func(nv NodeView) bool { return nv.Kind != ordo.Server.String() })
	var t table
	row := func(nv NodeView, pid string, rest ...string) {
		cells := []string{"n" + strconv.Itoa(int(nv.ID))}
		if kinds {
			cells = append(cells, nv.Kind)
		}
		t.add(append(append(cells, pid), rest...)...)
	}
	head := []string{"NODE"}
	if kinds {
		head = append(head, "KIND")
	}
	head = append(head, "PID")
	first := len(head) // the protocol's first column
	head = append(append(head, cols.Head...), "BOOT", "CONNECTED-TO", "CUT-OFF", "FAULTS")
	t.add(head...)
	// The widths of before (fixed then), so a table reads as it did.
	t.least(0, 5)
	if kinds {
		t.least(1, 7)
	}
	t.least(first-1, 7)
	for i, wd := range cols.Width {
		t.least(first+i, wd)
	}
	t.least(first+len(cols.Head), 6)
	t.least(first+len(cols.Head)+1, 14)
	t.least(first+len(cols.Head)+2, 14)
	up := 0
	for _, nv := range v {
		if nv.Service != "" {
			row(nv, "-", nv.Service)
			continue
		}
		if nv.Paused {
			row(nv, strconv.Itoa(nv.Pid), "PAUSED")
			continue
		}
		if !nv.Up {
			row(nv, "-", "DOWN")
			continue
		}
		up++
		s := nv.Status
		conn, cut := links(s.Peers)
		if svc := serviceLinks(s.Peers, s.Faults); svc != "" {
			cut = strings.TrimPrefix(cut+","+svc, ",")
		}
		faults := faultString(s.Faults)
		if b := byzantineFault(s.Byzantine); b != "" {
			faults = strings.TrimPrefix(strings.TrimPrefix(faults, "-")+" "+b, " ")
		}
		var mine []string
		if cols.Cells != nil && len(cols.Head) > 0 {
			mine = cols.Cells(s)
		}
		for len(mine) < len(cols.Head) {
			mine = append(mine, "-")
		}
		row(nv, strconv.Itoa(s.Pid), append(mine[:len(cols.Head)], strconv.Itoa(s.Boot), orDash(conn), orDash(cut), faults)...)
	}
	t.write(w)
	if up == 0 {
		fmt.Fprintln(w, "no node answers: the cluster is stopped")
	}
	formatClients(w, v)
	if rj := formatRejects(v); rj != "" {
		fmt.Fprintln(w, rj)
	}
	if warning := starvedWarning(v); warning != "" {
		fmt.Fprintln(w, warning)
	}
}

// starvedWarning is the one warning of the nodes whose timers fired late
// within LatenessWindow ("" for none). Section 1: a starved host fires
// timers late, and late election timers look like a dead leader; say so
// rather than leave the term churn unexplained. The nodes of one cluster
// mostly share a host, so the warning is said once, naming them all.
func starvedWarning(v []NodeView) string {
	var (
		nodes []string
		worst Duration
		late  uint64
	)
	for _, nv := range v {
		if nv.Up && nv.Status != nil && nv.Status.Timers.Starved {
			nodes = append(nodes, "n"+strconv.Itoa(int(nv.ID)))
			worst = max(worst, nv.Status.Timers.Worst)
			late += nv.Status.Timers.Late
		}
	}
	if len(nodes) == 0 {
		return ""
	}
	return fmt.Sprintf("warning: %s up to %v late in the last %v (%s since start): the host is starved (CPU, a paused process, a slow disk); timeouts (elections, view changes, suspicions) now may be the host's doing, not the network's",
		strings.Join(nodes, ", ")+" fired timers", time.Duration(worst).Round(time.Millisecond), LatenessWindow, plural.Count(late, "late timer"))
}

// formatClients lists the servers' client API addresses, if they have one.
func formatClients(w io.Writer, v []NodeView) {
	var s []string
	for _, nv := range v {
		if nv.Client != "" {
			s = append(s, fmt.Sprintf("n%d %s", int(nv.ID), nv.Client))
		}
	}
	if len(s) > 0 {
		fmt.Fprintf(w, "client API: %s\n", strings.Join(s, ", "))
	}
}

// links splits a node's peers into those it exchanges messages with and
// those cut off. The fault layer keeps TCP connections open while it drops
// their traffic, so a connection alone says nothing: a peer is connected
// when our connection is up and neither direction is blocked. A cut peer
// is "3" (both ways), "3:out" (we cannot reach it) or "3:in" (we cannot
// hear it).
func links(peers []transport.PeerStatus) (conn, cut string) {
	var c, x []string
	for _, p := range peers {
		id := strconv.Itoa(int(p.ID))
		switch {
		case p.BlockedOut && p.BlockedIn:
			x = append(x, id)
		case p.BlockedOut:
			x = append(x, id+":out")
		case p.BlockedIn:
			x = append(x, id+":in")
		case p.Out:
			c = append(c, id)
		}
	}
	return strings.Join(c, ","), strings.Join(x, ",")
}

// serviceLinks are a node's cut links to the nodes that are not its
// peers (services: no connection, only the fault layer's cuts, written
// as links writes them: "4" both ways, "4:out", "4:in").
func serviceLinks(peers []transport.PeerStatus, f transport.Faults) string {
	peer := map[ordo.NodeID]bool{}
	for _, p := range peers {
		peer[p.ID] = true
	}
	var ids []ordo.NodeID
	for _, id := range append(slices.Clone(f.BlockOut), f.BlockIn...) {
		if !peer[id] && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	var x []string
	for _, id := range ids {
		t := strconv.Itoa(int(id))
		switch out, in := slices.Contains(f.BlockOut, id), slices.Contains(f.BlockIn, id); {
		case out && !in:
			t += ":out"
		case in && !out:
			t += ":in"
		}
		x = append(x, t)
	}
	return strings.Join(x, ",")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func faultString(f transport.Faults) string {
	if f.Healthy() {
		return "-"
	}
	// Cuts are in the CUT-OFF column (links).
	var s []string
	if f.Delay > 0 {
		s = append(s, "delay:"+time.Duration(f.Delay).String())
	}
	if f.Loss > 0 {
		s = append(s, fmt.Sprintf("loss:%g", f.Loss))
	}
	if len(s) == 0 {
		return "-"
	}
	return strings.Join(s, " ")
}

// Start starts every node of a stopped cluster (`ordo cluster down`)
// again from its directory: each node reads back its store and its trace
// and boots with a higher boot count, as after a restart; the network is
// whole (the faults and partition of the earlier run ended with it). A
// cluster with a running node is refused (restart single nodes instead),
// and so is one that ran in network namespaces (they were torn down:
// start a new cluster there with up --fresh).
func (c *Cluster) Start() error {
	if running := c.Running(); len(running) > 0 {
		return fmt.Errorf("the cluster in %s runs (nodes %v): restart a node with ordo cluster restart N", c.Dir, running)
	}
	if c.net != nil || c.inNetnsSubnet() {
		return fmt.Errorf("the cluster in %s ran in network namespaces, which down tore down: start a new one with ordo cluster up --fresh --netns", c.Dir)
	}
	if _, err := os.Stat(c.State.Binary); err != nil {
		exe, err2 := os.Executable()
		if err2 != nil {
			return fmt.Errorf("the ordo binary %s that ran the cluster: %w", c.State.Binary, err)
		}
		c.State.Binary = exe
	}
	c.mu.Lock()
	c.State.Stopped = false
	c.State.Faults, c.State.Partition = nil, ""
	c.mu.Unlock()
	for _, id := range c.Processes() {
		if err := c.guardAmnesia(id); err != nil {
			return err
		}
		if err := c.spawn(id); err != nil {
			return err
		}
		LogFault(c.Cfg, c.now(), "restart", "node", int(id))
	}
	if err := c.saveState(); err != nil {
		return err
	}
	for _, id := range c.Processes() {
		if err := c.waitReady(id, 10*time.Second); err != nil {
			return err
		}
	}
	return nil
}

// WaitServing waits until serves succeeds, then checks that every process
// still runs. Start waits only for each node's admin endpoint: a node that
// fail-stops right after (on a store it cannot read) or a cluster that
// never elects would go unnoticed. serves is the protocol's own proof of
// service (the kv database: a client's linearizable read, which needs a
// leader that a majority follows), retried by it until ctx ends. The
// error names each node that stopped and its log, or, all running, who
// leads (as ordo cluster status says it) and the servers' logs.
func (c *Cluster) WaitServing(ctx context.Context, serves func(context.Context) error) error {
	err := serves(ctx)
	var gone []string
	for _, id := range c.Processes() {
		if !c.alive(id) {
			gone = append(gone, fmt.Sprintf("node %d stopped after it started (see %s)", id, c.LogPath(id)))
		}
	}
	switch {
	case len(gone) > 0 && err != nil:
		return fmt.Errorf("%s; and the cluster did not serve: %w", strings.Join(gone, "; "), err)
	case len(gone) > 0:
		return errors.New(strings.Join(gone, "; "))
	case err != nil:
		var logs []string
		for _, id := range c.Servers() {
			logs = append(logs, c.LogPath(id))
		}
		what := "every node runs, but the cluster did not serve"
		if who := leaderLine(c.View()); who != "" {
			what += " (" + who + ")"
		}
		return fmt.Errorf("%s: %w\n(the servers' logs: %s)", what, err, strings.Join(logs, ", "))
	}
	return nil
}

// inNetnsSubnet reports whether the cluster file puts a node in the
// netns subnet (a --netns cluster: its addresses exist only in its
// namespaces).
func (c *Cluster) inNetnsSubnet() bool {
	_, subnet, _ := net.ParseCIDR(NetnsSubnet)
	for _, nd := range c.Cfg.Nodes {
		host, _, err := net.SplitHostPort(nd.Addr)
		if ip := net.ParseIP(host); err == nil && ip != nil && subnet.Contains(ip) {
			return true
		}
	}
	return false
}

// CheckOptions resolves given against proto's options and builds one node
// of an n-server cluster with them (a protocol's New checks its options'
// ranges: snapshot_entries=0 passes Resolve and is refused there), so a
// bad option is refused before any process starts rather than as a node
// that exits at start. New is a deterministic state machine's constructor:
// the node is dropped.
func CheckOptions(proto *ordo.Protocol, given map[string]string, n int) (ordo.Options, error) {
	resolved, err := proto.Resolve(given)
	if err != nil {
		return nil, err
	}
	if n >= 1 {
		if _, err := proto.New(ordo.Config{ID: 1, N: n, Opts: resolved, Proto: proto}); err != nil {
			return nil, err
		}
	}
	return resolved, nil
}
