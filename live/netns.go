package live

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"ordo"
	"ordo/fault"
	"ordo/live/transport"
)

// Network namespaces: `ordo cluster up --netns` (issue 10, item 7).
//
// Each node runs in its own Linux network namespace ordo-<hash>-n<i> with
// one interface, eth0, holding 10.213.7.<i>/24; the other end of its veth
// pair is a port of bridge br0 in one more namespace, ordo-<hash>-sw (the
// switch). Nothing is created in the host's namespace: no interface, no
// address, no route, no firewall rule, so nothing can leave the machine and
// two netns clusters may both use 10.213.7.0/24 on their own switches.
// <hash> is 8 hex digits of the cluster directory's path.
//
// Network faults are nftables rules in table `inet ordo` of each node's
// namespace, applied by the kernel: the node's own transport (its fault
// layer stays off) sees real silence, as a process on a partitioned host
// would. The rules drop; they never reject, as a partition sends nothing.
//
// The admin endpoint stays on host loopback: the supervising command binds
// it in the host's namespace and hands the listening socket to the node as
// file descriptor 3 (environment ORDO_ADMIN_FD=3), so the CLI and the
// admin checks (loopback only) are the same as without --netns, and a
// partition never cuts the control path, as Jepsen's control network.

// NetnsSubnet is the private /24 of every netns cluster: node i is .i.
const NetnsSubnet = "10.213.7.0/24"

// NetnsPeerPort is every node's peer port (each node has its own address).
const NetnsPeerPort = 7000

// NetnsFileName records a netns cluster's network in its directory.
const NetnsFileName = "netns.json"

// adminFDEnv names the inherited admin listener (see listenAdmin).
const adminFDEnv = "ORDO_ADMIN_FD"

// maxNetnsNodes: node addresses are .1 to .64 of the /24.
const maxNetnsNodes = MaxClusterNodes

// lossScale: loss is applied as `numgen random mod lossScale < k`, so
// rates are rounded to 1/lossScale.
const lossScale = 10000

// NetFaults is what an interpreter of network faults does, whether the
// transport's fault layer or the kernel (Netns). Node ids are 1..N.
type NetFaults interface {
	// Partition cuts groups apart both ways and replaces every earlier
	// cut; a node in no group keeps its links (a client, as in sim).
	Partition(groups [][]ordo.NodeID) error
	// Cut loses every message from a node of from to a node of to (one
	// way), added to the cuts already there.
	Cut(from, to []ordo.NodeID) error
	// Loss drops each message from → to with probability rate in [0, 1];
	// both empty: every link. Rate 0 removes the loss on those links.
	Loss(from, to []ordo.NodeID, rate float64) error
	// Heal removes every cut and every loss.
	Heal() error
}

// Netns is the kernel interpreter of network faults for one cluster.
// Its state (what is cut) is kept in NetnsFileName so that each command
// (`ordo cluster partition`, `heal`, a scenario run) adds to it.
type Netns struct {
	Prefix string `json:"prefix"` // namespace names: Prefix+"sw", Prefix+"n<i>"
	N      int    `json:"n"`
	// Blocked are the directed links cut, [from, to], sorted.
	Blocked [][2]int `json:"blocked,omitempty"`
	// LinkLoss is the loss rate of directed links "from>to".
	LinkLoss map[string]float64 `json:"loss,omitempty"`

	dir    string
	dryRun bool       // render the rules, install nothing (tests)
	mu     sync.Mutex // guards Blocked, LinkLoss and the installed rules
}

var _ NetFaults = (*Netns)(nil)

// NetnsPrefix is the namespace-name prefix of the cluster in dir.
func NetnsPrefix(dir string) string {
	h := fnv.New32a()
	h.Write([]byte(filepath.Clean(dir)))
	return fmt.Sprintf("ordo-%08x-", h.Sum32())
}

// NetnsAddr is node id's peer address in a netns cluster.
func NetnsAddr(id ordo.NodeID) string {
	return net.JoinHostPort(netnsIP(int(id)), strconv.Itoa(NetnsPeerPort))
}

func netnsIP(i int) string { return "10.213.7." + strconv.Itoa(i) }

// NodeNS is the network namespace of node id.
func (x *Netns) NodeNS(id ordo.NodeID) string { return x.Prefix + "n" + strconv.Itoa(int(id)) }

func (x *Netns) switchNS() string { return x.Prefix + "sw" }

// CheckNetns tells whether this process can build namespaces: root, and
// the ip and nft commands. The error says what is missing.
func CheckNetns() error {
	var miss []string
	if os.Geteuid() != 0 {
		miss = append(miss, "root (network namespaces and nftables need CAP_NET_ADMIN: run as root, e.g. with sudo)")
	}
	for _, tool := range []string{"ip", "nft"} {
		if _, err := lookTool(tool); err != nil {
			pkg := map[string]string{"ip": "iproute2", "nft": "nftables"}[tool]
			miss = append(miss, fmt.Sprintf("the %s command (package %s)", tool, pkg))
		}
	}
	if len(miss) > 0 {
		return fmt.Errorf("--netns needs %s", strings.Join(miss, " and "))
	}
	return nil
}

// lookTool finds ip or nft on PATH or in /usr/sbin and /sbin, which a
// non-login root shell may lack on its PATH.
func lookTool(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range []string{"/usr/sbin", "/sbin"} {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: not found", name)
}

// run runs a tool, with stdin, and returns a clear error with its output.
func run(stdin string, tool string, args ...string) ([]byte, error) {
	p, err := lookTool(tool)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(p, args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.Bytes(), fmt.Errorf("%s %s: %v: %s", tool, strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.Bytes(), nil
}

// SetupNetns builds the namespaces, switch and veth pairs of an n-node
// cluster in dir, after removing what a crashed earlier run of the same
// directory left (by name prefix). On error it removes what it built.
func SetupNetns(dir string, n int) (*Netns, error) {
	if n < 1 || n > maxNetnsNodes {
		return nil, fmt.Errorf("--netns: %d nodes, want 1..%d", n, maxNetnsNodes)
	}
	if err := CheckNetns(); err != nil {
		return nil, err
	}
	x := &Netns{Prefix: NetnsPrefix(dir), N: n, dir: dir}
	if err := CleanupNetns(x.Prefix); err != nil {
		return nil, err
	}
	if err := x.build(); err != nil {
		CleanupNetns(x.Prefix)
		return nil, err
	}
	if err := x.save(); err != nil {
		CleanupNetns(x.Prefix)
		return nil, err
	}
	return x, nil
}

func (x *Netns) build() error {
	sw := x.switchNS()
	steps := [][]string{
		{"netns", "add", sw},
		{"-n", sw, "link", "add", "br0", "type", "bridge"},
		{"-n", sw, "link", "set", "br0", "up"},
	}
	for i := 1; i <= x.N; i++ {
		ns, port := x.NodeNS(ordo.NodeID(i)), "n"+strconv.Itoa(i)
		steps = append(steps,
			[]string{"netns", "add", ns},
			[]string{"-n", sw, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns},
			[]string{"-n", sw, "link", "set", port, "master", "br0", "up"},
			[]string{"-n", ns, "addr", "add", netnsIP(i) + "/24", "dev", "eth0"},
			[]string{"-n", ns, "link", "set", "eth0", "up"},
			[]string{"-n", ns, "link", "set", "lo", "up"})
	}
	for _, s := range steps {
		if _, err := run("", "ip", s...); err != nil {
			return fmt.Errorf("--netns: %w", err)
		}
	}
	for i := 1; i <= x.N; i++ {
		if err := x.nft(ordo.NodeID(i), baseRuleset); err != nil {
			return err
		}
	}
	return nil
}

// baseRuleset is the table each node's namespace holds from the start:
// empty chains and the named counters that the fault rules count into,
// so counters survive the rules' replacement.
const baseRuleset = `table inet ordo {
	counter cut_in { }
	counter cut_out { }
	counter loss { }
	chain input { type filter hook input priority 0; policy accept; }
	chain output { type filter hook output priority 0; policy accept; }
}
`

// nft runs an nftables script in node id's namespace.
func (x *Netns) nft(id ordo.NodeID, script string) error {
	if _, err := run(script, "ip", "netns", "exec", x.NodeNS(id), mustTool("nft"), "-f", "-"); err != nil {
		return fmt.Errorf("--netns: node %d: %w", id, err)
	}
	return nil
}

func mustTool(name string) string {
	p, err := lookTool(name)
	if err != nil {
		return name
	}
	return p
}

// CleanupNetns deletes every namespace whose name starts with prefix
// (which deletes their interfaces, veth pairs and nftables rules). It is
// safe to call when there is none.
func CleanupNetns(prefix string) error {
	if !strings.HasPrefix(prefix, "ordo-") || !strings.HasSuffix(prefix, "-") {
		return fmt.Errorf("netns cleanup: prefix %q is not an ordo cluster's", prefix)
	}
	names, err := netnsNames(prefix)
	if err != nil {
		return err
	}
	var errs []error
	for _, name := range names {
		if _, err := run("", "ip", "netns", "del", name); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Teardown removes the cluster's namespaces and its netns file.
func (x *Netns) Teardown() error {
	err := CleanupNetns(x.Prefix)
	if x.dir != "" {
		os.Remove(filepath.Join(x.dir, NetnsFileName))
	}
	return err
}

// OpenNetns reads the netns record of the cluster in dir; nil, nil when
// the cluster was not started with --netns.
func OpenNetns(dir string) (*Netns, error) {
	f, err := os.Open(filepath.Join(dir, NetnsFileName))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 1<<20+1))
	if err != nil {
		return nil, err
	}
	return parseNetns(b, dir)
}

// parseNetns reads a netns record of the cluster in dir, checking every
// node id and rate against its bounds.
func parseNetns(b []byte, dir string) (*Netns, error) {
	if len(b) > 1<<20 {
		return nil, fmt.Errorf("%s: larger than 1 MiB", NetnsFileName)
	}
	var x Netns
	if err := json.Unmarshal(b, &x); err != nil {
		return nil, fmt.Errorf("%s: %v", NetnsFileName, err)
	}
	if x.N < 1 || x.N > maxNetnsNodes || x.Prefix != NetnsPrefix(dir) {
		return nil, fmt.Errorf("%s: n %d or prefix %q does not fit the cluster in %s", NetnsFileName, x.N, x.Prefix, dir)
	}
	for _, l := range x.Blocked {
		if !x.valid(l[0]) || !x.valid(l[1]) {
			return nil, fmt.Errorf("%s: link %v is not between nodes 1..%d", NetnsFileName, l, x.N)
		}
	}
	for k, r := range x.LinkLoss {
		a, b, err := parseLinkKey(k)
		if err != nil || !x.valid(a) || !x.valid(b) || !(r >= 0 && r <= 1) {
			return nil, fmt.Errorf("%s: loss %q: %v out of range", NetnsFileName, k, r)
		}
	}
	x.dir = dir
	return &x, nil
}

func (x *Netns) valid(id int) bool { return id >= 1 && id <= x.N }

func (x *Netns) save() error {
	b, err := json.MarshalIndent(x, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(filepath.Join(x.dir, NetnsFileName), b)
}

func linkKey(a, b int) string { return strconv.Itoa(a) + ">" + strconv.Itoa(b) }

func parseLinkKey(k string) (int, int, error) {
	as, bs, ok := strings.Cut(k, ">")
	a, err1 := strconv.Atoi(as)
	b, err2 := strconv.Atoi(bs)
	if !ok || err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("bad link %q", k)
	}
	return a, b, nil
}

func (x *Netns) checkIDs(what string, ids []ordo.NodeID) error {
	for _, id := range ids {
		if !x.valid(int(id)) {
			return fmt.Errorf("%s: node %d is not one of 1..%d", what, int(id), x.N)
		}
	}
	return nil
}

// Partition cuts groups apart both ways, replacing every earlier cut
// (losses stay). See NetFaults.
func (x *Netns) Partition(groups [][]ordo.NodeID) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.partition(groups)
}

func (x *Netns) partition(groups [][]ordo.NodeID) error {
	group := map[int]int{}
	for gi, g := range groups {
		if err := x.checkIDs("partition", g); err != nil {
			return err
		}
		for _, id := range g {
			if _, dup := group[int(id)]; dup {
				return fmt.Errorf("partition: node %d is in two groups", int(id))
			}
			group[int(id)] = gi
		}
	}
	x.Blocked = nil
	for a, ga := range group {
		for b, gb := range group {
			if ga != gb {
				x.Blocked = append(x.Blocked, [2]int{a, b})
			}
		}
	}
	return x.apply()
}

// Cut adds the one-way cut from → to. See NetFaults.
func (x *Netns) Cut(from, to []ordo.NodeID) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if err := errors.Join(x.checkIDs("cut", from), x.checkIDs("cut", to)); err != nil {
		return err
	}
	for _, a := range from {
		for _, b := range to {
			if a != b {
				x.Blocked = append(x.Blocked, [2]int{int(a), int(b)})
			}
		}
	}
	return x.apply()
}

// Loss sets the loss rate of the links from → to. See NetFaults.
func (x *Netns) Loss(from, to []ordo.NodeID, rate float64) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.loss(from, to, rate)
}

func (x *Netns) loss(from, to []ordo.NodeID, rate float64) error {
	if !(rate >= 0 && rate <= 1) {
		return fmt.Errorf("loss: %v is not a fraction in 0..1", rate)
	}
	if err := errors.Join(x.checkIDs("loss", from), x.checkIDs("loss", to)); err != nil {
		return err
	}
	if len(from) == 0 && len(to) == 0 {
		for i := 1; i <= x.N; i++ {
			from = append(from, ordo.NodeID(i))
		}
		to = from
	}
	if x.LinkLoss == nil {
		x.LinkLoss = map[string]float64{}
	}
	for _, a := range from {
		for _, b := range to {
			if a == b {
				continue
			}
			if rate == 0 {
				delete(x.LinkLoss, linkKey(int(a), int(b)))
			} else {
				x.LinkLoss[linkKey(int(a), int(b))] = rate
			}
		}
	}
	return x.apply()
}

// Heal removes every cut and loss. See NetFaults.
func (x *Netns) Heal() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.Blocked, x.LinkLoss = nil, nil
	return x.apply()
}

// Apply interprets one network fault of the fault package: partition,
// cut, bridge, star, heal and loss. Other kinds are not the network's.
func (x *Netns) Apply(f fault.Fault) error {
	switch f.Kind {
	case fault.Partition:
		return x.Partition(f.Groups)
	case fault.Cut:
		return x.Cut(f.From, f.To)
	case fault.Bridge:
		// Both sides cut apart, both reach Via: a partition of the sides
		// with Via in neither.
		if len(f.Groups) != 2 {
			return fmt.Errorf("fault %v: a bridge has two sides", f)
		}
		return x.Partition(f.Groups)
	case fault.Star:
		x.mu.Lock()
		defer x.mu.Unlock()
		x.Blocked = nil
		for a := 1; a <= x.N; a++ {
			for b := 1; b <= x.N; b++ {
				if a != b && ordo.NodeID(a) != f.Node && ordo.NodeID(b) != f.Node {
					x.Blocked = append(x.Blocked, [2]int{a, b})
				}
			}
		}
		return x.apply()
	case fault.Heal:
		return x.Heal()
	case fault.Loss:
		return x.Loss(f.From, f.To, f.Rate)
	}
	return fmt.Errorf("fault %v: not a network fault; the kernel interpreter does partition, cut, bridge, star, heal and loss", f)
}

// apply renders and installs every node's rules, then records the state.
func (x *Netns) apply() error {
	x.normalize()
	var errs []error
	for i := 1; i <= x.N && !x.dryRun; i++ {
		if err := x.nft(ordo.NodeID(i), x.rules(i)); err != nil {
			errs = append(errs, err)
		}
	}
	if x.dir != "" {
		errs = append(errs, x.save())
	}
	return errors.Join(errs...)
}

func (x *Netns) normalize() {
	slices.SortFunc(x.Blocked, func(p, q [2]int) int {
		if p[0] != q[0] {
			return p[0] - q[0]
		}
		return p[1] - q[1]
	})
	x.Blocked = slices.Compact(x.Blocked)
}

// rules is node i's nftables script: the chains replaced whole (in one
// transaction), the named counters kept. A link a→b is cut both where it
// leaves a (cut_out) and where it would arrive at b (cut_in), so that a
// packet already in flight is dropped too; loss is drawn once, on output.
func (x *Netns) rules(i int) string {
	var in, out []string
	for _, l := range x.Blocked {
		if l[0] == i {
			out = append(out, netnsIP(l[1]))
		}
		if l[1] == i {
			in = append(in, netnsIP(l[0]))
		}
	}
	byRate := map[int][]string{} // loss threshold → destinations
	for k, r := range x.LinkLoss {
		a, b, _ := parseLinkKey(k)
		if a == i {
			th := int(r*lossScale + 0.5)
			byRate[th] = append(byRate[th], netnsIP(b))
		}
	}
	var s strings.Builder
	s.WriteString("flush chain inet ordo input\nflush chain inet ordo output\n")
	if len(in) > 0 {
		fmt.Fprintf(&s, "add rule inet ordo input ip saddr { %s } counter name cut_in drop\n", strings.Join(in, ", "))
	}
	if len(out) > 0 {
		fmt.Fprintf(&s, "add rule inet ordo output ip daddr { %s } counter name cut_out drop\n", strings.Join(out, ", "))
	}
	ths := make([]int, 0, len(byRate))
	for th := range byRate {
		ths = append(ths, th)
	}
	sort.Ints(ths)
	for _, th := range ths {
		if th == 0 {
			continue
		}
		dst := byRate[th]
		sort.Strings(dst)
		fmt.Fprintf(&s, "add rule inet ordo output ip daddr { %s } numgen random mod %d < %d counter name loss drop\n", strings.Join(dst, ", "), lossScale, th)
	}
	return s.String()
}

// NetCounters are the packets and bytes the kernel dropped in one node's
// namespace, by rule: cut_in, cut_out, loss.
type NetCounters struct {
	Node    ordo.NodeID      `json:"node"`
	Packets map[string]int64 `json:"packets"`
	Bytes   map[string]int64 `json:"bytes"`
}

// Dropped is the node's dropped packets, every rule together.
func (c NetCounters) Dropped() int64 {
	var n int64
	for _, v := range c.Packets {
		n = min(n+v, math.MaxInt64/2) // saturates: each v is at most MaxInt64/2
	}
	return n
}

// Counters reads every node's drop counters from the kernel (nft -j).
func (x *Netns) Counters() ([]NetCounters, error) {
	var out []NetCounters
	for i := 1; i <= x.N; i++ {
		b, err := run("", "ip", "netns", "exec", x.NodeNS(ordo.NodeID(i)), mustTool("nft"), "-j", "list", "counters", "table", "inet", "ordo")
		if err != nil {
			return nil, err
		}
		c, err := parseNftCounters(b)
		if err != nil {
			return nil, fmt.Errorf("node %d: nft -j: %w", i, err)
		}
		c.Node = ordo.NodeID(i)
		out = append(out, c)
	}
	return out, nil
}

// parseNftCounters reads the named counters of `nft -j list counters`.
func parseNftCounters(b []byte) (NetCounters, error) {
	var doc struct {
		Nftables []struct {
			Counter *struct {
				Name    string `json:"name"`
				Packets int64  `json:"packets"`
				Bytes   int64  `json:"bytes"`
			} `json:"counter"`
		} `json:"nftables"`
	}
	c := NetCounters{Packets: map[string]int64{}, Bytes: map[string]int64{}}
	if len(b) > 1<<20 {
		return c, fmt.Errorf("output larger than 1 MiB")
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return c, err
	}
	for _, e := range doc.Nftables {
		if e.Counter != nil {
			if e.Counter.Packets < 0 || e.Counter.Bytes < 0 || e.Counter.Packets > math.MaxInt64/2 || e.Counter.Bytes > math.MaxInt64/2 {
				return c, fmt.Errorf("counter %s: %d packets, %d bytes out of 0..2^62", e.Counter.Name, e.Counter.Packets, e.Counter.Bytes)
			}
			c.Packets[e.Counter.Name] = e.Counter.Packets
			c.Bytes[e.Counter.Name] = e.Counter.Bytes
		}
	}
	return c, nil
}

// netnsCommand wraps a node's command so that it runs in node id's
// namespace, and passes it the admin listener bound here, on host
// loopback, as file descriptor 3.
func (x *Netns) netnsCommand(cmd *exec.Cmd, id ordo.NodeID, admin string) (func(), error) {
	ln, err := net.Listen("tcp", admin)
	if err != nil {
		return nil, fmt.Errorf("admin endpoint of node %d: %w", id, err)
	}
	f, err := ln.(*net.TCPListener).File()
	ln.Close() // f holds its own descriptor of the socket
	if err != nil {
		return nil, err
	}
	ip, err := lookTool("ip")
	if err != nil {
		f.Close()
		return nil, err
	}
	cmd.Args = append([]string{ip, "netns", "exec", x.NodeNS(id)}, cmd.Args...)
	cmd.Path = ip
	cmd.ExtraFiles = []*os.File{f}
	cmd.Env = append(os.Environ(), adminFDEnv+"=3")
	return func() { f.Close() }, nil
}

// listenAdmin binds the admin endpoint, or takes the listener a netns
// supervisor passed as descriptor ORDO_ADMIN_FD (which must be listening
// on addr).
func listenAdmin(addr string) (net.Listener, error) {
	v := os.Getenv(adminFDEnv)
	if v == "" {
		return net.Listen("tcp", addr)
	}
	os.Unsetenv(adminFDEnv)
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 || fd > 1024 {
		return nil, fmt.Errorf("%s=%q: not an inherited descriptor", adminFDEnv, v)
	}
	f := os.NewFile(uintptr(fd), "admin")
	ln, err := net.FileListener(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("%s=%d: %w", adminFDEnv, fd, err)
	}
	if ln.Addr().String() != addr {
		ln.Close()
		return nil, fmt.Errorf("%s=%d listens on %s, the cluster file says %s", adminFDEnv, fd, ln.Addr(), addr)
	}
	return ln, nil
}

// The Cluster's routes to the kernel interpreter (cluster.go calls them
// when the cluster was started with --netns).

func (c *Cluster) netHeal() error {
	LogFault(c.Cfg, c.now(), "heal", "by", "netns")
	err := c.net.Heal()
	c.mu.Lock()
	c.State.Faults, c.State.Partition = nil, ""
	c.mu.Unlock()
	return errors.Join(err, c.saveState())
}

// NetFaults is the interpreter of this cluster's network faults: the
// kernel's when it was started with --netns, else nil (use the
// transport's fault layer: Partition, SetFaults, Heal).
func (c *Cluster) NetFaults() *Netns { return c.net }

// netnsNames lists the namespaces whose name starts with prefix.
func netnsNames(prefix string) ([]string, error) {
	out, err := run("", "ip", "netns", "list")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, line := range strings.Split(string(out), "\n") {
		name, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		if strings.HasPrefix(name, prefix) {
			names = append(names, name)
		}
	}
	return names, nil
}

// netSetFaults is SetFaults for a netns cluster: node id's cuts (out and
// in) and the loss of its outgoing links are replaced by f's. The kernel
// interpreter has no delay.
func (c *Cluster) netSetFaults(id ordo.NodeID, f transport.Faults) error {
	if err := f.Validate(id, c.N()); err != nil {
		return err
	}
	if f.Delay != 0 {
		return fmt.Errorf("delay: a --netns cluster's faults are nftables rules, which do not delay; use a cluster without --netns")
	}
	LogFault(c.Cfg, c.now(), "faults", "node", int(id), "block_out", fmt.Sprint(f.BlockOut), "block_in", fmt.Sprint(f.BlockIn), "loss", f.Loss, "by", "netns")
	x := c.net
	x.mu.Lock()
	defer x.mu.Unlock()
	x.Blocked = slices.DeleteFunc(x.Blocked, func(l [2]int) bool { return l[0] == int(id) || l[1] == int(id) })
	// A service (ids after the processes, service_runtime.go) has no
	// namespace: the kernel's rules cannot cut a node from it.
	for _, b := range f.BlockOut {
		if int(b) <= x.N {
			x.Blocked = append(x.Blocked, [2]int{int(id), int(b)})
		}
	}
	for _, a := range f.BlockIn {
		if int(a) <= x.N {
			x.Blocked = append(x.Blocked, [2]int{int(a), int(id)})
		}
	}
	var others []ordo.NodeID
	for i := 1; i <= x.N; i++ {
		if ordo.NodeID(i) != id {
			others = append(others, ordo.NodeID(i))
		}
	}
	return x.loss([]ordo.NodeID{id}, others, f.Loss) // applies the cuts too
}

// cleanupStaleNetns removes the namespaces and record of an earlier netns
// cluster in dir, before a new cluster takes the directory.
func cleanupStaleNetns(dir string) {
	if _, err := os.Stat(filepath.Join(dir, NetnsFileName)); err != nil {
		return
	}
	if os.Geteuid() == 0 {
		CleanupNetns(NetnsPrefix(dir))
	}
	os.Remove(filepath.Join(dir, NetnsFileName))
}

// netShape sets the cut links of a netns cluster to blocked (blocked[a][b]:
// a → b is cut; indexes 1..N) in one step, keeping the losses: the
// kernel's side of a shape the fault interpreter computed (faults.go). The
// caller logs the fault.
func (c *Cluster) netShape(blocked [][]bool) error {
	x := c.net
	x.mu.Lock()
	defer x.mu.Unlock()
	x.Blocked = nil
	for a := 1; a < len(blocked) && a <= x.N; a++ {
		for b := 1; b < len(blocked[a]) && b <= x.N; b++ {
			if a != b && blocked[a][b] {
				x.Blocked = append(x.Blocked, [2]int{a, b})
			}
		}
	}
	return x.apply()
}

// markNetCuts shows the kernel's cuts in a view of a netns cluster: the
// nodes' transports block nothing (their fault layer is off) and keep
// their TCP connections open through a cut, so a peer is marked blocked
// from the rules in force (re-read, as another command may have changed
// them). Status from Cluster.Status stays the node's own word.
func (c *Cluster) markNetCuts(v []NodeView) {
	if c.net == nil {
		return
	}
	x := c.net
	if cur, err := OpenNetns(c.Dir); err == nil && cur != nil {
		x = cur
	}
	cut := map[[2]int]bool{}
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, l := range x.Blocked {
		cut[l] = true
	}
	for _, nv := range v {
		if !nv.Up || nv.Status == nil {
			continue
		}
		for i := range nv.Status.Peers {
			p := &nv.Status.Peers[i]
			p.BlockedOut = p.BlockedOut || cut[[2]int{int(nv.ID), int(p.ID)}]
			p.BlockedIn = p.BlockedIn || cut[[2]int{int(p.ID), int(nv.ID)}]
		}
	}
}
