package scenario

import (
	"strings"
	"testing"
	"time"

	"ordo/trace"
)

const diskScenario = `name: raft-disk
protocol: raft
nodes: 5
seed: 1
duration: 6s
network:
  latency: lan
disk:
  sync_latency: 2ms
faults:
  - {at: 2s, fail_sync: 1}
  - {at: 2s, fail_sync: 2}
  - {at: 2s, crash_torn: 3}
  - {at: 2500ms, restart: 3}
  - {at: 3s, corrupt_read: 4}
checks: [one-leader-per-term]
expect: {one-leader-per-term: pass}
`

// A disk: section turns the disk model on, and the storage faults run:
// failed fsyncs stop their nodes (fail-stop, traced), a corrupt read too,
// and the election stays safe.
func TestScenarioDiskFaults(t *testing.T) {
	sc, err := Parse("raft-disk.yaml", []byte(diskScenario))
	if err != nil {
		t.Fatal(err)
	}
	if sc.Disk.SyncLatency != 2*time.Millisecond {
		t.Fatalf("disk: %+v", sc.Disk)
	}
	res, err := sc.Run(RunOptions{Trace: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Trace.Validate(); err != nil {
		t.Fatalf("held sends broke the trace: %v", err)
	}
	stops := map[string]int{}
	for _, e := range res.Trace.Events {
		if e.Kind == trace.Crash && e.Name == "fail-stop" {
			why, _ := e.Attrs.Get("why").(string)
			stops[why]++
		}
	}
	if stops["corrupt read: checksum mismatch in its store"] != 1 {
		t.Fatalf("fail-stops %v: want one corrupt read", stops)
	}
	for _, r := range res.Checks {
		if !r.OK {
			t.Fatalf("%s: %s", r.Check, r.Summary)
		}
	}
	t.Logf("fail-stops: %v", stops)
}

// Storage faults need the disk model; the disk section is checked.
func TestScenarioDiskErrors(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{"faults:\n  - {at: 1s, fail_sync: 1}\n", "needs the disk model"},
		{"disk: {sync_latency: 0s}\n", "the disk model is on only"},
		{"disk: {tear: 2}\n", "probability"},
		{"disk: {speed: 1ms}\n", "unknown disk field"},
		{"disk: {sync_latency: 2m}\n", "too slow"},
	} {
		_, err := Parse("x.yaml", []byte("name: x\nprotocol: raft\nnodes: 3\nduration: 2s\n"+tc.body))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("%q: error %v, want %q", tc.body, err, tc.want)
		}
	}
}
