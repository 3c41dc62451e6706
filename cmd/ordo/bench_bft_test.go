package main

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"ordo/lab"
)

// TestBenchBFTTable: `ordo bench bft` at 20 seeds prints rows n = 3..10
// and columns f = 1..3; every cell with n = 3f+1 (and above) holds, some
// cell with n <= 3f breaks, and each broken cell's replay command runs
// that seed again and shows the violation.
func TestBenchBFTTable(t *testing.T) {
	out, err := run(t, "bench", "bft", "--seeds", "20")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	lines := strings.Split(out, "\n")
	header := -1
	for i, l := range lines {
		if strings.Join(strings.Fields(l), " ") == "f=1 f=2 f=3" {
			header = i
			break
		}
	}
	if header < 0 || !strings.Contains(lines[header-1], "behaviour equivocate") {
		t.Fatalf("no f=1 f=2 f=3 header under behaviour equivocate:\n%s", out)
	}
	cell := regexp.MustCompile(`(held 20/20|BROKEN \d+/20|ERRORS \d+/20)( \*)?|-`)
	broke := false
	for n := 3; n <= 10; n++ {
		row := lines[header+n-2]
		if !strings.HasPrefix(row, "n="+strconv.Itoa(n)+" ") {
			t.Fatalf("row %d is %q, want n=%d:\n%s", n-2, row, n, out)
		}
		cells := cell.FindAllString(row[len("n="+strconv.Itoa(n)):], -1)
		if len(cells) != 3 {
			t.Fatalf("row n=%d has cells %q, want 3:\n%s", n, cells, out)
		}
		for f := 1; f <= 3; f++ {
			c := cells[f-1]
			switch {
			case f >= n:
				if c != "-" {
					t.Errorf("n=%d f=%d: %q, want -", n, f, c)
				}
			case n >= 3*f+1:
				if c != "held 20/20" {
					t.Errorf("n=%d f=%d (n >= 3f+1): %q, want held 20/20", n, f, c)
				}
			default:
				if !strings.HasSuffix(c, " *") {
					t.Errorf("n=%d f=%d (n <= 3f): %q, want the unsafe-quorum star", n, f, c)
				}
				broke = broke || strings.HasPrefix(c, "BROKEN")
			}
		}
	}
	if !broke {
		t.Fatalf("no cell with n <= 3f broke:\n%s", out)
	}
	replays := regexp.MustCompile(`replay: (ordo bench bft .*)`).FindAllStringSubmatch(out, -1)
	if len(replays) == 0 {
		t.Fatalf("no replay command:\n%s", out)
	}
	tf := filepath.Join(t.TempDir(), "run.jsonl")
	args := append(strings.Fields(replays[0][1])[1:], "--trace", tf)
	rout, err := run(t, args...)
	if err != nil {
		t.Fatalf("%s: %v\n%s", replays[0][1], err, rout)
	}
	if !strings.Contains(rout, "FAIL ") || !strings.Contains(rout, "unsafe_quorum = n - f") {
		t.Fatalf("%s does not show the violation:\n%s", replays[0][1], rout)
	}
	// The trace kept is judged the same by ordo trace check.
	cout, err := run(t, "trace", "check", tf, "--check", "byzantine-agreement", "--check", "validity")
	if err == nil || !strings.Contains(cout, "FAIL") {
		t.Fatalf("trace check of the replay: %v\n%s", err, cout)
	}
}

// --json is the campaign's report; one behaviour's cells are n × f less
// the pairs with f >= n.
func TestBenchBFTJSON(t *testing.T) {
	out, err := run(t, "bench", "bft", "-n", "3-4", "-f", "1,3", "--seeds", "4", "--behaviour", "silent,equivocate", "--json")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var rep lab.BFTReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	// (3,1) (4,1) (4,3), two behaviours each.
	if len(rep.Cells) != 6 || rep.Runs != 24 {
		t.Fatalf("%d cells, %d runs; want 6 and 24:\n%s", len(rep.Cells), rep.Runs, out)
	}
	if c := rep.Cell(4, 1, "silent"); c == nil || !c.Held() || c.Quorum != 3 {
		t.Fatalf("n=4 f=1 silent: %+v", c)
	}
}

// A run at n >= 3f+1 that breaks would exit 1; bad input is refused by
// name (exit status 2 from main).
func TestBenchBFTRefusesBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-n", "2"}, `-n "2"`},
		{[]string{"-n", "3-99"}, `-n "3-99"`},
		{[]string{"-n", "5-4"}, `-n "5-4"`},
		{[]string{"-n", "4,4"}, "given twice"},
		{[]string{"-f", "4"}, `-f "4"`},
		{[]string{"-f", "0"}, `-f "0"`},
		{[]string{"-n", "3", "-f", "3"}, "no pair with f below n"},
		{[]string{"--seeds", "0"}, "--seeds 0"},
		{[]string{"--seeds", "2000000"}, "--seeds 2000000"},
		{[]string{"--behaviour", "lie"}, `--behaviour "lie"`},
		{[]string{"--workers", "0"}, "--workers 0"},
		{[]string{"--auth", "rsa"}, `--auth "rsa": want mac`},
		{[]string{"--duration", "1h"}, "--duration 1h0m0s"},
		{[]string{"--replay", "1"}, "--replay needs one -n"},
		{[]string{"--trace", "x.jsonl"}, "give --replay SEED"},
		{[]string{"-n", "4", "-f", "1", "--replay", "1", "--json"}, "no --json"},
		// Zero is no count: the campaign's defaults stand for it, so it
		// ran 2 clients of 10 requests for 3s; seeds are 1, 2, ...
		{[]string{"-n", "4", "-f", "1", "--seeds", "1", "--clients", "0"}, "--clients 0: need 1.."},
		{[]string{"-n", "4", "-f", "1", "--seeds", "1", "--ops", "0"}, "--ops 0: need 1.."},
		{[]string{"-n", "4", "-f", "1", "--seeds", "1", "--ops", "-2"}, "--ops -2: need 1.."},
		{[]string{"-n", "4", "-f", "1", "--seeds", "1", "--duration", "0s"}, "--duration 0s: need"},
		{[]string{"-n", "4", "-f", "1", "--seeds", "1", "--first-seed", "0"}, "--first-seed 0: seeds are 1, 2"},
		{[]string{"-n", "4", "-f", "1", "--replay", "0"}, "--replay 0: want the seed"},
		{[]string{"-n", "4", "-f", "1", "--replay", "3", "--clients", "0"}, "--clients 0"},
	} {
		out, err := run(t, append([]string{"bench", "bft"}, tc.args...)...)
		var ec exitCode
		if err == nil || errors.As(err, &ec) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v\n%s; want an error with %q", tc.args, err, out, tc.want)
		}
	}
}

// The table's footnotes explain only marks it shows: the star of a cell
// run below the bound, the dash of a pair with f >= n.
func TestBenchBFTFootnotesOnlyForMarksShown(t *testing.T) {
	const star, dash = "* n < 3f+1", "-: f >= n."
	for _, c := range []struct {
		args       []string
		star, dash bool
	}{
		{[]string{"-n", "4", "-f", "1"}, false, false},
		{[]string{"-n", "3,4", "-f", "1"}, true, false},
		{[]string{"-n", "4", "-f", "1,3"}, true, false},  // n=4 f=3: below the bound, starred
		{[]string{"-n", "3,4", "-f", "1,3"}, true, true}, // n=3 f=3: left out
	} {
		out, err := run(t, append([]string{"bench", "bft", "--seeds", "1"}, c.args...)...)
		if err != nil {
			var ec exitCode
			if !errors.As(err, &ec) {
				t.Fatalf("%v: %v\n%s", c.args, err, out)
			}
		}
		if strings.Contains(out, star) != c.star || strings.Contains(out, dash) != c.dash {
			t.Errorf("%v: star footnote %v (want %v), dash footnote %v (want %v):\n%s", c.args, strings.Contains(out, star), c.star, strings.Contains(out, dash), c.dash, out)
		}
	}
}
