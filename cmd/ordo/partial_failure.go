package main

import (
	"fmt"
	"io"
	"sort"

	"github.com/spf13/cobra"

	"ordo/partial/scene"
)

// Built-in scenes of `ordo sim` that are tables of many runs rather than
// one scenario file (section 5, partial failure). They are resolved before
// the scenario files, by name.
var simScenes = map[string]simScene{
	"partial-failure": {
		about: "a non-idempotent transfer under each cause of a timeout and each retry strategy (section 5)",
		seed:  1,
		run: func(w io.Writer, seed uint64) error {
			rows, err := scene.Table(scene.DefaultScene, seed)
			if err != nil {
				return err
			}
			c := scene.DefaultScene
			fmt.Fprintf(w, "partial failure (section 5): one transfer A→B, client timeout %v, one-way latency %v;\n", c.Timeout, c.Latency)
			fmt.Fprintf(w, "slow server: %v per event; crashed server: back after %v; APPLIED is the server's truth.\n\n", c.Slow, c.Down)
			return scene.WriteTable(w, rows)
		},
	},
	"backoff-contention": {
		about: "N clients writing one value by compare-and-set: total calls and completion per backoff (section 5)",
		seed:  1,
		run: func(w io.Writer, seed uint64) error {
			rows, err := scene.ContentionTable(scene.DefaultContention, seed)
			if err != nil {
				return err
			}
			c := scene.DefaultContention
			fmt.Fprintf(w, "backoff under contention (section 5): each client writes once by compare-and-set; base %v, cap %v,\n", c.Base, c.Cap)
			fmt.Fprintf(w, "datacenter latency (%v one way), the resource takes %v per request; simulated time.\n\n", c.Latency.Mean(), c.Service)
			return scene.WriteContention(w, rows)
		},
	},
	"timeout-tuning": {
		about: "timeouts at p50/p99/p99.9 of measured round trips and φ detectors: false suspicions vs detection (section 5)",
		seed:  1,
		run: func(w io.Writer, seed uint64) error {
			rows, err := scene.TimeoutTable(scene.DefaultTimeouts, seed)
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "timeouts tuned from data (section 5): round trips measured with seed %d, judged on a fresh run (seed %d)\n", seed, seed+1)
			fmt.Fprintf(w, "whose peer crashes just after a probe leaves; probes every %v (lan) and %v (intercontinental).\n\n", scene.DefaultTimeouts[0].Interval, scene.DefaultTimeouts[1].Interval)
			return scene.WriteTimeouts(w, rows)
		},
	},
}

type simScene struct {
	about string
	seed  uint64 // the default seed
	run   func(w io.Writer, seed uint64) error
}

// runSimScene runs a built-in scene for `ordo sim NAME`; ok is false when
// name is no scene (then it is a scenario file or name).
func runSimScene(cmd *cobra.Command, name string, seed uint64) (ok bool, err error) {
	sc, ok := simScenes[name]
	if !ok {
		return false, nil
	}
	for _, f := range []string{"trace", "json", "diagram", "clients", "max-events"} {
		if cmd.Flags().Changed(f) {
			return true, fmt.Errorf("%s is a table of many runs: --%s does not apply (only --seed does)", name, f)
		}
	}
	if !cmd.Flags().Changed("seed") {
		seed = sc.seed
	}
	out := cmd.OutOrStdout()
	if err := sc.run(out, seed); err != nil {
		return true, err
	}
	fmt.Fprintf(out, "\nseed %d; replay: ordo sim %s --seed %d\n", seed, name, seed)
	return true, nil
}

// simSceneNames lists the scenes, sorted.
func simSceneNames() []string {
	var n []string
	for k := range simScenes {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}
