package main

// ordo cluster byzantine N BEHAVIOUR: a node that lies at run time
// (live/byzantine.go, with package adversary's behaviours).

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"ordo/adversary"
	"ordo/internal/plural"
	"ordo/live"
	"ordo/pbft"
)

func newClusterByzantineCmd() *cobra.Command {
	var (
		rate  float64
		after time.Duration
		as    int
	)
	cmd := clusterOp(&cobra.Command{
		Use:   "byzantine N BEHAVIOUR",
		Short: "make node N lie about what it sends (or honest again), at run time",
		Long: `Make node N a Byzantine node now: its runtime rewrites what the node sends
with one of the simulator's behaviours (the same decisions, package
adversary, from a random source seeded by the cluster's seed), while the
protocol code runs honestly. BEHAVIOUR is one of:

  equivocate            each recipient may hear a different message (PBFT: a
                        primary pre-prepares another request to odd-numbered
                        replicas; a backup's prepare names another digest)
  silent                sends nothing (a crash to the others; it still listens)
  garbage               random bytes of the message's kind: every receiver's
                        decoder refuses them (ordo cluster status: "rejected")
  replay                every message again, --after later (authentic, old)
  forge                 claims another sender over a connection of its own:
                        mutual TLS refuses it, the certificate names the liar
                        (ordo cluster status: "connection: tls identity")
  vote-for-everything   its own messages honest, plus a prepare and a commit
                        for every digest it hears and for a forged one
  honest                stop lying

--rate R (the probability of lying about one message) is for every
behaviour but honest, --after D for replay only, --as M for forge only: a
flag the behaviour would ignore is refused.

The behaviour lasts until honest, or until the node's process ends: a
node restarted (ordo cluster restart, start) runs honest again.

Every lie is a "byzantine" note in the node's trace, and each switch an
event of the cluster's fault log. On a PBFT cluster (ordo cluster up
--protocol pbft -n 4) one liar of four is tolerated: ordo kv put and get
keep working and print what f+1 = 2 replicas agree on. ordo cluster
status shows a liar's behaviour now and its lies since boot by behaviour
("byzantine:silent(lies since boot: garbage 3, silent 12)"; once honest
again, "honest-again(lies since boot: ...)"). ordo trace merge names every
node that lied in the run as Byzantine, so the checkers judge the others.`,
		Example: `  ordo cluster up --protocol pbft -n 4 --detach
  ordo cluster byzantine 1 equivocate      # the primary of view 0
  ordo kv put x 1 && ordo kv get x
  ordo cluster byzantine 1 honest
  ordo cluster byzantine 3 garbage --rate 0.5
  ordo cluster status                      # n3's lies, the others' rejects`,
		// The behaviour and its flags are checked before the cluster is
		// opened: a bad name said "open .../cluster.yaml: no such file"
		// outside a cluster directory, not what was wrong.
		Args:    exactArgs(2),
		PreRunE: func(cmd *cobra.Command, args []string) error { return byzantineFlags(cmd, args[1]) },
	}, func(cmd *cobra.Command, c *live.Cluster, args []string) error {
		id, err := nodeArg(c, args[0])
		if err != nil {
			return err
		}
		b := args[1]
		if err := c.RequireProcess(id); err != nil {
			return err
		}
		if c.State.Stopped {
			return live.ErrStopped{Dir: c.Dir}
		}
		s := live.ByzantineSetting{Behaviour: b, Rate: rate, After: live.Duration(after), As: as}
		if err := c.Byzantine(id, s); err != nil {
			return err
		}
		if b == live.Honest {
			fmt.Fprintf(cmd.OutOrStdout(), "n%d is honest again\n", id)
			return nil
		}
		out := cmd.OutOrStdout()
		fmt.Fprintf(out, "n%d lies: %s", id, b)
		if rate > 0 && rate < 1 {
			fmt.Fprintf(out, " (rate %g)", rate)
		}
		fmt.Fprintln(out)
		warnLiars(cmd, c)
		return nil
	})
	cmd.Flags().Float64Var(&rate, "rate", 0, "the probability of lying about one message (0: every message)")
	cmd.Flags().DurationVar(&after, "after", 0, "replay: how long before a message is sent again (0: 1s)")
	cmd.Flags().IntVar(&as, "as", 0, "forge: the node to claim to be (0: the lowest-numbered other server)")
	return cmd
}

// byzantineFlags refuses an unknown behaviour, and a flag given with a behaviour that ignores it
// (--after 0 with silent as much as --after 2s: the flag says the user
// expects something of it).
func byzantineFlags(cmd *cobra.Command, behaviour string) error {
	if behaviour != live.Honest {
		if _, err := adversary.Parse(behaviour); err != nil {
			return fmt.Errorf("%v (or %s)", err, live.Honest)
		}
	}
	takes := map[string]func(string) bool{
		"rate":  func(b string) bool { return b != live.Honest },
		"after": func(b string) bool { return b == string(adversary.Replay) },
		"as":    func(b string) bool { return b == string(adversary.Forge) },
	}
	for _, flag := range []string{"rate", "after", "as"} {
		if cmd.Flags().Changed(flag) && !takes[flag](behaviour) {
			return fmt.Errorf("--%s means nothing with %s: --rate is for every behaviour but honest, --after for replay only, --as for forge only", flag, behaviour)
		}
	}
	return nil
}

// warnLiars says what the liars now running mean for the cluster's
// protocol: only PBFT tolerates them, f of 3f+1 (the lie counts in
// ordo cluster status are since each node's boot).
func warnLiars(cmd *cobra.Command, c *live.Cluster) {
	w := cmd.ErrOrStderr()
	if c.Cfg.Protocol != pbft.Protocol.Name {
		fmt.Fprintf(w, "note: %s trusts its own nodes (crash faults only): a liar may break its guarantees; PBFT (ordo cluster up --protocol pbft) tolerates f liars of 3f+1\n", c.Cfg.Protocol)
		return
	}
	servers := c.Cfg.Roster().Servers
	var liars []string
	for _, id := range servers {
		if st, err := c.Status(id); err == nil && st.Byzantine != nil && st.Byzantine.Behaviour != "" && st.Byzantine.Behaviour != live.Honest {
			liars = append(liars, id.String())
		}
	}
	f, ok := pbftF(len(servers), c.Cfg.Options)
	if !ok {
		f = (len(servers) - 1) / 3
	}
	if warning := liarsWarning(liars, len(servers), f); warning != "" {
		fmt.Fprintln(w, warning)
	}
}

// liarsWarning is the warning of more than f of n replicas lying ("" for
// at most f); f is the cluster's (its -o f, else (n-1)/3).
func liarsWarning(liars []string, n, f int) string {
	if len(liars) <= f {
		return ""
	}
	return fmt.Sprintf("warning: %s (%s), more than f = %d of n = %d: PBFT's agreement and progress are no longer guaranteed (make one honest: ordo cluster byzantine N honest)",
		plural.Count(len(liars), "replica lies", "replicas lie"), strings.Join(liars, ", "), f, n)
}
