package lab

import (
	"fmt"
	"time"

	"ordo/election"
	"ordo/trace"
)

// ChurnRow is how often leadership changed at one loss rate: over Seeds
// runs of Duration each, LeaderChanges leaderships began after the first.
type ChurnRow struct {
	Loss          float64 `json:"loss"`
	Seeds         int     `json:"seeds"`
	Duration      string  `json:"duration"`
	LeaderChanges int     `json:"leader_changes"`
	PerMinute     float64 `json:"leader_changes_per_minute"`
}

// Churn measures leader changes against message loss (issue 9, case 5: a
// heartbeat only 3× below the election timeout churned leaders on a lossy
// network). Each run has n nodes, the given options, and loss on every
// link from time 0; seeds are 1..seeds. The result is per loss rate, in
// the order given. Errors: an invalid protocol, option or loss rate.
func Churn(protocol string, options map[string]string, n int, losses []float64, seeds int, d time.Duration) ([]ChurnRow, error) {
	if seeds < 1 || d <= 0 {
		return nil, fmt.Errorf("churn: need at least one seed and a positive duration")
	}
	var out []ChurnRow
	for _, loss := range losses {
		if loss < 0 || loss >= 1 {
			return nil, fmt.Errorf("churn: loss %v is not in [0, 1)", loss)
		}
		row := ChurnRow{Loss: loss, Seeds: seeds, Duration: d.String()}
		for seed := 1; seed <= seeds; seed++ {
			sp := Spec{Protocol: protocol, Options: options, Nodes: n, Seed: uint64(seed), Duration: d,
				Faults: []Fault{{At: 0, Kind: Loss, Rate: loss}}, Checks: []string{}}
			s, err := New(sp)
			if err != nil {
				return nil, err
			}
			starts := 0
			s.Observe(func(e *trace.Event) {
				if e.Kind == trace.Note && e.Name == election.NoteLeader {
					starts++
				}
			})
			if err := s.RunUntil(d); err != nil {
				return nil, err
			}
			row.LeaderChanges += max(starts-1, 0)
		}
		row.PerMinute = float64(row.LeaderChanges) / (float64(seeds) * d.Minutes())
		out = append(out, row)
	}
	return out, nil
}
