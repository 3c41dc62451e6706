package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"ordo/trace"
)

// Every short flag means one thing across ordo's commands: the same
// shorthand always belongs to the same long name (a shorthand kept only
// for old scripts is marked deprecated and does not count).
func TestShortFlagsOneMeaning(t *testing.T) {
	owner := map[string]string{} // shorthand → "long (first command)"
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if f.Shorthand == "" || f.ShorthandDeprecated != "" {
				return
			}
			if prev, ok := owner[f.Shorthand]; ok && !strings.HasPrefix(prev, f.Name+" ") {
				t.Errorf("-%s is --%s in %q but %s", f.Shorthand, f.Name, c.CommandPath(), prev)
			} else if !ok {
				owner[f.Shorthand] = f.Name + " (" + c.CommandPath() + ")"
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	root := newRoot()
	walk(root)
	if !strings.HasPrefix(owner["o"], "option ") {
		t.Errorf("-o is %q, want --option", owner["o"])
	}
	// The trace commands' old -o (--output) still works for old scripts,
	// with a deprecation warning.
	for _, path := range [][]string{{"trace", "merge"}, {"trace", "shiviz"}} {
		c, _, err := root.Find(path)
		if err != nil {
			t.Fatal(err)
		}
		f := c.Flags().Lookup("output")
		if f == nil || f.Shorthand != "o" || f.ShorthandDeprecated == "" {
			t.Errorf("%v: --output %+v; want -o kept as a deprecated shorthand", path, f)
		}
	}
}

// --opt, the old name of --option in `ordo cluster` and `ordo bench
// elect`, still works and fills the same list: mixed, both values are kept
// in order; the commands that had it still read it.
func TestOptIsDeprecatedAliasOfOption(t *testing.T) {
	var opts []string
	fl := pflag.NewFlagSet("x", pflag.ContinueOnError)
	fl.SetOutput(new(strings.Builder))
	optionFlag(fl, &opts, "a protocol option")
	if err := fl.Parse([]string{"--opt", "a=1", "-o", "b=2", "--option", "c=3", "--opt=d=4"}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(opts, " "); got != "a=1 b=2 c=3 d=4" {
		t.Fatalf("options %q, want a=1 b=2 c=3 d=4", got)
	}
	if f := fl.Lookup("opt"); !f.Hidden || f.Deprecated == "" {
		t.Errorf("--opt should be hidden and deprecated: %+v", f)
	}
	for _, args := range [][]string{
		{"cluster", "up", "--opt", "election_timeout_max=3h"},
		{"cluster", "up", "--option", "election_timeout_max=3h"},
	} {
		out, err := run(t, args...)
		if err == nil || !strings.Contains(err.Error(), "above its ceiling") {
			t.Errorf("%v: %v\n%s; want the option refused as above its ceiling", args, err, out)
		}
	}
	if _, err := run(t, "bench", "elect", "--failover", "1", "--opt", "nonsense"); err == nil || !strings.Contains(err.Error(), "nonsense") {
		t.Errorf("bench elect --opt nonsense: %v; want the option read and refused", err)
	}
}

// `ordo clock compare` reads named and sparse vectors as the clock
// library does, and says what is wrong with a bad one.
func TestClockCompareNamedAndSparse(t *testing.T) {
	out, err := run(t, "clock", "compare", "{b:2,a:1}", "{a:1,b:3}", "{c:1}")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"V1 = {a:1,b:2}",
		"V1 → V2   {a:1,b:2} happens before {a:1,b:3}",
		"V1 ∥ V3   concurrent",
		"V2 ∥ V3   concurrent",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Numeric ids mix with dense vectors: [2,1] is {1:2,2:1}.
	out, err = run(t, "clock", "compare", "--json", "{1:2}", "[2,1]", "{2:1,1:2}")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"a":"{1:2}","b":"[2,1]","relation":"before"`, `"a":"[2,1]","b":"{1:2,2:1}","relation":"equal"`} {
		if !strings.Contains(out, want) {
			t.Errorf("JSON lacks %s:\n%s", want, out)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"{a:1}", "[1]"}, "V1 {a:1} names its processes but V2 [1] numbers them"},
		{[]string{"{a:1,b}", "{a:1}"}, `V1 {a:1,b}: entry "b" is not name:n`},
		{[]string{"{a:1}", "{a:1,a:2}"}, `V2 {a:1,a:2}: process "a" appears twice`},
		{[]string{"{a:-1}", "{a:1}"}, `the count "-1" is not a non-negative integer`},
		{[]string{"{a:1}", "{a b:1}"}, `entry "a b:1": a process name is`},
		{[]string{"{1:1,1:2}", "[1]"}, "id 1 appears twice"},
		{[]string{"2,1", "[1]"}, "V1: clock: \"2,1\" at offset 0: a vector is written [n,n,...] (or write {id:n,...} or {name:n,...})"},
	} {
		_, err := run(t, append([]string{"clock", "compare"}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("compare %v: %v; want an error containing %q", tc.args, err, tc.want)
		}
	}
}

// `ordo elect --trace FILE` writes the run's trace, as `ordo sim --trace`
// does: the file reads back, has the events the report counts and the
// run's protocol and seed, and `ordo trace check` judges it the way the
// run did (the chapter's section 4 bully run: node 4 wins after 5 crashes).
func TestElectWritesTrace(t *testing.T) {
	f := filepath.Join(t.TempDir(), "elect.jsonl")
	out, err := run(t, "elect", "--protocol", "bully", "--crash", "5@1s", "--seed", "7", "--trace", f)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	tr, err := trace.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Meta.Protocol != "bully" || tr.Meta.Seed != 7 || tr.Meta.Nodes != 5 {
		t.Errorf("trace meta %+v; want bully, seed 7, 5 nodes", tr.Meta)
	}
	want := fmt.Sprintf("trace: %s (%d events); try: ordo trace why %s e0 e%d", f, len(tr.Events), f, len(tr.Events)-1)
	if !strings.Contains(out, want) {
		t.Errorf("report lacks %q:\n%s", want, out)
	}
	if len(tr.Events) < 100 {
		t.Errorf("trace has %d events; a 5-node election with a crash has hundreds", len(tr.Events))
	}
	if _, err := os.Stat(f); err != nil {
		t.Fatal(err)
	}
	// No --trace: no file, no trace line.
	out, err = run(t, "elect", "--protocol", "bully", "--crash", "5@1s", "--seed", "7")
	if err != nil || regexp.MustCompile(`(?m)^trace: `).MatchString(out) {
		t.Errorf("without --trace: %v, output mentions a trace:\n%s", err, out)
	}
}
