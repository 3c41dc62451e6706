package spawn

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

func TestShare(t *testing.T) {
	for _, c := range []struct{ procs, n, want int }{
		{2, 3, 1}, {2, 5, 1}, {1, 3, 1}, {8, 3, 2}, {16, 5, 3}, {16, 1, 16}, {4, 0, 4}, {0, 3, 1},
	} {
		if got := Share(c.procs, c.n); got != c.want {
			t.Errorf("Share(%d CPUs, %d processes) = %d, want %d", c.procs, c.n, got, c.want)
		}
	}
}

// Only what the Go runtime would take counts as the environment's
// GOMAXPROCS: an empty or invalid one is ignored by the runtime, so a
// launcher must not take it for the user's choice (helper-98's trial).
func TestEnvProcs(t *testing.T) {
	for v, want := range map[string]int{"": 0, "abc": 0, "0": 0, "-1": 0, " 2": 0, "2": 2, "300": 300, "2147483647": 2147483647, "2147483648": 0, "99999999999": 0} {
		t.Setenv("GOMAXPROCS", v) // restored when the test ends
		if n, ok := EnvProcs(); n != want || ok != (want > 0) {
			t.Errorf("GOMAXPROCS=%q: EnvProcs() = %d, %v; want %d", v, n, ok, want)
		}
	}
	os.Unsetenv("GOMAXPROCS")
	if n, ok := EnvProcs(); ok {
		t.Errorf("GOMAXPROCS unset: EnvProcs() = %d, true", n)
	}
}

// SetProcs wins over the environment's GOMAXPROCS and over an earlier
// SetProcs: the process gets the last value.
func TestSetProcs(t *testing.T) {
	t.Setenv("GOMAXPROCS", "7")
	cmd := exec.Command("env")
	SetProcs(cmd, 3)
	SetProcs(cmd, 1)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(l, "GOMAXPROCS="); ok {
			got = append(got, v)
		}
	}
	if !slices.Equal(got, []string{"1"}) {
		t.Fatalf("the process's GOMAXPROCS: %q, want [1]", got)
	}
}
