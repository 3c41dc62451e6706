package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// leaseClusterDir writes the directory of a lease cluster of three
// candidates and its two services (4 coord, 5 fenced-store) whose
// processes do not run: what ordo cluster reads before it acts.
func leaseClusterDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cfg := "name: local\nprotocol: lease\nepoch: 2026-01-01T00:00:00Z\nnodes:\n"
	for i := 1; i <= 3; i++ {
		cfg += fmt.Sprintf("  - {id: %d, addr: 127.0.0.1:%d, admin: 127.0.0.1:%d, dir: node%d}\n", i, 17000+i, 18000+i, i)
	}
	cfg += "  - {id: 4, role: service, protocol: coord}\n  - {id: 5, role: service, protocol: fenced-store}\n"
	if err := os.WriteFile(filepath.Join(dir, "cluster.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "state.json"), []byte(`{"binary": "ordo", "pids": {}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// A fresh-user trial: ordo cluster fault and partition knew no service
// ("node 4 does not exist (the servers are 1..3)"), and kill 4 suggested
// restarting it. The notation is the cluster's roles; a process command
// on a service says what to write instead.
func TestClusterFaultNamesServices(t *testing.T) {
	dir := leaseClusterDir(t)
	refused := "node 4 is a service (coord): no process runs it"
	for _, tc := range []struct {
		args []string
		want string
	}{
		// Parsed with the services, then refused only because nothing runs.
		{[]string{"fault", "cut", "1->4"}, "is stopped"},
		{[]string{"fault", "cut", "4->1"}, "is stopped"},
		{[]string{"fault", "partition", "1/2,3,4,5"}, "is stopped"},
		{[]string{"partition", "1,2,3/4"}, "is stopped"},
		{[]string{"fault", "cut", "1->6"}, "node 6 does not exist (the servers are 1..3, the services 4 (coord) and 5 (fenced-store))"},
		{[]string{"fault", "bridge", "1/4 via 2"}, "node 4 is a service (coord): a bridge names servers only"},
		{[]string{"partition", "1/4"}, "write two one-way cuts, 1->4 and 4->1"},
		{[]string{"kill", "4"}, refused},
		{[]string{"restart", "4"}, refused},
		{[]string{"pause", "4"}, refused},
		{[]string{"resume", "4"}, refused},
		{[]string{"fault", "crash", "4"}, refused},
		{[]string{"fault", "clock-step", "4 by 1s"}, refused},
		{[]string{"fault", "fsync-fail", "4"}, refused},
	} {
		out, err := run(t, append(append([]string{"cluster"}, tc.args...), "--dir", dir)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "client") || strings.Contains(err.Error(), "ordo cluster restart 4") {
			t.Errorf("cluster %s: %v, want %q\n%s", strings.Join(tc.args, " "), err, tc.want, out)
		}
		if tc.want == refused && !strings.Contains(err.Error(), "ordo cluster fault cut '1->4'") {
			t.Errorf("cluster %s: %v, want the cut to write instead", strings.Join(tc.args, " "), err)
		}
	}
	for _, cmd := range []string{"fault", "partition"} {
		out, err := run(t, "cluster", cmd, "--help")
		if err != nil || !strings.Contains(out, "service") || !strings.Contains(out, "'1->4'") {
			t.Errorf("cluster %s --help says nothing of services (%v):\n%s", cmd, err, out)
		}
	}
}
