package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"ordo/live"
)

// ordo cluster byzantine refuses a flag its behaviour ignores, saying
// which behaviours take which flag, and an unknown behaviour first; a
// flag a behaviour takes is let through.
func TestClusterByzantineFlags(t *testing.T) {
	for _, c := range []struct {
		behaviour string
		flags     []string
		want      string // "" accepted
	}{
		{"silent", []string{"--after", "1s"}, "--after means nothing with silent: --rate is for every behaviour but honest, --after for replay only, --as for forge only"},
		{"silent", []string{"--after", "0s"}, "--after means nothing with silent"},
		{"honest", []string{"--rate", "0.5"}, "--rate means nothing with honest"},
		{"equivocate", []string{"--as", "2"}, "--as means nothing with equivocate"},
		{"bogus", []string{"--as", "2"}, `unknown behaviour "bogus"`},
		{"replay", []string{"--after", "2s", "--rate", "0.5"}, ""},
		{"forge", []string{"--as", "3"}, ""},
		{"silent", []string{"--rate", "0.3"}, ""},
		{"honest", nil, ""},
	} {
		cmd := newClusterByzantineCmd()
		if err := cmd.ParseFlags(c.flags); err != nil {
			t.Fatal(err)
		}
		err := byzantineFlags(cmd, c.behaviour)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s %v: %v, want it accepted", c.behaviour, c.flags, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s %v: %v, want %q", c.behaviour, c.flags, err, c.want)
		}
	}
	// Checked before the cluster is opened: outside a cluster directory a
	// bad name is named, not the missing cluster file (a fresh user's try).
	for _, args := range [][]string{{"2", "lie"}, {"2", "silent", "--after", "1s"}} {
		out, err := run(t, append([]string{"cluster", "byzantine", "--dir", t.TempDir()}, args...)...)
		if err == nil || strings.Contains(err.Error(), "cluster.yaml") || !strings.Contains(err.Error(), args[1]) {
			t.Errorf("cluster byzantine %v outside a cluster: %v\n%s", args, err, out)
		}
	}
}

// The warning of more than f liars agrees with their count: one liar of
// three replicas (f = 0) "lies", two of four "lie"; f or fewer, none.
func TestLiarsWarningAgreesWithTheCount(t *testing.T) {
	for _, c := range []struct {
		liars []string
		n     int
		opts  map[string]string
		want  string
	}{
		{[]string{"n1"}, 3, nil, "warning: 1 replica lies (n1), more than f = 0 of n = 3:"},
		{[]string{"n1", "n2"}, 4, nil, "warning: 2 replicas lie (n1, n2), more than f = 1 of n = 4:"},
		{[]string{"n1"}, 4, nil, ""},
		// The cluster's own f, not (n-1)/3: -o f=1 on seven replicas.
		{[]string{"n1", "n2"}, 7, map[string]string{"f": "1"}, "warning: 2 replicas lie (n1, n2), more than f = 1 of n = 7:"},
		{[]string{"n1", "n2"}, 7, nil, ""},
	} {
		f, ok := pbftF(c.n, c.opts)
		if !ok {
			t.Fatalf("options %v of %d replicas refused", c.opts, c.n)
		}
		got := liarsWarning(c.liars, c.n, f)
		if c.want == "" && got != "" || !strings.HasPrefix(got, c.want) {
			t.Errorf("%v of %d: %q, want %q...", c.liars, c.n, got, c.want)
		}
	}
}

// A quorum set by hand is named at cluster up (ordo cluster status said
// "an unsafe quorum", up said nothing): a warning when it breaks safety
// or progress for the cluster's f, a note when it is safe all the same.
func TestPBFTQuorumWarning(t *testing.T) {
	for _, c := range []struct {
		n          int
		opts       map[string]string
		want, miss string
	}{
		{4, nil, "", ""},
		{3, map[string]string{"unsafe_quorum": "0"}, "", ""},
		// Quorums of 2 of 3 with f = 1: they may meet in the liar alone.
		{3, map[string]string{"f": "1", "unsafe_quorum": "2"}, "warning: unsafe quorum: unsafe_quorum = 2 of 3 replicas with f = 1 (PBFT's own quorum: none: n < 3f+1 = 4): two quorums may share 1 replica, fewer than f+1 = 2", "stall"},
		{4, map[string]string{"unsafe_quorum": "2"}, "two quorums may share 0 replicas", "stall"},
		// All four for a quorum: one silent replica stops it.
		{4, map[string]string{"unsafe_quorum": "4"}, "(PBFT's own quorum: 3): the 3 replicas left when f = 1 are silent make no quorum", "two quorums"},
		// The trial's: -n 3 is f = 0, where 2 of 3 is PBFT's own quorum.
		{3, map[string]string{"unsafe_quorum": "2"}, "note: unsafe_quorum = 2 of 3 replicas with f = 0 is safe all the same (PBFT's own quorum: 2)", "warning"},
	} {
		got := pbftQuorumWarning(c.n, c.opts)
		if c.want == "" && got != "" || !strings.Contains(got, c.want) || c.miss != "" && strings.Contains(got, c.miss) {
			t.Errorf("n = %d %v: %q, want %q without %q", c.n, c.opts, got, c.want, c.miss)
		}
	}
	// What cluster up and cluster start print, on stderr, one line each.
	var out, errw bytes.Buffer
	cmd := &cobra.Command{}
	cmd.SetOut(&out)
	cmd.SetErr(&errw)
	pbftNote(cmd, "pbft", 4, map[string]string{"unsafe_quorum": "2"})
	if lines := strings.Split(strings.TrimSpace(errw.String()), "\n"); out.Len() != 0 || len(lines) != 1 || !strings.HasPrefix(lines[0], "warning: unsafe quorum") {
		t.Errorf("pbftNote: stdout %q, stderr %q; want the warning alone on stderr", out.String(), errw.String())
	}
}

// Counts of one in a report take the singular: a campaign of one seed,
// one client of one request, one run on one worker.
func TestBenchBFTCountsOfOne(t *testing.T) {
	out, err := run(t, "bench", "bft", "-n", "4", "-f", "1", "--seeds", "1", "--clients", "1", "--ops", "1", "--workers", "1")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"1 seed per cell", "1 client × 1 request,", "1 run in", "on 1 worker "} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
	if m := regexp.MustCompile(`\b1 (seeds|clients|requests|runs|workers|errors)\b`).FindString(out); m != "" {
		t.Errorf("%q in:\n%s", m, out)
	}
}

// A liar restarted runs honest (its behaviour lived in the old process):
// ordo cluster restart says so, and says nothing of an honest node.
func TestRestartedLiarNote(t *testing.T) {
	if n := restartedLiarNote(2, &live.ByzantineStatus{Behaviour: "silent", Lies: 3}); !strings.Contains(n, "n2 lied (silent)") || !strings.Contains(n, "starts honest") || !strings.Contains(n, "ordo cluster byzantine 2 silent") {
		t.Errorf("note for a silent liar: %q", n)
	}
	for _, b := range []*live.ByzantineStatus{nil, {Behaviour: ""}, {Behaviour: live.Honest, Lies: 9}} {
		if n := restartedLiarNote(2, b); n != "" {
			t.Errorf("note for %+v: %q, want none", b, n)
		}
	}
}
