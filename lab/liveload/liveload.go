package liveload

import (
	"context"
	"errors"
	"fmt"
	"time"

	"ordo/lab"
	"ordo/live"
)

// Options of one live measurement: the load as the simulator would run
// it (Duration: of the load, after a warm-up; the cluster needs a moment
// to elect or to settle its first view), and where the cluster runs.
type Options struct {
	lab.ReplicationLoadConfig
	Dir    string // the cluster's directory (created; must be new)
	Binary string // the ordo binary (default: this executable)
}

// MaxDuration bounds a live measurement.
const MaxDuration = 10 * time.Minute

// Run starts the cluster with its clients, lets them run for Duration
// after a one-second warm-up, stops it and measures the merged trace:
// operations completed between the warm-up's end and the stop, their
// latency, messages and bytes per operation. Errors: bad options, a
// cluster that does not start, a trace that does not merge.
func Run(ctx context.Context, o Options) (*lab.ReplicationLoadResult, error) {
	client, err := lab.LoadClientOptions(o.ReplicationLoadConfig)
	if err != nil {
		return nil, err
	}
	if o.Duration <= 0 || o.Duration > MaxDuration {
		return nil, fmt.Errorf("duration %v: want (0, %v]", o.Duration, MaxDuration)
	}
	if o.Clients < 1 || o.Clients > lab.MaxLoadClients {
		return nil, fmt.Errorf("%d clients: want 1..%d", o.Clients, lab.MaxLoadClients)
	}
	if err := live.CheckSize(o.Nodes, o.Clients); err != nil {
		return nil, err
	}
	c, err := live.Up(live.UpOptions{N: o.Nodes, Protocol: o.Protocol, Options: o.Options, Clients: o.Clients, ClientOptions: client,
		Dir: o.Dir, Binary: o.Binary, Seed: o.Seed, LogLevel: "warn", DieWithParent: true})
	if err != nil {
		return nil, err
	}
	const warmUp = time.Second
	select {
	case <-time.After(warmUp + o.Duration):
	case <-ctx.Done():
		c.Down()
		return nil, ctx.Err()
	}
	t, err := c.DownAndMerge()
	if err != nil {
		return nil, err
	}
	// Measure the steady part only: drop what happened in the warm-up
	// (the trace's times count from the cluster's epoch, the start).
	from := int64(warmUp)
	kept := t.Events[:0]
	for _, e := range t.Events {
		if e.T >= from {
			kept = append(kept, e)
		}
	}
	t.Events = kept
	r, err := lab.LoadOfTrace(o.ReplicationLoadConfig, t)
	if err != nil {
		return nil, err
	}
	if r.Ops == 0 {
		return r, errors.New("no operation completed: see the cluster's logs in " + o.Dir)
	}
	r.Live = true
	return r, nil
}
