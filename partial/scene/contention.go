package scene

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"ordo"
	"ordo/partial"
	"ordo/sim"
)

// ContentionConfig is the stage of the contention scene.
type ContentionConfig struct {
	Clients []int    // the N of each group of rows
	Latency sim.Dist // every link, one way
	Base    time.Duration
	Cap     time.Duration
	// Service is the resource's time per request: retries are load.
	Service time.Duration
	Limit   time.Duration // a run stops here (every client should be done)
}

// DefaultContention is the stage of `ordo sim backoff-contention`: a
// datacenter network (0.5 ms one way), a base of one round trip.
var DefaultContention = ContentionConfig{
	Clients: []int{10, 50, 100},
	Latency: sim.Presets["datacenter"],
	Base:    time.Millisecond,
	Cap:     time.Second,
	Service: 100 * time.Microsecond,
	Limit:   10 * time.Minute,
}

// ContentionRow is one line of the table.
type ContentionRow struct {
	Clients  int
	Backoff  partial.Backoff
	Calls    int           // CAS requests of every client, retries included
	Done     int           // clients whose write succeeded
	Complete time.Duration // when the last write succeeded
	Seed     uint64
}

// Contend runs n contenders with backoff b, seeded by seed.
func Contend(cfg ContentionConfig, n int, b partial.Backoff, seed uint64) (ContentionRow, error) {
	if n < 1 || n > sim.MaxNodes-1 {
		return ContentionRow{}, fmt.Errorf("partial: %d contenders out of range 1..%d", n, sim.MaxNodes-1)
	}
	opts, err := partial.ContenderProtocol.Resolve(map[string]string{"backoff": string(b), "base": cfg.Base.String(), "cap": cfg.Cap.String()})
	if err != nil {
		return ContentionRow{}, err
	}
	s, err := sim.New(sim.Config{
		Protocol: partial.ResourceProtocol, Nodes: 1, Seed: seed, Name: "backoff-contention",
		Network: sim.Network{Default: sim.Link{Latency: cfg.Latency}},
		Clients: []sim.ClientGroup{{Protocol: partial.ContenderProtocol, Options: opts, Count: n}},
		SpeedOf: map[ordo.NodeID]time.Duration{1: cfg.Service},
	})
	if err != nil {
		return ContentionRow{}, err
	}
	if err := s.RunFor(cfg.Limit); err != nil {
		return ContentionRow{}, err
	}
	row := ContentionRow{Clients: n, Backoff: b, Seed: seed}
	for _, id := range s.Roster().Clients {
		c := s.Node(id).(*partial.Contender)
		row.Calls += c.Calls
		if c.Done {
			row.Done++
			row.Complete = max(row.Complete, c.Took)
		}
	}
	return row, nil
}

// ContentionTable runs every backoff for every N of cfg.
func ContentionTable(cfg ContentionConfig, seed uint64) ([]ContentionRow, error) {
	var rows []ContentionRow
	for _, n := range cfg.Clients {
		for _, b := range partial.Backoffs {
			r, err := Contend(cfg, n, b, seed)
			if err != nil {
				return nil, fmt.Errorf("%d clients, %s: %w", n, b, err)
			}
			rows = append(rows, r)
		}
	}
	return rows, nil
}

// WriteContention prints the table; calls per client shows the work.
func WriteContention(w io.Writer, rows []ContentionRow) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CLIENTS\tBACKOFF\tTOTAL CALLS\tCALLS/CLIENT\tDONE\tCOMPLETION")
	for _, r := range rows {
		fmt.Fprintf(tw, "%d\t%s\t%d\t%.1f\t%d/%d\t%v\n", r.Clients, r.Backoff, r.Calls,
			float64(r.Calls)/float64(r.Clients), r.Done, r.Clients, r.Complete.Round(10*time.Microsecond))
	}
	return tw.Flush()
}
