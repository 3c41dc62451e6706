package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"math"
	"slices"
	"time"
)

// WriteTable prints one line per cell (medians over the repetitions) and
// the failover figures, for a terminal.
func WriteTable(w io.Writer, r *Result) error {
	bw := bufio.NewWriter(w)
	cfg := r.Config
	fmt.Fprintf(bw, "ordo: %s\netcd: %s\n", cfg.Ordo.About, cfg.Etcd.About)
	if len(r.Cells) > 0 {
		fmt.Fprintf(bw, "puts of %d-byte values over %d random keys; %v measured after %v warm-up; median of %d rep(s), systems interleaved; filesystem %s\n\n",
			cfg.ValueSize, cfg.Keys, cfg.Duration, cfg.Warmup, cfg.Reps, r.Filesystem)
	} else {
		fmt.Fprintf(bw, "puts of %d-byte values over %d random keys; filesystem %s\n", cfg.ValueSize, cfg.Keys, r.Filesystem)
	}
	if len(r.Cells) > 0 {
		fmt.Fprintf(bw, "%5s %7s | %10s %10s %7s | %-24s | %-24s | %s\n", "nodes", "clients", "ordo op/s", "etcd op/s", "ratio",
			"ordo p50/p99/max ms", "etcd p50/p99/max ms", "errors ordo/etcd")
		for _, c := range r.Cells {
			fmt.Fprintf(bw, "%5d %7d | %10.0f %10.0f %6.2fx | %-24s | %-24s | %d/%d\n", c.Nodes, c.Clients, c.OrdoOpsPerS, c.EtcdOpsPerS, c.Ratio,
				lat3(c.OrdoP50Ms, c.OrdoP99Ms, c.OrdoMaxMs), lat3(c.EtcdP50Ms, c.EtcdP99Ms, c.EtcdMaxMs), c.OrdoErrors, c.EtcdErrors)
			if b := c.Rounds; b != nil {
				fmt.Fprintf(bw, "%14s %-15s %8s %9s %9s %9s   ordo's leader %v, %d rounds\n", "", "round segment", "samples", "p50 µs", "p90 µs", "mean µs", b.Leader, b.Rounds)
				for _, s := range b.Segments {
					fmt.Fprintf(bw, "%14s %-15s %8d %9.1f %9.1f %9.1f\n", "", s.Name, s.N, us(s.P50), us(s.P90), us(s.Mean))
				}
			}
		}
		if r.Cells[0].OrdoServerCPUUs > 0 {
			fmt.Fprintf(bw, "\nCPU time per acknowledged put (µs; servers: all nodes' processes, client: the bench's process), and ordo's puts per HTTP request\n")
			fmt.Fprintf(bw, "%5s %7s | %12s %12s | %12s %12s | %s\n", "nodes", "clients", "ordo servers", "etcd servers", "ordo client", "etcd client", "ordo puts/request")
			for _, c := range r.Cells {
				batch := "1 (unbatched)"
				if c.OrdoPutsPerRequest > 0 {
					batch = fmt.Sprintf("%.1f", c.OrdoPutsPerRequest)
				}
				fmt.Fprintf(bw, "%5d %7d | %12.0f %12.0f | %12.0f %12.0f | %s\n", c.Nodes, c.Clients, c.OrdoServerCPUUs, c.EtcdServerCPUUs, c.OrdoClientCPUUs, c.EtcdClientCPUUs, batch)
			}
		}
		if cfg.Reps > 1 {
			fmt.Fprintln(bw, "\nratio per rep:")
			for _, c := range r.Cells {
				fmt.Fprintf(bw, "  %d nodes, %2d clients:", c.Nodes, c.Clients)
				for _, x := range c.Ratios {
					fmt.Fprintf(bw, " %.2f", x)
				}
				fmt.Fprintln(bw)
			}
		}
	}
	if f := r.Failover; f != nil {
		fmt.Fprintf(bw, "\nfailover, %d nodes, %d clients writing: SIGKILL of the leader to the next acknowledged put (invoked after the kill)\n", f.Nodes, f.Clients)
		fmt.Fprintf(bw, "%6s %7s %10s %10s %10s\n", "", "rounds", "p50 ms", "p99 ms", "max ms")
		for _, x := range []struct {
			name string
			s    FailoverStats
		}{{"ordo", f.Ordo}, {"etcd", f.Etcd}} {
			fmt.Fprintf(bw, "%6s %7d %10.1f %10.1f %10.1f\n", x.name, x.s.Rounds, x.s.P50Ms, x.s.P99Ms, x.s.MaxMs)
		}
	}
	if r.Warning != "" {
		fmt.Fprintf(bw, "\nwarning: %s\n", r.Warning)
	}
	return bw.Flush()
}

func us(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }

func lat3(p50, p99, mx float64) string {
	return fmt.Sprintf("%.2f / %.2f / %.1f", p50, p99, mx)
}

// WriteJSON writes one JSON object a line: one per cell (nodes, clients,
// ordo_ops_per_s, etcd_ops_per_s, ratio, ordo_p99_ms, etcd_p99_ms and
// more; "rounds" with Config.Rounds: kv.RoundBreakdown), then {"failover": {...}} if failover rounds ran.
func WriteJSON(w io.Writer, r *Result) error {
	enc := json.NewEncoder(w)
	for _, c := range r.Cells {
		if err := enc.Encode(c); err != nil {
			return err
		}
	}
	if r.Failover != nil {
		return enc.Encode(struct {
			Failover *Failover `json:"failover"`
		}{r.Failover})
	}
	return nil
}

// colors of the systems in the picture, by name (others: grey).
var colors = map[string]string{"ordo": "#1f77b4", "etcd": "#e6770b"}

func color(system string) string {
	if c, ok := colors[system]; ok {
		return c
	}
	return "#777777"
}

// WriteSVG draws latency over time, one panel per cell (both systems'
// first repetition overlaid, time from the end of the warm-up) and one
// per system's failover rounds with each fault period — SIGKILL of the
// leader to the next acknowledged put — shaded, as Jepsen's performance
// graphs do. Latency is on a log scale.
func WriteSVG(w io.Writer, r *Result) error {
	type panel struct {
		title  string
		series []Series
	}
	var panels []*panel
	byTitle := map[string]*panel{}
	for _, s := range r.Series {
		p := byTitle[s.Title]
		if p == nil {
			p = &panel{title: s.Title}
			byTitle[s.Title] = p
			panels = append(panels, p)
		}
		p.series = append(p.series, s)
	}
	const (
		W, left, right = 960.0, 70.0, 20.0
		ph, gap, top   = 240.0, 60.0, 40.0
	)
	H := top + float64(len(panels))*(ph+gap)
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" font-family="sans-serif" font-size="12">`+"\n", W, H)
	fmt.Fprintf(bw, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	title := r.Title
	if title == "" {
		title = "ordo bench kv: put latency over time (log scale)"
	}
	fmt.Fprintf(bw, `<text x="%.0f" y="20" font-size="14">%s`, left, html.EscapeString(title))
	var systems []string
	for _, s := range r.Series {
		if !slices.Contains(systems, s.System) {
			systems = append(systems, s.System)
		}
	}
	for i, name := range systems {
		fmt.Fprintf(bw, `<tspan x="%.0f" fill="%s"> ● %s</tspan>`, W-200+float64(i)*80, color(name), html.EscapeString(name))
	}
	fmt.Fprintln(bw, `</text>`)
	for pi, p := range panels {
		y0 := top + float64(pi)*(ph+gap) + 20
		endMs, lo, hi := 1.0, math.Inf(1), 0.0
		for _, s := range p.series {
			endMs = math.Max(endMs, s.EndMs)
			for _, pt := range s.Points {
				endMs = math.Max(endMs, pt.TMs)
				lo, hi = math.Min(lo, pt.LatMs), math.Max(hi, pt.LatMs)
			}
		}
		if hi == 0 {
			lo, hi = 0.1, 10
		}
		lo = math.Pow(10, math.Floor(math.Log10(math.Max(lo, 0.01))))
		hi = math.Pow(10, math.Ceil(math.Log10(math.Max(hi, lo*10))))
		x := func(t float64) float64 { return left + (W-left-right)*math.Max(0, t)/endMs }
		y := func(l float64) float64 {
			l = math.Min(math.Max(l, lo), hi)
			return y0 + ph - ph*(math.Log10(l)-math.Log10(lo))/(math.Log10(hi)-math.Log10(lo))
		}
		fmt.Fprintf(bw, `<text x="%.0f" y="%.0f" font-size="13">%s</text>`+"\n", left, y0-8, html.EscapeString(p.title))
		for _, s := range p.series {
			for _, f := range s.Faults {
				label := f.Label
				if label == "" {
					label = fmt.Sprintf("%s: leader killed, %.0f ms to the next acknowledged put", s.System, f.ToMs-f.FromMs)
				}
				fmt.Fprintf(bw, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.0f" fill="#d62728" fill-opacity="0.18"><title>%s</title></rect>`+"\n",
					x(f.FromMs), y0, math.Max(1, x(f.ToMs)-x(f.FromMs)), ph, html.EscapeString(label))
			}
		}
		fmt.Fprintf(bw, `<rect x="%.0f" y="%.0f" width="%.0f" height="%.0f" fill="none" stroke="#444"/>`+"\n", left, y0, W-left-right, ph)
		for d := lo; d <= hi*1.0001; d *= 10 {
			fmt.Fprintf(bw, `<line x1="%.0f" x2="%.0f" y1="%.1f" y2="%.1f" stroke="#ddd"/><text x="%.0f" y="%.1f" text-anchor="end">%s ms</text>`+"\n",
				left, W-right, y(d), y(d), left-6, y(d)+4, trimFloat(d))
		}
		step := niceStep(endMs / 1000)
		for t := 0.0; t <= endMs/1000+1e-9; t += step {
			fmt.Fprintf(bw, `<text x="%.1f" y="%.0f" text-anchor="middle">%ss</text>`+"\n", x(t*1000), y0+ph+16, trimFloat(t))
		}
		for _, s := range p.series {
			fmt.Fprintf(bw, `<g fill="%s" fill-opacity="0.45">`, color(s.System))
			for _, pt := range s.Points {
				fmt.Fprintf(bw, `<circle cx="%.1f" cy="%.1f" r="1.6"/>`, x(pt.TMs), y(pt.LatMs))
			}
			fmt.Fprintln(bw, `</g>`)
		}
	}
	fmt.Fprintln(bw, `</svg>`)
	return bw.Flush()
}

// niceStep is a tick step (1, 2 or 5 × 10^k) giving at most ~10 ticks over span.
func niceStep(span float64) float64 {
	if span <= 0 {
		return 1
	}
	raw := span / 10
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

func trimFloat(f float64) string { return fmt.Sprintf("%g", math.Round(f*1000)/1000) }
