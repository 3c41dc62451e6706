package scene

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"

	"ordo"
	"ordo/detect"
	"ordo/measure"
	"ordo/partial"
	"ordo/sim"
)

// TimeoutConfig is the stage of one link's rows.
type TimeoutConfig struct {
	Preset   string        // a sim.Preset name
	Interval time.Duration // between probes
	Probes   int           // per run
	Phi      []float64     // φ thresholds to judge
}

// DefaultTimeouts are the rows of `ordo sim timeout-tuning`.
var DefaultTimeouts = []TimeoutConfig{
	{Preset: "lan", Interval: 10 * time.Millisecond, Probes: 10000, Phi: []float64{3, 8}},
	{Preset: "intercontinental", Interval: 500 * time.Millisecond, Probes: 10000, Phi: []float64{3, 8}},
}

// TimeoutRow is one detector judged on one link.
type TimeoutRow struct {
	Preset   string
	Detector string        // "timeout p50", "phi 8", ...
	Timeout  time.Duration // the fixed timeout (0 for φ)
	False    int           // suspicions of the live peer
	Probes   int           // probes answered before the crash
	Detect   time.Duration // from the crash to the first suspicion
	Seed     uint64
}

// probeRun runs the monitor for cfg.Probes probes; crash > 0 crashes n2
// just after that probe (1-based) left, while it is in flight.
func probeRun(cfg TimeoutConfig, seed uint64, crash int) (*partial.Probe, time.Duration, error) {
	lat, err := sim.Preset(cfg.Preset)
	if err != nil {
		return nil, 0, err
	}
	opts, err := partial.ProbeProtocol.Resolve(map[string]string{"interval": cfg.Interval.String(), "count": fmt.Sprint(cfg.Probes)})
	if err != nil {
		return nil, 0, err
	}
	s, err := sim.New(sim.Config{Protocol: partial.ProbeProtocol, Options: opts, Nodes: 2, Seed: seed, Name: "timeout-tuning",
		Network: sim.Network{Default: sim.Link{Latency: lat}}})
	if err != nil {
		return nil, 0, err
	}
	var crashAt time.Duration
	if crash > 0 {
		// Probes leave at k·Interval (n1's clock is ideal); the crash
		// comes a quarter of a one-way trip later.
		crashAt = time.Duration(crash)*cfg.Interval + lat.Mean()/4
		s.At(crashAt, func(s *sim.Sim) { s.Crash(2) })
	}
	if err := s.RunFor(time.Duration(cfg.Probes+1)*cfg.Interval + 100*cfg.Interval); err != nil {
		return nil, 0, err
	}
	return s.Node(1).(*partial.Probe), crashAt, nil
}

// RoundTrips measures the link of cfg: every answered probe's round trip,
// sorted.
func RoundTrips(cfg TimeoutConfig, seed uint64) ([]time.Duration, error) {
	rtt, _, err := measureLink(cfg, seed)
	return rtt, err
}

// measureLink returns the sorted round trips and the sorted gaps between
// successive answers (what a heartbeat detector sees) of one run.
func measureLink(cfg TimeoutConfig, seed uint64) (rtt, gaps []time.Duration, err error) {
	p, _, err := probeRun(cfg, seed, 0)
	if err != nil {
		return nil, nil, err
	}
	for i, b := range p.Back {
		if b >= 0 {
			rtt = append(rtt, b-p.Sent[i])
		}
	}
	arr := arrivals(p)
	for i := 1; i < len(arr); i++ {
		gaps = append(gaps, arr[i]-arr[i-1])
	}
	slices.Sort(rtt)
	slices.Sort(gaps)
	return rtt, gaps, nil
}

// arrivals are the monitor's answer times, in order.
func arrivals(p *partial.Probe) []time.Duration {
	var a []time.Duration
	for _, b := range p.Back {
		if b >= 0 {
			a = append(a, b)
		}
	}
	slices.Sort(a)
	return a
}

// judgeSilence feeds a silence-based detector of package detect every
// answer of arr and counts its false suspicions (suspected just before an
// answer: at some point of the gap it ends, since suspicion only grows
// with silence), then finds when it suspects the peer after the crash (to
// the microsecond, by bisection). row.Probes is len(arr).
func judgeSilence(row TimeoutRow, d detect.Detector, arr []time.Duration, crashAt, horizon time.Duration) TimeoutRow {
	const peer = 2
	row.Probes = len(arr)
	for _, a := range arr {
		if a > 0 && d.Suspect(peer, a-1) {
			row.False++
		}
		d.Heard(peer, a)
	}
	lo := crashAt
	if len(arr) > 0 {
		lo = max(arr[len(arr)-1], crashAt)
	}
	if d.Suspect(peer, lo) {
		row.Detect = lo - crashAt
		return row
	}
	hi := lo + horizon
	if !d.Suspect(peer, hi) {
		row.Detect = -1 // never, within the horizon
		return row
	}
	for hi-lo > time.Microsecond {
		mid := lo + (hi-lo)/2
		if d.Suspect(peer, mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	row.Detect = hi - crashAt
	return row
}

// Quantiles are the table's percentiles of the measured round trip.
var Quantiles = []struct {
	Name string
	P    float64 // percent, as measure.Percentile takes it
}{{"p50", 50}, {"p99", 99}, {"p99.9", 99.9}}

// JudgeTimeouts measures cfg's link with seed, then judges on a second
// run (seed+1), whose peer crashes after its last probe but ten:
//
//   - "timeout pX": a request timeout at pX of the measured round trips;
//     a probe without its answer in time is a suspicion;
//   - "heartbeat pX": detect.Heartbeat, the fixed detector, suspecting a
//     silence longer than pX of the measured gaps between answers;
//   - "phi T": detect.Phi, the φ accrual detector, at threshold T.
func JudgeTimeouts(cfg TimeoutConfig, seed uint64) ([]TimeoutRow, error) {
	rtt, gaps, err := measureLink(cfg, seed)
	if err != nil {
		return nil, err
	}
	crash := cfg.Probes - 10
	p, crashAt, err := probeRun(cfg, seed+1, crash)
	if err != nil {
		return nil, err
	}
	horizon := 1000 * cfg.Interval
	var rows []TimeoutRow
	for _, q := range Quantiles {
		t := measure.Percentile(rtt, q.P)
		row := TimeoutRow{Preset: cfg.Preset, Detector: "timeout " + q.Name, Timeout: t, Seed: seed, Detect: -1}
		for i, s := range p.Sent {
			answered := p.Back[i] >= 0
			if answered {
				row.Probes++
			}
			if answered && p.Back[i]-s <= t {
				continue
			}
			// This probe timed out at s+t.
			if s+t < crashAt {
				row.False++
			} else if row.Detect < 0 {
				row.Detect = s + t - crashAt
			}
		}
		rows = append(rows, row)
	}
	arr := arrivals(p)
	peers := []ordo.NodeID{2}
	for _, q := range Quantiles {
		t := measure.Percentile(gaps, q.P)
		row := TimeoutRow{Preset: cfg.Preset, Detector: "heartbeat " + q.Name, Timeout: t, Seed: seed}
		rows = append(rows, judgeSilence(row, detect.NewHeartbeat(peers, t, 0), arr, crashAt, horizon))
	}
	for _, th := range cfg.Phi {
		row := TimeoutRow{Preset: cfg.Preset, Detector: fmt.Sprintf("phi %g", th), Seed: seed}
		d := detect.NewPhi(peers, detect.PhiConfig{Threshold: th, Expected: cfg.Interval}, 0)
		rows = append(rows, judgeSilence(row, d, arr, crashAt, horizon))
	}
	return rows, nil
}

// TimeoutTable judges every link of cfgs.
func TimeoutTable(cfgs []TimeoutConfig, seed uint64) ([]TimeoutRow, error) {
	var rows []TimeoutRow
	for _, c := range cfgs {
		r, err := JudgeTimeouts(c, seed)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.Preset, err)
		}
		rows = append(rows, r...)
	}
	return rows, nil
}

// WriteTimeouts prints the table.
func WriteTimeouts(w io.Writer, rows []TimeoutRow) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "LINK\tDETECTOR\tTIMEOUT\tFALSE SUSPICIONS\tPROBES\tDETECTION AFTER CRASH")
	for _, r := range rows {
		t := "-"
		if r.Timeout > 0 {
			t = r.Timeout.Round(time.Microsecond).String()
		}
		det := "never"
		if r.Detect >= 0 {
			det = r.Detect.Round(time.Microsecond).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d (%.2f%%)\t%d\t%s\n", r.Preset, r.Detector, t, r.False,
			100*float64(r.False)/float64(max(r.Probes, 1)), r.Probes, det)
	}
	return tw.Flush()
}
