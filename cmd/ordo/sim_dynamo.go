package main

import (
	"fmt"
	"io"

	"ordo/internal/plural"
	"ordo/lab"
)

// lww-vs-vector is a built-in table of runs (issue 12): the lost-write and
// sibling tables of lab.SkewTable over skew and writers.
func init() {
	simScenes["lww-vs-vector"] = simScene{
		about: "acknowledged writes lost and siblings: last-write-wins vs DVV vs per-replica vector clocks, by clock skew and writers (sections 2-3)",
		seed:  lab.SkewSeed,
		run:   runLWWVsVector,
	}
}

func runLWWVsVector(w io.Writer, seed uint64) error {
	base, err := lab.LoadSkewBase()
	if err != nil {
		return err
	}
	cells, err := lab.SkewTable(seed, 0)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "lww-vs-vector (issue 12, sections 2-3): 2, 8 or 32 read-modify-write clients on %d servers (N=3, R=W=2),\n", base.Nodes)
	fmt.Fprintf(w, "two keys, a 2|3 partition from 1.5s to 2.5s, %v per run, every run with seed %d (scenarios/%s.yaml).\n", base.Duration, seed, lab.SkewBase)
	fmt.Fprintln(w, "skew S: server clocks spread over ±S/2, ±100 ppm drift, NTP every second to within ±S/2.")
	fmt.Fprintf(w, "\nthe scenario files (skew %v, %d writers: ordo sim lww-vs-vector-lww|dvv|vv):\n", lab.SkewOfFiles, lab.WritersOfFiles)
	for _, st := range lab.DynamoStrategies {
		c := lab.SkewCellOf(cells, st.Name, lab.SkewOfFiles, lab.WritersOfFiles)
		fmt.Fprintf(w, "  %-24s %4d of %4d acknowledged writes lost, %4d writes became siblings, largest sibling set %d (%d acknowledged)\n", st.Label+":", c.Lost, c.Acked, c.Siblings, c.MaxSiblings, c.MaxAcked)
	}
	fmt.Fprintln(w, "\nacknowledged writes lost (discarded by a replica before any get returned them), of those acknowledged:")
	if err := lab.WriteLostTable(w, cells); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nsiblings: writes a replica held beside another; the largest sibling set, and the most acknowledged writes")
	fmt.Fprintln(w, "in one set (a put that timed out in the partition can come back beside its writer's next write);")
	fmt.Fprintln(w, "! more acknowledged siblings than writers; ≥ puts were refused at max_siblings 256, the set would have grown:")
	if err := lab.WriteSiblingTable(w, cells); err != nil {
		return err
	}
	dvv, vv := 0, 0
	for _, c := range cells {
		switch {
		case c.Strategy == "dvv" && c.MaxAcked > c.Writers:
			dvv++
		case c.Strategy == "vv" && c.MaxAcked > c.Writers:
			vv++
		}
	}
	n := len(lab.SkewSteps) * len(lab.WriterSteps)
	fmt.Fprintf(w, "\nmore acknowledged siblings than writers: DVV in %d of %s, per-replica VV in %d of %d.\n", dvv, plural.Count(n, "run"), vv, n)
	return nil
}
