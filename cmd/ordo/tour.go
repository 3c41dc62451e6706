package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"ordo/scenario"
	"ordo/scenarios"
	"ordo/sim"
	"ordo/trace"
	"ordo/viz"
)

func init() {
	commands = append(commands, newTourCmd)
	addTourScene(tourScene{Order: 101, Section: "1. The eight fallacies of distributed computing", Run: sceneLossy})
	addTourScene(tourScene{Order: 102, Section: "1. The eight fallacies of distributed computing", Run: sceneFarAway})
	addTourScene(tourScene{Order: 103, Section: "1. The eight fallacies of distributed computing", Run: sceneTampered})
	addTourScene(tourScene{Order: 501, Section: "5. Challenges: network partitions and partial failure", Run: scenePartition})
}

const tourIntro = `ordo tour: the distributed-systems chapter, run section by section.

Every scene below is a real run of a protocol in ordo's deterministic
simulator (same seed, same run), drawn as a space-time diagram — one line per
node, messages between them, Lamport timestamps (C) under the events — and
judged by checkers that read the trace. Rerun any scene with the command
shown under it; add --diagram to draw the whole run, --trace FILE to keep it.
`

func newTourCmd() *cobra.Command {
	var section int
	cmd := &cobra.Command{
		Use:   "tour",
		Short: "walk the chapter section by section, running each idea",
		Long: `Walk the chapter section by section: for each idea, run a scenario in the
simulator and print a short space-time diagram, what the run exercised and
the checkers' verdicts. The tour takes a few seconds. It exits non-zero if
any scene's own check fails, so it doubles as a smoke test.`,
		Example: `  ordo tour
  ordo tour --section 1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTour(cmd.OutOrStdout(), section)
		},
	}
	cmd.Flags().IntVar(&section, "section", 0, "run only this section of the chapter (1-5; 0: every section)")
	return cmd
}

func runTour(w io.Writer, section int) error {
	scenes := append([]tourScene(nil), tourScenes...)
	sort.SliceStable(scenes, func(i, j int) bool { return scenes[i].Order < scenes[j].Order })
	if section < 0 {
		return fmt.Errorf("--section %d: sections are numbered from 1 (0 runs every section)", section)
	}
	if section != 0 {
		var keep []tourScene
		have := map[int]bool{}
		for _, s := range scenes {
			have[s.Order/100] = true
			if s.Order/100 == section {
				keep = append(keep, s)
			}
		}
		if len(keep) == 0 {
			var secs []string
			for n := 0; n <= 9; n++ {
				if have[n] {
					secs = append(secs, fmt.Sprint(n))
				}
			}
			return fmt.Errorf("the tour has no scenes for section %d (sections with scenes: %s)", section, strings.Join(secs, ", "))
		}
		scenes = keep
	}
	fmt.Fprint(w, tourIntro)
	start := time.Now()
	heading := ""
	var failed []string
	for _, s := range scenes {
		if s.Section != heading {
			heading = s.Section
			fmt.Fprintf(w, "\n%s\n%s\n", heading, strings.Repeat("═", len([]rune(heading))))
		}
		fmt.Fprintln(w)
		if err := s.Run(w); err != nil {
			fmt.Fprintf(w, "✗ SCENE FAILED: %v\n", err)
			failed = append(failed, fmt.Sprintf("%d (%s): %v", s.Order, s.Section, err))
		}
	}
	fmt.Fprintf(w, "\n%d scenes in %.1fs", len(scenes), time.Since(start).Seconds())
	if len(failed) > 0 {
		fmt.Fprintf(w, "; %d FAILED:\n", len(failed))
		for _, f := range failed {
			fmt.Fprintf(w, "  %s\n", f)
		}
		return exitCode(1)
	}
	fmt.Fprintln(w, ", all as the chapter says.")
	return nil
}

// tourRun runs a built-in scenario with its trace, failing if an expect of
// the file is unmet.
func tourRun(name string) (*scenario.Result, error) {
	data, err := scenarios.Read(name)
	if err != nil {
		return nil, err
	}
	sc, err := parseBuiltin(name, data)
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

// tourDiagram draws a window of a run: around the first event that
// matches, or from the start.
func tourDiagram(w io.Writer, t *trace.Trace, events int, match func(*trace.Event) bool) error {
	from := 0
	if match != nil {
		for i := range t.Events {
			if match(&t.Events[i]) {
				from = max(0, i-events/2)
				break
			}
		}
	}
	return viz.ASCII(w, t, viz.Options{Stamps: "lamport", Width: 100, MaxEvents: events, From: from})
}

func tourFallacies(w io.Writer, r *scenario.Result) {
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

func tourChecks(w io.Writer, r *scenario.Result) {
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

func sceneLossy(w io.Writer) error {
	r, err := tourRun("broadcast-lossy")
	if err != nil {
		return err
	}
	fmt.Fprintln(w, `Fallacy 1, "the network is reliable". Node 1 broadcasts 20 values over a LAN
that loses 30% of messages; receivers ack, the sender retransmits until acked
(대응: 재시도, 타임아웃, 멱등성 — retry, timeout, idempotency). Drops are ✗:`)
	fmt.Fprintln(w)
	if err := tourDiagram(w, r.Trace, 14, func(e *trace.Event) bool { return e.Kind == trace.Drop }); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tourFallacies(w, r)
	tourChecks(w, r)
	fmt.Fprintf(w, "last value delivered at %v\n", lastDelivery(r.Trace).Round(time.Millisecond))
	fmt.Fprintln(w, "rerun: ordo sim broadcast-lossy --diagram")
	return nil
}

func sceneFarAway(w io.Writer) error {
	r, err := tourRun("broadcast-intercontinental")
	if err != nil {
		return err
	}
	fmt.Fprintln(w, `Fallacies 2, 3, 4, 7, 8. The same broadcast, but nodes 4 and 5 are across an
ocean (~150ms round trip, like Seoul–US West) behind 2KB/s links, and a man
in the middle alters 10% of messages. Links are authenticated, so an altered
message is detected and dropped, and retransmission repairs it.`)
	fmt.Fprintln(w)
	tourFallacies(w, r)
	tourChecks(w, r)
	fmt.Fprintf(w, "last value delivered at %v (on the LAN alone it takes about 2s)\n", lastDelivery(r.Trace).Round(time.Millisecond))
	if !r.Fallacies.Has(sim.FallacyBandwidth) || !r.Fallacies.Has(sim.FallacySecure) {
		return fmt.Errorf("broadcast-intercontinental should exercise fallacies 3 and 4, got %v", r.Fallacies.List())
	}
	fmt.Fprintln(w, "rerun: ordo sim broadcast-intercontinental")
	return nil
}

func sceneTampered(w io.Writer) error {
	r, err := tourRun("broadcast-tampered")
	if err != nil {
		return err
	}
	fmt.Fprintln(w, `Fallacy 4, "the network is secure", without the defence: the same tampering
on unauthenticated links. Altered values are delivered and forged acks are
believed, and the checker catches it (this scenario expects the failure):`)
	fmt.Fprintln(w)
	tourChecks(w, r)
	fmt.Fprintln(w, "defence (대응: TLS, 인증, 암호화): network: {authenticated: true}")
	fmt.Fprintln(w, "rerun: ordo sim broadcast-tampered")
	return nil
}

func scenePartition(w io.Writer) error {
	r, err := tourRun("broadcast-partition")
	if err != nil {
		return err
	}
	fmt.Fprintln(w, `Network partition. At 500ms the cluster splits into {1,2} | {3,4,5} while
node 1 broadcasts; at 3s it heals. The far side cannot tell a partition from a
silent sender; the sender cannot tell it from dead receivers. It keeps
retransmitting, and when the partition heals every value gets through:`)
	fmt.Fprintln(w)
	heal := int64(3 * time.Second)
	if err := tourDiagram(w, r.Trace, 15, func(e *trace.Event) bool { return e.Kind == trace.Recv && e.Node >= 3 && e.T >= heal }); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tourChecks(w, r)
	fmt.Fprintf(w, "lost to the partition: %d messages; last value delivered at %v, after the heal at 3s\n",
		r.Stats.Dropped, lastDelivery(r.Trace).Round(time.Millisecond))
	fmt.Fprintln(w, "rerun: ordo sim broadcast-partition --diagram")
	return nil
}
