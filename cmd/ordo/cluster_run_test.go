package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ordo/live"
)

// A scenario the live cluster cannot run is refused before any process
// starts, naming the file's line (exit status 2: bad input).
func TestClusterRunRefusesSimulatorOnlyFaults(t *testing.T) {
	f := filepath.Join(t.TempDir(), "bw.yaml")
	src := "name: bw\nprotocol: raft\nnodes: 3\nduration: 2s\nfaults:\n  - {at: 1s, crash: 2}\n  - {at: 1500ms, link: \"1->2\", bandwidth: 1KB/s}\nchecks: [single-leader]\n"
	if err := os.WriteFile(f, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "cluster", "run", f)
	var ec exitCode
	if err == nil || errors.As(err, &ec) || !live.ErrLive(err) || !strings.Contains(err.Error(), "bw.yaml:7") {
		t.Fatalf("err %v (output %q), want a refusal naming bw.yaml:7", err, out)
	}
}
