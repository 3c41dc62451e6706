package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// `ordo bench kv` end to end on one tiny cell (3 nodes, 2 clients, 1 s)
// and one failover round, with --rounds: the real binary starts ordo's database and a
// real etcd, and the JSON has every promised field, positive. No figure is
// compared with another: the machine is shared and noisy (ratios are for
// the command's user to read, not for a test to assert).
func TestBenchKVSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds ordo and runs real clusters; skipped with -short")
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "ordo")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	svg := filepath.Join(tmp, "kv.svg")
	cmd := exec.Command(bin, "bench", "kv", "--nodes", "3", "--clients", "2", "--duration", "1s", "--warmup", "200ms",
		"--failover", "1", "--failover-clients", "2", "--rounds", "--json", "--svg", svg, "--dir", tmp)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ordo bench kv: %v\nstderr:\n%s", err, stderr.String())
	}
	t.Logf("stderr:\n%s", stderr.String())
	sc := bufio.NewScanner(&stdout)
	var cells, failovers int
	for sc.Scan() {
		var obj map[string]any
		if err := json.Unmarshal(sc.Bytes(), &obj); err != nil {
			t.Fatalf("not a JSON line: %q: %v", sc.Text(), err)
		}
		if fo, ok := obj["failover"].(map[string]any); ok {
			failovers++
			for _, sys := range []string{"ordo", "etcd"} {
				s, _ := fo[sys].(map[string]any)
				if v, _ := s["p50_ms"].(float64); !(v > 0) || s["rounds"] != 1.0 {
					t.Errorf("failover %s = %v: want 1 round and a positive p50_ms", sys, fo[sys])
				}
			}
			continue
		}
		cells++
		// --rounds: every segment of ordo's rounds, A through total.
		r, _ := obj["rounds"].(map[string]any)
		segs, _ := r["segments"].([]any)
		if n, _ := r["rounds"].(float64); !(n > 0) || len(segs) != 9 {
			t.Errorf("rounds = %v: want some rounds and 9 segments", obj["rounds"])
		}
		for _, sg := range segs {
			s, _ := sg.(map[string]any)
			if s["segment"] == "total" && !(s["p50_us"].(float64) > 0) {
				t.Errorf("rounds: total %v, want a positive p50_us", s)
			}
		}
		for _, k := range []string{"nodes", "clients", "ordo_ops_per_s", "etcd_ops_per_s", "ratio", "ordo_p99_ms", "etcd_p99_ms"} {
			if v, ok := obj[k].(float64); !ok || !(v > 0) {
				t.Errorf("field %q = %v, want a positive number", k, obj[k])
			}
		}
	}
	if cells != 1 || failovers != 1 {
		t.Fatalf("%d cell lines and %d failover lines, want 1 and 1:\n%s", cells, failovers, stdout.String())
	}
	f, err := os.Open(svg)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := xml.NewDecoder(f)
	for {
		if _, err := d.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("%s is not XML: %v", svg, err)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "ordo-bench-kv-*")); len(left) != 0 {
		t.Errorf("without --keep the bench left %v behind", left)
	}
	if !strings.Contains(stderr.String(), "failover round 1/1: etcd") {
		t.Errorf("no progress line for etcd's failover round on stderr")
	}
}

// Bad flags are refused by name before any cluster starts (in process, no
// binary built: nothing is started when the flags are wrong). Zero meant
// "the default" to the library, so --reps 0 ran once and --failover-clients
// 0 ran 16 clients; -o bogus=1 started ordo's cluster first.
func TestBenchKVRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--reps", "0"}, "--reps 0: want 1.."},
		{[]string{"--reps", "-1"}, "--reps -1: want 1.."},
		{[]string{"--warmup", "-1s"}, "--warmup -1s"},
		{[]string{"--failover", "1", "--failover-clients", "0"}, "--failover-clients 0"},
		{[]string{"--failover", "-1"}, "--failover -1"},
		{[]string{"-o", "bogus=1"}, `no option "bogus"`},
		{[]string{"-o", "snapshot_entries=0"}, "snapshot_entries=0"}, // passes Resolve; the protocol's New refuses it
		{[]string{"--duration", "0s"}, "--duration 0s"},
	} {
		out, err := run(t, append([]string{"bench", "kv", "--nodes", "3", "--clients", "1", "--dir", dir, "--svg", ""}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "--keep") {
			t.Errorf("%v: %v\n%s; want an error with %q (and no word of --keep)", tc.args, err, out, tc.want)
		}
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("refused runs left %d entries in --dir", len(left))
	}
}
