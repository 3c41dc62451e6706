package resilience

// Behaviour, not code, compared with two breakers people use in Go:
// github.com/sony/gobreaker/v2 and github.com/failsafe-go/failsafe-go (test
// dependencies only). Both read the wall clock (time.Now; failsafe-go's
// clock is internal) and have no way to inject one, so they cannot be
// driven step by step as ordo's Breaker is. The comparison therefore uses
// two open periods that need no waiting: one hour (the breaker never
// half-opens during a case) and one nanosecond (it half-opens at the next
// call; the harness waits a microsecond of real time between calls so the
// wall clock has moved). Time windows (gobreaker's Interval and
// BucketPeriod, failsafe-go's thresholding periods) cannot be compared
// without real sleeps and are left out: the comparison is on counts.
//
// Where the three agree (asserted below): N consecutive failures open a
// closed breaker; an open breaker refuses; half-open admits at most k
// probes, k successes close it, one failure reopens it; a success resets
// the run of failures.
//
// Where ordo differs, and why (also asserted):
//   - failsafe-go caps probes in flight, not probes per half-open period:
//     each result gives its permit back, so a (k+1)-th probe is admitted
//     while the first k are not all answered. ordo and gobreaker cap the
//     period: the issue's property "a half-open breaker never lets more
//     than its cap of probes through" holds for them and not for it.
//   - failsafe-go's manual API has no ticket: a late result of a request
//     started before a state change counts in the new state (a slow
//     failure from the closed era reopens a half-open breaker). ordo and
//     gobreaker ignore results of an earlier generation.
//   - failsafe-go's manual API cannot report a cancellation (no exclusion):
//     ordo's Canceled and gobreaker's IsExcluded free the probe's slot.
//   - failsafe-go half-opens only when a permit is asked for; ordo and
//     gobreaker also when a result or a state query arrives after the open
//     period (the same change, possibly one call earlier).
//   - ordo takes the time from its caller: the same code runs in the
//     simulator and replays from a seed; neither library can.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/failsafe-go/failsafe-go/circuitbreaker"
	"github.com/sony/gobreaker/v2"
)

// cb is the harness's view of a breaker: allow returns a ticket, record
// reports its outcome (Succeeded, Failed or Canceled).
type cb interface {
	allow() (ticket any, ok bool)
	record(ticket any, k Kind)
	log() []string
}

type cbParams struct {
	fails, probes int
	instant       bool // open period 1ns (else 1h)
}

func (p cbParams) openFor() time.Duration {
	if p.instant {
		return time.Nanosecond
	}
	return time.Hour
}

// tick lets the wall clock move past a 1ns open period.
func tick() {
	for t0 := time.Now(); time.Since(t0) < time.Microsecond; {
	}
}

type ordoCB struct {
	b       *Breaker
	now     time.Duration
	changes []string
}

func newOrdoCB(t *testing.T, p cbParams) *ordoCB {
	o := &ordoCB{}
	b, err := NewBreaker(BreakerConfig{ConsecutiveFailures: p.fails, HalfOpenProbes: p.probes, OpenFor: p.openFor(),
		OnChange: func(c Change) { o.changes = append(o.changes, c.From.String()+">"+c.To.String()) }}, 0)
	if err != nil {
		t.Fatal(err)
	}
	o.b = b
	return o
}

func (o *ordoCB) allow() (any, bool) {
	o.now++
	tk, err := o.b.Allow(o.now)
	return tk, err == nil
}

func (o *ordoCB) record(tk any, k Kind) { o.now++; o.b.Record(o.now, tk.(Ticket), k) }
func (o *ordoCB) log() []string         { return o.changes }

var errFailed = errors.New("failed")

type goCB struct {
	b       *gobreaker.TwoStepCircuitBreaker[any]
	changes []string
}

func gbState(s gobreaker.State) string {
	return map[gobreaker.State]string{gobreaker.StateClosed: "closed", gobreaker.StateOpen: "open", gobreaker.StateHalfOpen: "half-open"}[s]
}

func newGoCB(p cbParams) *goCB {
	g := &goCB{}
	g.b = gobreaker.NewTwoStepCircuitBreaker[any](gobreaker.Settings{
		MaxRequests: uint32(p.probes),
		Timeout:     p.openFor(),
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= uint32(p.fails) },
		IsExcluded:  func(err error) bool { return errors.Is(err, context.Canceled) },
		OnStateChange: func(_ string, from, to gobreaker.State) {
			g.changes = append(g.changes, gbState(from)+">"+gbState(to))
		},
	})
	return g
}

func (g *goCB) allow() (any, bool) {
	tick()
	done, err := g.b.Allow()
	return done, err == nil
}

func (g *goCB) record(tk any, k Kind) {
	tick()
	done := tk.(func(error))
	switch k {
	case Succeeded:
		done(nil)
	case Canceled:
		done(context.Canceled)
	default:
		done(errFailed)
	}
}

func (g *goCB) log() []string { return g.changes }

type fsCB struct {
	b       circuitbreaker.CircuitBreaker[any]
	changes []string
}

func newFsCB(p cbParams) *fsCB {
	f := &fsCB{}
	f.b = circuitbreaker.NewBuilder[any]().
		WithFailureThreshold(uint(p.fails)).
		WithSuccessThreshold(uint(p.probes)).
		WithDelay(p.openFor()).
		OnStateChanged(func(e circuitbreaker.StateChangedEvent) {
			f.changes = append(f.changes, fsState(e.OldState)+">"+fsState(e.NewState))
		}).Build()
	return f
}

func fsState(s circuitbreaker.State) string {
	return map[circuitbreaker.State]string{circuitbreaker.ClosedState: "closed", circuitbreaker.OpenState: "open", circuitbreaker.HalfOpenState: "half-open"}[s]
}

func (f *fsCB) allow() (any, bool) { tick(); return nil, f.b.TryAcquirePermit() }

func (f *fsCB) record(_ any, k Kind) {
	tick()
	switch k {
	case Succeeded:
		f.b.RecordSuccess()
	case Failed:
		f.b.RecordFailure()
	default:
		panic("failsafe-go's manual API cannot report a cancellation")
	}
}

func (f *fsCB) log() []string { return f.changes }

// run plays script on b: "a" asks for a permit, "s", "f", "c" record
// success, failure or cancellation for the i-th outstanding ticket
// ("s0" the oldest; bare "s" the oldest too). It returns the admissions
// ("+" admitted, "-" refused) and the state changes.
func run(t *testing.T, b cb, script string) string {
	var out []any
	var adm strings.Builder
	for _, op := range strings.Fields(script) {
		if op == "a" {
			tk, ok := b.allow()
			if ok {
				out = append(out, tk)
				adm.WriteByte('+')
			} else {
				adm.WriteByte('-')
			}
			continue
		}
		i := 0
		if len(op) > 1 {
			fmt.Sscanf(op[1:], "%d", &i)
		}
		if i >= len(out) {
			t.Fatalf("script %q: no outstanding ticket %d", script, i)
		}
		tk := out[i]
		out = append(out[:i], out[i+1:]...)
		b.record(tk, map[byte]Kind{'s': Succeeded, 'f': Failed, 'c': Canceled}[op[0]])
	}
	return adm.String() + " " + strings.Join(b.log(), ",")
}

func TestCompareBreakers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		p      cbParams
		script string
		want   string // ordo's (and gobreaker's) admissions and changes
		fsWant string // failsafe-go's, "" if the same, "-" to skip it (cancellation)
	}{
		{"consecutive failures open, open refuses", cbParams{3, 1, false},
			"a f a f a s a f a f a f a a", "++++++-- closed>open", ""},
		{"half-open probe succeeds, closes", cbParams{1, 1, true},
			"a f a s a", "+++ closed>open,open>half-open,half-open>closed", ""},
		{"half-open probe fails, reopens", cbParams{1, 1, true},
			"a f a f a", "+++ closed>open,open>half-open,half-open>open,open>half-open", ""},
		{"two probes needed", cbParams{2, 2, true},
			"a f a f a a s s a", "+++++ closed>open,open>half-open,half-open>closed", ""},
		// ordo and gobreaker: at most 2 probes per period; failsafe-go
		// gives a permit back with each result.
		{"probe cap per period vs in flight", cbParams{1, 2, true},
			"a f a a s a", "+++- closed>open,open>half-open", "++++ closed>open,open>half-open"},
		// A failure from a request started while closed, answered after
		// the breaker half-opened: ignored by ordo and gobreaker; failsafe-
		// go counts it and reopens.
		{"stale result", cbParams{1, 1, true},
			"a a f0 a f0 a", "+++- closed>open,open>half-open",
			"++++ closed>open,open>half-open,half-open>open,open>half-open"},
		{"canceled probe frees its slot", cbParams{1, 1, true},
			"a f a c a s", "+++ closed>open,open>half-open,half-open>closed", "-"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := run(t, newOrdoCB(t, tc.p), tc.script); got != tc.want {
				t.Errorf("ordo:       %q, want %q", got, tc.want)
			}
			if got := run(t, newGoCB(tc.p), tc.script); got != tc.want {
				t.Errorf("gobreaker:  %q, want %q", got, tc.want)
			}
			fsWant := tc.fsWant
			if fsWant == "-" {
				return
			}
			if fsWant == "" {
				fsWant = tc.want
			}
			if got := run(t, newFsCB(tc.p), tc.script); got != fsWant {
				t.Errorf("failsafe-go: %q, want %q", got, fsWant)
			}
		})
	}
}

// Random scripts: ordo and gobreaker admit the same requests and change
// state the same way, in both open-period regimes.
func TestCompareGobreakerRandom(t *testing.T) {
	forSeeds(t, func(t *testing.T, rng *rand.Rand) {
		p := cbParams{fails: 1 + rng.IntN(3), probes: 1 + rng.IntN(3), instant: rng.IntN(2) == 0}
		// Build the script against an ordo breaker, so records name
		// admitted requests only.
		oracle := newOrdoCB(t, p)
		var ops []string
		var out []any
		for i := 0; i < 40; i++ {
			if len(out) == 0 || rng.IntN(2) == 0 {
				ops = append(ops, "a")
				if tk, ok := oracle.allow(); ok {
					out = append(out, tk)
				}
				continue
			}
			j := rng.IntN(len(out))
			k := "sffc"[rng.IntN(4)]
			ops = append(ops, fmt.Sprintf("%c%d", k, j))
			oracle.record(out[j], map[byte]Kind{'s': Succeeded, 'f': Failed, 'c': Canceled}[k])
			out = append(out[:j], out[j+1:]...)
		}
		script := strings.Join(ops, " ")
		o, g := run(t, newOrdoCB(t, p), script), run(t, newGoCB(p), script)
		if o != g {
			t.Fatalf("params %+v script %q:\nordo      %q\ngobreaker %q", p, script, o, g)
		}
	})
}
