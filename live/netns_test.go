package live

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"ordo"
	"ordo/check"
	"ordo/live/transport"
	"ordo/trace"
)

// needNetns skips a test that needs root, ip and nft, or fails it under
// CI=true, where .ci/run runs as root and installs nftables.
func needNetns(t *testing.T) {
	t.Helper()
	if err := CheckNetns(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %v (.ci/run runs as root and installs nftables)", err)
		}
		t.Skipf("skipped: %v", err)
	}
}

// splitChecks are the verdicts partition-raft asks for.
var splitChecks = []string{"single-leader", "one-leader-per-term", "eventual-leader", "fencing"}

// splitRun is the chapter's section 5 split {1,2} | {3,4,5} on five real
// raft processes, its faults applied by the kernel (netns) or by the
// transport's fault layer. It returns the checks' verdicts on the merged
// trace and, with netns, the packets the kernel dropped per node.
func splitRun(t *testing.T, bin string, netns bool) (map[string]check.Verdict, []NetCounters) {
	t.Helper()
	dir := t.TempDir()
	stale := NetnsPrefix(dir) + "n9"
	if netns {
		// What a crashed run of this directory would have left: Up
		// removes it by name prefix.
		if _, err := run("", "ip", "netns", "add", stale); err != nil {
			t.Fatal(err)
		}
	}
	c, err := Up(UpOptions{N: 5, Protocol: "raft", Dir: dir, Binary: bin, Seed: 1, LogLevel: "warn", Netns: netns,
		Options:       map[string]string{"election_timeout_min": "150ms", "election_timeout_max": "300ms", "heartbeat": "50ms"},
		DieWithParent: true})
	if err != nil {
		t.Fatal(err)
	}
	prefix := NetnsPrefix(c.Dir)
	t.Cleanup(func() {
		c.Down()
		if netns {
			CleanupNetns(prefix)
		}
	})
	if left, _ := netnsNames(stale); netns && len(left) > 0 {
		t.Fatalf("the stale namespace %s survived cluster up", stale)
	}
	if netns != (c.NetFaults() != nil) {
		t.Fatalf("netns %v but the cluster's kernel interpreter is %v", netns, c.NetFaults())
	}
	const electionMax = 300 * time.Millisecond
	if _, _, err := c.WaitLeader(0, nil, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	minority, majority := []ordo.NodeID{1, 2}, []ordo.NodeID{3, 4, 5}
	if err := c.Partition([][]ordo.NodeID{minority, majority}); err != nil {
		t.Fatal(err)
	}
	l, _, err := c.WaitLeader(0, majority, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	until := time.Now().Add(6 * electionMax)
	for time.Now().Before(until) {
		var leaders []ordo.NodeID
		for _, nv := range c.View() {
			if !nv.Up {
				t.Fatalf("n%d is down during the partition", nv.ID)
			}
			// The view marks n1 cut from n3 either way (status tells
			// the truth)...
			if p := nv.Status.Peers; nv.ID == 1 && !(p[1].BlockedOut && p[1].BlockedIn) {
				t.Fatalf("the view of n1 does not show n3 cut: %+v", p)
			}
			// ...but with netns the node's own transport blocks nothing:
			// its fault layer is off and the kernel does the cutting.
			own, err := c.Status(nv.ID)
			if err != nil {
				t.Fatal(err)
			}
			blocking := !own.Faults.Healthy() || slices.ContainsFunc(own.Peers, func(p transport.PeerStatus) bool { return p.BlockedOut || p.BlockedIn })
			if netns && blocking {
				t.Fatalf("n%d's transport fault layer is on under --netns: %+v %+v", nv.ID, own.Faults, own.Peers)
			}
			if !netns && !blocking {
				t.Fatalf("n%d's transport fault layer blocks nothing during the transport's partition", nv.ID)
			}
			if nv.Status.Role == "leader" {
				leaders = append(leaders, nv.ID)
			}
		}
		if len(leaders) > 1 {
			t.Fatalf("two leaders during the partition: %v", leaders)
		}
		for _, id := range leaders {
			if !slices.Contains(majority, id) {
				t.Fatalf("minority node n%d leads after n%d was elected by the majority", id, l)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	var counters []NetCounters
	if netns {
		if counters, err = c.NetFaults().Counters(); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Heal(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		v := c.View()
		ok := true
		for _, nv := range v {
			ok = ok && nv.Up && nv.Status.Leader != 0 && nv.Status.Leader == v[0].Status.Leader && nv.Status.Term == v[0].Status.Term
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			var b strings.Builder
			FormatView(&b, v, "")
			t.Fatalf("no common leader 15s after healing:\n%s", b.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The run ends here: the checks judge the cluster as it was before
	// `cluster down` stopped every server (as the simulator's run ends
	// with its servers up).
	end := c.now()
	if err := c.Down(); err != nil {
		t.Fatal(err)
	}
	if netns {
		// Down removed every namespace (and with it every veth and rule).
		if left, err := netnsNames(prefix); err != nil || len(left) > 0 {
			t.Fatalf("namespaces left after cluster down: %v %v", left, err)
		}
		if _, err := os.Stat(c.Dir + "/" + NetnsFileName); !os.IsNotExist(err) {
			t.Fatalf("%s left after cluster down: %v", NetnsFileName, err)
		}
	}
	tr, err := Merge(c.Cfg)
	if err != nil {
		t.Fatal(err)
	}
	tr.Events = slices.DeleteFunc(tr.Events, func(e trace.Event) bool { return e.T > end })
	res, err := check.Run(tr, splitChecks)
	if err != nil {
		t.Fatal(err)
	}
	verdicts := map[string]check.Verdict{}
	for _, r := range res {
		verdicts[r.Check] = r.Verdict
		if !r.OK {
			t.Logf("netns=%v %s: %s %+v", netns, r.Check, r.Summary, r.Violations)
		}
	}
	return verdicts, counters
}

// Section 5, exercise 3, with Jepsen's way of cutting: the split
// {1,2} | {3,4,5} done by nftables in each node's network namespace gives
// the verdicts that the transport's fault layer gives (those partition-raft
// expects: every check passes), with the transport's layer off and the
// kernel's counters showing dropped packets on both sides.
func TestNetnsPartitionSameVerdicts(t *testing.T) {
	needNetns(t)
	bin := buildOrdo(t)
	kernel, counters := splitRun(t, bin, true)
	transport, _ := splitRun(t, bin, false)
	// A packet is dropped where it leaves (cut_out), so a follower that
	// sends nothing across may count none; each side as a whole sends
	// across (the minority's vote requests, the leader's heartbeats).
	var dropped []string
	side := map[bool]int64{} // in the minority → packets dropped
	for _, c := range counters {
		side[c.Node <= 2] += c.Dropped()
		dropped = append(dropped, fmt.Sprintf("n%d:%d", c.Node, c.Dropped()))
	}
	if len(counters) != 5 || side[true] == 0 || side[false] == 0 {
		t.Errorf("the kernel's counters show no drop on a side of the split: minority %d, majority %d (%v)", side[true], side[false], counters)
	}
	t.Logf("packets dropped by nftables during the split: %s", strings.Join(dropped, " "))
	t.Logf("verdicts: netns %v, transport %v", kernel, transport)
	for _, name := range splitChecks {
		if kernel[name] != transport[name] {
			t.Errorf("%s: netns %v, transport fault layer %v", name, kernel[name], transport[name])
		}
		if kernel[name] != check.Pass {
			t.Errorf("%s: %s under netns; partition-raft expects pass", name, kernel[name])
		}
	}
}

// The kernel interpreter's rules for each fault shape: what node i's
// namespace drops (no root needed: rules are rendered, not installed).
func TestNetnsRules(t *testing.T) {
	x := &Netns{Prefix: "ordo-00000000-", N: 5, dryRun: true}
	if err := x.Partition([][]ordo.NodeID{{1, 2}, {3, 4, 5}}); err != nil {
		t.Fatal(err)
	}
	r1 := x.rules(1)
	for _, want := range []string{
		"ip saddr { 10.213.7.3, 10.213.7.4, 10.213.7.5 } counter name cut_in drop",
		"ip daddr { 10.213.7.3, 10.213.7.4, 10.213.7.5 } counter name cut_out drop",
	} {
		if !strings.Contains(r1, want) {
			t.Errorf("n1's rules lack %q:\n%s", want, r1)
		}
	}
	x.Blocked = nil
	x.Cut([]ordo.NodeID{1}, []ordo.NodeID{2})
	if r := x.rules(2); !strings.Contains(r, "ip saddr { 10.213.7.1 } counter name cut_in drop") || strings.Contains(r, "cut_out") {
		t.Errorf("one-way cut 1→2: n2's rules:\n%s", r)
	}
	x.Loss(nil, nil, 0.25)
	if r := x.rules(3); !strings.Contains(r, "numgen random mod 10000 < 2500 counter name loss drop") {
		t.Errorf("loss 0.25: n3's rules:\n%s", r)
	}
	x.Heal()
	if r := x.rules(1); strings.Contains(r, "drop") {
		t.Errorf("after heal n1 still drops:\n%s", r)
	}
	if err := x.Loss(nil, nil, 1.5); err == nil {
		t.Error("loss 1.5 accepted")
	}
	if err := x.Cut([]ordo.NodeID{6}, []ordo.NodeID{1}); err == nil {
		t.Error("a cut from node 6 of 5 accepted")
	}
}

func TestParseNftCounters(t *testing.T) {
	c, err := parseNftCounters([]byte(`{"nftables": [{"metainfo": {"version": "1.0.6"}}, {"counter": {"family": "inet", "name": "cut_in", "table": "ordo", "handle": 2, "packets": 7, "bytes": 420}}, {"counter": {"name": "loss", "packets": 3, "bytes": 1}}]}`))
	if err != nil || c.Dropped() != 10 || c.Bytes["cut_in"] != 420 {
		t.Fatalf("got %+v, %v; want 10 packets, 420 bytes on cut_in", c, err)
	}
	if _, err := parseNftCounters([]byte(`{"nftables": [{"counter": {"name": "x", "packets": -1}}]}`)); err == nil {
		t.Error("a negative counter accepted")
	}
}

func FuzzParseNetns(f *testing.F) {
	dir := "/tmp/c"
	f.Add([]byte(`{"prefix":"` + NetnsPrefix(dir) + `","n":5,"blocked":[[1,3]],"loss":{"1>2":0.5}}`))
	f.Add([]byte(`{"prefix":"x","n":99}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := parseNetns(b, dir)
		if err != nil {
			return
		}
		// What parses is within bounds and renders rules for every node.
		if x.N < 1 || x.N > maxNetnsNodes {
			t.Fatalf("n %d accepted", x.N)
		}
		for i := 1; i <= x.N; i++ {
			if r := x.rules(i); !strings.HasPrefix(r, "flush chain") {
				t.Fatalf("rules of n%d: %q", i, r)
			}
		}
	})
}

func FuzzParseNftCounters(f *testing.F) {
	f.Add([]byte(`{"nftables": [{"counter": {"name": "cut_in", "packets": 7, "bytes": 420}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := parseNftCounters(b)
		if err == nil && c.Dropped() < 0 {
			t.Fatalf("negative drops %d from %q", c.Dropped(), b)
		}
	})
}
