package main

import (
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/spf13/cobra"

	"ordo"
	"ordo/live"
)

func init() { commands = append(commands, newNodeCmd) }

func newNodeCmd() *cobra.Command {
	var (
		config string
		id     int
		hold   bool
	)
	cmd := &cobra.Command{
		Use:   "node --config CLUSTER.yaml --id N",
		Short: "run one node of a live cluster as this process",
		Long: `Run node N of the cluster described by CLUSTER.yaml (written by
ordo cluster up, or by hand: see docs/live.md) as this process: real TCP to
its peers, real timers, its state on disk (fsync before every write returns),
its trace in DIR/trace.jsonl and an admin endpoint on loopback (GET /status,
GET /metrics, POST /faults, POST /heal).

SIGTERM or Ctrl-C stops the node gracefully; SIGKILL is a real crash, after
which the node restarts from its disk. A failing disk stops the node
(fail-stop, exit status 1).

With ORDO_NODE_CPUPROFILE=PREFIX in its environment (inherited from ordo
cluster up and ordo bench kv, which start the nodes), the node writes a Go
CPU profile of its whole run to PREFIX-nN.prof when it stops gracefully
(go tool pprof reads it; a SIGKILLed node leaves an empty file).`,
		Example: `  ordo node --config .ordo-cluster/cluster.yaml --id 3`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := live.LoadConfig(config)
			if err != nil {
				return err
			}
			rt, err := live.Start(cfg, ordo.NodeID(id), live.Options{Hold: hold})
			if err != nil {
				return err
			}
			if prefix := os.Getenv("ORDO_NODE_CPUPROFILE"); prefix != "" {
				stop, err := startCPUProfile(fmt.Sprintf("%s-n%d.prof", prefix, id))
				if err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "node %d: no CPU profile: %v\n", id, err)
				} else {
					defer stop()
				}
			}
			sig := make(chan os.Signal, 1)
			signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
			defer signal.Stop(sig)
			select {
			case s := <-sig:
				fmt.Fprintf(cmd.ErrOrStderr(), "node %d: %v, stopping\n", id, s)
				return rt.Stop()
			case <-rt.Done():
				if err := rt.Stop(); err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "node %d: %v\n", id, err)
				}
				return exitCode(1)
			}
		},
	}
	cmd.Flags().StringVar(&config, "config", "", "the cluster file (required)")
	cmd.Flags().IntVar(&id, "id", 0, "this node's id, 1..N (required)")
	cmd.Flags().BoolVar(&hold, "hold", false, "start the protocol only at POST /release on the admin endpoint (ordo cluster run holds its clients so that their scripts and its faults count from one moment)")
	cmd.MarkFlagRequired("config")
	cmd.MarkFlagRequired("id")
	return cmd
}

// startCPUProfile profiles this process into path until stop is called.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
