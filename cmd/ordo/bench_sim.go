package main

import (
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"ordo"
	"ordo/detect"
	"ordo/internal/plural"
	"ordo/sim"
)

func init() { benchCommands = append(benchCommands, newBenchSimCmd) }

// benchSimRow is one measured run of `ordo bench sim`.
type benchSimRow struct {
	Nodes          int     `json:"nodes"`
	Trace          bool    `json:"trace"`
	SimSeconds     float64 `json:"sim_seconds"`
	Events         int64   `json:"events"` // process events: send, recv, timer, note, ...
	Steps          uint64  `json:"steps"`  // queue items: deliveries, timers, actions
	RealSeconds    float64 `json:"real_seconds"`
	EventsPerSec   float64 `json:"events_per_sec"`
	SimPerReal     float64 `json:"sim_per_real"`
	AllocsPerEvent float64 `json:"allocs_per_event"`
	PeakHeapBytes  uint64  `json:"peak_heap_bytes"`
}

// benchWireRow compares one workload run plain and in wire mode (every
// message encoded at send and decoded at delivery): the same run, event for
// event, so the ratio of real times is the cost of the bytes.
type benchWireRow struct {
	Workload     string  `json:"workload"`
	Nodes        int     `json:"nodes"`
	Events       int64   `json:"events"`
	Messages     int     `json:"messages"`
	BytesPerMsg  float64 `json:"bytes_per_message"`
	PlainSeconds float64 `json:"plain_seconds"`
	WireSeconds  float64 `json:"wire_seconds"`
	Ratio        float64 `json:"wire_ratio"` // wire / plain real time
}

// benchSimReport is the --json output.
type benchSimReport struct {
	Rows []benchSimRow  `json:"rows"`
	Wire []benchWireRow `json:"wire"`
}

func newBenchSimCmd() *cobra.Command {
	var (
		nodesFlag   string
		duration    time.Duration
		events      int64
		traceEvents int64
		asJSON      bool
		wireEvents  int64
	)
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "measure the simulator: events/s, simulated/real time, allocations, memory",
		Long: `Run the heartbeat protocol (every node heartbeats every peer every 100 ms,
LAN latency) in the simulator for each cluster size, with tracing off, and
report events per second, the simulated-to-real time ratio, heap
allocations per event in steady state (after one simulated second of
warm-up) and the peak heap. A last row runs the first cluster size with
tracing on (every event recorded with its vector stamp) as the baseline.

An event is a process event, as a trace would hold it: a send, a receive,
a timer firing, a note. Steps are the simulator's queue items.

The wire-mode table runs two workloads at the first cluster size plain and
in wire mode (three times each, keeping the fastest), and reports the
ratio of their real times: the
heartbeat protocol (empty messages: the simulator's own overhead per
message) and Raft elections under loss and crashes (messages of six
integer fields).

Without --duration each row simulates as long as it takes to reach about
--events events, so rows do equal work; with it every row simulates that
long.`,
		Example: `  ordo bench sim
  ordo bench sim --nodes 5,50,500 --json
  ordo bench sim --nodes 5 --duration 60s`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			sizes, err := parseSizes("--nodes", nodesFlag, 2, sim.MaxNodes)
			if err != nil {
				return err
			}
			if duration < 0 || events <= 0 || traceEvents <= 0 {
				return fmt.Errorf("--duration must not be negative, --events and --trace-events must be positive")
			}
			if duration > 0 {
				if err := checkSimDuration(duration); err != nil {
					return err
				}
			}
			var rows []benchSimRow
			for _, n := range sizes {
				row, err := benchSimRun(n, false, simFor(n, duration, events))
				if err != nil {
					return err
				}
				rows = append(rows, row)
			}
			// Tracing keeps every event in memory: bound the baseline row.
			row, err := benchSimRun(sizes[0], true, simFor(sizes[0], duration, min(events, traceEvents)))
			if err != nil {
				return err
			}
			rows = append(rows, row)
			var wire []benchWireRow
			for _, w := range []string{"heartbeat", "raft"} {
				wr, err := benchWire(w, sizes[0], min(events, wireEvents))
				if err != nil {
					return err
				}
				wire = append(wire, wr)
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(benchSimReport{Rows: rows, Wire: wire})
			}
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "nodes\ttrace\tsim time\tevents\treal\tevents/s\tsim/real\tallocs/event\tpeak heap\t")
			for _, r := range rows {
				tr := "off"
				if r.Trace {
					tr = "on"
				}
				simTime := time.Duration(r.SimSeconds * float64(time.Second))
				if simTime > time.Minute {
					simTime = simTime.Round(time.Second)
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%.3gM\t%.4g\t%.4f\t%s\t\n", r.Nodes, tr,
					simTime.Round(time.Millisecond),
					r.Events, time.Duration(r.RealSeconds*float64(time.Second)).Round(time.Millisecond),
					r.EventsPerSec/1e6, r.SimPerReal, r.AllocsPerEvent, formatBytes(r.PeakHeapBytes))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintln(out, "\nwire mode (encode at send, decode at delivery) against the same run without it:")
			tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "workload\tnodes\tevents\tmessages\tbytes/msg\tplain\twire\tratio\t")
			for _, w := range wire {
				fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.1f\t%s\t%s\t%.2f×\t\n", w.Workload, w.Nodes, w.Events, w.Messages, w.BytesPerMsg,
					time.Duration(w.PlainSeconds*float64(time.Second)).Round(time.Millisecond),
					time.Duration(w.WireSeconds*float64(time.Second)).Round(time.Millisecond), w.Ratio)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&nodesFlag, "nodes", "5,50,500", "cluster sizes, comma-separated")
	cmd.Flags().DurationVar(&duration, "duration", 0, "simulated time per row (0: enough for --events events)")
	cmd.Flags().Int64Var(&events, "events", 10_000_000, "events per row when --duration is 0")
	cmd.Flags().Int64Var(&traceEvents, "trace-events", 200_000, "bound on the events of the tracing-on row (it keeps them all in memory)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the rows as JSON")
	cmd.Flags().Int64Var(&wireEvents, "wire-events", 2_000_000, "events per run of the wire-mode comparison")
	return cmd
}

// parseSizes reads a flag's comma-separated cluster sizes, each in lo..hi.
func parseSizes(flag, s string, lo, hi int) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < lo || n > hi {
			return nil, fmt.Errorf("%s: %q is not a cluster size in %d..%d", flag, f, lo, hi)
		}
		out = append(out, n)
	}
	return out, nil
}

// simFor is the simulated time a row runs: as given, or what the heartbeat
// workload needs to produce about events events (each node, every 100 ms:
// one timer, n-1 sends, n-1 receives).
func simFor(n int, given time.Duration, events int64) time.Duration {
	if given > 0 {
		return given
	}
	perSec := float64(n) * 10 * float64(2*n-1)
	return max(time.Second+100*time.Millisecond, time.Duration(float64(events)/perSec*float64(time.Second)))
}

func benchSimRun(nodes int, tracing bool, d time.Duration) (benchSimRow, error) {
	o, err := detect.Protocol.Resolve(map[string]string{"interval": "100ms"})
	if err != nil {
		return benchSimRow{}, err
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	s, err := sim.New(sim.Config{Protocol: detect.Protocol, Options: o, Nodes: nodes, Seed: 1, Trace: tracing,
		Network: sim.Network{Default: sim.Link{Latency: sim.Presets["lan"]}}, MaxEvents: 1 << 62})
	if err != nil {
		return benchSimRow{}, err
	}
	warm := min(time.Second, d/2)
	if err := s.RunFor(warm); err != nil {
		return benchSimRow{}, err
	}
	runtime.ReadMemStats(&ms)
	peak := ms.HeapAlloc
	mallocs := ms.Mallocs
	ev0, st0 := s.Stats().Events, s.Events()
	// Sample the heap about 50 times during the run (ReadMemStats stops
	// the world, so not more often).
	step := max((d-warm)/50, time.Millisecond)
	start := time.Now()
	for s.Now() < d {
		if err := s.RunFor(min(step, d-s.Now())); err != nil {
			return benchSimRow{}, err
		}
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapAlloc)
	}
	real := time.Since(start)
	runtime.ReadMemStats(&ms)
	ev := s.Stats().Events - ev0
	row := benchSimRow{
		Nodes: nodes, Trace: tracing, SimSeconds: (d - warm).Seconds(),
		Events: ev, Steps: s.Events() - st0, RealSeconds: real.Seconds(),
		EventsPerSec: float64(ev) / real.Seconds(), SimPerReal: float64(d-warm) / float64(real),
		PeakHeapBytes: peak - min(peak, base),
	}
	if ev > 0 {
		// The sampling's own allocations (none: ReadMemStats fills ms in
		// place) do not count against the simulator.
		row.AllocsPerEvent = float64(ms.Mallocs-mallocs) / float64(ev)
	}
	return row, nil
}

func formatBytes(b uint64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(b)/(1<<10))
	}
	return fmt.Sprintf("%d B", b)
}

// benchWire runs one workload plain and in wire mode on the same seed and
// reports the ratio of real times. The runs are the same event for event
// (sizes come from the codec in both modes), which it checks.
func benchWire(workload string, nodes int, events int64) (benchWireRow, error) {
	p, err := ordo.Lookup(workload)
	if err != nil {
		return benchWireRow{}, err
	}
	opts := map[string]string{}
	var d time.Duration
	switch workload {
	case "heartbeat":
		opts["interval"] = "100ms"
		d = simFor(nodes, 0, events)
	default:
		// An election every few seconds: a node crashes and restarts.
		d = time.Duration(events/400) * time.Second
	}
	o, err := p.Resolve(opts)
	if err != nil {
		return benchWireRow{}, err
	}
	row := benchWireRow{Workload: workload, Nodes: nodes}
	// Three rounds, plain then wire, keeping each mode's fastest: the
	// machine may be shared, and the minimum is what the code costs.
	took := [2]time.Duration{time.Duration(math.MaxInt64), time.Duration(math.MaxInt64)}
	var ev [2]int64
	for r := range 6 {
		i, wire := r%2, r%2 == 1
		s, err := sim.New(sim.Config{Protocol: p, Options: o, Nodes: nodes, Seed: 1, Wire: wire,
			Network: sim.Network{Default: sim.Link{Latency: sim.Presets["lan"], Loss: 0.01}}, MaxEvents: 1 << 62})
		if err != nil {
			return row, err
		}
		if workload != "heartbeat" {
			for t := 2 * time.Second; t < d; t += 4 * time.Second {
				id := ordo.NodeID(1 + int(t/time.Second)%nodes)
				s.At(t, func(s *sim.Sim) { s.Crash(id) })
				s.At(t+time.Second, func(s *sim.Sim) { s.Restart(id) })
			}
		}
		runtime.GC()
		start := time.Now()
		if err := s.RunFor(d); err != nil {
			return row, err
		}
		took[i] = min(took[i], time.Since(start))
		ev[i] = s.Stats().Events
		if wire {
			st := s.Stats()
			row.Messages = st.Sent
			if st.Sent > 0 {
				row.BytesPerMsg = float64(st.Bytes) / float64(st.Sent)
			}
		}
	}
	if ev[0] != ev[1] {
		return row, fmt.Errorf("bench sim: %s ran %s plain and %d in wire mode: the runs should be the same", workload, plural.Count(ev[0], "event"), ev[1])
	}
	row.Events = ev[1]
	row.PlainSeconds, row.WireSeconds = took[0].Seconds(), took[1].Seconds()
	row.Ratio = took[1].Seconds() / took[0].Seconds()
	return row, nil
}
