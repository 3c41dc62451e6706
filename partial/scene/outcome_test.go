package scene

import (
	"fmt"
	"strings"
	"testing"

	"ordo/partial"
)

// seeds are the client-jitter seeds the rules are checked under.
var seeds = []uint64{1, 2, 3, 4, 5}

func replay(seed uint64) string {
	return fmt.Sprintf("replay: ordo sim partial-failure --seed %d", seed)
}

func table(t *testing.T, seed uint64) map[string]Outcome {
	t.Helper()
	rows, err := Table(DefaultScene, seed)
	if err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	if len(rows) != len(Causes)*len(partial.Strategies) {
		t.Fatalf("seed %d: %d rows, want %d", seed, len(rows), len(Causes)*len(partial.Strategies))
	}
	m := map[string]Outcome{}
	for _, o := range rows {
		m[string(o.Cause)+"/"+string(o.Strategy)] = o
	}
	return m
}

// Section 5, "부분 장애": after a lost reply or a slow server, a naive
// retry of a non-idempotent transfer applies it twice, and the client,
// holding a plain "ok", believes it happened once.
func TestNaiveRetryDoubleApplies(t *testing.T) {
	for _, seed := range seeds {
		m := table(t, seed)
		for _, c := range []Cause{ReplyLost, ServerSlow} {
			o := m[string(c)+"/naive"]
			if o.Applied < 2 {
				t.Errorf("seed %d, %s, naive retry: applied %d times, want 2+ (%s)", seed, c, o.Applied, replay(seed))
			}
			if !o.View.OK || o.Knows() == "yes" {
				t.Errorf("seed %d, %s, naive retry: the client saw %+v and knows %q; want an ok it misreads", seed, c, o.View, o.Knows())
			}
		}
		for _, c := range []Cause{RequestLost, ServerCrash} {
			if o := m[string(c)+"/naive"]; o.Applied != 1 {
				t.Errorf("seed %d, %s, naive retry: applied %d times, want 1 (nothing was applied before the retry) (%s)", seed, c, o.Applied, replay(seed))
			}
		}
	}
}

// Section 5, strategy 1 (멱등성 설계): with an idempotency key the transfer
// is applied exactly once under every cause, with or without a breaker,
// and the client ends with an answer it can trust.
func TestIdempotencyKeyAppliesExactlyOnce(t *testing.T) {
	for _, seed := range seeds {
		m := table(t, seed)
		for _, c := range Causes {
			for _, st := range []partial.Strategy{partial.WithKey, partial.KeyBreaker} {
				o := m[string(c)+"/"+string(st)]
				if o.Applied != 1 || !o.View.OK || o.Knows() != "yes" {
					t.Errorf("seed %d, %s, %s: applied %d, view %+v, knows %q; want applied once and a trusted ok (%s)", seed, c, st, o.Applied, o.View, o.Knows(), replay(seed))
				}
			}
		}
		if o := m[string(ReplyLost)+"/key"]; !o.View.Replayed {
			t.Errorf("seed %d: after a lost reply the keyed retry should be answered from the table (replayed): %+v", seed, o.View)
		}
	}
}

// Without retry nothing is applied twice, and the client never knows: the
// same single timeout is all it sees under every cause, although the
// transfer was applied under two of them and not under the other two.
func TestNoRetryNeverDoubleAppliesAndCannotTell(t *testing.T) {
	for _, seed := range seeds {
		m := table(t, seed)
		first := m[string(Causes[0])+"/none"].View
		applied := map[int64]bool{}
		for _, c := range Causes {
			o := m[string(c)+"/none"]
			if o.Applied > 1 {
				t.Errorf("seed %d, %s, no retry: applied %d times (%s)", seed, c, o.Applied, replay(seed))
			}
			if o.View.OK || o.Knows() == "yes" {
				t.Errorf("seed %d, %s, no retry: the client got an answer %+v; every cause should end in a timeout", seed, c, o.View)
			}
			if o.View != first {
				t.Errorf("seed %d: the client's view differs between %s (%+v) and %s (%+v): it could tell the causes apart", seed, Causes[0], first, c, o.View)
			}
			applied[o.Applied] = true
		}
		if !applied[0] || !applied[1] {
			t.Errorf("seed %d: no retry applied %v across the causes; want both 0 and 1 behind the same view", seed, applied)
		}
	}
}

// Strategy 4 (서킷 브레이커): against a crashed server the breaker fails
// fast instead of sending, so the client never sends more requests than
// with a key alone, and fewer over the seeds (it may answer later: it
// waits out the open period).
func TestBreakerSendsLessToACrashedServer(t *testing.T) {
	var keySends, brSends int
	for _, seed := range seeds {
		m := table(t, seed)
		key, br := m[string(ServerCrash)+"/key"], m[string(ServerCrash)+"/breaker"]
		if br.View.Open == 0 || br.View.Sends > key.View.Sends {
			t.Errorf("seed %d: breaker %+v vs key %+v: want fail-fast refusals and no more sends (%s)", seed, br.View, key.View, replay(seed))
		}
		keySends += key.View.Sends
		brSends += br.View.Sends
	}
	if brSends >= keySends {
		t.Errorf("over seeds %v the breaker sent %d requests, the key alone %d: want fewer", seeds, brSends, keySends)
	}
}

func TestOutcomeTablePrints(t *testing.T) {
	rows, err := Table(DefaultScene, 1)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := WriteTable(&b, rows); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(b.String(), "\n"); got != 1+len(rows) {
		t.Errorf("table has %d lines, want %d:\n%s", got, 1+len(rows), b.String())
	}
	for _, want := range []string{"reply lost", "2+", "ok (replayed)", "no: thinks 1, was 2", "no: unknown"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
}
