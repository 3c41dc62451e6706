package main

// `ordo kv` on a PBFT cluster (--protocol pbft): get, put and del talk to
// every replica's client API (pbft/clientapi) and accept a result only
// once f+1 replicas answered it alike; the other commands say they are
// the Raft database's.

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"ordo/live"
	"ordo/pbft"
	"ordo/pbft/clientapi"
)

func init() {
	live.RegisterClientAPI(pbft.Protocol.Name, pbftClientAPI)
}

// pbft serves client API calls only from gateway ids; its copy of
// live.GatewayBase (a protocol may not import live) must agree.
const _ = uint(pbft.GatewayBase-live.GatewayBase) + uint(live.GatewayBase-pbft.GatewayBase)

// pbftClientAPI is a PBFT replica's client API over the node's gateway.
func pbftClientAPI(gw *live.Gateway) http.Handler {
	return clientapi.NewHandler(clientapi.Config{
		Call: clientapi.Caller(gw.Call),
		ID:   gw.ID(),
		Status: func() any {
			s := gw.Status()
			return map[string]any{"id": int(s.ID), "protocol": pbft.Protocol.Name, "boot": s.Boot, "pid": s.Pid}
		},
	})
}

const kvPBFTHelp = `

On a PBFT cluster (ordo cluster up --protocol pbft -n 4) get, put and del
are ordered by the replicas (pre-prepare, prepare, commit) and applied to
a key-value machine on each. One replica's answer proves nothing, since it
may lie (ordo cluster byzantine N BEHAVIOUR): the command sends the request
to every replica and prints the result once f+1 of them answered it alike,
naming on stderr the replicas that answered otherwise. Keys are 1..64
bytes, values at most 128 (a PBFT operation is at most 256). Exit status
on pbft: 0 done; 1 not found; 2 fewer than f+1 replicas agreed before
--timeout (outcome unknown for a put or del), or a refusal.`

func (f *kvFlags) pbft() bool { return clusterProtocol(f.dir) == pbft.Protocol.Name }

// withPBFT runs fn with a client of the PBFT cluster in --cluster.
func (f *kvFlags) withPBFT(cmd *cobra.Command, fn func(ctx context.Context, c *clientapi.Client) error) error {
	cfg, err := clientapi.ClusterConfig(f.dir)
	if err != nil {
		return fmt.Errorf("%v\n(start one with: ordo cluster up --protocol pbft -n 4 --dir %s)", err, f.dir)
	}
	cfg.Timeout = f.timeout
	c, err := clientapi.NewClient(cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := f.ctx(cmd)
	defer cancel()
	return fn(ctx, c)
}

// pbftKV adds the PBFT side to `ordo kv` (after dynamoKV): get, put and
// del dispatch on the cluster's protocol, every other command refuses.
func pbftKV(root *cobra.Command, f *kvFlags) {
	root.Short += " or a PBFT cluster (--protocol pbft)"
	root.Long += kvPBFTHelp
	root.Example += `

  ordo cluster up --protocol pbft -n 4 --detach --dir bft
  ordo kv put x 1 --cluster bft
  ordo cluster byzantine 1 equivocate --dir bft
  ordo kv get x --cluster bft            # 1, from f+1 = 2 matching replicas`
	for _, c := range root.Commands() {
		orig := c.RunE
		switch c.Name() {
		case "get", "put", "del":
			name := c.Name()
			c.RunE = func(cmd *cobra.Command, args []string) error {
				if !f.pbft() {
					return orig(cmd, args)
				}
				for _, flag := range []string{"read", "rev", "json", "context"} {
					if cmd.Flags().Lookup(flag) != nil && cmd.Flags().Changed(flag) {
						return fmt.Errorf("--%s means nothing on a PBFT cluster (ordo kv --help)", flag)
					}
				}
				return pbftRun(cmd, f, name, args)
			}
		default:
			refuseOnPBFT(c, f)
		}
	}
}

// refuseOnPBFT makes c and its subcommands say, on a PBFT cluster, that
// they are another store's.
func refuseOnPBFT(c *cobra.Command, f *kvFlags) {
	for _, sub := range c.Commands() {
		refuseOnPBFT(sub, f)
	}
	if c.RunE == nil || len(c.Commands()) > 0 {
		return
	}
	// Before the arguments are counted: ordo kv cas x on a PBFT cluster
	// is refused for the cluster, not for a missing value.
	checkBeforeArgs(c, func(cmd *cobra.Command) error {
		if f.pbft() {
			return fmt.Errorf("ordo kv %s is not for a PBFT cluster; the cluster in %s runs pbft, which has get, put and del (ordo kv --help)", strings.TrimPrefix(cmd.CommandPath(), "ordo kv "), f.dir)
		}
		return nil
	})
}

func pbftRun(cmd *cobra.Command, f *kvFlags, name string, args []string) error {
	return f.withPBFT(cmd, func(ctx context.Context, c *clientapi.Client) error {
		var (
			r   clientapi.Result
			err error
		)
		switch name {
		case "get":
			r, err = c.Get(ctx, args[0])
		case "put":
			r, err = c.Put(ctx, args[0], args[1])
		default:
			r, err = c.Delete(ctx, args[0])
		}
		if err != nil {
			return err
		}
		out, errw := cmd.OutOrStdout(), cmd.ErrOrStderr()
		for _, l := range disagreeLines(r) {
			fmt.Fprintln(errw, l)
		}
		if r.Status == clientapi.StatusNotFound {
			fmt.Fprintf(errw, "%s: not found (replicas %s agree)\n", args[0], ids(r.Agree))
			return exitCode(1)
		}
		switch name {
		case "get":
			fmt.Fprintln(out, r.Value)
		case "put":
			fmt.Fprintf(out, "OK rev %d (replicas %s agree)\n", r.Rev, ids(r.Agree))
		default:
			fmt.Fprintf(out, "deleted rev %d (replicas %s agree)\n", r.Rev, ids(r.Agree))
		}
		return nil
	})
}

// disagreeLines name, for an accepted result, each replica that answered
// otherwise: a Byzantine-fault symptom (the replica lies or is broken),
// with what it answered, and which replicas agree on the result.
func disagreeLines(r clientapi.Result) []string {
	var lines []string
	for _, id := range slices.Sorted(maps.Keys(r.Disagree)) {
		lines = append(lines, fmt.Sprintf("replica %d disagreed, a Byzantine-fault symptom (it lies or is broken; replicas %s agree on the result): %s", id, ids(r.Agree), r.Disagree[id]))
	}
	return lines
}

func ids(v []int) string {
	s := make([]string, len(v))
	for i, id := range v {
		s[i] = fmt.Sprint(id)
	}
	return strings.Join(s, ",")
}
