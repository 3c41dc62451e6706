package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// diagramBlock returns the diagram that starts with a "broadcast: events
// eA..eB" line in out, up to the blank line that ends it.
func diagramBlock(out, header string) string {
	i := strings.Index(out, header)
	if i < 0 {
		return ""
	}
	rest := out[i:]
	if j := strings.Index(rest, "\n\n"); j >= 0 {
		rest = rest[:j]
	}
	return rest
}

// Every command the tour tells the reader to rerun runs, and reproduces
// what the tour printed: the same diagram window, the same split-brain
// interval, the same failover percentiles.
func TestTourRerunsReproduceItsNumbers(t *testing.T) {
	tourOut, err := run(t, "tour")
	if err != nil {
		t.Fatalf("%v\n%s", err, tourOut)
	}
	reruns := regexp.MustCompile(`(?m)^rerun: (.*)$`).FindAllStringSubmatch(tourOut, -1)
	if len(reruns) < 8 {
		t.Fatalf("%d rerun lines in the tour, want at least 8:\n%s", len(reruns), tourOut)
	}
	dir := t.TempDir()
	outputs := map[string]string{}
	for _, m := range reruns {
		for _, c := range strings.Split(m[1], "; ") {
			args := strings.Fields(c)
			if args[0] != "ordo" {
				t.Errorf("rerun %q does not start with ordo", c)
				continue
			}
			for i, a := range args {
				if strings.HasSuffix(a, ".jsonl") {
					args[i] = filepath.Join(dir, a)
				}
			}
			out, err := run(t, args[1:]...)
			// The split-brain run is the tour's failing example: its
			// checkers fail, so exit status 1 is the right answer there.
			if err == exitCode(1) && strings.Contains(out, "split brain:") {
				err = nil
			}
			if err != nil {
				t.Errorf("rerun %q: %v\n%s", c, err, out)
			}
			outputs[c] = out
		}
	}
	header := regexp.MustCompile(`(?m)^broadcast: events e\d+\.\.e\d+ of \d+ .*$`)
	for c, out := range outputs {
		if !strings.Contains(c, "--diagram") {
			continue
		}
		h := header.FindString(out)
		if h == "" {
			t.Errorf("rerun %q draws no diagram", c)
			continue
		}
		if got, want := diagramBlock(out, h), diagramBlock(tourOut, h); got != want || want == "" {
			t.Errorf("rerun %q draws\n%s\nbut the tour showed\n%s", c, got, want)
		}
	}
	interval := regexp.MustCompile(`both act as leader from \S+ to \S+`).FindString(tourOut)
	split := outputs["ordo elect --protocol bully --partition 1,2/3,4,5@1s --heal @4s --seed 3 --duration 7s"]
	if interval == "" || !strings.Contains(split, interval) {
		t.Errorf("split-brain rerun does not show the tour's %q:\n%s", interval, split)
	}
	pct := regexp.MustCompile(`(?m)^  (timeouts only|with peer-down).* p50 (\S+), p99 (\S+)$`).FindAllStringSubmatch(tourOut, -1)
	if len(pct) != 2 {
		t.Fatalf("failover lines: %q", pct)
	}
	for i, c := range []string{"ordo bench elect --failover 100 -o peer_down=false", "ordo bench elect --failover 100"} {
		want := "p50 " + pct[i][2] + "  p99 " + pct[i][3]
		if !strings.Contains(outputs[c], want) {
			t.Errorf("%q does not report the tour's %q:\n%s", c, want, outputs[c])
		}
	}
}
