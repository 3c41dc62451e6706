package scene

import (
	"fmt"
	"testing"

	"ordo/partial"
)

// The rule of the backoff table (section 5; the AWS "exponential backoff
// and jitter" experiment): for the same N contending clients, jitter does
// less work than exponential backoff without it, whose losers retry in
// lockstep and collide again. Full and decorrelated jitter need strictly
// fewer calls; equal jitter (half the wait fixed) no more. Simulated
// calls only: no timing of the machine is asserted.
func TestJitterReducesCalls(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		rows, err := ContentionTable(DefaultContention, seed)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		calls := map[string]int{}
		for _, r := range rows {
			if r.Done != r.Clients {
				t.Errorf("seed %d: %d clients, %s: only %d finished", seed, r.Clients, r.Backoff, r.Done)
			}
			if r.Calls < r.Clients {
				t.Errorf("seed %d: %d clients made %d calls: each needs one at least", seed, r.Clients, r.Calls)
			}
			calls[fmt.Sprint(r.Clients, r.Backoff)] = r.Calls
		}
		for _, n := range DefaultContention.Clients {
			exp := calls[fmt.Sprint(n, partial.Exponential)]
			for _, b := range []partial.Backoff{partial.Full, partial.Decorrelated} {
				if c := calls[fmt.Sprint(n, b)]; c >= exp {
					t.Errorf("seed %d, %d clients: %s made %d calls, exponential without jitter %d: want fewer (replay: ordo sim backoff-contention --seed %d)", seed, n, b, c, exp, seed)
				}
			}
			if c := calls[fmt.Sprint(n, partial.Equal)]; c > exp {
				t.Errorf("seed %d, %d clients: equal jitter made %d calls, exponential %d: want no more (replay: ordo sim backoff-contention --seed %d)", seed, n, c, exp, seed)
			}
		}
	}
}
