package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Issue 14 on real processes: ordo cluster status of a PBFT cluster shows
// the replicas' view, primary and sequence numbers (not an election's
// ROLE, TERM and LEADER), follows a view change, labels a liar's lies by
// the behaviour that told them; ordo cluster byzantine refuses a flag its
// behaviour ignores; and the merged trace names the liars, so the
// checkers judge the others only.
func TestPBFTLiveStatus(t *testing.T) {
	tmp, dir, run, must := upPBFT(t)
	// Until the replicas have connected, f+1 may not answer alike.
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, _, code := run("kv", "get", "warm-up", "--cluster", dir, "--timeout", "2s"); code == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the replicas never agreed on a get")
		}
		time.Sleep(200 * time.Millisecond)
	}
	put := func(key, value string) {
		t.Helper()
		if out := must("kv", "put", key, value, "--cluster", dir, "--timeout", "10s"); !strings.HasPrefix(out, "OK rev ") {
			t.Fatalf("put %s printed %q", key, out)
		}
	}
	// status waits (the replicas' state is copied at most every 100 ms)
	// until ok accepts the table, and returns it.
	status := func(what string, ok func(out string) bool) string {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			out := must("cluster", "status", "--dir", dir)
			if ok(out) {
				return out
			}
			if time.Now().After(deadline) {
				t.Fatalf("cluster status never showed %s:\n%s", what, out)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	put("x", "1")
	out := status("view 0 and an executed request", func(out string) bool {
		return strings.HasPrefix(out, "view 0, primary n1 (f = 1, quorum 3)\n") && rowOf(out, "n1") != "" && strings.Fields(rowOf(out, "n1"))[5] != "0"
	})
	if got := rowOf(out, "NODE"); got != "NODE PID VIEW PRIMARY MODE EXEC-SEQ CHECKPOINT VIEW-CHANGES REFUSED DUPLICATES BOOT CONNECTED-TO CUT-OFF FAULTS" {
		t.Errorf("head %q\n%s", got, out)
	}
	if strings.Contains(out, "ROLE") || strings.Contains(out, "running") {
		t.Errorf("an election's columns on a PBFT cluster:\n%s", out)
	}
	for _, n := range []string{"n1", "n2", "n3", "n4"} {
		if f := strings.Fields(rowOf(out, n)); len(f) < 5 || f[2] != "0" || f[3] != "n1" || f[4] != "normal" {
			t.Errorf("%s's row %q: want view 0, primary n1, normal\n%s", n, rowOf(out, n), out)
		}
	}

	// A flag the behaviour ignores is refused, with which flag is whose.
	for _, args := range [][]string{{"2", "silent", "--after", "1s"}, {"2", "honest", "--rate", "0.5"}, {"2", "garbage", "--as", "3"}} {
		_, errs, code := run(append([]string{"cluster", "byzantine"}, append(args, "--dir", dir)...)...)
		if code == 0 || !strings.Contains(errs, "means nothing with "+args[1]) || !strings.Contains(errs, "--after for replay only") {
			t.Errorf("cluster byzantine %v: exit %d, %q; want it refused", args, code, errs)
		}
	}

	// Backup 2 sends garbage, then goes silent: its FAULTS name the
	// behaviour now and count the garbage as garbage.
	must("cluster", "byzantine", "2", "garbage", "--dir", dir)
	put("y", "g")
	must("cluster", "byzantine", "2", "silent", "--dir", dir)
	put("y", "s")
	out = status("n2's lies by behaviour", func(out string) bool { return strings.Contains(rowOf(out, "n2"), "silent ") })
	if row := rowOf(out, "n2"); !regexp.MustCompile(`byzantine:silent\(lies since boot: garbage [1-9]\d*, silent [1-9]\d*\)`).MatchString(row) {
		t.Errorf("n2's FAULTS: %q; want its garbage and silent lies apart\n%s", row, out)
	}
	must("cluster", "byzantine", "2", "honest", "--dir", dir)

	// The primary goes silent: the backups change view, and the status
	// says so.
	must("cluster", "byzantine", "1", "silent", "--dir", dir)
	put("z", "1")
	out = status("view 1", func(out string) bool { return strings.HasPrefix(out, "view 1, primary n2 (f = 1, quorum 3)\n") })
	for _, n := range []string{"n2", "n3", "n4"} {
		if f := strings.Fields(rowOf(out, n)); len(f) < 8 || f[2] != "1" || f[3] != "n2" || f[4] != "normal" || f[7] == "0" {
			t.Errorf("%s's row %q: want view 1, primary n2, normal, a view change counted\n%s", n, rowOf(out, n), out)
		}
	}
	must("cluster", "byzantine", "1", "honest", "--dir", dir)

	// The merged trace names both liars; the checkers judge the others.
	must("cluster", "down", "--dir", dir)
	merged := filepath.Join(tmp, "run.jsonl")
	must("trace", "merge", dir, "--output", merged)
	out, errs, _ := run("trace", "check", merged)
	for _, c := range []string{"byzantine-agreement", "validity"} {
		if !regexp.MustCompile(c + `\s+pass`).MatchString(out) {
			t.Errorf("%s does not pass on the merged trace:\n%s%s", c, out, errs)
		}
	}
	if !strings.Contains(out, "Byzantine: n1 (silent), n2 (garbage, silent)") {
		t.Errorf("the checkers do not name the liars:\n%s%s", out, errs)
	}
}

// State transfer on real processes: replica 4 is killed (SIGKILL) while
// the others order more than a window of requests (checkpoints every 4,
// window 8), and restarted: its state is volatile, so it starts empty,
// asks, restores the others' stable checkpoint from a state transfer and
// executes on with them — its EXEC-SEQ reaches theirs, and with replica 1
// then silent (f = 1) puts and gets still work, which needs replica 4.
func TestPBFTLiveRestartedReplicaCatchesUp(t *testing.T) {
	_, dir, run, must := upPBFT(t, "-o", "checkpoint=4", "-o", "window=8", "-o", "batch=1")
	put := func(key, value string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			out, errs, code := run("kv", "put", key, value, "--cluster", dir, "--timeout", "5s")
			if code == 0 && strings.HasPrefix(out, "OK rev ") {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("put %s: exit %d\n%s%s", key, code, out, errs)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	execSeq := func(out, node string) string {
		if f := strings.Fields(rowOf(out, node)); len(f) > 5 {
			return f[5]
		}
		return ""
	}
	put("k0", "v")
	must("cluster", "kill", "4", "--dir", dir)
	for i := 1; i <= 12; i++ {
		put(fmt.Sprintf("k%d", i), "v")
	}
	must("cluster", "restart", "4", "--dir", dir)
	put("after", "restart")
	deadline := time.Now().Add(30 * time.Second)
	for {
		out := must("cluster", "status", "--dir", dir)
		if s := execSeq(out, "n4"); s != "" && s != "0" && s == execSeq(out, "n2") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica 4 never caught up with replica 2:\n%s", out)
		}
		time.Sleep(300 * time.Millisecond)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "node4", "trace.jsonl")); err != nil || !bytes.Contains(b, []byte(`"state-transfer"`)) {
		t.Fatalf("replica 4's trace notes no state transfer (%v): it caught up some other way, or the test did not outrun its window", err)
	}
	must("cluster", "byzantine", "1", "silent", "--dir", dir)
	put("x", "after-silent")
	if out := must("kv", "get", "x", "--cluster", dir, "--timeout", "10s"); !strings.Contains(out, "after-silent") {
		t.Fatalf("get x printed %q", out)
	}
}

// Issue 14's scenarios on real processes (ordo cluster run): the file's
// byzantine: liars lie live from before the clients start, and the same
// expectations hold as in the simulator. The nodes keep their messages'
// bodies when a check reads them, so equivocation judges a live trace:
// it names the equivocating replica (pbft-4), the unsafe quorums of
// pbft-3-unsafe split the correct replicas, and a silent primary is
// replaced by a view change (pbft-4-primary), and `crash: leader`
// strikes the primary of the view (pbft-4-primary-crash). A liar that is a client is
// refused before anything starts.
func TestPBFTLiveScenarios(t *testing.T) {
	if testing.Short() {
		t.Skip("builds ordo and runs real processes; skipped with -short")
	}
	tmp, run := ordoProcs(t)
	for _, c := range []struct {
		name string
		want []string
	}{
		{"pbft-4", []string{"byzantine: n2 lies (equivocate)", "PASS byzantine-agreement", "PASS bft-liveness", "FAIL equivocation: ", "by n2", "expectations met (4)"}},
		{"pbft-3-unsafe", []string{"FAIL byzantine-agreement", "FAIL equivocation: ", "by n1", "expectations met (4)"}},
		{"pbft-4-primary", []string{"byzantine: n1 lies (silent)", "PASS byzantine-agreement", "PASS bft-liveness", "view-change", "expectations met (4)"}},
		// crash: leader strikes the primary (its role notes), live too.
		{"pbft-4-primary-crash", []string{"crash 1 (the leader)", "restart 1 (the crashed leader)", "crash 2 (the leader)", "PASS bft-liveness", "expectations met (4)"}},
	} {
		out, errs, code := run("cluster", "run", c.name, "--dir", filepath.Join(tmp, c.name))
		if code != 0 {
			t.Errorf("cluster run %s: exit %d\n%s\n%s", c.name, code, out, errs)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("cluster run %s: no %q in\n%s", c.name, w, out)
			}
		}
	}
	// A liar restarted boots honest; the run makes it lie again (a
	// "byzantine" fault event for each switch in the merged trace).
	restart := filepath.Join(tmp, "liar-restart.yaml")
	src := "name: liar-restart\nprotocol: pbft\nnodes: 4\nclients:\n  - {count: 1, options: {ops: 10}}\nduration: 3s\nnetwork: {authenticated: true}\n" +
		"byzantine:\n  - {node: 3, behaviour: garbage}\nfaults:\n  - {at: 1s, crash: 3}\n  - {at: 1500ms, restart: 3}\nchecks: [byzantine-agreement, validity]\n"
	if err := os.WriteFile(restart, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	rdir := filepath.Join(tmp, "liar-restart")
	if out, errs, code := run("cluster", "run", restart, "--dir", rdir); code != 0 || !strings.Contains(out, "PASS byzantine-agreement") {
		t.Errorf("liar-restart: exit %d\n%s\n%s", code, out, errs)
	} else if data, err := os.ReadFile(filepath.Join(rdir, "merged.jsonl")); err != nil {
		t.Error(err)
	} else if n := len(regexp.MustCompile(`"kind":"fault"[^\n]*"name":"byzantine"`).FindAll(data, -1)); n != 2 {
		t.Errorf("liar-restart: %d byzantine switches in the merged trace, want 2 (at the start and after the restart)", n)
	}
	f := filepath.Join(tmp, "client-liar.yaml")
	src = "name: client-liar\nprotocol: pbft\nnodes: 4\nclients:\n  - {count: 1}\nduration: 2s\nnetwork: {authenticated: true}\nbyzantine:\n  - {node: 5, behaviour: silent}\n"
	if err := os.WriteFile(f, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, errs, code := run("cluster", "run", f, "--dir", filepath.Join(tmp, "client-liar")); code != 2 || !strings.Contains(errs, "node 5 is not a server") {
		t.Errorf("a client liar: exit %d, stderr %q (stdout %q); want exit 2 naming node 5", code, errs, out)
	}
}

// A PBFT cluster stopped whole and started again keeps its database: each
// replica starts from its last stable checkpoint and the votes it cast
// above it (pbft/durable.go; it started empty before), the next put gets
// the next revision, and the merged trace of both runs judges clean (it
// reported the second run's slots as disagreements with the first's).
func TestPBFTLiveFullRestartKeepsTheDatabase(t *testing.T) {
	tmp, dir, run, must := upPBFT(t)
	last := ""
	for i := 1; i <= 11; i++ { // past the first checkpoint (8)
		last = must("kv", "put", fmt.Sprintf("k%d", i), fmt.Sprintf("v%d", i), "--cluster", dir, "--timeout", "20s")
	}
	must("cluster", "down", "--dir", dir)
	must("cluster", "start", "--dir", dir)
	for _, k := range []string{"k1", "k9", "k11"} {
		if out := must("kv", "get", k, "--cluster", dir, "--timeout", "20s"); strings.TrimSpace(out) != "v"+k[1:] {
			t.Errorf("get %s after the full restart: %q", k, out)
		}
	}
	out := must("kv", "put", "k12", "v12", "--cluster", dir, "--timeout", "20s")
	var before, after int
	fmt.Sscanf(last, "OK rev %d", &before)
	fmt.Sscanf(out, "OK rev %d", &after)
	if after <= before {
		t.Errorf("put after the restart: %q, last before it: %q; want a higher revision", out, last)
	}
	must("cluster", "down", "--dir", dir)
	merged := filepath.Join(tmp, "m.jsonl")
	must("trace", "merge", dir, "-o", merged)
	if out, errs, code := run("trace", "check", merged, "--check", "byzantine-agreement", "--check", "validity"); code != 0 || strings.Count(out, " pass ") != 2 {
		t.Errorf("trace check of both runs: exit %d\n%s\n%s", code, out, errs)
	}
}

// upPBFT starts a detached 4-replica PBFT cluster (with the extra flags
// of ordo cluster up) in a temporary directory, stopped when the test
// ends; skipped with -short.
func upPBFT(t *testing.T, flags ...string) (tmp, dir string, run func(args ...string) (string, string, int), must func(args ...string) string) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds ordo and runs real processes; skipped with -short")
	}
	tmp, run = ordoProcs(t)
	must = mustSucceed(t, run)
	dir = filepath.Join(tmp, "bft")
	must(append(append([]string{"cluster", "up", "--protocol", "pbft", "-n", "4"}, flags...), "--detach", "--dir", dir)...)
	t.Cleanup(func() { run("cluster", "down", "--dir", dir) })
	return tmp, dir, run, must
}
