package main

import (
	"fmt"
	"io"
	"time"

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
	fmt.Fprintf(w, "failover after SIGKILL of the leader: p50 %.1f ms, p99 %.1f ms, max %.1f ms%s\n", rep.P50Ms, rep.P99Ms, rep.MaxMs,
		leftOut(measured(rep.FailoverMs), len(rep.FailoverMs), "rounds", why))
	fmt.Fprintf(w, "failover after cutting the leader off: p50 %.1f ms%s\n", rep.PartitionP50Ms,
		leftOut(measured(rep.PartitionFailoverMs), len(rep.PartitionFailoverMs), "rounds", why))
	if rep.Ops != nil {
		fmt.Fprintf(w, "write failover (SIGKILL of the leader to the next acknowledged write): p50 %.1f ms, p99 %.1f ms%s\n", rep.WriteP50Ms, rep.WriteP99Ms,
			leftOut(measured(rep.WriteFailoverMs), len(rep.WriteFailoverMs), "rounds", "no write acknowledged after the kill"))
		fmt.Fprintf(w, "client operations: %d ok, %d fail, %d info (outcome unknown)\n", rep.Ops["ok"], rep.Ops["fail"], rep.Ops["info"])
	}
}
