package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"ordo"
	"ordo/service/etcd"
)

func init() { commands = append(commands, newEtcdCmd) }

// newEtcdCmd is `ordo etcd`: the embedded etcd that ordo's lease election
// uses, alone in the foreground, for a cluster started with --etcd or for
// etcdctl.
func newEtcdCmd() *cobra.Command {
	var (
		dir     string
		members int
		tls     bool
	)
	cmd := &cobra.Command{
		Use:   "etcd",
		Short: "run an embedded etcd on free loopback ports until Ctrl-C (the coordination service of section 4)",
		Long: `ordo etcd runs a real etcd (go.etcd.io/etcd/server/v3, embedded in the ordo
binary) on free loopback ports, each member its own process with its data on
disk (fsync on, as etcd ships), prints the client endpoints and serves until
Ctrl-C, then stops its members gracefully.

It is the coordination service of the chapter's section 4 ("modern leader
election → using an external service"): a leader is whoever holds the oldest
key under a prefix bound to its lease. ordo's lease election reaches it
through the endpoints:

  ordo cluster up --protocol lease --etcd ENDPOINTS

Without --dir the data lives in a temporary directory that is removed at the
end; with --dir it stays (a later run with the same --dir does not reuse it:
each run is a new etcd cluster on new ports).`,
		Example: `  ordo etcd
  ordo etcd --members 3 --dir /tmp/etcd-data
  ordo cluster up --protocol lease --etcd http://127.0.0.1:2379`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if members < 1 || members > etcd.MaxMembers {
				return fmt.Errorf("--members %d: want 1..%d", members, etcd.MaxMembers)
			}
			d := dir
			if d == "" {
				tmp, err := os.MkdirTemp("", "ordo-etcd-")
				if err != nil {
					return err
				}
				defer os.RemoveAll(tmp)
				d = tmp
			} else if st, err := os.Stat(d); err == nil && st.IsDir() {
				// A reused directory would hold another cluster's members,
				// on other ports: refuse rather than mix them.
				if ents, _ := os.ReadDir(d); len(ents) > 0 {
					return fmt.Errorf("--dir %s is not empty: give a new or empty directory", d)
				}
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			c, err := etcd.Start(ctx, etcd.Options{N: members, Dir: d, TLS: tls})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			eps := strings.Join(c.Endpoints(), ",")
			fmt.Fprintf(out, "etcd: %d member(s) serving; data in %s\n", members, d)
			fmt.Fprintf(out, "endpoints: %s\n", eps)
			switch {
			case !tls:
				fmt.Fprintf(out, "use it:    ordo cluster up --protocol lease --etcd %s\n", eps)
			case members == 1:
				// Auto TLS: a self-signed certificate per member, which
				// ordo's nodes verify only against that certificate.
				fmt.Fprintf(out, "use it:    ordo cluster up --protocol lease --etcd %s --etcd-ca %s\n", eps, filepath.Join(d, "etcd1", "fixtures", "client", "cert.pem"))
			default:
				fmt.Fprintln(out, "use it:    each member's auto-TLS certificate is its own (no CA verifies them all): run ordo etcd --tls with one member, or let ordo cluster up start its own etcd (mutual TLS)")
			}
			fmt.Fprintf(out, "           ETCDCTL_ENDPOINTS=%s etcdctl get --prefix /\n", eps)
			fmt.Fprintln(out, "Ctrl-C stops it.")
			<-ctx.Done()
			fmt.Fprintln(out, "stopping etcd")
			return c.Stop()
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&dir, "dir", "", "data directory, kept at the end (default: a temporary one, removed)")
	fl.IntVar(&members, "members", 1, "etcd members, each its own process (1..9)")
	fl.BoolVar(&tls, "tls", false, "TLS between clients and members (auto-generated, unverified certificates)")
	return cmd
}

// newEtcdCampaignCmd is `ordo service etcd-campaign ...` (hidden): one
// candidate of etcd's own election recipe, the baseline `ordo bench lease`
// measures ordo's lease election against.
func newEtcdCampaignCmd() *cobra.Command {
	return &cobra.Command{
		Use:                etcd.CampaignCommand[1] + " --name NAME --endpoints URL,... --ttl SECONDS --prefix /PREFIX/",
		Short:              "campaign with etcd's concurrency.Election until SIGTERM (started by ordo bench lease)",
		DisableFlagParsing: true, // etcd.ParseCampaign reads them, here and in test binaries
		Hidden:             true,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
			defer stop()
			return etcd.CampaignMain(ctx, args, os.Stdout)
		},
	}
}

// clusterEtcdDir is the directory, inside a cluster's, of the embedded
// etcd that ordo cluster up starts for a protocol whose services need one.
const clusterEtcdDir = "etcd"

// etcdServices lists the service protocols of protocol that reach a real
// etcd (they take an "endpoints" option): the lease election's coord and
// fenced-store. None: the cluster needs no etcd.
func etcdServices(protocol string) ([]string, error) {
	p, err := ordo.Lookup(protocol)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, name := range p.Services {
		sp, err := ordo.Lookup(name)
		if err != nil {
			return nil, err
		}
		if slices.ContainsFunc(sp.Options, func(o ordo.Option) bool { return o.Name == "endpoints" }) {
			out = append(out, name)
		}
	}
	return out, nil
}

// parseEndpoints reads --etcd: 1..etcd.MaxMembers client URLs.
func parseEndpoints(s string) ([]string, error) {
	eps := strings.Split(s, ",")
	if len(eps) > etcd.MaxMembers {
		return nil, fmt.Errorf("--etcd names %d endpoints, at most %d", len(eps), etcd.MaxMembers)
	}
	for i, e := range eps {
		eps[i] = strings.TrimSpace(e)
		if err := checkEndpoint(eps[i]); err != nil { // etcd_shared.go
			return nil, err
		}
	}
	return eps, nil
}

// clusterEtcd is the etcd of a cluster in dir: the endpoints of external
// (--etcd) when given, else a 1-member embedded etcd started in
// dir/etcd, which outlives this process when detach is set (ordo cluster
// down stops it: stopClusterEtcd). Unless plain, the embedded etcd serves
// only mutual TLS under its own development CA in dir/etcd/tls (certs
// names that directory; see etcdCerts). stop stops what was started (a
// no-op for an external etcd); undo also deletes the data of an etcd
// started for a cluster that then failed to start.
func clusterEtcd(ctx context.Context, dir, external string, detach, fresh, plain bool) (endpoints []string, certs string, stop, undo func(), err error) {
	noop := func() {}
	if external != "" {
		eps, err := parseEndpoints(external)
		return eps, "", noop, noop, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, "", nil, nil, err
	}
	edir := filepath.Join(abs, clusterEtcdDir)
	if run := etcd.RunningIn(edir); len(run) > 0 {
		return nil, "", nil, nil, fmt.Errorf("%s holds a running etcd (%s): `ordo cluster down --dir %s` first", edir, strings.Join(run, ", "), dir)
	}
	if _, err := os.Lstat(edir); err == nil {
		if !fresh {
			return nil, "", nil, nil, fmt.Errorf("%s holds a stopped run's etcd data: replace it with ordo cluster up --fresh, or choose another directory", edir)
		}
		if err := os.RemoveAll(edir); err != nil {
			return nil, "", nil, nil, err
		}
	}
	o := etcd.Options{N: 1, Dir: edir, Detach: detach}
	if !plain {
		certs = filepath.Join(edir, etcdTLSDir)
		srv, err := etcdCerts(certs)
		if err != nil {
			os.RemoveAll(edir)
			return nil, "", nil, nil, fmt.Errorf("etcd certificates in %s: %w", certs, err)
		}
		o.CA, o.Cert, o.Key = srv.CA, srv.Cert, srv.Key
	}
	c, err := etcd.Start(ctx, o)
	if err != nil {
		os.RemoveAll(edir)
		return nil, "", nil, nil, err
	}
	stop = func() { c.Stop() }
	undo = func() { c.Stop(); os.RemoveAll(edir) }
	return c.Endpoints(), certs, stop, undo, nil
}

// stopClusterEtcd stops the embedded etcd ordo cluster up left running in
// a cluster's directory, if any; it says so on w.
func stopClusterEtcd(w io.Writer, dir string) error {
	edir := filepath.Join(dir, clusterEtcdDir)
	ran, err := etcd.StopDir(edir)
	if err != nil {
		return err
	}
	if ran {
		fmt.Fprintf(w, "stopped the cluster's etcd (%s)\n", edir)
	}
	return nil
}

// upEtcd prepares the etcd of a new cluster of protocol in dir: nothing
// for a protocol whose services need none (--etcd is then an error),
// else the service options (endpoints, and tls_dir or tls_ca/tls_cert/
// tls_key) from --etcd or from an embedded etcd started in dir/etcd (said
// on out). The embedded etcd speaks mutual TLS unless the command's
// --insecure flag is set; an external one speaks what its endpoints say
// (https needs --etcd-ca, and --etcd-cert/--etcd-key when it asks for
// client certificates). The flags are read by name, so that every command
// that starts a cluster (up, run) gets them. stop stops an etcd started
// here unless detached; undo stops it and deletes its data (the cluster
// failed to start).
func upEtcd(cmd *cobra.Command, out io.Writer, protocol, external, dir string, detach, fresh bool) (opts map[string]string, stop, undo func(), err error) {
	noop := func() {}
	svcs, err := etcdServices(protocol)
	if err != nil {
		return nil, nil, nil, err
	}
	files := externalTLS{ca: flagString(cmd, "etcd-ca"), cert: flagString(cmd, "etcd-cert"), key: flagString(cmd, "etcd-key")}
	if len(svcs) == 0 {
		if external != "" || files.any() {
			return nil, nil, nil, fmt.Errorf("--etcd: protocol %s uses no etcd", protocol)
		}
		return nil, noop, noop, nil
	}
	if files.any() && external == "" {
		return nil, nil, nil, fmt.Errorf("--etcd-ca, --etcd-cert, --etcd-key are for an external etcd (--etcd https://...); the embedded one has its own certificates")
	}
	plain := flagBool(cmd, "insecure") || !flagBoolDefault(cmd, "tls", true)
	opts = map[string]string{}
	if external != "" {
		eps, err := parseEndpoints(external)
		if err != nil {
			return nil, nil, nil, err
		}
		if err := files.options(eps, opts); err != nil {
			return nil, nil, nil, err
		}
		// A node that cannot reach etcd only retries: say it now, before
		// any node starts (etcd_shared.go).
		if err := probeEtcd(cmd.Context(), out, eps, opts); err != nil {
			return nil, nil, nil, err
		}
	}
	eps, certs, stopE, undoE, err := clusterEtcd(cmd.Context(), dir, external, detach, fresh, plain)
	if err != nil {
		return nil, nil, nil, err
	}
	if certs != "" {
		opts["tls_dir"] = certs
	}
	joined := strings.Join(eps, ",")
	opts["endpoints"] = joined
	switch {
	case external != "" && opts["tls_ca"] == "":
		fmt.Fprintf(out, "etcd: %s (services %s); warning: plain HTTP, any process that reaches it can make any node leader (docs/live.md, Threat model)\n", joined, strings.Join(svcs, ", "))
	case external != "":
		fmt.Fprintf(out, "etcd: %s (services %s, TLS)\n", joined, strings.Join(svcs, ", "))
	case detach:
		fmt.Fprintf(out, "etcd: %s, data in %s%s; ordo cluster down stops it\n", joined, filepath.Join(dir, clusterEtcdDir), mtlsNote(certs))
		stopE = noop
	default:
		fmt.Fprintf(out, "etcd: %s, data in %s%s\n", joined, filepath.Join(dir, clusterEtcdDir), mtlsNote(certs))
	}
	return opts, stopE, undoE, nil
}

// mtlsNote says how the embedded etcd is protected.
func mtlsNote(certs string) string {
	if certs == "" {
		return " (plain HTTP: --insecure)"
	}
	return ", mutual TLS (certificates in " + certs + ")"
}

// runEtcd is upEtcd for a run that ends with the command (ordo cluster
// run): the caller defers stop; the etcd's line goes to standard error
// (standard output may be a JSON report).
func runEtcd(cmd *cobra.Command, protocol, external, dir string) (opts map[string]string, stop func(), err error) {
	opts, stop, _, err = upEtcd(cmd, cmd.ErrOrStderr(), protocol, external, dir, false, true)
	return opts, stop, err
}

// restartClusterEtcd starts again the embedded etcd of a stopped cluster
// in dir (ordo cluster start), if it had one; it says so on the output.
func restartClusterEtcd(cmd *cobra.Command, dir string) error {
	edir := filepath.Join(dir, clusterEtcdDir)
	n, err := etcd.RestartDir(cmd.Context(), edir)
	if err != nil {
		return err
	}
	if n > 0 {
		st, err := etcd.ReadState(edir)
		if err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "etcd: %s started again from %s\n", strings.Join(st.Endpoints, ","), edir)
	}
	return nil
}
