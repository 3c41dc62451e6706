package main

import (
	"fmt"
	"io"
	"time"

	"ordo/internal/plural"
	"ordo/live"
	"ordo/measure"
)

// leftOut is what a percentile over measured of total runs must say: how
// many it leaves out and why ("" when it leaves out none). A p99 over the
// runs that happened to finish is not a p99 of the campaign.
func leftOut(measured, total int, unit, why string) string {
	if measured == total {
		return ""
	}
	return fmt.Sprintf("  (over %d of %d %s; %d left out: %s)", measured, total, unit, total-measured, why)
}

// writeFailoverTimes prints `ordo bench elect --failover`'s two lines:
// the percentiles of the seeds that elected a new leader (elected) and of
// those where every node came to follow it (agreed), each saying how many
// of the seeds it leaves out.
func writeFailoverTimes(w io.Writer, seeds int, elected, agreed []time.Duration) {
	line := func(what string, ds []time.Duration, why string) {
		fmt.Fprintf(w, "%-52sp50 %v  p99 %v  max %v%s\n", what, fmtDur(measure.Percentile(ds, 50)),
			fmtDur(measure.Percentile(ds, 99)), fmtDur(measure.Percentile(ds, 100)), leftOut(len(ds), seeds, "seeds", why))
	}
	line("time from the crash to the new leader's election:", elected, "no new leader within 3s")
	line("time from the crash until every node follows it:", agreed, "no new leader, or not every node followed it within 3s")
}

// writeChaosFailover prints `ordo cluster chaos`'s failover lines; a
// round whose failover the merged trace could not measure (negative) is
// left out of the percentiles, and the line says so.
func writeChaosFailover(w io.Writer, rep *live.ChaosReport) {
	measured := func(xs []float64) int {
		n := 0
		for _, x := range xs {
			if x >= 0 {
				n++
			}
		}
		return n
	}
	const why = "no majority-acknowledged leader found in the merged trace"
	line := func(what string, xs []float64, p50, p99, mx float64, showMax bool, why string) {
		n := measured(xs)
		if n == 0 {
			// No percentile of nothing: 0.0 ms would read as instant.
			fmt.Fprintf(w, "%s: not measured in any of %s (%s)\n", what, plural.Count(len(xs), "round"), why)
			return
		}
		fmt.Fprintf(w, "%s: p50 %.1f ms, p99 %.1f ms", what, p50, p99)
		if showMax {
			fmt.Fprintf(w, ", max %.1f ms", mx)
		}
		fmt.Fprintf(w, "%s\n", leftOut(n, len(xs), "rounds", why))
	}
	line("failover after SIGKILL of the leader", rep.FailoverMs, rep.P50Ms, rep.P99Ms, rep.MaxMs, true, why)
	line("failover after cutting the leader off", rep.PartitionFailoverMs, rep.PartitionP50Ms, rep.PartitionP99Ms, 0, false, why)
	if rep.Ops != nil {
		line("write failover (SIGKILL of the leader to the next acknowledged write)", rep.WriteFailoverMs, rep.WriteP50Ms, rep.WriteP99Ms, 0, false, "no write acknowledged after the kill")
		fmt.Fprintf(w, "client operations: %d ok, %d fail, %d info (outcome unknown)\n", rep.Ops["ok"], rep.Ops["fail"], rep.Ops["info"])
	}
}
