package main

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// A wrong count of arguments is said with what the command expects and
// where its help is, for a missing argument, one too many, and a
// command of a range, not as cobra's bare "accepts 2 arg(s), received 1".
func TestArityErrorsSayWhatIsExpected(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"kv", "put", "x"}, `kv put needs KEY VALUE (2 arguments, got 1: "x"); see ordo kv put --help`},
		{[]string{"kv", "get"}, `kv get needs KEY (1 argument, got none); see ordo kv get --help`},
		{[]string{"kv", "get", "a", "b", "c", "d"}, `kv get needs KEY (1 argument, got 4: "a" "b" "c" ...); see ordo kv get --help`},
		{[]string{"cluster", "byzantine", "1"}, `cluster byzantine needs N BEHAVIOUR (2 arguments, got 1: "1"); see ordo cluster byzantine --help`},
		{[]string{"cluster", "fault"}, `cluster fault needs KIND [SPEC] (1 or 2 arguments, got none); see ordo cluster fault --help`},
		{[]string{"clock", "compare", "1,0"}, `clock compare needs V1 V2 [V3 ...] (at least 2 arguments, got 1: "1,0"); see ordo clock compare --help`},
		{[]string{"kv", "range", "a", "b", "c"}, `kv range takes [START [END]] (at most 2 arguments, got 3: "a" "b" "c"); see ordo kv range --help`},
		{[]string{"trace", "why", "run.jsonl", "e1"}, `trace why needs FILE EVENT_A EVENT_B (3 arguments, got 2: "run.jsonl" "e1"); a trace file and two of its events, like ordo trace why run.jsonl e3 e40; see ordo trace why --help`},
	} {
		out, err := run(t, c.args...)
		if err == nil || err.Error() != c.want {
			t.Errorf("ordo %s: %v\n%s\nwant %s", strings.Join(c.args, " "), err, out, c.want)
		}
	}

	// Every command that counts its arguments: none answers a wrong count
	// with cobra's bare message.
	checked := 0
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if c.Args == nil || !c.Runnable() {
			return
		}
		for n := range 6 {
			err := c.Args(c, strings.Fields(strings.Repeat("a ", n)))
			if err == nil || c.HasSubCommands() && strings.HasPrefix(err.Error(), "unknown command") { // a mistyped subcommand
				continue
			}
			checked++
			msg := err.Error()
			if strings.Contains(msg, "arg(s)") || !strings.HasPrefix(msg, strings.TrimPrefix(c.CommandPath(), "ordo ")+" ") || !strings.HasSuffix(msg, "see "+c.CommandPath()+" --help") {
				t.Errorf("%s with %d arguments: %q, want what it expects and its --help", c.CommandPath(), n, msg)
			}
		}
	}
	walk(newRoot())
	// A leaf that takes nothing says so; a group still says "unknown
	// command" for a mistyped subcommand.
	if _, err := run(t, "cluster", "status", "extra"); err == nil || err.Error() != `cluster status takes no arguments (got 1: "extra"); see ordo cluster status --help` {
		t.Errorf("cluster status extra: %v", err)
	}
	if _, err := run(t, "cluster", "statsu"); err == nil || !strings.Contains(err.Error(), "unknown command") {
		t.Errorf("cluster statsu: %v", err)
	}
	// The Use line says what is optional: cluster fault's SPEC is.
	if _, err := run(t, "cluster", "fault"); err == nil || !strings.Contains(err.Error(), "needs KIND [SPEC] (1 or 2 arguments") {
		t.Errorf("cluster fault: %v", err)
	}
	if checked < 30 {
		t.Fatalf("only %d wrong counts checked", checked)
	}
}
