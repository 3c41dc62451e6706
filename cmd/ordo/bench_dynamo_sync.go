package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"ordo/dynamo"
	"ordo/lab"
)

func init() { benchCommands = append(benchCommands, newBenchDynamoSyncCmd) }

func newBenchDynamoSyncCmd() *cobra.Command {
	var (
		stores, differ   string
		servers, maxKeys int
		seed             uint64
		syncEvery, limit time.Duration
		asJSON           bool
	)
	cmd := &cobra.Command{
		Use:   "dynamo-sync",
		Short: "measure the dynamo store's Merkle anti-entropy: bytes to repair K differing keys in stores of every size",
		Long: `For every store size and every K: a dynamo store of that many keys
replicated on every server (N = --servers) in the simulator; one replica
crashes, a client writes K new keys (real puts, acknowledged by the
others), the replica restarts and anti-entropy converges it. Reported from
the restart until every pair of replicas has equal Merkle roots (and at
least one sync period): the bytes of the sync messages (their encoded
sizes), the messages, the exchanges opened, the simulated time to
converge, and "flat", what one exchange listing every key's digest would
send. The store's keys are the servers' preload option (benchmarks only:
every replica boots with the same synthetic keys, so they cannot differ);
the K keys come from the client.

  ordo bench dynamo-sync                                   # 1 000 and 10 000 keys (quick)
  ordo bench dynamo-sync --store 1000,10000,100000         # the issue's table
  ordo bench dynamo-sync --store 100000 --differ 1,1000 --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ss, err := kvParseInts("--store", stores, 0, dynamo.MaxKeysCap)
			if err != nil {
				return err
			}
			ks, err := kvParseInts("--differ", differ, 0, dynamo.MaxKeysCap)
			if err != nil {
				return err
			}
			var rows []*lab.DynamoSyncResult
			for _, s := range ss {
				for _, k := range ks {
					r, err := lab.DynamoSync(lab.DynamoSyncConfig{Store: s, Differ: k, Servers: servers, MaxKeys: maxKeys, SyncEvery: syncEvery, Seed: seed, Limit: limit})
					if err != nil {
						return err
					}
					rows = append(rows, r)
				}
			}
			w := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				if err := enc.Encode(rows); err != nil {
					return err
				}
			} else {
				tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
				fmt.Fprintln(tw, "store keys\tK\tdepth\tbytes\tmsgs\trounds\tconverge\tflat bytes\tconverged\t")
				for _, r := range rows {
					fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%d\t%d\t%v\t%d\t%v\t\n", r.Config.Store, r.Config.Differ, r.Depth, r.Bytes, r.Messages, r.Rounds, r.Converge, r.Flat, r.Converged)
				}
				if err := tw.Flush(); err != nil {
					return err
				}
			}
			for _, r := range rows {
				if !r.Converged {
					fmt.Fprintf(cmd.ErrOrStderr(), "store %d, K=%d: did not converge in %v\n", r.Config.Store, r.Config.Differ, r.Config.Limit)
					return exitCode(1)
				}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&stores, "store", "1000,10000", "store sizes in keys, comma-separated (each a row group); 100000 for the issue's table")
	fl.StringVar(&differ, "differ", "0,1,1000", "keys written while the replica is down, comma-separated")
	fl.IntVarP(&servers, "nodes", "n", 3, "servers, every one a replica of every key (2..16)")
	fl.IntVar(&maxKeys, "max-keys", 1<<17, "the servers' max_keys (sets the trees' depth; one value for every row)")
	fl.DurationVar(&syncEvery, "sync-every", 200*time.Millisecond, "the servers' sync_every")
	fl.DurationVar(&limit, "limit", time.Minute, "simulated time allowed for the writes, then for convergence")
	fl.Uint64Var(&seed, "seed", 1, "simulation seed")
	fl.BoolVar(&asJSON, "json", false, "print the rows as JSON")
	return cmd
}
