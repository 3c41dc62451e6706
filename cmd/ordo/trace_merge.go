package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"ordo/internal/plural"
	"ordo/live"
)

func init() { traceCommands = append(traceCommands, newTraceMergeCmd) }

func newTraceMergeCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "merge DIR",
		Short: "merge the per-node traces of a live cluster into one trace",
		Long: `Merge the trace files of a live cluster's nodes (DIR/nodeN/trace.jsonl, and
the cluster's fault log DIR/faults.jsonl) into one trace that ordo trace
diagram, ordo trace why and the checkers read. DIR is the cluster directory
(it holds cluster.yaml), or a cluster.yaml file.

Each node's events keep their order; a receive always follows its send;
otherwise events are ordered by wall-clock time since the cluster's epoch
(the nodes of a local cluster share one clock). A node killed with
ordo cluster kill gets its crash event at the moment of the kill.

On a running cluster the files are read one after another, so a node's
file may hold the receive of a message its sender sent after ordo read the
sender's file. ordo reads that sender again to be sure, and ends the
receiver's part just before that receive (and, in turn, the parts that
received what was left out): the merged trace is a consistent cut of the
run so far, never a receive without its send. Merge again, or after
ordo cluster down, for the whole run.`,
		Example: `  ordo trace merge .ordo-cluster --output run.jsonl
  ordo trace diagram run.jsonl`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0]
			if st, err := os.Stat(path); err == nil && st.IsDir() {
				path = filepath.Join(path, live.ConfigFileName)
			}
			cfg, err := live.LoadConfig(path)
			if err != nil {
				return err
			}
			t, err := live.Merge(cfg)
			if err != nil {
				return err
			}
			if out == "" || out == "-" {
				return t.Write(cmd.OutOrStdout())
			}
			if err := t.WriteFile(out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%s from %s → %s\n", plural.Count(len(t.Events), "event"), plural.Count(t.Meta.Nodes, "node"), out)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "write the merged trace here (default: stdout)")
	outputShorthandDeprecated(cmd.Flags())
	return cmd
}
