package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"ordo/internal/plural"
	"ordo/live"
)

func init() { benchCommands = append(benchCommands, newBenchStorageCmd) }

func newBenchStorageCmd() *cobra.Command {
	var (
		dir      string
		writers  int
		value    int
		duration time.Duration
		asJSON   bool
	)
	cmd := &cobra.Command{
		Use:   "storage",
		Short: "measure the live disk store: group commit against one fsync a write",
		Long: `Measure the live runtime's disk store (an append-only log of checksummed
records) on the disk under --dir, in the same run:

  fsync_per_write_writes_per_s  one writer, one commit (one fsync) a write
  batched_writes_per_s          --writers closed-loop writers, each waiting until
                                its write is durable, through the event loop's
                                group commit (a turn of up to 256 events, one
                                record an event, one fsync a turn, replies
                                released after it)
  ratio                         batched / fsync-per-write

The store lives in a fresh directory under --dir, removed afterwards. On
tmpfs fsync costs nothing and the figures mean nothing: the command warns.`,
		Example: `  ordo bench storage
  ordo bench storage --json --duration 5s`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := live.BenchStorage(dir, writers, value, duration)
			if err != nil {
				return err
			}
			if res.Warning != "" {
				fmt.Fprintln(cmd.ErrOrStderr(), "warning:", res.Warning)
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			fmt.Fprintf(out, "disk: %s (%s)\n", res.Dir, res.Filesystem)
			fmt.Fprintf(out, "one fsync a write, 1 writer:     %10.0f writes/s\n", res.FsyncPerWriteWritesPerS)
			fmt.Fprintf(out, "group commit, %-18s%10.0f writes/s (%.1f writes an fsync)\n", plural.Count(res.Writers, "writer")+":", res.BatchedWritesPerS, res.WritesPerFsync)
			fmt.Fprintf(out, "ratio:                           %10.1f×\n", res.Ratio)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", ".", "directory on the disk to measure (a temporary directory is made inside)")
	cmd.Flags().IntVar(&writers, "writers", 64, "closed-loop writers for the group-commit run")
	cmd.Flags().IntVar(&value, "value", 100, "bytes of each written value")
	cmd.Flags().DurationVar(&duration, "duration", 3*time.Second, "time each run measures")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the figures as JSON")
	return cmd
}
