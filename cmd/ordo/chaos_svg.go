package main

import (
	"fmt"
	"os"

	"ordo/internal/plural"
	"ordo/kv/bench"
	"ordo/live"
)

// writeChaosSVG draws a chaos run's client latencies over time with its
// faults shaded (kv/bench's picture, as Jepsen's performance graphs).
func writeChaosSVG(path string, rep *live.ChaosReport) error {
	s := bench.Series{Title: fmt.Sprintf("%s, %s", plural.Count(rep.Nodes, "server"), plural.Count(rep.Rounds, "round")), System: "ordo"}
	origin := -1.0
	for _, p := range rep.Latencies {
		if origin < 0 || p.AtMs < origin {
			origin = p.AtMs
		}
	}
	for _, p := range rep.Latencies {
		s.Points = append(s.Points, bench.Point{TMs: p.AtMs - origin, LatMs: p.LatencyMs})
		s.EndMs = max(s.EndMs, p.AtMs-origin+p.LatencyMs)
	}
	for _, f := range rep.Periods {
		label := fmt.Sprintf("%s: %.0f ms", f.Kind, f.ToMs-f.FromMs)
		if f.Kind == "kill" {
			label = fmt.Sprintf("leader killed: %.0f ms to the next acknowledged write", f.ToMs-f.FromMs)
		}
		s.Faults = append(s.Faults, bench.Fault{FromMs: f.FromMs - origin, ToMs: f.ToMs - origin, Label: label})
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := bench.WriteSVG(f, &bench.Result{Series: []bench.Series{s}, Title: "ordo cluster chaos: client operation latency over time (log scale; faults shaded)"}); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
