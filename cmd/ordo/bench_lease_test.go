package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"ordo/election/lease/failover"
	"ordo/ordotest"
	"ordo/service/etcd"
)

var (
	leaseBinOnce sync.Once
	leaseBin     string
	leaseBinErr  error
)

// TestMain removes the binary leaseOrdo built, once every test has run,
// and keeps the linearizability checker's pages of the violations the
// broken variants provoke (in the ordo processes too: they inherit
// ORDO_VIZ_DIR) out of the system's temporary directory.
func TestMain(m *testing.M) {
	code := ordotest.RunKeepingVizDir(m)
	if leaseBin != "" {
		os.RemoveAll(filepath.Dir(leaseBin))
	}
	os.Exit(code)
}

// leaseOrdo builds the ordo binary once for this file's tests (they run
// real processes: nodes, etcd members, etcd's candidates) and for others
// that run real nodes (TestKVRestoreWaitsUntilTheDatabaseServes).
func leaseOrdo(t *testing.T) string {
	t.Helper()
	if testing.Short() && os.Getenv("CI") != "true" {
		t.Skip("builds ordo and runs real processes; skipped with -short (never under CI=true)")
	}
	leaseBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ordo-lease-cmd-test-")
		if err != nil {
			leaseBinErr = err
			return
		}
		leaseBin = filepath.Join(dir, "ordo")
		if out, err := exec.Command("go", "build", "-o", leaseBin, ".").CombinedOutput(); err != nil {
			leaseBinErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if leaseBinErr != nil {
		t.Fatal(leaseBinErr)
	}
	return leaseBin // in the temporary directory for the rest of the run
}

// `ordo bench lease` end to end at smoke size: one round at TTL 2 s of
// each system (etcd's own election, ordo's lease election, the Raft-style
// election), as JSON. It checks the report's shape and that every kill
// was followed by a measured new leader with no checker violation; no
// figure is compared with another (the machine is shared and noisy).
func TestBenchLeaseSmoke(t *testing.T) {
	bin := leaseOrdo(t)
	dir := t.TempDir()
	cmd := exec.Command(bin, "bench", "lease", "--rounds", "1", "--ttl", "2s", "--json", "--dir", dir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ordo bench lease: %v\nstderr:\n%s", err, stderr.String())
	}
	t.Logf("progress:\n%s", stderr.String())
	var rep failover.Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("not a JSON report: %v\n%s", err, stdout.String())
	}
	want := map[string]bool{failover.EtcdElection: true, failover.OrdoLease: true, failover.OrdoRaft: true}
	for _, r := range rep.Rows {
		if !want[r.System] {
			t.Errorf("unexpected or repeated row %q", r.System)
		}
		delete(want, r.System)
		if len(r.FailoverMs) != 1 || !(r.FailoverMs[0] > 0) || !(r.P50Ms > 0) || r.MaxMs < r.P50Ms {
			t.Errorf("%s: failover %v, p50 %v, max %v: want one positive failover", r.System, r.FailoverMs, r.P50Ms, r.MaxMs)
		}
		if r.Violations != 0 {
			t.Errorf("%s: %d violations (%s) in %s", r.System, r.Violations, r.Checks, r.Trace)
		}
		if r.System != failover.EtcdElection && !strings.Contains(r.Checks, "single-leader pass") {
			t.Errorf("%s: checks %q, want single-leader pass", r.System, r.Checks)
		}
	}
	if len(want) > 0 {
		t.Errorf("rows missing: %v", want)
	}
	if len(rep.Ratios) != 1 || rep.Ratios[0].TTL != "2s" || !(rep.Ratios[0].P50 > 0) {
		t.Errorf("ratios %+v: want one for ttl 2s", rep.Ratios)
	}
	// The text report of the same run shape.
	out, err := exec.Command(bin, "bench", "lease", "--rounds", "1", "--ttl", "2s", "--systems", "etcd-election", "-q", "--dir", t.TempDir()).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "etcd-election        2s") {
		t.Fatalf("text report: %v\n%s", err, out)
	}
}

func TestBenchLeaseRefusesBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"bench", "lease", "--ttl", "1s"},
		{"bench", "lease", "--ttl", "2500ms"},
		{"bench", "lease", "--ttl", "2s,2s"},
		{"bench", "lease", "--rounds", "0"},
		{"bench", "lease", "--candidates", "1"},
		{"bench", "lease", "--systems", "zookeeper"},
	} {
		if out, err := run(t, args...); err == nil {
			t.Errorf("%v accepted:\n%s", args, out)
		}
	}
}

// `ordo cluster up --protocol lease --detach` starts an embedded etcd in
// DIR/etcd, the nodes elect a leader through it, and `ordo cluster down`
// stops the nodes and the etcd; up refuses --etcd for a protocol that
// uses none.
func TestClusterUpLeaseStartsAndStopsEtcd(t *testing.T) {
	bin := leaseOrdo(t)
	dir := filepath.Join(t.TempDir(), "c")
	out, err := exec.Command(bin, "cluster", "up", "-n", "3", "--protocol", "lease", "--detach", "--dir", dir, "--log-level", "warn").CombinedOutput()
	if err != nil {
		t.Fatalf("cluster up: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		exec.Command(bin, "cluster", "down", "--dir", dir).Run()
		etcd.StopDir(filepath.Join(dir, "etcd"))
	})
	if !strings.Contains(string(out), "etcd: https://127.0.0.1:") {
		t.Fatalf("cluster up does not name its etcd (mutual TLS by default):\n%s", out)
	}
	if got := etcd.RunningIn(filepath.Join(dir, "etcd")); len(got) != 1 {
		t.Fatalf("etcd members running in DIR/etcd: %v, want 1", got)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := exec.Command(bin, "cluster", "status", "--dir", dir).CombinedOutput()
		if err == nil && strings.Contains(string(st), "leader: n") && !strings.Contains(string(st), "leader: none") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no leader within 30s:\n%s", st)
		}
		time.Sleep(200 * time.Millisecond)
	}
	refusesStrangers(t, filepath.Join(dir, "etcd")) // etcd_tls_test.go
	out, err = exec.Command(bin, "cluster", "down", "--dir", dir).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "stopped the cluster's etcd") {
		t.Fatalf("cluster down: %v\n%s", err, out)
	}
	if got := etcd.RunningIn(filepath.Join(dir, "etcd")); len(got) != 0 {
		t.Fatalf("etcd still runs after cluster down: %v", got)
	}
	// The stopped run's etcd data is kept like its traces: up refuses
	// without --fresh.
	if out, err := exec.Command(bin, "cluster", "up", "-n", "3", "--protocol", "lease", "--detach", "--dir", dir).CombinedOutput(); err == nil {
		t.Fatalf("up over a stopped run accepted:\n%s", out)
	}
	if out, err := run(t, "cluster", "up", "-n", "3", "--protocol", "raft", "--etcd", "http://127.0.0.1:2379", "--dir", t.TempDir()); err == nil {
		t.Fatalf("--etcd with raft accepted:\n%s", out)
	}
	// A size refused before anything starts: no etcd for a cluster that
	// cannot be.
	bad := filepath.Join(t.TempDir(), "c0")
	if out, err := exec.Command(bin, "cluster", "up", "-n", "0", "--protocol", "lease", "--dir", bad).CombinedOutput(); err == nil || !strings.Contains(string(out), "-n 0") {
		t.Fatalf("up -n 0: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(bad, "etcd")); err == nil {
		t.Fatal("up -n 0 started an etcd before refusing")
	}
}

// `ordo etcd` serves a real etcd until SIGINT, prints its endpoints, and
// removes its temporary data at the end.
func TestEtcdCommandServesUntilInterrupt(t *testing.T) {
	bin := leaseOrdo(t)
	cmd := exec.Command(bin, "etcd")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(stdout)
	var endpoints, data string
	for sc.Scan() && endpoints == "" {
		line := sc.Text()
		if d, ok := strings.CutPrefix(line, "etcd: 1 member(s) serving; data in "); ok {
			data = d
		}
		if e, ok := strings.CutPrefix(line, "endpoints: "); ok {
			endpoints = e
		}
	}
	if endpoints == "" || data == "" {
		t.Fatal("ordo etcd printed no endpoints or data directory")
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: strings.Split(endpoints, ","), DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := cli.Put(ctx, "/k", "v"); err != nil {
		b, _ := os.ReadFile(filepath.Join(data, "etcd1.log"))
		t.Fatalf("put to %q: %v\n%s", endpoints, err, b)
	}
	if r, err := cli.Get(ctx, "/k"); err != nil || len(r.Kvs) != 1 || string(r.Kvs[0].Value) != "v" {
		t.Fatalf("get /k: %v, %v", r, err)
	}
	cmd.Process.Signal(syscall.SIGINT)
	go func() {
		for sc.Scan() {
		}
	}()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("ordo etcd after SIGINT: %v", err)
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Fatalf("the temporary data directory %s is still there (%v)", data, err)
	}
}

// `ordo cluster run` of a lease scenario starts an etcd for the run (its
// line on standard error, so --json stays JSON) and meets the file's
// expectations on real processes. The scenario is the safe paused one:
// its pause: leader strikes whichever node leads live (the first to reach
// etcd), not the simulator's node 2.
func TestClusterRunLeaseScenarioStartsEtcd(t *testing.T) {
	bin := leaseOrdo(t)
	cmd := exec.Command(bin, "cluster", "run", "lease-paused-leader", "--json")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("cluster run: %v\nstderr:\n%s\nstdout:\n%s", err, stderr.String(), stdout.String())
	}
	if !strings.Contains(stderr.String(), "etcd: https://127.0.0.1:") {
		t.Errorf("no etcd line on standard error:\n%s", stderr.String())
	}
	var res struct {
		Unmet  []any `json:"unmet"`
		Checks []struct {
			Check   string `json:"check"`
			Verdict string `json:"verdict"`
		} `json:"checks"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("standard output is not the JSON report: %v\n%s", err, stdout.String())
	}
	fencing := ""
	for _, c := range res.Checks {
		if c.Check == "fencing" {
			fencing = c.Verdict
		}
	}
	if len(res.Unmet) != 0 || fencing != "pass" {
		t.Fatalf("unmet %v, fencing %q: want every expectation met, fencing pass\n%s", res.Unmet, fencing, stdout.String())
	}
}
