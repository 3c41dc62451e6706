package main

// `ordo kv` on a cluster of the Dynamo-style store (--protocol dynamo):
// the commands that mean something there (get, put, del, cart) talk to
// its client API (dynamo/clientapi) through dynamo/client; the others say
// they are for the Raft database.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"ordo/dynamo"
	dynclient "ordo/dynamo/client"
	"ordo/dynamo/clientapi"
	"ordo/internal/bounded"
	"ordo/internal/plural"
	"ordo/live"
)

func init() {
	// The dynamo servers serve the client API on their client address;
	// `ordo cluster up --protocol dynamo` gives them one and a token.
	live.RegisterClientAPI(dynamo.Protocol.Name, dynamoClientAPI)
}

// dynamoClientAPI is a dynamo server's client API over the node's gateway.
func dynamoClientAPI(gw *live.Gateway) http.Handler {
	return clientapi.NewHandler(clientapi.Config{
		Call: clientapi.Caller(gw.Call),
		Status: func() any {
			s := gw.Status()
			return map[string]any{"id": int(s.ID), "protocol": dynamo.Protocol.Name, "boot": s.Boot, "pid": s.Pid}
		},
	})
}

// kvDynamoHelp is appended to `ordo kv --help`.
const kvDynamoHelp = `

On a cluster of the Dynamo-style store (ordo cluster up --protocol dynamo;
the commands read the protocol from DIR/cluster.yaml) a key holds siblings:
concurrent versions, each a value or a tombstone, and one opaque context
that says what the reader saw. Any server coordinates; no leader.

  ordo kv get KEY             each sibling value on its own line, then a last
                              line "context: C" (base64); --json for all of it
                              (tombstones, version vectors). A key never
                              written, or whose siblings are all tombstones, is
                              not found (exit 1), and the context line is still
                              printed: a put with it supersedes the tombstones.
  ordo kv put KEY VALUE [--context C]
                              write VALUE over what C covers; without --context
                              a blind write, a sibling of every version the key
                              holds. Prints the write's version vector.
  ordo kv del KEY [--context C]
                              write a tombstone over what C covers; without
                              --context it gets KEY first and deletes exactly
                              what that get saw (exit 1 if not found). A write
                              concurrent with the delete survives beside the
                              tombstone as a sibling.
  ordo kv cart add|remove CART ITEM, ordo kv cart show CART
                              a shopping cart in a bucket that merges
                              (-o resolution=merge, -o merge=orset or union):
                              get, edit, put with the get's context; siblings
                              merge on the next read.

cas, range, watch, snapshot, member, transfer and status are the Raft
database's: on a dynamo cluster they say so (exit 2). Exit status on dynamo:
0 done; 1 a definite "no" (key or cart not found, item not in the cart); 2 an
error: a refusal (a malformed or forged context, a key or value over its
bound, a bad cart item, the sibling cap, a wrong client token), "unavailable"
(fewer than R replicas answered: nothing changed) or "outcome unknown" (a put
or delete fewer than W replicas acknowledged in time: the coordinator may
have stored it; get the key before trying again).`

// clusterProtocol is the protocol DIR/cluster.yaml names ("" when it
// cannot be read: the kv commands then say what is wrong).
func clusterProtocol(dir string) string {
	data, err := bounded.ReadFile(filepath.Join(dir, "cluster.yaml"), 1<<20)
	if err != nil {
		return ""
	}
	var c struct {
		Protocol string `yaml:"protocol"`
	}
	if yaml.Unmarshal(data, &c) != nil {
		return ""
	}
	return c.Protocol
}

func (f *kvFlags) dynamo() bool { return clusterProtocol(f.dir) == dynamo.Protocol.Name }

// withDynamo runs fn with a client of the dynamo cluster in --cluster.
func (f *kvFlags) withDynamo(cmd *cobra.Command, fn func(ctx context.Context, c *dynclient.Client) error) error {
	cfg, err := dynclient.ClusterConfig(f.dir)
	if err != nil {
		return fmt.Errorf("%v\n(start a store with: ordo cluster up --protocol dynamo --dir %s)", err, f.dir)
	}
	cfg.Timeout = f.timeout
	c, err := dynclient.New(cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := f.ctx(cmd)
	defer cancel()
	return fn(ctx, c)
}

// dynamoKV adds the dynamo side to `ordo kv` (kv.go calls it once the
// commands exist): get, put and del dispatch on the cluster's protocol,
// cart is dynamo's own, every other command refuses on a dynamo cluster.
func dynamoKV(root *cobra.Command, f *kvFlags) {
	root.Short += " or the Dynamo-style store (--protocol dynamo)"
	root.Long += kvDynamoHelp
	root.Example += `

  ordo cluster up --protocol dynamo -n 3 --detach --dir dyn
  ordo kv put x A --cluster dyn
  ordo kv get x --cluster dyn            # A, then context: C
  ordo kv put x B --context C --cluster dyn
  ordo kv del x --cluster dyn
  ordo kv cart add cart apple --cluster carts   # a cluster with -o resolution=merge`
	var (
		ctxFlag string
		asJSON  bool
	)
	for _, c := range root.Commands() {
		orig := c.RunE
		switch c.Name() {
		case "get":
			c.Short += "; dynamo: every sibling, then the context"
			c.Flags().BoolVar(&asJSON, "json", false, "dynamo: print the answer as JSON (siblings with tombstones and vectors, the context)")
			c.RunE = func(cmd *cobra.Command, args []string) error {
				if !f.dynamo() {
					return noDynamoFlags(cmd, orig, args, "json")
				}
				if err := kvOnlyFlags(cmd, "read", "rev"); err != nil {
					return err
				}
				return dynGet(cmd, f, args[0], asJSON)
			}
		case "put":
			c.Short += "; dynamo: over what --context covers, and its vector"
			c.Flags().StringVar(&ctxFlag, "context", "", "dynamo: the context of a get (base64, as ordo kv get prints it); none: a blind write")
			c.RunE = func(cmd *cobra.Command, args []string) error {
				if !f.dynamo() {
					return noDynamoFlags(cmd, orig, args, "context")
				}
				if cmd.Flags().Changed("context") && ctxFlag == "" {
					return fmt.Errorf("--context is empty: give the context a get printed, or leave --context out for a blind write")
				}
				return dynPut(cmd, f, args[0], args[1], ctxFlag)
			}
		case "del":
			c.Short += "; dynamo: a tombstone over what --context (or a get) saw"
			c.Flags().StringVar(&ctxFlag, "context", "", "dynamo: the context of a get (base64); none: get the key first and delete what that get saw")
			c.RunE = func(cmd *cobra.Command, args []string) error {
				if !f.dynamo() {
					return noDynamoFlags(cmd, orig, args, "context")
				}
				return dynDel(cmd, f, args[0], ctxFlag, cmd.Flags().Changed("context"))
			}
		default:
			refuseOnDynamo(c, f)
		}
	}
	root.AddCommand(newKVCartCmd(f))
}

// noDynamoFlags runs a kv command unless a dynamo-only flag was given.
func noDynamoFlags(cmd *cobra.Command, run func(*cobra.Command, []string) error, args []string, flags ...string) error {
	for _, name := range flags {
		if cmd.Flags().Changed(name) {
			return fmt.Errorf("--%s is for a dynamo cluster; this one runs the kv database (ordo kv --help)", name)
		}
	}
	return run(cmd, args)
}

// kvOnlyFlags refuses the kv database's flags on a dynamo cluster.
func kvOnlyFlags(cmd *cobra.Command, flags ...string) error {
	for _, name := range flags {
		if cmd.Flags().Changed(name) {
			return fmt.Errorf("--%s is for the kv database; a dynamo get reads R replicas and returns every sibling (ordo kv --help)", name)
		}
	}
	return nil
}

// refuseOnDynamo makes c and its subcommands say, on a dynamo cluster,
// that they are the Raft database's.
func refuseOnDynamo(c *cobra.Command, f *kvFlags) {
	for _, sub := range c.Commands() {
		refuseOnDynamo(sub, f)
	}
	if c.RunE == nil || len(c.Commands()) > 0 {
		return
	}
	// Before the arguments are counted, as on a PBFT cluster.
	checkBeforeArgs(c, func(cmd *cobra.Command) error {
		if f.dynamo() {
			return fmt.Errorf("ordo kv %s is for the kv database (Raft); the cluster in %s runs the Dynamo-style store, which has get, put, del and cart (ordo kv --help)", strings.TrimPrefix(cmd.CommandPath(), "ordo kv "), f.dir)
		}
		return nil
	})
}

// dynGetJSON is what ordo kv get --json prints.
type dynGetJSON struct {
	Key      string              `json:"key"`
	Found    bool                `json:"found"`
	Siblings []clientapi.Sibling `json:"siblings"`
	Context  string              `json:"context"`
	Merge    string              `json:"merge,omitempty"`
}

func dynGet(cmd *cobra.Command, f *kvFlags, key string, asJSON bool) error {
	return f.withDynamo(cmd, func(ctx context.Context, c *dynclient.Client) error {
		r, err := c.Get(ctx, key)
		if err != nil {
			return err
		}
		out := cmd.OutOrStdout()
		if asJSON {
			sibs := r.Siblings
			if sibs == nil {
				sibs = []clientapi.Sibling{}
			}
			enc := json.NewEncoder(out)
			enc.SetEscapeHTML(false)
			enc.Encode(dynGetJSON{Key: key, Found: r.Found, Siblings: sibs, Context: clientapi.ContextString(r.Context), Merge: r.Merge})
		} else {
			for _, v := range r.Values() {
				fmt.Fprintln(out, v)
			}
			fmt.Fprintf(out, "context: %s\n", clientapi.ContextString(r.Context))
		}
		dead := len(r.Siblings) - len(r.Values())
		switch {
		case !r.Found && dead > 0:
			fmt.Fprintf(cmd.ErrOrStderr(), "%s: not found (deleted: %d tombstone(s))\n", key, dead)
		case !r.Found:
			fmt.Fprintf(cmd.ErrOrStderr(), "%s: not found\n", key)
		case dead > 0 && !asJSON:
			fmt.Fprintf(cmd.ErrOrStderr(), "%s: %d of %s %s (a delete concurrent with the writes)\n", key, dead, plural.Count(len(r.Siblings), "sibling"), plural.Noun(dead, "is a tombstone", "are tombstones"))
		}
		if !r.Found {
			return exitCode(1)
		}
		return nil
	})
}

func dynPut(cmd *cobra.Command, f *kvFlags, key, value, ctxText string) error {
	wctx, err := parseContextFlag(ctxText)
	if err != nil {
		return err
	}
	return f.withDynamo(cmd, func(ctx context.Context, c *dynclient.Client) error {
		vec, err := c.Put(ctx, key, value, wctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "OK %s\n", vec)
		return nil
	})
}

func dynDel(cmd *cobra.Command, f *kvFlags, key, ctxText string, given bool) error {
	wctx, err := parseContextFlag(ctxText)
	if err != nil {
		return err
	}
	if given && len(wctx) == 0 {
		return fmt.Errorf("del: --context is empty: give the context a get printed, or leave --context out to get the key first")
	}
	return f.withDynamo(cmd, func(ctx context.Context, c *dynclient.Client) error {
		if !given {
			r, err := c.Get(ctx, key)
			if err != nil {
				return err
			}
			if !r.Found {
				fmt.Fprintf(cmd.ErrOrStderr(), "%s: not found\n", key)
				return exitCode(1)
			}
			wctx = r.Context
		}
		vec, err := c.Delete(ctx, key, wctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "deleted %s\n", vec)
		return nil
	})
}

func parseContextFlag(s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	b, err := clientapi.ParseContext(s)
	if err != nil {
		return nil, fmt.Errorf("--context: %v", err)
	}
	return b, nil
}

func newKVCartCmd(f *kvFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cart add|remove|show CART [ITEM]",
		Short: "dynamo: add an item to a shopping cart, remove one, or show the cart",
		Long: `A shopping cart on a cluster of the Dynamo-style store whose bucket merges
carts (ordo cluster up --protocol dynamo -o resolution=merge, with -o
merge=orset, the default: a removed item stays removed, or merge=union:
Dynamo's cart, where a removed item can come back). add and remove get the
cart (its siblings merged), edit it and put it with the get's context; an
edit concurrent with another becomes a sibling that the next read merges.
Items are 1..32 of [a-z0-9._-].

  ordo kv cart add CART ITEM      prints the cart's items after the add
  ordo kv cart remove CART ITEM   exit 1 if ITEM is not in the cart
  ordo kv cart show CART          one item a line; exit 1 if there is no cart`,
		Args: rangeArgs(2, 3),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !f.dynamo() {
				return fmt.Errorf("ordo kv cart is for a dynamo cluster (ordo cluster up --protocol dynamo -o resolution=merge); the cluster in %s runs %q", f.dir, clusterProtocol(f.dir))
			}
			op, key := args[0], args[1]
			switch {
			case op != "add" && op != "remove" && op != "show":
				return fmt.Errorf("cart %q: want add, remove or show", op)
			case op == "show" && len(args) != 2:
				return fmt.Errorf("cart show CART: no item")
			case op != "show" && len(args) != 3:
				return fmt.Errorf("cart %s CART ITEM: name the item", op)
			}
			return f.withDynamo(cmd, func(ctx context.Context, c *dynclient.Client) error {
				out := cmd.OutOrStdout()
				switch op {
				case "show":
					items, found, err := c.CartShow(ctx, key)
					if err != nil {
						return err
					}
					if !found {
						fmt.Fprintf(cmd.ErrOrStderr(), "cart %s: not found\n", key)
						return exitCode(1)
					}
					for _, it := range items {
						fmt.Fprintln(out, it)
					}
					return nil
				case "add":
					items, err := c.CartAdd(ctx, key, args[2])
					if err != nil {
						return err
					}
					fmt.Fprintf(out, "OK: cart %s holds %s\n", key, itemList(items))
					return nil
				}
				items, err := c.CartRemove(ctx, key, args[2])
				if errors.Is(err, dynclient.ErrNotFound) {
					fmt.Fprintf(cmd.ErrOrStderr(), "%s is not in cart %s\n", args[2], key)
					return exitCode(1)
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "OK: cart %s holds %s\n", key, itemList(items))
				return nil
			})
		},
	}
	return cmd
}

func itemList(items []string) string {
	if len(items) == 0 {
		return "nothing"
	}
	return strings.Join(items, ", ")
}
