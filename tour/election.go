package tour

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"ordo/lab"
	"ordo/measure"
)

// Sections 4 and 5: Bully and Ring on the chapter's figures, split brain
// and the quorum that prevents it, and failover after a leader crash.

func fmtDur(d time.Duration) string { return d.Round(10 * time.Microsecond).String() }

// messages prints the election's messages after `after`, skipping kinds.
func messages(w io.Writer, o *lab.Outcome, after time.Duration, skip ...string) {
	for _, e := range o.Trace.Events {
		if e.Kind != "send" || e.T < int64(after) || slices.Contains(skip, e.MsgKind) {
			continue
		}
		fmt.Fprintf(w, "  %9s  %v → %v  %s\n", fmtDur(time.Duration(e.T)), e.Node, e.Peer, e.MsgKind)
	}
}

func sceneBully(w io.Writer) error {
	crash, _ := lab.ParseCrash("5@1s", 5)
	o, err := lab.Run(lab.Spec{Protocol: "bully", Options: map[string]string{"first_detector": "2"}, Nodes: 5, Seed: 1, Duration: 3 * time.Second, Faults: []lab.Fault{crash}})
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "node 5 leads and crashes at 1s; node 2 detects it first:")
	messages(w, o, time.Second, "HEARTBEAT")
	if len(o.FinalLeaders) != 1 || o.FinalLeaders[0] != 4 {
		return fmt.Errorf("bully scene: final leaders %v, want [n4]", o.FinalLeaders)
	}
	fmt.Fprintln(w, "node 4 is the new leader (steps 1–4 of the figure).")
	fmt.Fprintln(w, "rerun: ordo elect --protocol bully --crash 5@1s -o first_detector=2 --duration 3s --trace t.jsonl")
	return nil
}

func sceneRing(w io.Writer) error {
	o, err := lab.Run(lab.Spec{Protocol: "ring", Options: map[string]string{"first_detector": "3"}, Nodes: 5, Seed: 1, Duration: 2 * time.Second})
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "a ring of 5 without a leader; node 3 notices first:")
	messages(w, o, 0, "HEARTBEAT", "ACK")
	if len(o.FinalLeaders) != 1 || o.FinalLeaders[0] != 5 {
		return fmt.Errorf("ring scene: final leaders %v, want [n5]", o.FinalLeaders)
	}
	fmt.Fprintln(w, "the list comes back to node 3 as [3,4,5,1,2]; 5 wins: 2n = 10 messages.")
	fmt.Fprintln(w, "rerun: ordo elect --protocol ring -o first_detector=3 --duration 2s --trace t.jsonl")
	return nil
}

func sceneSplitBrain(w io.Writer) error {
	p, _ := lab.ParsePartition("1,2/3,4,5@1s", 5)
	h, _ := lab.ParseHeal("@4s")
	fmt.Fprintln(w, "the split {1,2} | {3,4,5} from 1s to 4s:")
	for _, c := range []struct {
		proto string
		opts  map[string]string
		label string
	}{{"bully", nil, "bully"}, {"bully", map[string]string{"quorum": "true"}, "bully, quorum=true"}, {"raft", nil, "raft"}} {
		o, err := lab.Run(lab.Spec{Protocol: c.proto, Options: c.opts, Nodes: 5, Seed: 3, Duration: 7 * time.Second, Faults: []lab.Fault{p, h}})
		if err != nil {
			return err
		}
		r := o.Checks[0]
		verdict := "one leader at a time"
		if !r.OK {
			verdict = "SPLIT BRAIN\n      " + strings.TrimPrefix(r.Violations[0].Message, "split brain: ")
		}
		fmt.Fprintf(w, "  %-20s %s\n", c.label, verdict)
		if (c.proto == "bully" && c.opts == nil) == r.OK {
			return fmt.Errorf("partition scene: %s single-leader=%v", c.label, r.OK)
		}
	}
	fmt.Fprintln(w, "a majority (N/2+1 = 3) is what prevents the second leader, not the algorithm.")
	fmt.Fprintln(w, "rerun: ordo elect --protocol bully --partition 1,2/3,4,5@1s --heal @4s --seed 3 --duration 7s")
	fmt.Fprintln(w, "       (then with -o quorum=true, and with --protocol raft)")
	return nil
}

func sceneFailover(w io.Writer) error {
	fmt.Fprintln(w, "raft, 5 nodes, election timeout 150–300ms, the leader crashes (100 seeds each):")
	for _, c := range []struct {
		opts  map[string]string
		label string
	}{
		{map[string]string{"peer_down": "false"}, "timeouts only (-o peer_down=false)"},
		{nil, "with peer-down hints (a crashed process's host refuses reconnects)"},
	} {
		ds, _, noLeader, err := lab.Failovers("raft", c.opts, 100)
		if err != nil {
			return err
		}
		if noLeader > 0 {
			return fmt.Errorf("failover scene: %d seeds elected no new leader", noLeader)
		}
		fmt.Fprintf(w, "  %-68s p50 %v, p99 %v\n", c.label, fmtDur(measure.Percentile(ds, 50)), fmtDur(measure.Percentile(ds, 99)))
	}
	fmt.Fprintln(w, "a partitioned or frozen leader gives no hint: timeouts still find it.")
	fmt.Fprintln(w, "rerun: ordo bench elect --failover 100 -o peer_down=false; ordo bench elect --failover 100")
	fmt.Fprintln(w, "the old leader rejoins as a follower: ordo sim leader-crash-raft;")
	fmt.Fprintln(w, "the same with real processes: ordo cluster chaos -n 5")
	return nil
}
