package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"ordo"
	_ "ordo/election/raft" // the cluster's default protocol
	"ordo/fault"
	"ordo/internal/plural"
	"ordo/internal/style"
	"ordo/lab"
	"ordo/live"
	"ordo/pbft"
)

func init() { commands = append(commands, newClusterCmd) }

// defaultClusterDir is where `ordo cluster up` keeps a cluster unless told
// otherwise, so the other cluster commands find it without --dir.
const defaultClusterDir = ".ordo-cluster"

func newClusterCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "run and break a real local cluster (exercise 3)",
		Long: `Run the chapter's exercise 3 for real: N node processes on loopback TCP
(ordo node), each with its disk, its trace and an admin endpoint. Kill the
leader with SIGKILL, partition the cluster, heal it, and watch it recover;
ordo cluster chaos does this in rounds and measures the failover. ordo
cluster byzantine makes a node lie about what it sends (a PBFT cluster,
--protocol pbft -n 4, tolerates one liar).

The cluster lives in a directory (default ./.ordo-cluster): cluster.yaml,
state.json (the processes), faults.jsonl, and nodeN/ (store/, trace.jsonl,
node.log).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newClusterUpCmd(), newClusterStatusCmd(), newClusterKillCmd(), newClusterRestartCmd(), newClusterStartCmd(),
		newClusterPartitionCmd(), newClusterHealCmd(), newClusterFaultCmd(), newClusterDownCmd(), newClusterChaosCmd())
	cmd.AddCommand(newClusterRunCmd(), newClusterPauseCmd(), newClusterResumeCmd()) // cluster_run.go
	cmd.AddCommand(newClusterByzantineCmd())                                        // cluster_byzantine.go
	dirAlias(cmd)
	return cmd
}

// dirAlias makes --cluster DIR, as ordo kv calls the cluster's
// directory, another name of --dir in c's commands, and says so in their
// help.
func dirAlias(c *cobra.Command) {
	c.SetGlobalNormalizationFunc(func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		if name == "cluster" {
			name = "dir"
		}
		return pflag.NormalizedName(name)
	})
	var note func(c *cobra.Command)
	note = func(c *cobra.Command) {
		if f := c.Flags().Lookup("dir"); f != nil && !strings.Contains(f.Usage, "--cluster") {
			f.Usage += " (--cluster is the same flag, as ordo kv calls it)"
		}
		for _, sub := range c.Commands() {
			note(sub)
		}
	}
	note(c)
}

// protoFlags are the flags that choose a protocol and its timing.
type protoFlags struct {
	protocol string
	election string
	hb       string
	opts     []string
	seed     uint64
}

func (p *protoFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&p.protocol, "protocol", "raft", "the protocol every node runs")
	cmd.Flags().StringVar(&p.election, "election-timeout", "", `randomized election timeout "MIN-MAX" (150ms-300ms); "1s" means 1s-2s as in etcd`)
	cmd.Flags().StringVar(&p.hb, "heartbeat", "", "leader heartbeat interval (e.g. 50ms)")
	optionFlag(cmd.Flags(), &p.opts, "a protocol option KEY=VALUE (repeatable), e.g. -o peer_down=false")
	cmd.Flags().Uint64Var(&p.seed, "seed", 1, "seeds every node's random source")
}

// options gathers the protocol options of the flags and checks them the
// way a node of an n-node cluster will (floors, orderings), so that a bad
// value is refused here with the protocol's own words instead of by N
// node processes in their logs.
func (p *protoFlags) options(n int) (map[string]string, error) {
	o := map[string]string{}
	for _, kv := range p.opts {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--option %q: want KEY=VALUE", kv)
		}
		o[k] = v
	}
	if p.election != "" {
		lo, hi, err := parseElection(p.election)
		if err != nil {
			return nil, err
		}
		o["election_timeout_min"], o["election_timeout_max"] = lo.String(), hi.String()
	}
	if p.hb != "" {
		d, err := time.ParseDuration(p.hb)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("--heartbeat %q: want a positive duration like 50ms", p.hb)
		}
		o["heartbeat"] = d.String()
	}
	proto, err := ordo.Lookup(p.protocol)
	if err != nil {
		return nil, err
	}
	if _, err := live.CheckOptions(proto, o, n); err != nil {
		return nil, err
	}
	return o, nil
}

func parseElection(s string) (lo, hi time.Duration, err error) {
	a, b, two := strings.Cut(s, "-")
	lo, err = time.ParseDuration(strings.TrimSpace(a))
	if err != nil || lo <= 0 {
		return 0, 0, fmt.Errorf("--election-timeout %q: want MIN-MAX like 150ms-300ms", s)
	}
	hi = 2 * lo
	if two {
		hi, err = time.ParseDuration(strings.TrimSpace(b))
		if err != nil || hi < lo {
			return 0, 0, fmt.Errorf("--election-timeout %q: want MIN-MAX with MIN ≤ MAX, like 150ms-300ms", s)
		}
	}
	return lo, hi, nil
}

func newClusterUpCmd() *cobra.Command {
	var (
		n        int
		tls      bool
		insecure bool
		dir      string
		detach   bool
		fresh    bool
		netns    bool
		logLevel string
		pf       protoFlags
		clients  int
		cproto   string
		copts    []string
		// etcdEndpoints: --etcd, for the lease election's services.
		etcdEndpoints string
	)
	cmd := &cobra.Command{
		Use:   "up",
		Short: "start N local node processes and show who leads",
		Long: `Start N node processes (this ordo binary, ordo node ...) on free loopback
ports, write DIR/cluster.yaml and DIR/state.json, and show a live status view:
who leads in which term, who is down, who is cut off. Ctrl-C stops the nodes.
With --detach the nodes keep running in the background; stop them with
ordo cluster down. A stopped run's node data and traces in DIR are kept:
up refuses to start over them unless told --fresh.

Every link is mutual TLS under a development CA generated into DIR/tls: a
peer without a certificate from that CA, or whose certificate names another
node than the one it claims to be, is refused. --insecure turns TLS off
(plain TCP: anyone who can reach a peer port can forge messages). The admin
endpoints take a bearer token generated into DIR/admin.token (mode 0600),
which the cluster commands send; see docs/live.md, "Threat model".

With --clients C, C client processes follow the N servers (nodes N+1..N+C),
each running the client protocol (--client-protocol; default: the server
protocol's own client) as its own ordo node process. Clients count toward no
quorum; a partition that does not name a client leaves it connected to
every group.

A protocol that needs a coordination service (--protocol lease: leader
election over etcd) gets service nodes after the servers; each node reaches
the etcd behind them through its own runtime. Without --etcd, up starts a
1-member embedded etcd on free loopback ports with its data in DIR/etcd;
Ctrl-C (or, with --detach, ordo cluster down) stops it. That etcd serves only
mutual TLS under its own development CA (DIR/etcd/tls): each node presents its
certificate from there, and a process without one can neither read nor write
a key (--insecure: plain HTTP, like the links). --etcd ENDPOINTS uses an etcd
you run (ordo etcd, or your own) instead: http endpoints are plain HTTP (open
to any process that reaches them); https endpoints need --etcd-ca, and
--etcd-cert with --etcd-key when that etcd asks for client certificates.
up checks that such an etcd answers before it starts any node, and gives
the cluster keys of its own there (an etcd may be shared by clusters):
the election prefix /leader-election/<dir name>-<random id>/ unless
-o prefix=... says otherwise, and the fenced store's key under
/ordo/fenced/<same>/; it warns when keys already exist under them.`,
		Example: `  ordo cluster up -n 5
  ordo cluster up --detach --election-timeout 150ms-300ms
  ordo cluster up -n 3 --clients 2 --protocol register --client-opt rate=50
  ordo cluster up -n 3 --protocol lease -o ttl=2s --detach
  ordo cluster kill 3; ordo cluster partition 1,2/3,4,5; ordo cluster heal`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := live.CheckSize(n, clients); err != nil {
				return err // before an etcd is started for the cluster
			}
			opts, err := pf.options(n)
			if err != nil {
				return err
			}
			co, err := keyValues("--client-opt", copts)
			if err != nil {
				return err
			}
			insecure = insecure || !tls // the deprecated --tls=false
			if insecure {
				insecureWarning(cmd.ErrOrStderr())
			}
			// A protocol whose services reach etcd (the lease election)
			// gets the --etcd endpoints or an embedded etcd in DIR/etcd.
			if svcs, err := etcdServices(pf.protocol); err == nil && len(svcs) > 0 && netns {
				return fmt.Errorf("--netns --protocol %s: a node in its own network namespace cannot reach an etcd on this host's loopback", pf.protocol)
			}
			svcOpts, stopEtcd, undoEtcd, err := upEtcd(cmd, cmd.OutOrStdout(), pf.protocol, etcdEndpoints, dir, detach, fresh) // etcd.go
			if err != nil {
				return err
			}
			// A shared etcd: keys of this cluster's own (etcd_shared.go).
			if err := etcdNamespace(cmd.Context(), cmd.OutOrStdout(), pf.protocol, opts, svcOpts, etcdEndpoints, dir); err != nil {
				undoEtcd()
				return err
			}
			c, err := live.Up(live.UpOptions{N: n, Protocol: pf.protocol, Options: opts, Insecure: insecure, Dir: dir, Seed: pf.seed, LogLevel: logLevel, DieWithParent: !detach, Netns: netns, Fresh: fresh,
				Clients: clients, ClientProtocol: cproto, ClientOptions: co, ServiceOptions: svcOpts})
			if err != nil {
				undoEtcd()
				return err
			}
			defer stopEtcd() // a no-op when detached or external
			out := cmd.OutOrStdout()
			if clients > 0 {
				fmt.Fprintf(out, "%s of %s and %s up in %s\n", plural.Count(n, "server"), pf.protocol, plural.Count(clients, "client"), c.Dir)
			} else {
				fmt.Fprintf(out, "%s of %s up in %s\n", plural.Count(n, "node"), pf.protocol, c.Dir)
			}
			pbftNote(cmd, pf.protocol, n, opts)
			if detach {
				return nil
			}
			sig := make(chan os.Signal, 1)
			signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
			defer signal.Stop(sig)
			tty := style.IsTerminal(os.Stdout)
			tick := time.NewTicker(300 * time.Millisecond)
			defer tick.Stop()
			last := ""
			for {
				select {
				case <-sig:
					fmt.Fprintln(out, "\nstopping the nodes ...")
					return c.Down()
				case <-tick.C:
				}
				if err := c.Reload(); err != nil || c.State.Stopped {
					// `ordo cluster down` (or a removed directory) ended
					// the cluster: the view ends with it.
					fmt.Fprintf(out, "\nthe cluster in %s was stopped; the view ends\n", c.Dir)
					return nil
				}
				var b bytes.Buffer
				live.FormatView(&b, c.View(), c.State.Partition)
				if b.String() == last {
					continue
				}
				last = b.String()
				if tty {
					fmt.Fprint(out, "\033[H\033[2J")
					fmt.Fprintf(out, "ordo cluster (%s) — Ctrl-C stops it; in another terminal: ordo cluster kill|restart|partition|heal --dir %s\n\n", c.Dir, dir)
				} else {
					fmt.Fprintf(out, "--- %s\n", time.Now().Format("15:04:05.000"))
				}
				fmt.Fprint(out, last)
			}
		},
	}
	cmd.Flags().IntVarP(&n, "nodes", "n", 5, "number of nodes (servers)")
	cmd.Flags().IntVar(&clients, "clients", 0, "number of client processes after the servers")
	cmd.Flags().StringVar(&cproto, "client-protocol", "", "the clients' protocol (default: the server protocol's client)")
	cmd.Flags().StringArrayVar(&copts, "client-opt", nil, "a client protocol option KEY=VALUE (repeatable)")
	cmd.Flags().BoolVar(&insecure, "insecure", false, "plain TCP between nodes instead of mutual TLS (not for a network you do not trust)")
	cmd.Flags().BoolVar(&tls, "tls", true, "mutual TLS between nodes (the default)")
	cmd.Flags().MarkDeprecated("tls", "mutual TLS is on by default; --insecure turns it off")
	cmd.Flags().BoolVar(&netns, "netns", false, "each node in its own network namespace on a bridge (10.213.7.0/24): partitions, cuts and loss become nftables rules applied by the kernel; needs root (docs/live.md)")
	cmd.Flags().StringVar(&dir, "dir", defaultClusterDir, "the cluster's directory")
	cmd.Flags().BoolVar(&detach, "detach", false, "start the nodes and return; they keep running")
	cmd.Flags().BoolVar(&fresh, "fresh", false, "delete a stopped run's node data and traces found in --dir (without it, up refuses to start there)")
	cmd.Flags().StringVar(&logLevel, "log-level", "info", "node log level: debug, info, warn, error")
	cmd.Flags().StringVar(&etcdEndpoints, "etcd", "", "etcd client URLs for a protocol whose services need etcd (--protocol lease); default: start an embedded etcd in DIR/etcd (mutual TLS unless --insecure), stopped by ordo cluster down")
	cmd.Flags().String("etcd-ca", "", "with https --etcd: the CA file its certificate chains to")
	cmd.Flags().String("etcd-cert", "", "with https --etcd: the client certificate file every node presents")
	cmd.Flags().String("etcd-key", "", "with https --etcd: the key file of --etcd-cert")
	pf.add(cmd)
	return cmd
}

// insecureWarning is what --insecure prints before it starts anything.
func insecureWarning(w io.Writer) {
	fmt.Fprintln(w, "warning: --insecure: the nodes talk plain TCP; any process that can reach a peer port can forge messages as any node (docs/live.md, Threat model)")
}

func openCluster(dir string) (*live.Cluster, error) {
	c, err := live.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("%v\n(start one with: ordo cluster up --dir %s)", err, dir)
	}
	return c, nil
}

func nodeArg(c *live.Cluster, s string) (ordo.NodeID, error) {
	v, err := strconv.Atoi(strings.TrimPrefix(s, "n"))
	if err != nil || v < 1 || v > c.N() {
		return 0, fmt.Errorf("%q is not a node: the cluster has nodes 1..%d", s, c.N())
	}
	return ordo.NodeID(v), nil
}

// clusterOp completes cmd into a subcommand that acts on the running
// cluster in --dir: it adds the flag and opens the cluster before run.
func clusterOp(cmd *cobra.Command, run func(cmd *cobra.Command, c *live.Cluster, args []string) error) *cobra.Command {
	var dir string
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := openCluster(dir)
		if err != nil {
			return err
		}
		return run(cmd, c, args)
	}
	cmd.Flags().StringVar(&dir, "dir", defaultClusterDir, "the cluster's directory")
	return cmd
}

// nodeOp is clusterOp for a subcommand whose one argument is a node.
func nodeOp(cmd *cobra.Command, run func(cmd *cobra.Command, c *live.Cluster, id ordo.NodeID) error) *cobra.Command {
	cmd.Args = exactArgs(1)
	return clusterOp(cmd, func(cmd *cobra.Command, c *live.Cluster, args []string) error {
		id, err := nodeArg(c, args[0])
		if err != nil {
			return err
		}
		if err := c.RequireProcess(id); err != nil {
			return err // a service: etcd, not a process (say how to cut it off)
		}
		if c.State.Stopped {
			// `ordo cluster down` ran: say so, not "node N is not running".
			return live.ErrStopped{Dir: c.Dir}
		}
		return run(cmd, c, id)
	})
}

func newClusterStatusCmd() *cobra.Command {
	var asJSON bool
	cmd := clusterOp(&cobra.Command{
		Use:   "status",
		Short: "show every node's protocol state (role, term, leader; PBFT: view, primary), links and faults",
		Long: `Show every node of the cluster: its process, its protocol's state, whom it
reaches, and the faults applied to it. The protocol's columns:

  an election (raft, kv, bully, ...)  ROLE, TERM, LEADER (from the nodes' notes);
                                      above the table, who leads
  pbft                                VIEW the replica is in (or changing to),
                                      PRIMARY of that view, MODE normal or
                                      view-change, EXEC-SEQ the last sequence
                                      number executed, CHECKPOINT the stable
                                      checkpoint's, VIEW-CHANGES started since
                                      boot, REFUSED messages its protocol refused
                                      but duplicates (by reason under the
                                      table: a liar's conflicting votes, bad
                                      certificates, stale views), DUPLICATES
                                      the same message again (honest
                                      retransmissions, a liar's replays); above
                                      the table, the view and its primary
  dynamo                              none: every replica is alike

FAULTS shows a lying node's behaviour and its lies (ordo cluster byzantine),
and the lines under the table what each node rejected as a receiver.
--json prints every node's full status, the protocol's state included.`,
		Args: noArgs,
	}, func(cmd *cobra.Command, c *live.Cluster, args []string) error {
		v := c.View()
		if asJSON {
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			return enc.Encode(v)
		}
		live.FormatView(cmd.OutOrStdout(), v, c.State.Partition)
		if c.State.Stopped {
			fmt.Fprintf(cmd.OutOrStdout(), "stopped; start it again from its data with ordo cluster start --dir %s, or a new cluster there with ordo cluster up --fresh --dir %s (it replaces this run's data: copy the directory first to keep its traces)\n", c.Dir, c.Dir)
		}
		return nil
	})
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the nodes' status as JSON")
	return cmd
}

func newClusterKillCmd() *cobra.Command {
	return nodeOp(&cobra.Command{
		Use:   "kill N",
		Short: "SIGKILL node N: a real crash",
	}, func(cmd *cobra.Command, c *live.Cluster, id ordo.NodeID) error {
		if err := c.RequireNode(id); err != nil {
			return err
		}
		if err := c.Kill(id); err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "killed n%d (SIGKILL)\n", id)
		return nil
	})
}

func newClusterStartCmd() *cobra.Command {
	return clusterOp(&cobra.Command{
		Use:   "start",
		Short: "start a stopped cluster again from its data (after ordo cluster down)",
		Long: `Start every node of a cluster that ordo cluster down stopped, from its
directory: each node reads back its store (a database keeps its data; a
PBFT replica starts from its last stable checkpoint and the votes it cast
above it, and learns the rest from the others) and its trace, and boots
with a higher boot count. The network starts whole:
the faults and the partition of the earlier run ended with it. A cluster
with a running node is refused (ordo cluster restart N restarts one), and
so is a --netns cluster, whose namespaces down removed.`,
		Example: `  ordo cluster down && ordo cluster start`,
		Args:    noArgs,
	}, func(cmd *cobra.Command, c *live.Cluster, args []string) error {
		if err := restartClusterEtcd(cmd, c.Dir); err != nil { // etcd.go: the lease election's etcd first
			return err
		}
		if err := c.Start(); err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "%s started again in %s\n", plural.Count(len(c.Processes()), "node"), c.Dir)
		// The notes of ordo cluster up again: the cluster runs as it did.
		pbftNote(cmd, c.Cfg.Protocol, len(c.Cfg.Roster().Servers), c.Cfg.Options)
		return nil
	})
}

func newClusterRestartCmd() *cobra.Command {
	return nodeOp(&cobra.Command{
		Use:   "restart N",
		Short: "start node N again from its disk (killing it first if it runs)",
	}, func(cmd *cobra.Command, c *live.Cluster, id ordo.NodeID) error {
		// A liar's behaviour lives in its process: the new one starts
		// honest, which the user is told (the fault log and the merged
		// trace keep naming the node a liar for the run).
		var before *live.ByzantineStatus
		if s, err := c.Status(id); err == nil {
			before = s.Byzantine
		}
		if err := c.Restart(id); err != nil {
			return err
		}
		if note := restartedLiarNote(id, before); note != "" {
			fmt.Fprintln(cmd.ErrOrStderr(), note)
		}
		s, err := c.Status(id)
		if err != nil {
			return err
		}
		if s.Term == 0 && s.Role == "" {
			// No election (PBFT, Dynamo): no term to speak of.
			fmt.Fprintf(cmd.OutOrStdout(), "restarted n%d (pid %d, boot %d)\n", id, s.Pid, s.Boot)
			return nil
		}
		fmt.Fprintf(cmd.OutOrStdout(), "restarted n%d (pid %d, boot %d, term %d from disk)\n", id, s.Pid, s.Boot, s.Term)
		return nil
	})
}

// restartedLiarNote says that node id, lying before its restart
// (before: its status's byzantine part), runs honest now ("" when it
// did not lie).
func restartedLiarNote(id ordo.NodeID, before *live.ByzantineStatus) string {
	if before == nil || before.Behaviour == "" || before.Behaviour == live.Honest {
		return ""
	}
	return fmt.Sprintf("note: n%d lied (%s) before the restart; its new process starts honest (ordo cluster byzantine %d %s to make it lie again)", id, before.Behaviour, id, before.Behaviour)
}

func newClusterPartitionCmd() *cobra.Command {
	return clusterOp(&cobra.Command{
		Use:   "partition GROUPS",
		Short: "cut the cluster into groups, e.g. 1,2/3,4,5",
		Long: `Cut the cluster into groups that cannot reach each other: every node drops
traffic to and from the nodes of the other groups in its fault layer. Every
server is in exactly one group (the fault package's notation, as in ordo
elect and scenario files: 1,2/3 in a cluster of five is an error, not a
guess); a client or a service named in no group stays connected to every
group. A service (the lease election's etcd: node 4 coord, node 5
fenced-store after servers 1..3) may be placed in a group: 1,2,3/4 cuts
every server off from it. To cut one server alone from a service, use two
one-way cuts: ordo cluster fault cut '1->4' and '4->1'.
Replaces any earlier partition.`,
		Example: `  ordo cluster partition 1,2/3,4,5
  ordo cluster partition 1,2,3/4      # servers 1..3 cut off from service 4`,
		Args: exactArgs(1),
	}, func(cmd *cobra.Command, c *live.Cluster, args []string) error {
		groups, err := c.ParseGroups(args[0])
		if err != nil {
			return err
		}
		if err := c.RequireRunning(); err != nil {
			return err
		}
		if err := c.Apply(fault.Fault{Kind: fault.Partition, Groups: groups}); err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "partitioned: %s\n", c.State.Partition)
		return nil
	})
}

func newClusterHealCmd() *cobra.Command {
	return clusterOp(&cobra.Command{
		Use:   "heal",
		Short: "clear every fault (partitions, delay, loss)",
		Args:  noArgs,
	}, func(cmd *cobra.Command, c *live.Cluster, args []string) error {
		if err := c.RequireRunning(); err != nil {
			return err
		}
		if err := c.Heal(); err != nil {
			return err
		}
		fmt.Fprintln(cmd.OutOrStdout(), "healed")
		return nil
	})
}

func newClusterFaultCmd() *cobra.Command {
	return clusterOp(&cobra.Command{
		Use:   "fault KIND [SPEC]",
		Short: "apply one fault now, in the notation of scenario files and ordo elect",
		Long: `Apply one fault to the running cluster now, written as the fault package
writes it (the notation ordo elect and ordo explore print). The kinds the
live cluster can do:

  crash N | restart N          SIGKILL node N | start it again from its disk
  pause N | resume N           SIGSTOP node N (a GC pause) | SIGCONT it
  partition 1,2/3,4,5          groups that cannot reach each other
  cut 1,2->3                   messages from 1 and 2 to 3 are lost (one way)
  cut "1->4"                   with services (ordo cluster up --protocol lease:
                               4 coord, 5 fenced-store): node 1's requests to
                               etcd are lost; "4->1" loses its replies
  bridge "1/3 via 2"           1 and 3 cannot talk, both reach 2
  star "hub 1"                 every server but 1 reaches only 1
  heal                         every cut removed
  loss 0.2                     every node drops 20% of what it sends
  clock-step "2 by -1s"        node 2's clock steps back 1s
  clock-drift "2 by 200ppm"    node 2's clock runs 200 µs/s fast
  fsync-fail N                 node N's next fsync fails: it stops (fail-stop)

A partition or a cut may name the service nodes that follow the servers
and clients (a service is a real etcd reached through each node's
adapter: the node's fault layer drops its requests or the replies); a
crash, restart, pause, resume, clock or fsync fault may not name one.
Each fault goes to the cluster's fault log, so the merged trace's checkers
see it.`,
		Example: `  ordo cluster fault cut '1->2,3'
  ordo cluster fault cut '1->4'       # with services: node 1 cannot reach etcd
  ordo cluster fault clock-step "3 by 2s"
  ordo cluster fault heal`,
		Args: rangeArgs(1, 2),
	}, func(cmd *cobra.Command, c *live.Cluster, args []string) error {
		k, err := fault.ParseKind(args[0])
		if err != nil {
			return err
		}
		spec := ""
		if len(args) == 2 {
			spec = args[1]
		}
		f, err := c.ParseFault(k, spec+"@0s") // the cluster's roles, services too
		if err != nil {
			return err
		}
		if err := c.RequireRunning(); err != nil {
			return err
		}
		if err := c.Apply(f); err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "applied: %s %s\n", f.Kind, f.Spec())
		return nil
	})
}

func newClusterDownCmd() *cobra.Command {
	return clusterOp(&cobra.Command{
		Use:   "down",
		Short: "stop every node gracefully (SIGTERM)",
		Args:  noArgs,
	}, func(cmd *cobra.Command, c *live.Cluster, args []string) error {
		if err := c.Down(); err != nil {
			return errors.Join(err, stopClusterEtcd(cmd.OutOrStdout(), c.Dir))
		}
		fmt.Fprintf(cmd.OutOrStdout(), "stopped; traces in %s (ordo trace merge %s)\n", c.Dir, c.Dir)
		return stopClusterEtcd(cmd.OutOrStdout(), c.Dir) // etcd.go: the lease election's etcd
	})
}

func newClusterChaosCmd() *cobra.Command {
	var (
		n        int
		rounds   int
		asJSON   bool
		dir      string
		keep     bool
		insecure bool
		pf       protoFlags
		clients  int
		pause    bool
		copts    []string
		svg      string
	)
	cmd := &cobra.Command{
		Use:   "chaos",
		Short: "kill the leader and partition the cluster in rounds; measure failover",
		Long: `Start a cluster, then run rounds of: SIGKILL the leader and wait for a new
one (then restart the old one), cut the new leader and one other node into a
minority and wait for a leader in the majority, heal. Then stop the nodes,
merge their traces and run the checkers one-leader-per-term and
single-leader on the merged trace.

Failover is measured on the merged trace: from the SIGKILL to the first
moment a node other than the killed one has noted "leader" with a higher
term and a majority of the cluster (the leader and its followers in that
term) knows it. --json prints failover_ms (each round), p50_ms, p99_ms,
max_ms, partition_failover_ms and violations.

With --clients (the default for a protocol that names a client, such as
the kv database), client processes run the protocol's workload through all
rounds, their history is checked too (linearizable, no-lost-write,
agreement) and the report adds the write failover: from the SIGKILL to the
next write a client saw acknowledged. --pause adds a third step per round:
the leader is paused (SIGSTOP) until another leads, then resumed.

Exit status 1 when a checker found a violation.`,
		Example: `  ordo cluster chaos -n 5 --rounds 20
  ordo cluster chaos -n 5 --rounds 20 --heartbeat 100ms --election-timeout 1s --json
  ordo cluster chaos --protocol kv -n 5 --rounds 20 --pause`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := pf.options(n)
			if err != nil {
				return err
			}
			if dir == "" {
				if dir, err = os.MkdirTemp("", "ordo-chaos-"); err != nil {
					return err
				}
				if !keep {
					defer os.RemoveAll(dir)
				}
			}
			var progress io.Writer = cmd.ErrOrStderr()
			clientOpts, err := keyValues("--client-option", copts)
			if err != nil {
				return err
			}
			if !cmd.Flags().Changed("clients") {
				clients = 0
				if p, err := ordo.Lookup(pf.protocol); err == nil && p.Client != "" {
					clients = 3 // a database: judge its clients' history
				}
			}
			if clients > 0 {
				// The clients write through every round: no budget of
				// operations ends them before the last kill.
				if p, err := ordo.Lookup(pf.protocol); err == nil && p.Client != "" {
					if cp, err := ordo.Lookup(p.Client); err == nil && slices.Contains(cp.OptionNames(), "ops") {
						if _, given := clientOpts["ops"]; !given {
							if clientOpts == nil {
								clientOpts = map[string]string{}
							}
							clientOpts["ops"] = "0"
						}
					}
				}
			}
			if clients < 0 || clients > live.MaxClusterNodes-n {
				return fmt.Errorf("--clients %d: want 0..%d", clients, live.MaxClusterNodes-n)
			}
			if svcs, err := etcdServices(pf.protocol); err == nil && len(svcs) > 0 {
				// Its minority leader keeps its lease (it still reaches
				// etcd): chaos's partition rounds assume a quorum.
				return fmt.Errorf("--protocol %s: chaos's rounds partition a quorum election; for kills of the lease election's leader see ordo bench lease, for its faults ordo cluster run lease-*", pf.protocol)
			}
			rep, err := live.Chaos(live.ChaosOptions{
				Up: live.UpOptions{N: n, Protocol: pf.protocol, Options: opts, Insecure: insecure, Dir: dir, Seed: pf.seed, LogLevel: "warn",
					Clients: clients, ClientOptions: clientOpts},
				Rounds: rounds, Progress: progress, Pause: pause,
			})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if !keep && !cmd.Flags().Changed("dir") {
				rep.Dir, rep.Trace = "", "" // removed on return
			}
			if svg != "" && len(rep.Latencies) > 0 {
				if err := writeChaosSVG(svg, rep); err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "latency over time: %s\n", svg)
			}
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(rep); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(out, "%s, %s, protocol %s\n", plural.Count(rep.Nodes, "node"), plural.Count(rep.Rounds, "round"), strings.TrimSpace(rep.Protocol+" "+lab.FormatOptions(rep.Options)))
				writeChaosFailover(out, rep)
				for _, r := range rep.Checks {
					verdict := "ok"
					if r.Failed() {
						verdict = "VIOLATED"
					} else if !r.OK {
						verdict = string(r.Verdict) // unknown, not-applicable
					}
					fmt.Fprintf(out, "check %-20s %s  %s\n", r.Check, verdict, r.Summary)
				}
				fmt.Fprintf(out, "violations: %d   (%s in the merged trace)\n", rep.Violations, plural.Count(rep.Events, "event"))
				if rep.Trace != "" {
					fmt.Fprintf(out, "trace: %s\n", rep.Trace)
				}
			}
			if rep.Violations > 0 {
				return exitCode(1)
			}
			return nil
		},
	}
	cmd.Flags().IntVarP(&n, "nodes", "n", 5, "number of nodes")
	cmd.Flags().IntVar(&rounds, "rounds", 10, "rounds of kill + partition")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	cmd.Flags().StringVar(&dir, "dir", "", "cluster directory to use and keep (default: a temporary one)")
	cmd.Flags().BoolVar(&keep, "keep", false, "keep the temporary directory (traces, logs)")
	cmd.Flags().BoolVar(&insecure, "insecure", false, "plain TCP between nodes instead of mutual TLS")
	cmd.Flags().IntVar(&clients, "clients", 0, "client processes running the protocol's workload (default: 3 for a protocol with a client, else 0)")
	cmd.Flags().StringArrayVar(&copts, "client-option", nil, "KEY=VALUE option of the client protocol (repeatable)")
	cmd.Flags().BoolVar(&pause, "pause", false, "also pause (SIGSTOP) the leader each round until another leads")
	cmd.Flags().StringVar(&svg, "svg", "chaos-latency.svg", "with clients: the clients' latency over time, faults shaded, written here (\"\": none)")
	pf.add(cmd)
	return cmd
}

// keyValues reads repeated KEY=VALUE flags.
func keyValues(flag string, kvs []string) (map[string]string, error) {
	if len(kvs) == 0 {
		return nil, nil
	}
	o := map[string]string{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%s %q: want KEY=VALUE", flag, kv)
		}
		o[k] = v
	}
	return o, nil
}

// pbftF is the f a PBFT cluster of n replicas runs with under its options
// (f, unsafe_quorum; f defaults to (n-1)/3); ok is false for options its
// replicas refuse.
func pbftF(n int, opts map[string]string) (f int, ok bool) {
	qs, err := pbftQuorums(n, opts)
	return qs.F, err == nil
}

// pbftQuorums are the quorums the replicas of a PBFT cluster of n run
// with under its options (f, unsafe_quorum).
func pbftQuorums(n int, opts map[string]string) (pbft.Quorums, error) {
	f, unsafe := -1, 0
	fmt.Sscan(opts["f"], &f)
	fmt.Sscan(opts["unsafe_quorum"], &unsafe)
	return pbft.QuorumsFor(n, f, unsafe)
}

// pbftNote says how many liars a PBFT cluster of n replicas tolerates when
// it is none: f defaults to (n-1)/3, 0 below 4 replicas, and a user who
// asked for 3 may expect one. And what a quorum set by hand does.
func pbftNote(cmd *cobra.Command, protocol string, n int, opts map[string]string) {
	if protocol != pbft.Protocol.Name {
		return
	}
	if f, ok := pbftF(n, opts); ok && f == 0 {
		fmt.Fprintf(cmd.ErrOrStderr(), "note: %s no Byzantine replica (f = 0: n >= 3f+1; -n 4 tolerates one)\n", plural.Count(n, "PBFT replica tolerates", "PBFT replicas tolerate"))
	}
	if w := pbftQuorumWarning(n, opts); w != "" {
		fmt.Fprintln(cmd.ErrOrStderr(), w)
	}
}

// pbftQuorumWarning is the line that says what unsafe_quorum does to a
// PBFT cluster of n replicas ("" without it): cluster up said nothing of
// it before (status names it too).
// A quorum is safe when any two share f+1 replicas (one correct) and the
// n-f correct replicas make one (pbft.QuorumsFor); a quorum set by hand
// may be either, or neither.
func pbftQuorumWarning(n int, opts map[string]string) string {
	qs, err := pbftQuorums(n, opts)
	if err != nil || !qs.Unsafe {
		return ""
	}
	own := fmt.Sprintf("none: n < 3f+1 = %d", 3*qs.F+1)
	if safe, err := pbft.QuorumsFor(n, qs.F, 0); err == nil {
		own = strconv.Itoa(safe.Q)
	}
	var why []string
	if qs.Splittable() {
		why = append(why, fmt.Sprintf("two quorums may share %s, fewer than f+1 = %d, so liars can make replicas commit different requests", plural.Count(max(2*qs.Q-n, 0), "replica"), qs.F+1))
	}
	if qs.Stallable() {
		why = append(why, fmt.Sprintf("the %s left when f = %d are silent make no quorum, so it may stall", plural.Count(n-qs.F, "replica"), qs.F))
	}
	if len(why) == 0 {
		return fmt.Sprintf("note: unsafe_quorum = %d of %d replicas with f = %d is safe all the same (PBFT's own quorum: %s); ordo cluster status calls it a quorum set by hand", qs.Q, n, qs.F, own)
	}
	return fmt.Sprintf("warning: unsafe quorum: unsafe_quorum = %d of %d replicas with f = %d (PBFT's own quorum: %s): %s; a demonstration, not a safe cluster", qs.Q, n, qs.F, own, strings.Join(why, "; "))
}
