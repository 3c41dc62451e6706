package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"ordo/lab"
)

// TestExploreReplayCommandReplays runs a campaign whose seeds lie above
// 2^63 (they once printed a --replay that ParseInt refused), takes the
// replay command printed for each finding, runs it, and checks that the
// replay reports the same violation. Seeds 2^63 .. 2^63+3 of Bully under
// partitions (every one splits the brain).
func TestExploreReplayCommandReplays(t *testing.T) {
	out, err := run(t, "explore", "-q", "--protocol", "bully", "--faults", "partition,crash", "--seeds", "4",
		"--first-seed", "9223372036854775808", "--duration", "5s", "-o", "first_detector=2", "--workers", "2")
	if err != exitCode(1) { // Bully's findings, unexpected
		t.Fatalf("explore: %v\n%s", err, out)
	}
	finding := regexp.MustCompile(`(?m)^  seed (\d+): (.*)\n    replay: (.*)$`)
	ms := finding.FindAllStringSubmatch(out, -1)
	if len(ms) == 0 {
		t.Fatalf("no findings to replay in:\n%s", out)
	}
	for _, m := range ms {
		args := strings.Fields(m[3])
		if args[0] != "ordo" || args[len(args)-2] != "--replay" || args[len(args)-1] != m[1] {
			t.Fatalf("replay command %q does not replay seed %s", m[3], m[1])
		}
		// The replay's check fails, as expected by nobody: exit status 1.
		rep, err := run(t, args[1:]...)
		if err != exitCode(1) {
			t.Fatalf("%s: %v, want exit status 1\n%s", m[3], err, rep)
		}
		// The finding is "check: message"; the replay prints the message
		// under the failed check.
		_, msg, _ := strings.Cut(m[2], ": ")
		if !strings.Contains(rep, msg) {
			t.Errorf("%s does not reproduce %q:\n%s", m[3], m[2], rep)
		}
	}
}

func TestExploreRejectsNonsense(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--first-seed", "18446744073709551615", "--seeds", "2"}, "runs past the largest seed"},
		{[]string{"--workers", "0"}, "--workers 0"},
		{[]string{"--workers", "-1"}, "--workers -1"},
		{[]string{"--seeds", "0"}, "--seeds 0"},
		{[]string{"--seeds", "-5"}, "--seeds -5"},
		{[]string{"--protocol", "broadcast"}, "not a leader election"},
		{[]string{"--protocol", "heartbeat"}, "leader elections: bully, kv, kv-stale, lease, raft, ring"},
		{[]string{"-o", "heartbeat=1ns"}, "heartbeat=1ns is below its floor of 1ms"},
		{[]string{"--duration", "1s"}, "at least 4s"},
		{[]string{"--faults", "crash,meteor"}, "unknown fault kind"},
		{[]string{"-n", "0"}, "need 1..4096 nodes"},
		{[]string{"--replay", "-1"}, "--replay"},
		{[]string{"--profile", "nasty"}, `unknown fault profile "nasty" (valid: friendly, hostile)`},
		{[]string{"--faults", ""}, "no fault kinds"},
		{[]string{"--shard", "0/4"}, "--shard \"0/4\": want K/N"},
		{[]string{"--shard", "5/4"}, "want K/N"},
		{[]string{"--shard", "x"}, "want K/N"},
		{[]string{"--expect", "single-leader"}, "want CHECK=fail"},
		{[]string{"--expect", "meteor=fail"}, "unknown check"},
		{[]string{"--protocol", "dynamo", "--expect", "single-leader=fail"}, "does not run single-leader"},
		{[]string{"--protocol", "dynamo", "-n", "2"}, "n_replicas"}, // the workload's N=3 on 2 servers: refused up front
		{[]string{"--protocol", "raft", "--expect", "no-resurrection=fail"}, "does not run no-resurrection"},
		{[]string{"--run-memory", "0"}, "--run-memory 0"},
		{[]string{"-n", "400", "--seeds", "4", "--run-memory", "16"}, "lower -n or --duration"},
	} {
		out, err := run(t, append([]string{"explore", "-q"}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("explore %v: err %v, want one containing %q\n%s", c.args, err, c.want, out)
		}
	}
}

func TestReplayCommandQuotes(t *testing.T) {
	c := lab.ExploreConfig{Protocol: "raft", Nodes: 5, Kinds: []string{"crash", "loss"}, Duration: 10 * time.Second,
		Options: map[string]string{"prevote": "false", "election_timeout_min": "200ms"}}
	got := replayCommand(c, 18446744073709551615)
	want := "ordo explore --protocol raft -n 5 --faults crash,loss --duration 10s -o election_timeout_min=200ms -o prevote=false --replay 18446744073709551615"
	if got != want {
		t.Errorf("replay command\n got %s\nwant %s", got, want)
	}
	c.Profile, c.RunMemory, c.Kinds = "hostile", 64<<20, nil
	got = replayCommand(c, 3)
	want = "ordo explore --protocol raft -n 5 --profile hostile --duration 10s --run-memory 64 -o election_timeout_min=200ms -o prevote=false --replay 3"
	if got != want {
		t.Errorf("replay command\n got %s\nwant %s", got, want)
	}
	if q := shellQuote("a b'c"); q != `'a b'\''c'` {
		t.Errorf("shellQuote = %s", q)
	}
}

// Exit status (issue 9): 0 when every verdict is the expected one, 1
// otherwise, 2 (an error) for bad input; shards merge into the campaign.
func TestExploreExitStatusShardsAndMerge(t *testing.T) {
	base := []string{"explore", "-q", "--protocol", "bully", "--faults", "partition", "--seeds", "6", "--duration", "5s"}
	if _, err := run(t, base...); err != exitCode(1) {
		t.Errorf("bully split brain not expected: err %v, want exit status 1", err)
	}
	out, err := run(t, append(base, "--expect", "single-leader=fail", "--expect", "stale-leader=fail", "--expect", "isolated-leader=fail")...)
	if err != nil {
		t.Errorf("bully split brain expected: err %v\n%s", err, out)
	}
	if !strings.Contains(out, "fault kinds (share of seeds") || !strings.Contains(out, "partition") {
		t.Errorf("no fault kind shares:\n%s", out)
	}
	if _, err := run(t, "explore", "-q", "--protocol", "raft", "--seeds", "3", "--expect", "single-leader=fail"); err != exitCode(1) {
		t.Errorf("raft split brain expected but absent: err %v, want exit status 1", err)
	}
	dir := t.TempDir()
	var files []string
	for k := 1; k <= 3; k++ {
		out, err := run(t, append(base, "--expect", "single-leader=fail", "--expect", "stale-leader=fail", "--expect", "isolated-leader=fail", "--json", "--shard", fmt.Sprintf("%d/3", k))...)
		if err != nil {
			t.Fatalf("shard %d: %v\n%s", k, err, out)
		}
		f := filepath.Join(dir, fmt.Sprintf("%d.json", k))
		if err := os.WriteFile(f, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	whole, err := run(t, append(base, "--expect", "single-leader=fail", "--expect", "stale-leader=fail", "--expect", "isolated-leader=fail", "--json")...)
	if err != nil {
		t.Fatal(err)
	}
	merged, err := run(t, append([]string{"explore", "merge", "--json", "--expect", "single-leader=fail", "--expect", "stale-leader=fail", "--expect", "isolated-leader=fail"}, files...)...)
	if err != nil {
		t.Fatalf("merge: %v\n%s", err, merged)
	}
	var a, b lab.ExploreReport
	if err := json.Unmarshal([]byte(whole), &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(merged), &b); err != nil {
		t.Fatal(err)
	}
	if a.Runs != b.Runs || a.BadSeeds != b.BadSeeds || !reflect.DeepEqual(a.Failures, b.Failures) || !reflect.DeepEqual(a.Labels, b.Labels) {
		t.Errorf("merged shards differ from the whole campaign:\n%s\n%s", merged, whole)
	}
	// A missing shard is reported and is exit status 1.
	out, err = run(t, append([]string{"explore", "merge", "--expect", "single-leader=fail", "--expect", "stale-leader=fail", "--expect", "isolated-leader=fail"}, files[:2]...)...)
	if err != exitCode(1) || !strings.Contains(out, "shards missing from the merge: [3] of 3") {
		t.Errorf("merge of 2 of 3 shards: %v\n%s", err, out)
	}
	for _, c := range []struct {
		files []string
		want  string
	}{
		{[]string{files[0], files[0]}, "is in reports 1 and 2"},
		{[]string{filepath.Join(dir, "none.json")}, "no such file"},
		{[]string{writeTemp(t, dir, "junk.json", "{\"config\": 3}")}, "not a report of ordo explore --json"},
		{[]string{writeTemp(t, dir, "whole.json", whole)}, "a whole campaign, not a shard"},
	} {
		if _, err := run(t, append([]string{"explore", "merge"}, c.files...)...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("merge %v: %v, want %q", c.files, err, c.want)
		}
	}
}

func writeTemp(t *testing.T, dir, name, body string) string {
	t.Helper()
	f := filepath.Join(dir, name)
	if err := os.WriteFile(f, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// elect: a split brain that nobody expected is exit status 1; expected,
// 0; bad input is an error (exit status 2).
func TestElectExitStatus(t *testing.T) {
	args := []string{"elect", "--protocol", "bully", "--partition", "1,2/3,4,5@1s", "--heal", "@4s"}
	if out, err := run(t, args...); err != exitCode(1) || !strings.Contains(out, "not as expected") {
		t.Errorf("unexpected split brain: %v\n%s", err, out)
	}
	if out, err := run(t, append(args, "--expect", "single-leader=fail", "--expect", "isolated-leader=fail")...); err != nil {
		t.Errorf("expected split brain: %v\n%s", err, out)
	}
	if _, err := run(t, "elect", "--protocol", "raft", "--expect", "single-leader=fail"); err != exitCode(1) {
		t.Errorf("raft split brain expected, absent: %v", err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--partition", "1,2/3@1s"}, "missing 4,5"},
		{[]string{"--cut", "1->1@1s"}, "named twice"},
		{[]string{"--bridge", "1/3@1s"}, "via"},
		{[]string{"--star", "hub 9@1s"}, "node 9 does not exist"},
		{[]string{"--clock-drift", "2 by 50ppm@1s"}, "drifts from the start"},
	} {
		if _, err := run(t, append([]string{"elect"}, c.args...)...); err == nil || err == exitCode(1) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("elect %v: %v, want an error saying %q", c.args, err, c.want)
		}
	}
	// The new fault flags run: the star of issue 9, case 3 elects the hub.
	out, err := run(t, "elect", "--protocol", "raft", "-n", "7", "--star", "hub 1@1s", "--duration", "5s")
	if err != nil || !strings.Contains(out, "final leaders: [n1]") {
		t.Errorf("star: %v\n%s", err, out)
	}
}

// FuzzReadExploreReport: merge reads JSON from other machines; whatever it
// is, it is refused with an error or accepted with counts that add up.
func FuzzReadExploreReport(f *testing.F) {
	f.Add(`{"config":{"protocol":"raft","nodes":5,"seeds":10,"first_seed":1,"profile":"hostile","duration_ns":10000000000,"shard":1,"shards":2},"shards_run":[1],"runs":5,"errors":0,"failures":{},"fault_kinds":{"crash":3},"bad_seeds":0,"findings":null,"wall_ns":1,"events":10,"leaderships":5}`)
	f.Add(`{"config":{"protocol":"raft","nodes":-1}}`)
	f.Add(`{}`)
	f.Add(`[`)
	f.Fuzz(func(t *testing.T, s string) {
		r, err := readExploreReport(strings.NewReader(s), "-")
		if err != nil {
			return
		}
		if r.Errors > r.Runs || r.BadSeeds > r.Runs || r.Runs < 0 {
			t.Fatalf("accepted inconsistent counts: %+v", r)
		}
		if _, err := lab.MergeReports([]*lab.ExploreReport{r}); err != nil && !strings.Contains(err.Error(), "merge:") {
			t.Fatalf("merge of an accepted report: %v", err)
		}
	})
}

// `ordo explore dynamo-lww` names the store as an argument; its lost
// writes are findings, expected: exit status 0, unless --expect says the
// check must pass. Two names for the protocol are refused.
func TestExploreDynamoFindings(t *testing.T) {
	out, err := run(t, "explore", "-q", "dynamo-lww", "--seeds", "3", "--workers", "2")
	if err != nil || !strings.Contains(out, "findings") || !strings.Contains(out, "--protocol dynamo-lww") {
		t.Fatalf("explore dynamo-lww: %v\n%s", err, out)
	}
	if _, err := run(t, "explore", "-q", "dynamo-lww", "--seeds", "3", "--expect", "no-lost-write=pass"); err != exitCode(1) {
		t.Errorf("--expect no-lost-write=pass: %v, want exit status 1", err)
	}
	if _, err := run(t, "explore", "dynamo", "--protocol", "raft", "--seeds", "1"); err == nil || !strings.Contains(err.Error(), "name one protocol") {
		t.Errorf("two protocols: %v", err)
	}
}
