package tour

import (
	"fmt"
	"io"
	"strings"
	"time"

	"ordo/scenario"
	"ordo/scenarios"
	"ordo/trace"
	"ordo/viz"
)

// runBuiltin runs a built-in scenario with its trace, failing if an expect of
// the file is unmet.
func runBuiltin(name string) (*scenario.Result, error) {
	data, err := scenarios.Read(name)
	if err != nil {
		return nil, err
	}
	sc, err := scenario.Parse("scenarios/"+strings.TrimSuffix(name, ".yaml")+".yaml", data)
	if err != nil {
		return nil, err
	}
	res, err := sc.Run(scenario.RunOptions{Trace: true})
	if err != nil {
		return nil, err
	}
	if len(res.Unmet) > 0 {
		return res, fmt.Errorf("%s: %s", name, strings.Join(res.Unmet, "; "))
	}
	return res, nil
}

// window draws a window of a run: around the first event that
// matches, or from the start.
func window(w io.Writer, t *trace.Trace, events int, match func(*trace.Event) bool) (from int, err error) {
	if match != nil {
		for i := range t.Events {
			if match(&t.Events[i]) {
				from = max(0, i-events/2)
				break
			}
		}
	}
	return from, viz.ASCII(w, t, viz.Options{Stamps: "lamport", Width: 100, MaxEvents: events, From: from})
}

// rerunDiagram is the command that draws the same window as window did:
// the tour's rerun lines must reproduce what it printed.
func rerunDiagram(scenario string, from, events int) string {
	return fmt.Sprintf("rerun: ordo sim %s --diagram --from %d --max %d", scenario, from, events)
}

func writeFallacies(w io.Writer, r *scenario.Result) {
	var names []string
	for _, f := range r.Fallacies.List() {
		names = append(names, fmt.Sprintf("%d", int(f)))
	}
	fmt.Fprintf(w, "fallacies exercised: %s\n", strings.Join(names, ", "))
	for _, f := range r.Fallacies.List() {
		fmt.Fprintf(w, "  %s\n", scenario.FallacyName(f))
	}
	fmt.Fprintf(w, "transport: %d messages, %d bytes ≈ $%.9f at $%g/GB (%d lost, %d altered)\n",
		r.Stats.Sent, r.Stats.Bytes, r.CostUSD, r.Scenario.PricePerGB, r.Stats.Dropped, r.Stats.Tampered)
}

func writeChecks(w io.Writer, r *scenario.Result) {
	for _, c := range r.Checks {
		v := "✓ pass"
		if !c.OK {
			v = "✗ fail"
		}
		fmt.Fprintf(w, "check %s: %s — %s\n", c.Check, v, c.Summary)
		if !c.OK && len(c.Violations) > 0 {
			fmt.Fprintf(w, "  e.g. %s\n", c.Violations[0].Message)
		}
	}
}

// lastDelivery is when the last `deliver` note of a run happened.
func lastDelivery(t *trace.Trace) time.Duration {
	var last int64
	for i := range t.Events {
		if e := &t.Events[i]; e.Kind == trace.Note && e.Name == "deliver" {
			last = e.T
		}
	}
	return time.Duration(last)
}
