package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ordo/trace"
)

// A run exported for ShiViz comes back from ordo trace import as the same
// events; a GoVector log becomes a trace the diagram draws with its host
// names; a bad log is refused with its line.
func TestTraceImport(t *testing.T) {
	dir := t.TempDir()
	run1 := filepath.Join(dir, "run.jsonl")
	if out, err := run(t, "sim", "broadcast-lossy", "--trace", run1); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	log := filepath.Join(dir, "run.shiviz.log")
	if out, err := run(t, "trace", "shiviz", run1, "--output", log); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	back := filepath.Join(dir, "back.jsonl")
	out, err := run(t, "trace", "import", log, "--output", back)
	if err != nil || !strings.Contains(out, "ordo's own ShiViz export") {
		t.Fatalf("%v\n%s", err, out)
	}
	a, err := trace.ReadFile(run1)
	if err != nil {
		t.Fatal(err)
	}
	b, err := trace.ReadFile(back)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Events) != len(b.Events) {
		t.Fatalf("%d events back from %d", len(b.Events), len(a.Events))
	}
	for i := range a.Events {
		if a.Events[i].Kind != b.Events[i].Kind || a.Events[i].Msg != b.Events[i].Msg || a.Events[i].T != b.Events[i].T {
			t.Fatalf("event %d: %+v back as %+v", i, a.Events[i], b.Events[i])
		}
	}

	gv := filepath.Join(dir, "gv.jsonl")
	out, err = run(t, "trace", "import", filepath.Join("..", "..", "viz", "testdata", "govector-client-server.log"), "--output", gv)
	if err != nil || !strings.Contains(out, "n1=client n2=server n3=backup") || !strings.Contains(out, "6 messages inferred") {
		t.Fatalf("%v\n%s", err, out)
	}
	out, err = run(t, "trace", "diagram", gv)
	if err != nil || !strings.Contains(out, "client:") || !strings.Contains(out, "backup:") {
		t.Fatalf("%v\n%s", err, out)
	}

	bad := filepath.Join(dir, "bad.log")
	if err := os.WriteFile(bad, []byte("a {\"a\":1}\nstart\na {\"a\":3}\nskipped one\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = run(t, "trace", "import", bad, "--output", filepath.Join(dir, "never.jsonl"))
	if err == nil || !strings.Contains(err.Error(), "line 3: host a's own clock entry is 3, want 2") {
		t.Fatalf("bad log: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "never.jsonl")); !os.IsNotExist(err) {
		t.Fatalf("a refused log left a trace file: %v", err)
	}
}
