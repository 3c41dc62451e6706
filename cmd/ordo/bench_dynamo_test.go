package main

import (
	"encoding/json"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// checkDynamoTable checks bench dynamo's table at N=3, R=W=2 then R=W=1:
// a header, three rows per quorum (all, get, put) in which operations
// completed and the kinds add up, and the ratio line.
func checkDynamoTable(t *testing.T, out string) {
	t.Helper()
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasPrefix(l, "live: ") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 9 || !strings.Contains(lines[0], "p99 ms") || !strings.Contains(lines[0], "msgs/op") || !strings.HasPrefix(lines[7], "R=W=1 / R=W=2 at N=3: ops/s ×") {
		t.Fatalf("table:\n%s", out)
	}
	wantRows := []string{"3 2 2 all", "3 2 2 get", "3 2 2 put", "3 1 1 all", "3 1 1 get", "3 1 1 put"}
	var ops [6]int
	for i, want := range wantRows {
		f := strings.Fields(lines[1+i])
		if len(f) != 12 || strings.Join(f[:4], " ") != want {
			t.Fatalf("row %d is %q, want %s ...:\n%s", i+1, lines[1+i], want, out)
		}
		n, err := strconv.Atoi(f[4])
		if err != nil || n == 0 {
			t.Errorf("row %q: no operation completed", lines[1+i])
		}
		ops[i] = n
	}
	if ops[0] != ops[1]+ops[2] || ops[3] != ops[4]+ops[5] {
		t.Errorf("gets and puts do not add up to all:\n%s", out)
	}
}

// bench dynamo in the simulator at smoke size: the table's shape, that
// operations completed, the JSON form, and refused flags. Never a speed.
func TestBenchDynamo(t *testing.T) {
	out, err := run(t, "bench", "dynamo", "--duration", "200ms", "--clients", "2", "--outstanding", "2")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	checkDynamoTable(t, out)
	out, err = run(t, "bench", "dynamo", "--duration", "100ms", "--clients", "1", "--n5", "--json")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var js struct {
		Rows []struct {
			Ops   int `json:"ops"`
			Kinds []struct {
				Kind string `json:"kind"`
			} `json:"kinds"`
		} `json:"rows"`
		Ratios []struct{ One, Larger struct{ N, R, W int } } `json:"ratios"`
	}
	if err := json.Unmarshal([]byte(out), &js); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(js.Rows) != 4 || len(js.Ratios) != 2 || js.Ratios[1].Larger.N != 5 || js.Ratios[1].Larger.R != 3 {
		t.Fatalf("--n5 --json: want 4 rows and 2 ratios:\n%s", out)
	}
	for _, r := range js.Rows {
		if r.Ops == 0 || len(r.Kinds) != 2 {
			t.Errorf("row %+v: no operation, or not split into get and put", r)
		}
	}
	for _, args := range [][]string{{"--quorums", "3:4:1"}, {"--quorums", "3-2-2"}, {"--clients", "0"}, {"--outstanding", "0"},
		{"--keys", "0"}, {"--reads", "101"}, {"--duration", "0s"}, {"--servers", "2"}} {
		if out, err := run(t, append([]string{"bench", "dynamo"}, args...)...); err == nil {
			t.Errorf("%v accepted:\n%s", args, out)
		}
	}
}

// --live runs the same load on real processes and measures their merged
// trace: both quorums complete gets and puts.
func TestBenchDynamoLive(t *testing.T) {
	bin := leaseOrdo(t)
	out, err := exec.Command(bin, "bench", "dynamo", "--live", "--clients", "2", "--outstanding", "2", "--duration", "1s").CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(string(out), " ops/s ") {
		t.Fatalf("want operations per second of wall time:\n%s", out)
	}
	checkDynamoTable(t, string(out))
}
