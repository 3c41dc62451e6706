package main

import (
	"fmt"
	"strings"
	"testing"

	"ordo/lab"
)

// Every command that simulates a cluster refuses the same sizes and
// simulated times with the same words, from lab.MaxNodes and
// lab.MaxDuration: one bound per quantity, an invalid value an error,
// never a silent default.
func TestOneBoundPerQuantity(t *testing.T) {
	commands := [][]string{
		{"elect"},
		{"explore", "--seeds", "1", "-q"},
		{"bench", "churn", "--seeds", "1", "--loss", "0"},
		{"bench", "explore", "--seeds", "1"},
	}
	nodes := fmt.Sprintf("need 1..%d nodes", lab.MaxNodes)
	longest := fmt.Sprintf("at most %v of simulated time per run", lab.MaxDuration)
	for _, c := range commands {
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"-n", "0"}, nodes},
			{[]string{"-n", "-3"}, nodes},
			{[]string{"-n", fmt.Sprint(lab.MaxNodes + 1)}, nodes},
			{[]string{"--duration", (lab.MaxDuration + 1e9).String()}, longest},
		} {
			args := append(append([]string{}, c...), tc.args...)
			out, err := run(t, args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ordo %s: %v\n%s\nwant an error containing %q", strings.Join(args, " "), err, out, tc.want)
			}
		}
	}
	if _, err := run(t, "bench", "sim", "--nodes", "3", "--duration", "2h"); err == nil || !strings.Contains(err.Error(), longest) {
		t.Errorf("bench sim --duration 2h: %v; want %q", err, longest)
	}
	for _, c := range [][]string{{"elect"}, {"bench", "churn", "--seeds", "1", "--loss", "0"}} {
		if _, err := run(t, append(c, "--duration", "-1s")...); err == nil || !strings.Contains(err.Error(), "must be positive") {
			t.Errorf("%v --duration -1s: %v; want it refused as not positive", c, err)
		}
	}
}
