package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"ordo"
	"ordo/election/raft"
	"ordo/internal/plural"
	"ordo/kv"
	"ordo/kv/api"
	"ordo/kv/client"
	"ordo/live"
)

func init() {
	commands = append(commands, newKVCmd)
	// The servers of the kv protocols serve the client API (kv/api) on
	// their client address; `ordo cluster up` gives them one.
	for _, p := range []string{kv.Protocol.Name, kv.StaleProtocol.Name} {
		live.RegisterClientAPI(p, kvClientAPI)
	}
}

// kv serves OpSnap only to gateway ids; its copy of live.GatewayBase (a
// protocol may not import live) must agree: either difference negative
// does not compile.
const _ = uint(kv.GatewayBase-live.GatewayBase) + uint(live.GatewayBase-kv.GatewayBase)

// kvClientAPI is a kv server's client API over the node's gateway.
func kvClientAPI(gw *live.Gateway) http.Handler {
	return api.NewHandler(api.Config{
		Call:       api.Caller(gw.Call),
		CallMany:   api.CallerMany(gw.CallMany),
		Status:     func() any { return kvStatus(gw) },
		LeaderAddr: gw.ClientAddr,
	})
}

// kvStatus is GET /v1/status: the node's role, term and leader.
func kvStatus(gw *live.Gateway) any {
	s := gw.Status()
	out := map[string]any{"id": int(s.ID), "role": s.Role, "term": s.Term, "leader": int(s.Leader),
		"leader_addr": gw.ClientAddr(s.Leader), "boot": s.Boot, "pid": s.Pid}
	// The configuration the node knows (its Raft state's voters): a
	// server removed from the cluster learns it only from a leader that
	// no longer talks to it, so kv status judges by the leader's.
	var st struct{ Voters []int }
	if json.Unmarshal(s.State, &st) == nil && st.Voters != nil {
		out["voters"] = st.Voters
	}
	return out
}

// kvFlags are the flags every `ordo kv` command shares.
type kvFlags struct {
	dir     string
	timeout time.Duration
}

func (f *kvFlags) client() (*client.Client, error) {
	cfg, err := client.ClusterConfig(f.dir)
	if err != nil {
		return nil, fmt.Errorf("%v\n(start a database with: ordo cluster up --protocol kv --dir %s)", err, f.dir)
	}
	cfg.Timeout = f.timeout
	return client.New(cfg)
}

// withClient runs fn with a client of the cluster (--cluster) and the
// command's deadline (--timeout), and closes the client after.
func (f *kvFlags) withClient(cmd *cobra.Command, fn func(ctx context.Context, c *client.Client) error) error {
	c, err := f.client()
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := f.ctx(cmd)
	defer cancel()
	return fn(ctx, c)
}

func (f *kvFlags) ctx(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
	return ctx, stop
}

func newKVCmd() *cobra.Command {
	f := &kvFlags{}
	cmd := &cobra.Command{
		Use:   "kv",
		Short: "read and write exercise 3's database (ordo cluster up --protocol kv)",
		Long: `Talk to the key-value database that ordo cluster up --protocol kv starts:
Raft log replication on the cluster's election, a key-value state machine on
every server, linearizable reads. Each server serves a client API (HTTP and
JSON, TLS under the cluster's CA, a bearer token from DIR/client.token); the
commands read DIR/cluster.yaml to find the servers, find the leader, follow
a follower's hint, and retry a write so that it applies once.

Exit status: 0 done; 1 a definite "no" (key not found, compare-and-swap
mismatch); 2 an error, including "outcome unknown" (a write that may or may
not have taken effect: read the key before trying again), "unavailable"
(nothing changed: no server, or no leader, could serve it before --timeout)
and a refusal (a bad request, a wrong client token, a membership change the
leader's strict reconfiguration check refused: said at once, not retried).`,
		Example: `  ordo cluster up --protocol kv -n 3 --detach
  ordo kv put x 1
  ordo kv get x
  ordo kv cas x 2 --expect 1
  ordo kv range --prefix user/
  ordo kv watch x
  ordo kv snapshot save backup.snap`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.PersistentFlags().StringVar(&f.dir, "cluster", defaultClusterDir, "the cluster directory (cluster.yaml, tls/, client.token); --dir is the same flag, as ordo cluster calls it")
	// --dir, as `ordo cluster` calls it: the same flag under its name.
	cmd.PersistentFlags().StringVar(&f.dir, "dir", defaultClusterDir, "the cluster directory (as --cluster)")
	cmd.PersistentFlags().MarkHidden("dir")
	cmd.PersistentFlags().DurationVar(&f.timeout, "timeout", 5*time.Second, "give up on an operation after this long, a positive duration (retries included); watch: only when given, the longest wait for each change")
	cmd.AddCommand(newKVPutCmd(f), newKVGetCmd(f), newKVDelCmd(f), newKVCASCmd(f), newKVRangeCmd(f), newKVWatchCmd(f),
		newKVSnapshotCmd(f), newKVMemberCmd(f), newKVTransferCmd(f), newKVStatusCmd(f))
	dynamoKV(cmd, f) // kv_dynamo.go
	pbftKV(cmd, f)   // kv_pbft.go
	valueFromStdin(cmd, "put", "cas")
	checkBeforeArgs(cmd, func(cmd *cobra.Command) error { return f.checkTimeout() })
	return cmd
}

// valueFromStdin lets the VALUE of the named subcommands be "-": the value
// is read from standard input, whole (at most api.MaxValueBytes), for
// every protocol's form of the command. A value of more than about 128 KiB
// does not fit the shell's argument list.
func valueFromStdin(kvCmd *cobra.Command, names ...string) {
	for _, c := range kvCmd.Commands() {
		if !slices.Contains(names, c.Name()) {
			continue
		}
		c.Long = strings.TrimRight(cmp.Or(c.Long, c.Short), "\n") + "\n\nVALUE - reads the value from standard input (at most " + strconv.Itoa(api.MaxValueBytes) + " bytes, the client API's bound; each store may bound a write further: the Raft database one log entry, max_batch_bytes, for the key, value and about 25 bytes more)."
		inner := c.RunE
		c.RunE = func(cmd *cobra.Command, args []string) error {
			if len(args) >= 2 && args[1] == "-" {
				v, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), api.MaxValueBytes+1))
				if err != nil {
					return fmt.Errorf("VALUE -: reading standard input: %w", err)
				}
				if len(v) > api.MaxValueBytes {
					return fmt.Errorf("VALUE -: standard input holds more than %d bytes, the largest value", api.MaxValueBytes)
				}
				args = append([]string{args[0], string(v)}, args[2:]...)
			}
			return inner(cmd, args)
		}
	}
}

// checkTimeout refuses a --timeout that would give up before trying.
func (f *kvFlags) checkTimeout() error {
	if f.timeout <= 0 {
		return fmt.Errorf("--timeout %v: want a positive duration, like 5s (how long an operation may take, retries included)", f.timeout)
	}
	return nil
}

// checkBeforeArgs makes c's commands that run (and theirs) run check
// before they check their arguments (a refusal that concerns the whole
// command is said before a wrong count of arguments).
func checkBeforeArgs(c *cobra.Command, check func(cmd *cobra.Command) error) {
	for _, sub := range c.Commands() {
		checkBeforeArgs(sub, check)
	}
	if c.RunE == nil || len(c.Commands()) > 0 {
		return
	}
	args := c.Args
	c.Args = func(cmd *cobra.Command, a []string) error {
		if err := check(cmd); err != nil {
			return err
		}
		if args == nil {
			return nil // cobra's default for a command without subcommands: any
		}
		return args(cmd, a)
	}
}

func newKVPutCmd(f *kvFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "put KEY VALUE",
		Short: "set KEY to VALUE; prints the write's revision",
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.withClient(cmd, func(ctx context.Context, c *client.Client) error {
				rev, err := c.Put(ctx, args[0], args[1])
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "OK rev %d\n", rev)
				return nil
			})
		},
	}
}

func readFlag(cmd *cobra.Command, read *string) {
	cmd.Flags().StringVar(read, "read", "index", "how to read: index (ReadIndex at the leader; linearizable is its alias), lease (the leader's lease), serializable (any server, possibly stale)")
}

func readOpts(read string) ([]client.ReadOption, error) {
	r, err := api.ParseRead(read)
	if err != nil {
		return nil, fmt.Errorf("--read: %v", err)
	}
	switch r {
	case kv.ReadLease:
		return []client.ReadOption{client.Lease()}, nil
	case kv.ReadSerializable:
		return []client.ReadOption{client.Serializable()}, nil
	}
	return nil, nil
}

func newKVGetCmd(f *kvFlags) *cobra.Command {
	var (
		read string
		rev  bool
	)
	cmd := &cobra.Command{
		Use:   "get KEY",
		Short: "print KEY's value (exit 1 if absent)",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := readOpts(read)
			if err != nil {
				return err
			}
			return f.withClient(cmd, func(ctx context.Context, c *client.Client) error {
				r, err := c.Get(ctx, args[0], opts...)
				if err != nil {
					return err
				}
				if !r.Found {
					fmt.Fprintf(cmd.ErrOrStderr(), "%s: not found\n", args[0])
					return exitCode(1)
				}
				if rev {
					fmt.Fprintf(cmd.OutOrStdout(), "%s\t(mod rev %d, read at %d)\n", r.Value, r.ModRev, r.Rev)
				} else {
					fmt.Fprintln(cmd.OutOrStdout(), r.Value)
				}
				return nil
			})
		},
	}
	readFlag(cmd, &read)
	cmd.Flags().BoolVar(&rev, "rev", false, "also print the key's revision and the read's")
	return cmd
}

func newKVDelCmd(f *kvFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "del KEY",
		Aliases: []string{"delete"},
		Short:   "delete KEY (exit 1 if it was absent)",
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.withClient(cmd, func(ctx context.Context, c *client.Client) error {
				deleted, rev, err := c.Delete(ctx, args[0])
				if err != nil {
					return err
				}
				if !deleted {
					fmt.Fprintf(cmd.ErrOrStderr(), "%s: not found\n", args[0])
					return exitCode(1)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "deleted rev %d\n", rev)
				return nil
			})
		},
	}
}

func newKVCASCmd(f *kvFlags) *cobra.Command {
	var (
		expect string
		absent bool
	)
	cmd := &cobra.Command{
		Use:   "cas KEY VALUE (--expect OLD | --absent)",
		Short: "set KEY to VALUE if its value is OLD (or it is absent); exit 1 on a mismatch",
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			given := cmd.Flags().Changed("expect")
			if given == absent {
				return fmt.Errorf("cas: give exactly one of --expect OLD and --absent")
			}
			return f.withClient(cmd, func(ctx context.Context, c *client.Client) error {
				var exp *string
				if given {
					exp = &expect
				}
				ok, cur, err := c.CAS(ctx, args[0], exp, args[1])
				if err != nil {
					return err
				}
				if !ok {
					if cur.Found {
						fmt.Fprintf(cmd.ErrOrStderr(), "mismatch: %s is %q\n", args[0], cur.Value)
					} else {
						fmt.Fprintf(cmd.ErrOrStderr(), "mismatch: %s is absent\n", args[0])
					}
					return exitCode(1)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "OK rev %d\n", cur.Rev)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&expect, "expect", "", "the value KEY must have")
	cmd.Flags().BoolVar(&absent, "absent", false, "KEY must be absent (create it)")
	return cmd
}

func newKVRangeCmd(f *kvFlags) *cobra.Command {
	var (
		prefix string
		limit  int
		read   string
	)
	cmd := &cobra.Command{
		Use:   "range [START [END]]",
		Short: "print the keys in [START, END) (or with --prefix), one KEY<TAB>VALUE a line",
		Args:  maximumArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			start, end := "", ""
			if len(args) > 0 {
				start = args[0]
			}
			if len(args) > 1 {
				end = args[1]
			}
			if limit < 0 {
				return fmt.Errorf("range: --limit %d: want 0 (all) or more", limit)
			}
			if prefix != "" {
				if len(args) > 0 {
					return fmt.Errorf("range: --prefix or START END, not both")
				}
				start, end = prefix, prefixEnd(prefix)
			}
			opts, err := readOpts(read)
			if err != nil {
				return err
			}
			return f.withClient(cmd, func(ctx context.Context, c *client.Client) error {
				w := bufio.NewWriter(cmd.OutOrStdout())
				defer w.Flush()
				n := 0
				for {
					want := 0
					if limit > 0 {
						want = min(limit-n, api.MaxRange)
					}
					pairs, more, err := c.Range(ctx, start, end, want, opts...)
					if err != nil {
						return err
					}
					for _, p := range pairs {
						fmt.Fprintf(w, "%s\t%s\n", p.Key, p.Value)
					}
					n += len(pairs)
					if !more || len(pairs) == 0 || (limit > 0 && n >= limit) {
						return nil
					}
					start = pairs[len(pairs)-1].Key + "\x00" // continue after the last key
				}
			})
		},
	}
	cmd.Flags().StringVar(&prefix, "prefix", "", "every key that starts with this")
	cmd.Flags().IntVar(&limit, "limit", 0, "print at most this many keys (0: all)")
	readFlag(cmd, &read)
	return cmd
}

// prefixEnd is the first key after every key with prefix p ("" : none).
func prefixEnd(p string) string {
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1])
		}
	}
	return ""
}

func newKVWatchCmd(f *kvFlags) *cobra.Command {
	var (
		after uint64
		count int
	)
	cmd := &cobra.Command{
		Use:   "watch KEY",
		Short: "print each change of KEY as it happens (Ctrl-C stops)",
		Long: `Print each change of KEY: "rev N KEY VALUE" for a put, "rev N KEY deleted"
for a delete, N being the change's revision (the log index of the write).
Starts from the database's current revision (or --after REV) and waits for
the next change, whether KEY exists yet or not; --count N stops after N
changes. A watch sees the key's state after each change it notices: changes
in quick succession may be seen as one, and a put and delete of an absent
key between two looks as none. The database keeps no history of absent
keys: with --after REV, an absent KEY is reported deleted if any key was
deleted after REV.

Without --timeout a watch waits until Ctrl-C (exit 0); with --timeout D it
waits at most D for each change and exits 2 ("no change of KEY within D")
when none comes.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			key := args[0]
			if key == "" {
				return fmt.Errorf("watch: the key is empty: name the key to watch (ordo kv watch KEY)")
			}
			wait := time.Duration(0) // per change; 0: until Ctrl-C
			if cmd.Flags().Changed("timeout") {
				wait = f.timeout
			}
			return f.withClient(cmd, func(ctx context.Context, c *client.Client) error {
				// known, found: the key's state at after, when known.
				known, found := false, false
				if !cmd.Flags().Changed("after") {
					r, err := c.Get(ctx, key)
					if err != nil {
						return err
					}
					// The read's revision, not the key's: a change after the
					// watch started has a higher one, present key or absent.
					after, known, found = r.Rev, true, r.Found
				}
				out := cmd.OutOrStdout()
				for n := 0; count == 0 || n < count; {
					wctx, wcancel := ctx, context.CancelFunc(func() {})
					if wait > 0 {
						wctx, wcancel = context.WithTimeout(ctx, wait)
					}
					r, err := c.Watch(wctx, key, after)
					wcancel()
					if err != nil {
						if ctx.Err() != nil {
							return nil // Ctrl-C
						}
						if wait > 0 && wctx.Err() != nil {
							return fmt.Errorf("watch %s: no change of %s within %v (--timeout) after rev %d", key, key, wait, after)
						}
						return err
					}
					if r.ModRev <= after {
						return fmt.Errorf("watch %s: the server answered rev %d, not after %d", key, r.ModRev, after)
					}
					after = r.ModRev
					if !r.Found && known && !found {
						// An absent key's revision is the last delete of any
						// key: another key was deleted, this one is still absent.
						continue
					}
					known, found = true, r.Found
					if r.Found {
						fmt.Fprintf(out, "rev %d %s %s\n", r.ModRev, key, r.Value)
					} else {
						fmt.Fprintf(out, "rev %d %s deleted\n", r.ModRev, key)
					}
					n++
				}
				return nil
			})
		},
	}
	cmd.Flags().Uint64Var(&after, "after", 0, "report changes after this revision (default: the database's current one)")
	cmd.Flags().IntVar(&count, "count", 0, "stop after this many changes (0: never)")
	return cmd
}

func newKVMemberCmd(f *kvFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "member add|remove ID",
		Short: "add or remove server ID (one at a time, while the database serves)",
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.Atoi(args[1])
			if err != nil || id < 1 {
				return fmt.Errorf("member: %q is not a node id", args[1])
			}
			return f.withClient(cmd, func(ctx context.Context, c *client.Client) error {
				switch args[0] {
				case "add":
					err = c.MemberAdd(ctx, id)
				case "remove":
					err = c.MemberRemove(ctx, id)
				default:
					return fmt.Errorf("member %q: want add or remove", args[0])
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "OK: %s n%d\n", args[0], id)
				return nil
			})
		},
	}
	return cmd
}

func newKVTransferCmd(f *kvFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "transfer ID",
		Short: "ask the leader to hand its leadership to server ID",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.Atoi(args[0])
			if err != nil || id < 1 {
				return fmt.Errorf("transfer: %q is not a node id", args[0])
			}
			return f.withClient(cmd, func(ctx context.Context, c *client.Client) error {
				if err := c.Transfer(ctx, id); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "OK: leadership to n%d\n", id)
				return nil
			})
		},
	}
}

// leaderVoters is the configuration of the answering leader of the
// highest term (nil: none answered with one).
func leaderVoters(all []client.EndpointStatus) []int {
	var voters []int
	best := -1.0
	for _, s := range all {
		term, _ := s.Status["term"].(float64)
		vs, ok := s.Status["voters"].([]any)
		if s.Err != nil || s.Status["role"] != "leader" || !ok || term <= best {
			continue
		}
		best, voters = term, make([]int, 0, len(vs))
		for _, v := range vs {
			if f, ok := v.(float64); ok {
				voters = append(voters, int(f))
			}
		}
	}
	return voters
}

func newKVStatusCmd(f *kvFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "ask every server's client API for its role, term and leader",
		Long: `Ask every server's client API for its id, role, term and leader, one line a
server. A server that does not answer is DOWN (with why); a server that
refuses the client token says so (401 wrong client token), as it is up.
A server outside the configuration of the leader (of the highest term
answering) is marked "not a voter": one removed by ordo kv member remove
never hears of it, so by its own account it is still a follower.

Exit status: 0 every server answered; 1 some server is down or did not
answer; 2 a server refused the request (a wrong client token) or the
cluster directory could not be read.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.withClient(cmd, func(ctx context.Context, c *client.Client) error {
				out := cmd.OutOrStdout()
				fmt.Fprintf(out, "%-28s %-4s %-10s %-5s %s\n", "ENDPOINT", "ID", "ROLE", "TERM", "LEADER")
				down, refused := 0, 0
				all := c.Status(ctx)
				voters := leaderVoters(all)
				for _, s := range all {
					switch {
					case s.Err != nil && s.Code == http.StatusUnauthorized:
						refused++
						fmt.Fprintf(out, "%-28s %-4s 401 wrong client token (%s/%s)\n", s.Endpoint, "-", f.dir, live.ClientTokenFileName)
					case s.Err != nil && s.Code != 0:
						refused++
						fmt.Fprintf(out, "%-28s %-4s ERROR %v\n", s.Endpoint, "-", s.Err)
					case s.Err != nil:
						down++
						fmt.Fprintf(out, "%-28s %-4s %-10s %v\n", s.Endpoint, "-", "DOWN", s.Err)
					default:
						leader := fmt.Sprintf("n%v", s.Status["leader"])
						if l, _ := s.Status["leader"].(float64); l == 0 {
							leader = "none known"
						}
						if id, _ := s.Status["id"].(float64); voters != nil && !slices.Contains(voters, int(id)) {
							leader += " (not a voter: removed from the leader's configuration " + ids(voters) + ")"
						}
						fmt.Fprintf(out, "%-28s %-4v %-10v %-5v %s\n", s.Endpoint, s.Status["id"], s.Status["role"], s.Status["term"], leader)
					}
				}
				switch {
				case refused > 0:
					return exitCode(2)
				case down > 0:
					return exitCode(1)
				}
				return nil
			})
		},
	}
}

// The snapshot file: one JSON header line, then the state machine's bytes.
// The header's format names the version after the slash.
const (
	snapFormatPrefix = "ordo-kv-snapshot/"
	snapFormat       = snapFormatPrefix + "1"
)

type snapHeader struct {
	Format string `json:"format"`
	Rev    uint64 `json:"rev"` // the log index the snapshot was taken at
	Bytes  int64  `json:"bytes"`
	CRC32C uint32 `json:"crc32c"`
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func newKVSnapshotCmd(f *kvFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "snapshot",
		Short: "back up the database to a file, or restore it from one",
		Args:  noArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "save FILE",
		Short: "write the database's snapshot (from the leader) to FILE",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if args[0] == "-" {
				// Not standard output: a backup is written whole to a
				// file, fsynced and renamed into place, or not at all.
				return errors.New(`snapshot save -: give a file name (a backup is not written to standard output)`)
			}
			return f.withClient(cmd, func(ctx context.Context, c *client.Client) error {
				var buf bytes.Buffer
				rev, n, err := c.Snapshot(ctx, &buf)
				if err != nil {
					return err
				}
				h, _ := json.Marshal(snapHeader{Format: snapFormat, Rev: rev, Bytes: n, CRC32C: crc32.Checksum(buf.Bytes(), castagnoli)})
				if err := live.WriteFileAtomic(args[0], append(append(h, '\n'), buf.Bytes()...)); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "saved %s: %d bytes (a snapshot of %d bytes at rev %d)\n", args[0], len(h)+1+buf.Len(), n, rev)
				return nil
			})
		},
	})
	var noStart bool
	restore := &cobra.Command{
		Use:   "restore FILE",
		Short: "replace every server's state by FILE's snapshot (the cluster must be down)",
		Long: `Replace the state of every server of the stopped cluster (--cluster DIR) by
the snapshot in FILE (written by ordo kv snapshot save): each server's log is
emptied and starts at the snapshot's revision, with the cluster's servers as
voters. If the cluster's logs had gone past that revision, the keys are
restored at the highest index a server held instead (keys keep their own
revisions), so no revision is handed out twice; the backup's client
sessions are then dropped (a write retried from before the restore is
applied again), and the restore says how many. Stop the cluster first
(ordo cluster down); the restore starts its nodes again (detached) unless
told --no-start (then: ordo cluster start), and waits up to --timeout
until the database answers a read and every node still runs.

Exit status: 0 restored (and, started, serving); 2 an error: a file that
is no snapshot or of another format version, a running cluster, or a
restored cluster that did not serve within --timeout (the error names
each node that stopped and its log; the nodes are left running).`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := live.Open(f.dir)
			if err != nil {
				return err
			}
			if run := c.Running(); len(run) > 0 {
				return fmt.Errorf("the cluster in %s runs (nodes %v): stop it first (ordo cluster down --dir %s)", c.Dir, run, c.Dir)
			}
			if p := c.Cfg.Protocol; p != kv.Protocol.Name && p != kv.StaleProtocol.Name {
				// Its servers would boot a store they do not read.
				return fmt.Errorf("the cluster in %s runs protocol %s, not the kv database: a kv snapshot restores only into a kv cluster (ordo cluster up --protocol kv)", c.Dir, p)
			}
			opts, err := kv.Protocol.Resolve(c.Cfg.Options)
			if err != nil {
				return fmt.Errorf("the cluster's options: %w", err)
			}
			// Checked as its servers will restore it (their session table's
			// bounds), before any store is touched.
			h, data, err := readSnapshotFile(args[0], kv.MachineConfigOf(opts))
			if err != nil {
				return err
			}
			servers := c.Servers()
			// Revisions are never handed out twice: a cluster whose logs
			// went past the backup's revision gets the backup's keys at
			// the highest index any server holds, so its next write has a
			// revision above all it gave out before.
			var past uint64
			for _, id := range servers {
				nc, _ := c.Cfg.Node(id)
				last, err := storeLastIndex(filepath.Join(c.Cfg.Path(nc.Dir), "store"))
				if err != nil {
					return fmt.Errorf("node %d: %w", id, err)
				}
				past = max(past, last)
			}
			rev, dropped := h.Rev, 0
			if past > rev {
				if data, dropped, err = kv.RebaseSnapshot(kv.MachineConfigOf(opts), data, h.Rev, past); err != nil {
					return fmt.Errorf("%s: %w", args[0], err)
				}
				rev = past
			}
			for _, id := range servers {
				nc, _ := c.Cfg.Node(id)
				// The node's store, as live.Start opens it.
				if err := restoreStore(filepath.Join(c.Cfg.Path(nc.Dir), "store"), rev, servers, data); err != nil {
					return fmt.Errorf("node %d: %w", id, err)
				}
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "restored %d bytes at rev %d into %s of %s\n", len(data), rev, plural.Count(len(servers), "server"), c.Dir)
			if rev != h.Rev {
				fmt.Fprintf(out, "the backup was taken at rev %d; the cluster had reached rev %d, so its keys start there and the next write's revision is above every one given out before\n", h.Rev, rev)
			}
			if dropped > 0 {
				// A session's entry is a position in the log the restore
				// replaced: kept, it would answer a retry wrongly.
				fmt.Fprintf(out, "%s of the backup dropped: a write retried from before the restore is applied again, not recognized as a duplicate\n", plural.Count(dropped, "client session"))
			}
			if noStart {
				return nil
			}
			// Start the stopped cluster again from its restored disks, as
			// `ordo cluster up --detach` would have left it running.
			if err := c.Start(); err != nil {
				return fmt.Errorf("restored, but the cluster did not start (ordo cluster start --dir %s): %w", c.Dir, err)
			}
			// Started is not serving: a node can fail-stop on its
			// restored store right after its admin endpoint answered.
			kc, err := f.client()
			if err != nil {
				return err
			}
			defer kc.Close()
			ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
			defer cancel()
			if err := c.WaitServing(ctx, func(ctx context.Context) error {
				_, err := kc.Get(ctx, "ordo/restore-check") // any key: absent is an answer too
				return err
			}); err != nil {
				return fmt.Errorf("restored and started, but the database is not up and serving within %v: %w\n(the nodes were left running: ordo kv status --cluster %s shows each server; ordo cluster down --dir %s stops them)", f.timeout, err, c.Dir, c.Dir)
			}
			fmt.Fprintf(out, "%s running again; the database answered a read (ordo kv status --cluster %s)\n", plural.Count(c.N(), "node"), c.Dir)
			return nil
		},
	}
	restore.Flags().BoolVar(&noStart, "no-start", false, "leave the cluster stopped after the restore")
	cmd.AddCommand(restore)
	return cmd
}

// storeLastIndex is the highest log index in a stopped server's store (0
// if it has none).
func storeLastIndex(dir string) (last uint64, err error) {
	s, err := live.OpenDiskStorage(dir)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the store in %s: %v", dir, r) // ordo.Corrupt
		}
	}()
	return raft.LastIndex(s), nil
}

// restoreStore writes the snapshot into one server's store durably.
func restoreStore(dir string, rev uint64, voters []ordo.NodeID, data []byte) error {
	s, err := live.OpenDiskStorage(dir)
	if err != nil {
		return err
	}
	// Term 1: every server gets the same snapshot term, so none's log is
	// more up to date than another's; the servers keep their own terms.
	raft.WriteSnapshot(s, rev, 1, voters, data)
	s.EndBatch()
	if err := s.Commit(); err != nil {
		s.Close()
		return err
	}
	return s.Close()
}

// readSnapshotFile reads and checks a snapshot file (bounded, checksummed)
// and that it restores into a machine of configuration mc.
func readSnapshotFile(path string, mc kv.MachineConfig) (snapHeader, []byte, error) {
	var h snapHeader
	fh, err := os.Open(path)
	if err != nil {
		return h, nil, err
	}
	defer fh.Close()
	r := bufio.NewReader(io.LimitReader(fh, raft.MaxSnapshotBytes+4096))
	line, err := r.ReadSlice('\n')
	if err != nil {
		return h, nil, fmt.Errorf("%s: not an ordo kv snapshot (no header line)", path)
	}
	// Another version's header may have other fields: its format alone
	// tells an unsupported version from a file that is no snapshot.
	var f struct{ Format string }
	if json.Unmarshal(line, &f) == nil {
		if v, ok := strings.CutPrefix(f.Format, snapFormatPrefix); ok && v != "" && f.Format != snapFormat {
			return h, nil, fmt.Errorf("%s: unsupported snapshot format version %s (this ordo reads %s): restore it with the ordo release that saved it", path, v, strings.TrimPrefix(snapFormat, snapFormatPrefix))
		}
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil || h.Format != snapFormat {
		return h, nil, fmt.Errorf("%s: not an ordo kv snapshot (want an %s header line, as ordo kv snapshot save writes)", path, snapFormat)
	}
	// The header is believed only in the one form save writes: JSON's
	// leniency (names in any case, a name twice, text after the object)
	// would let an edited header pass for a written one.
	if canon, err := json.Marshal(h); err != nil || !bytes.Equal(canon, bytes.TrimSuffix(line, []byte("\n"))) {
		return h, nil, fmt.Errorf("%s: the header line is not as ordo kv snapshot save writes it (want %s): the file was edited or damaged", path, canon)
	}
	if h.Bytes < 0 || h.Bytes > raft.MaxSnapshotBytes || h.Rev == 0 || h.Rev > ordo.MaxIndex {
		return h, nil, fmt.Errorf("%s: header out of bounds (%d bytes, rev %d)", path, h.Bytes, h.Rev)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return h, nil, err
	}
	if int64(len(data)) != h.Bytes {
		return h, nil, fmt.Errorf("%s: %d bytes of snapshot, the header says %d (truncated or extended)", path, len(data), h.Bytes)
	}
	if crc32.Checksum(data, castagnoli) != h.CRC32C {
		return h, nil, fmt.Errorf("%s: checksum mismatch: the file is damaged", path)
	}
	// The checksum covers the snapshot, not the header: a header edited
	// (or written by another tool) must still agree with what the snapshot
	// says of itself, or every server would refuse its store at boot.
	if at, err := kv.SnapshotIndex(data); err != nil {
		return h, nil, fmt.Errorf("%s: %w", path, err)
	} else if at != h.Rev {
		return h, nil, fmt.Errorf("%s: the header says rev %d, the snapshot was taken at rev %d: the file was edited or damaged", path, h.Rev, at)
	}
	if err := mc.Check(); err != nil {
		return h, nil, err
	}
	if err := kv.NewMachine(mc).Restore(h.Rev, data); err != nil {
		return h, nil, fmt.Errorf("%s: the snapshot does not decode: %w", path, err)
	}
	return h, data, nil
}
