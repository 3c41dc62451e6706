package live

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"ordo"
	"ordo/fault"
	"ordo/live/transport"
)

// The live cluster's interpreter of the fault package's schedules, beside
// the simulator's (fault.Apply): one model of faults, two interpreters.
// Network shapes become each node's fault layer (or nftables rules with
// --netns), a crash is SIGKILL, a pause is SIGSTOP bracketed by the node
// (faults_node.go), clock faults go to the node's clock (clock.go), and a
// failing fsync to its store. Every fault applied is logged to the
// cluster's fault log in the vocabulary check.Net reads, so the merged
// trace is judged as a simulated one is.

// CanApply reports whether the live cluster can make f happen; the error
// says why not and what to write instead. A scenario is refused at load
// with it (RunScenario), before any process starts.
func CanApply(f fault.Fault) error {
	switch f.Kind {
	case fault.Crash, fault.Restart, fault.Partition, fault.Cut, fault.Bridge, fault.Star, fault.Heal,
		fault.Pause, fault.Resume, fault.ClockStep, fault.ClockDrift, fault.FsyncFail:
		return nil
	case fault.Loss:
		if len(f.From) > 0 || len(f.To) > 0 {
			return fmt.Errorf("%v: the live fault layer drops a fraction of everything a node sends, not of chosen links: write loss without \"on\"", f.Kind)
		}
		return nil
	case fault.TornWrite:
		return fmt.Errorf("%v: a torn write needs the simulator's disk model (a live crash tears what the kernel had not written: use crash)", f.Kind)
	case fault.CorruptRead:
		return fmt.Errorf("%v: the live store cannot be made to read flipped bits (only the simulator's disk model can)", f.Kind)
	case fault.DiskFull:
		return fmt.Errorf("%v: the live cluster cannot fill a node's disk (only the simulator's disk model can; fsync-fail is live)", f.Kind)
	}
	return fmt.Errorf("%v: not a fault the live cluster knows", f.Kind)
}

// Apply makes f happen on the running cluster now (f.At is the caller's
// business: RunScenario waits for it). A restart of a running node and a
// resume of a running one do nothing, as in the simulator.
func (c *Cluster) Apply(f fault.Fault) error {
	if err := CanApply(f); err != nil {
		return err
	}
	if err := c.validateLive(f); err != nil {
		return err
	}
	switch f.Kind {
	case fault.Crash:
		if !c.alive(f.Node) {
			return nil // crashed already
		}
		err := c.Kill(f.Node) // SIGKILL stops a paused process too
		if marker, merr := c.pausedMarker(f.Node); merr == nil {
			os.Remove(marker)
		}
		return err
	case fault.Restart:
		if c.alive(f.Node) {
			return nil
		}
		return c.Restart(f.Node)
	case fault.Partition:
		return c.applyPartition(f.Groups)
	case fault.Cut:
		blocked := c.blockedNow()
		for _, a := range f.From {
			for _, b := range f.To {
				blocked[a][b] = true
			}
		}
		c.mu.Lock()
		shape := strings.TrimPrefix(c.State.Partition+", ", ", ") + "cut " + fault.FormatNodes(f.From) + "->" + fault.FormatNodes(f.To)
		c.mu.Unlock()
		return c.setShape(blocked, shape, "cut-one-way", "from", fault.FormatNodes(f.From), "to", fault.FormatNodes(f.To))
	case fault.Bridge:
		// As the simulator: the two sides are cut apart and the bridge,
		// in neither group, keeps every link (logged as the simulator
		// logs it: the partition of the sides, then the bridge).
		sides := fault.FormatGroups(f.Groups)
		err := c.setShape(groupsBlocked(c.N(), f.Groups), fmt.Sprintf("%s via %d", sides, f.Via), "partition", "groups", sides)
		if err == nil && c.net == nil {
			LogFault(c.Cfg, c.now(), "bridge", "node", int(f.Via))
		}
		return err
	case fault.Star:
		// A shape of the whole network: it replaces earlier cuts.
		n := c.N()
		blocked := newBlocked(n)
		for _, a := range c.Servers() {
			for _, b := range c.Servers() {
				blocked[a][b] = a != b && a != f.Node && b != f.Node
			}
		}
		if c.net == nil {
			// Logged as the cuts check.Net reads: a heal, then each
			// leaf's one-way cut to the other leaves.
			LogFault(c.Cfg, c.now(), "heal")
		}
		for _, a := range c.Servers() {
			if a == f.Node {
				continue
			}
			var to []ordo.NodeID
			for _, b := range c.Servers() {
				if blocked[a][b] {
					to = append(to, b)
				}
			}
			if c.net == nil {
				LogFault(c.Cfg, c.now(), "cut-one-way", "from", strconv.Itoa(int(a)), "to", fault.FormatNodes(to))
			}
		}
		return c.setShape(blocked, fmt.Sprintf("star, hub %d", f.Node), "")
	case fault.Heal:
		if c.net != nil {
			return c.Heal()
		}
		return c.setShape(newBlocked(c.N()), "", "heal")
	case fault.Pause:
		return c.Pause(f.Node)
	case fault.Resume:
		return c.Resume(f.Node)
	case fault.ClockStep:
		by := Duration(f.By)
		return c.SetClock(f.Node, ClockChange{Step: &by})
	case fault.ClockDrift:
		ppm := f.PPM
		return c.SetClock(f.Node, ClockChange{DriftPPM: &ppm})
	case fault.Loss:
		return c.setLoss(f.Rate)
	case fault.FsyncFail:
		return c.FailSync(f.Node)
	}
	return fmt.Errorf("fault %v: not applied", f)
}

// Members are the cluster's nodes by role as the fault package's
// notations name them: the servers, the clients and the service nodes
// (their protocols, "coord" and "fenced-store" for the lease election),
// from the cluster file. Every fault the live cluster parses is read
// against them, so "1->4" names service 4 where it exists, and an error
// lists the nodes by their real roles.
func (c *Cluster) Members() fault.Members {
	r := c.Cfg.Roster()
	m := fault.Members{Servers: len(r.Servers), Clients: len(r.Clients)}
	for _, id := range r.Services {
		m.Services = append(m.Services, c.Cfg.Nodes[id-1].Protocol)
	}
	return m
}

// ParseFault reads one fault of kind k written "SPEC@TIME" (fault.Syntax)
// for this cluster (Members): a partition or a cut may name the services,
// which cuts the named nodes' links to them in the nodes' fault layers; a
// fault that acts on a process (crash, restart, pause, resume, a clock
// fault, a storage fault) naming a service is refused with what to write
// instead (a service is a real etcd, not a process of the cluster), and
// so is a fault the live cluster cannot make happen (CanApply).
func (c *Cluster) ParseFault(k fault.Kind, s string) (fault.Fault, error) {
	m := c.Members()
	if id, ok := processNode(m, k, s); ok {
		if err := c.Cfg.notService(id); err != nil {
			spec, _, _ := strings.Cut(s, "@")
			return fault.Fault{}, fmt.Errorf("%s %q: %w", k, spec, err)
		}
	}
	f, err := m.Parse(k, s)
	if err != nil {
		return fault.Fault{}, err
	}
	if err := CanApply(f); err != nil {
		return fault.Fault{}, err
	}
	return f, nil
}

// processNode is the node a fault that acts on one process names in s
// ("4@1s", "4 by 1s@1s"), if it names one that exists: a service there is
// refused in the live cluster's words before the fault package's (whose
// reasons are the simulator model's).
func processNode(m fault.Members, k fault.Kind, s string) (ordo.NodeID, bool) {
	switch k {
	case fault.Crash, fault.Restart, fault.Pause, fault.Resume, fault.ClockStep, fault.ClockDrift,
		fault.TornWrite, fault.CorruptRead, fault.FsyncFail, fault.DiskFull:
	default:
		return 0, false
	}
	spec, _, _ := strings.Cut(s, "@")
	spec, _, _ = strings.Cut(spec, " by ")
	id, err := m.ParseNode(spec)
	return id, err == nil
}

// validateLive checks f against the cluster's nodes (Members): a
// partition or a cut may name clients and services (servers in no group
// of a partition form one more group), a fault that acts on a process
// names no service (Config.notService says why and what to do instead).
func (c *Cluster) validateLive(f fault.Fault) error {
	m := c.Members()
	var err error
	switch f.Kind {
	case fault.Partition:
		// Servers in no group form one more group (applyPartition).
		_, err = m.ParseGroups(fault.FormatGroups(c.withRest(f.Groups)))
	case fault.Cut:
		_, _, err = m.ParseCut(fault.FormatCut(f.From, f.To))
	default:
		if f.Node != 0 && m.Role(f.Node) == ordo.Service {
			err = c.Cfg.notService(f.Node)
		} else {
			return f.Check(m)
		}
	}
	if err != nil {
		return fmt.Errorf("fault %v: %w", f, err)
	}
	return nil
}

// newBlocked is an (n+1)×(n+1) matrix of cut links [from][to], none cut.
func newBlocked(n int) [][]bool {
	out := make([][]bool, n+1)
	for i := range out {
		out[i] = make([]bool, n+1)
	}
	return out
}

// blockedNow reads the cut links from the nodes' fault layers as the
// cluster last set them.
func (c *Cluster) blockedNow() [][]bool {
	b := newBlocked(c.N())
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, f := range c.State.Faults {
		if id < 1 || id > c.N() {
			continue
		}
		for _, p := range f.BlockOut {
			if int(p) <= c.N() {
				b[id][p] = true
			}
		}
		for _, p := range f.BlockIn {
			if int(p) <= c.N() {
				b[p][id] = true
			}
		}
	}
	return b
}

// applyPartition cuts the groups apart (servers in no group form one more
// group; a client in none keeps every link, as in the simulator).
func (c *Cluster) applyPartition(groups [][]ordo.NodeID) error {
	groups = c.withRest(groups)
	desc := fault.FormatGroups(groups)
	return c.setShape(groupsBlocked(c.N(), groups), desc, "partition", "groups", desc)
}

// groupsBlocked is the cut links of groups: each node is cut from every
// node of another group (nodes in no group keep every link).
func groupsBlocked(n int, groups [][]ordo.NodeID) [][]bool {
	group := map[ordo.NodeID]int{}
	for gi, g := range groups {
		for _, id := range g {
			group[id] = gi + 1
		}
	}
	blocked := newBlocked(n)
	for a, ga := range group {
		for b, gb := range group {
			blocked[a][b] = ga != gb
		}
	}
	return blocked
}

// withRest is groups with the servers no group names as one more group.
func (c *Cluster) withRest(groups [][]ordo.NodeID) [][]ordo.NodeID {
	named := map[ordo.NodeID]bool{}
	for _, g := range groups {
		for _, id := range g {
			named[id] = true
		}
	}
	var rest []ordo.NodeID
	for _, id := range c.Servers() {
		if !named[id] {
			rest = append(rest, id)
		}
	}
	if len(rest) > 0 {
		return append(groups[:len(groups):len(groups)], rest)
	}
	return groups
}

// setShape gives every node the fault layer of the cut links blocked
// (keeping each node's loss and delay), after logging the fault name with
// attrs (none when name is ""), and records shape as what `cluster status`
// shows of the network ("" for whole). With --netns each node's setting
// goes to its nftables rules instead (SetFaults logs each).
func (c *Cluster) setShape(blocked [][]bool, shape, name string, attrs ...any) error {
	n := c.N()
	faults := map[int]transport.Faults{}
	c.mu.Lock()
	for _, id := range c.Processes() {
		// A service has no fault layer: the processes' layers cut their
		// links to it (service_runtime.go).
		a := int(id)
		cur := c.State.Faults[a]
		f := transport.Faults{Delay: cur.Delay, Loss: cur.Loss}
		for b := 1; b <= n; b++ {
			if blocked[a][b] {
				f.BlockOut = append(f.BlockOut, ordo.NodeID(b))
			}
			if blocked[b][a] {
				f.BlockIn = append(f.BlockIn, ordo.NodeID(b))
			}
		}
		faults[a] = f
	}
	c.mu.Unlock()
	var err error
	if c.net != nil {
		var errs []error
		svc := map[int]transport.Faults{}
		for id, f := range faults {
			errs = append(errs, c.SetFaults(ordo.NodeID(id), f))
			svc[id] = c.serviceCuts(f)
		}
		if len(c.Cfg.Roster().Services) > 0 {
			// The kernel's rules do not see a node's traffic to a
			// service (it leaves through the node's adapter, not the cut
			// veths): the node's own fault layer cuts it.
			errs = append(errs, c.applyAll(svc))
		}
		err = errors.Join(errs...)
	} else {
		if name != "" {
			LogFault(c.Cfg, c.now(), name, attrs...)
		}
		err = c.applyAll(faults)
	}
	c.mu.Lock()
	c.State.Faults, c.State.Partition = faults, shape
	c.mu.Unlock()
	if serr := c.saveState(); err == nil {
		err = serr
	}
	return err
}

// serviceCuts is the part of a node's fault layer f that the kernel's
// rules cannot make under --netns: its cuts to and from the services.
func (c *Cluster) serviceCuts(f transport.Faults) transport.Faults {
	var out transport.Faults
	for _, b := range f.BlockOut {
		if c.Cfg.RoleOf(b) == ordo.Service {
			out.BlockOut = append(out.BlockOut, b)
		}
	}
	for _, a := range f.BlockIn {
		if c.Cfg.RoleOf(a) == ordo.Service {
			out.BlockIn = append(out.BlockIn, a)
		}
	}
	return out
}

// setLoss makes every node drop the fraction rate of what it sends.
func (c *Cluster) setLoss(rate float64) error {
	var errs []error
	for _, id := range c.Processes() {
		c.mu.Lock()
		f := c.State.Faults[int(id)]
		c.mu.Unlock()
		f.Loss = rate
		errs = append(errs, c.SetFaults(id, f))
	}
	return errors.Join(errs...)
}

// SetDelay makes every node hold each message it sends back by d: the
// live approximation of a scenario's network latency (loopback has none).
func (c *Cluster) SetDelay(d time.Duration) error {
	var errs []error
	for _, id := range c.Processes() {
		c.mu.Lock()
		f := c.State.Faults[int(id)]
		c.mu.Unlock()
		f.Delay = transport.Duration(d)
		errs = append(errs, c.SetFaults(id, f))
	}
	return errors.Join(errs...)
}

// PausedFileName marks a node paused by the cluster (SIGSTOP), holding
// the moment of the pause (ns since the Unix epoch): Resume and a later
// command know the process is stopped rather than hung.
const PausedFileName = "paused"

// Pause freezes node id, the GC-pause case: the node records a pause event
// and stops handling events (POST /pause), then its process gets SIGSTOP,
// so that nothing of it runs, not even its transport. The pause is logged
// to the fault log. A paused node's admin endpoint does not answer: the
// status shows it down until Resume.
func (c *Cluster) Pause(id ordo.NodeID) error {
	marker, err := c.pausedMarker(id)
	if err != nil {
		return err
	}
	pid, err := c.runningPid(id)
	if err != nil {
		return err
	}
	if c.Paused(id) {
		return fmt.Errorf("node %d is paused already", id)
	}
	// The node's own pause event first: the process is stopped only once
	// its loop has stopped, so its trace says exactly when it stopped
	// acting. A node that cannot answer (stuck) is stopped anyway.
	bracketed := c.adminPost(id, "/pause") == nil
	at := time.Now()
	os.WriteFile(marker, []byte(strconv.FormatInt(at.UnixNano(), 10)), 0o644)
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		os.Remove(marker)
		return fmt.Errorf("pause node %d (pid %d): %w", id, pid, err)
	}
	LogFault(c.Cfg, c.now(), "pause", "node", int(id), "pid", pid, "signal", "SIGSTOP", "traced", bracketed)
	return nil
}

// Paused reports whether node id was paused by Pause and not resumed.
func (c *Cluster) Paused(id ordo.NodeID) bool {
	marker, err := c.pausedMarker(id)
	if err != nil {
		return false
	}
	_, err = os.Stat(marker)
	return err == nil
}

// pausedMarker is the path of node id's PausedFileName.
func (c *Cluster) pausedMarker(id ordo.NodeID) (string, error) {
	nc, err := c.Cfg.Node(id)
	if err != nil {
		return "", err
	}
	if err := c.Cfg.notService(id); err != nil {
		return "", err
	}
	return filepath.Join(c.Cfg.Path(nc.Dir), PausedFileName), nil
}

// Resume lets a paused node go on: SIGCONT, then the node records its
// resume event (POST /resume) and handles what waited. Resuming a node
// that is not paused does nothing.
func (c *Cluster) Resume(id ordo.NodeID) error {
	marker, err := c.pausedMarker(id)
	if err != nil {
		return err
	}
	if !c.Paused(id) {
		return nil // not paused (a schedule may resume what it never paused)
	}
	pid, err := c.runningPid(id)
	if err == nil {
		if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
			return fmt.Errorf("resume node %d (pid %d): %w", id, pid, err)
		}
	}
	os.Remove(marker)
	if err != nil {
		return nil // killed while paused
	}
	// The loop is still blocked in its pause (faults_node.go) until told;
	// the fault is logged once it goes on, after the node's own resume
	// event, so that no checker sees it running before it runs.
	var last error
	for range 50 {
		if last = c.adminPost(id, "/resume"); last == nil || strings.Contains(last.Error(), "not paused") {
			LogFault(c.Cfg, c.now(), "resume", "node", int(id), "pid", pid, "signal", "SIGCONT")
			// The faults set while it was stopped (applyAll skips it).
			c.mu.Lock()
			f, ok := c.State.Faults[int(id)]
			c.mu.Unlock()
			switch {
			case ok && c.net == nil:
				return c.setFaults(id, f)
			case ok && len(c.Cfg.Roster().Services) > 0:
				return c.setFaults(id, c.serviceCuts(f)) // --netns: see setShape
			}
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	LogFault(c.Cfg, c.now(), "resume", "node", int(id), "pid", pid, "signal", "SIGCONT")
	return fmt.Errorf("node %d got SIGCONT but its loop did not resume: %w", id, last)
}

// continuePaused sends SIGCONT to node id (process pid) if the cluster
// paused it, so that a stop that follows is graceful: the node's loop,
// still in its pause, ends at the stop (faults_node.go).
func (c *Cluster) continuePaused(id ordo.NodeID, pid int) {
	if !c.Paused(id) {
		return
	}
	syscall.Kill(pid, syscall.SIGCONT)
	marker, _ := c.pausedMarker(id)
	os.Remove(marker)
}

// SetClock changes node id's clock (clock.go): a step, an offset or a
// drift of what the protocol reads as its local clock, not the machine's.
// The node logs the change to the fault log.
func (c *Cluster) SetClock(id ordo.NodeID, ch ClockChange) error {
	body, err := json.Marshal(ch)
	if err != nil {
		return err
	}
	return c.adminPostBody(id, "/clock", string(body))
}

// FailSync makes node id's next fsync fail: the node stops (fail-stop) at
// its next write, and the messages waiting for that fsync never leave.
func (c *Cluster) FailSync(id ordo.NodeID) error {
	if err := c.adminPost(id, "/fail-sync"); err != nil {
		return err
	}
	LogFault(c.Cfg, c.now(), "fail-sync", "node", int(id))
	return nil
}

func (c *Cluster) adminPost(id ordo.NodeID, path string) error {
	return c.adminPostBody(id, path, "{}")
}

// adminPostBody POSTs a JSON body to node id's admin endpoint (with the
// cluster's token: the client's transport adds it).
func (c *Cluster) adminPostBody(id ordo.NodeID, path, body string) error {
	nc, err := c.Cfg.Node(id)
	if err != nil {
		return err
	}
	if err := c.Cfg.notService(id); err != nil {
		return err
	}
	resp, err := c.client.Post("http://"+nc.Admin+path, "application/json", strings.NewReader(body))
	if err != nil {
		return fmt.Errorf("node %d: %w", id, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("node %d: %s %s: %s", id, path, resp.Status, strings.TrimSpace(string(msg)))
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return nil
}

// RequireProcess returns an error unless node id runs as a process of
// this cluster (a server or a client): a service node is a real system
// (etcd) reached through each node's adapter, which the commands that
// signal or restart a process cannot act on; the error says how to cut
// it off instead.
func (c *Cluster) RequireProcess(id ordo.NodeID) error { return c.Cfg.notService(id) }
