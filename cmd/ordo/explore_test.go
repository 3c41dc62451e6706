package main

import (
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
	if err != nil {
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
		rep, err := run(t, args[1:]...)
		if err != nil {
			t.Fatalf("%s: %v\n%s", m[3], err, rep)
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
		{[]string{"--protocol", "heartbeat"}, "leader elections: bully, raft, ring"},
		{[]string{"-o", "heartbeat=1ns"}, "heartbeat=1ns is below its floor of 1ms"},
		{[]string{"--duration", "1s"}, "at least 4s"},
		{[]string{"--faults", "crash,meteor"}, "unknown fault kind"},
		{[]string{"-n", "0"}, "need 1..1024 nodes"},
		{[]string{"--replay", "-1"}, "--replay"},
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
	if q := shellQuote("a b'c"); q != `'a b'\''c'` {
		t.Errorf("shellQuote = %s", q)
	}
}
