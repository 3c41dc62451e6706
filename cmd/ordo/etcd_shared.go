package main

// An etcd given with --etcd is someone else's: it may be down, mistyped,
// or shared with other clusters. ordo cluster up checks that it answers
// before it starts any node (a node that cannot reach it would only
// retry, silently), and gives the cluster keys of its own in it: the
// lease election's prefix and the fenced store's key, unless the user
// chose a prefix, are namespaced by the cluster's name and a random id,
// so that two clusters on one etcd elect one leader each instead of one
// between them.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"ordo"
	"ordo/coord"
	"ordo/service/etcd"
)

// etcdProbeTimeout bounds each check of an external etcd at start: the
// connection, its status, a read.
const etcdProbeTimeout = 3 * time.Second

// checkEndpoint is one --etcd URL checked: http(s)://HOST:PORT with a
// port in 1..65535; the error says what is wanted in the words the other
// bad values get.
func checkEndpoint(s string) error {
	want := fmt.Errorf("--etcd %q: want http(s)://HOST:PORT, e.g. http://127.0.0.1:2379", s)
	if s != "" && !strings.Contains(s, "://") {
		if checkEndpoint("http://"+s) == nil {
			return fmt.Errorf("%w (with its scheme: http://%s?)", want, s)
		}
		return want
	}
	if etcd.CheckEndpoint(s) != nil {
		return want
	}
	u, _ := url.Parse(s) // CheckEndpoint parsed it
	if p, err := strconv.Atoi(u.Port()); err != nil || p < 1 || p > 65535 {
		return fmt.Errorf("--etcd %q: port %s: want 1..65535", s, u.Port())
	}
	return nil
}

// etcdClientConfig is a client configuration (no endpoints yet) with the
// TLS of the adapters' options tls_ca, tls_cert, tls_key (none: plain
// HTTP).
func etcdClientConfig(opts map[string]string) (*clientv3.Config, error) {
	cfg := &clientv3.Config{Logger: zap.NewNop(), DialTimeout: etcdProbeTimeout}
	if opts["tls_ca"] == "" {
		return cfg, nil
	}
	tc, err := etcd.ClientTLS(opts["tls_ca"], opts["tls_cert"], opts["tls_key"])
	if err != nil {
		return nil, err
	}
	cfg.TLS = tc
	return cfg, nil
}

// probeEtcd checks that the external etcd at eps answers, with the TLS
// of opts (the adapters' options), before any node starts: each endpoint
// is connected to and asked its status, then the whole is asked a
// linearizable read (a member without a quorum, or an etcd that refuses
// the client, fails it). An endpoint that does not answer while another
// does is a warning on out (an etcd cluster may run with a member down);
// none answering, or the read failing, is an error naming the endpoint
// and the reason. Each step is bounded by etcdProbeTimeout.
func probeEtcd(ctx context.Context, out io.Writer, eps []string, opts map[string]string) error {
	base, err := etcdClientConfig(opts)
	if err != nil {
		return fmt.Errorf("--etcd: %w", err)
	}
	var silent []error
	for _, ep := range eps {
		if err := probeEndpoint(ctx, *base, ep); err != nil {
			silent = append(silent, err)
		}
	}
	switch {
	case len(silent) == len(eps):
		return errors.Join(silent...)
	case len(silent) > 0:
		for _, err := range silent {
			fmt.Fprintf(out, "warning: %v; the other endpoints answer\n", err)
		}
	}
	cfg := *base
	cfg.Endpoints = eps
	cli, err := clientv3.New(cfg)
	if err != nil {
		return fmt.Errorf("--etcd %s: %w", strings.Join(eps, ","), err)
	}
	defer cli.Close()
	rctx, cancel := context.WithTimeout(ctx, etcdProbeTimeout)
	defer cancel()
	if _, err := cli.Get(rctx, "/", clientv3.WithCountOnly()); err != nil {
		return fmt.Errorf("--etcd %s: etcd answers but serves no read within %v (%v): has it a leader, and does it let this client read?", strings.Join(eps, ","), etcdProbeTimeout, err)
	}
	return nil
}

// probeEndpoint connects to one endpoint and asks its status.
func probeEndpoint(ctx context.Context, cfg clientv3.Config, ep string) error {
	u, err := url.Parse(ep)
	if err != nil {
		return fmt.Errorf("--etcd %s: %w", ep, err)
	}
	d := net.Dialer{Timeout: etcdProbeTimeout}
	conn, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return fmt.Errorf("--etcd %s: cannot connect (%v): is etcd running there? (ordo etcd starts one and prints its endpoints)", ep, err)
	}
	conn.Close()
	silent := func(err error) error {
		hint := "is it an etcd client URL (not a peer URL)? an etcd serving TLS needs https:// and --etcd-ca"
		if u.Scheme == "https" {
			hint = "is it an etcd client URL? do --etcd-ca (and --etcd-cert, --etcd-key) match its certificates?"
		}
		return fmt.Errorf("--etcd %s: connects but gives no etcd status within %v (%v): %s", ep, etcdProbeTimeout, err, hint)
	}
	cfg.Endpoints = []string{ep}
	cli, err := clientv3.New(cfg) // waits up to DialTimeout for the connection
	if err != nil {
		return silent(err)
	}
	defer cli.Close()
	sctx, cancel := context.WithTimeout(ctx, etcdProbeTimeout)
	defer cancel()
	if _, err := cli.Status(sctx, ep); err != nil {
		return silent(err)
	}
	return nil
}

// etcdNamespace gives a cluster on an external etcd (external: the --etcd
// value; "" for the embedded etcd, which is the cluster's alone) keys of
// its own. Unless protoOpts sets it, a server protocol's prefix option
// (the lease election's) becomes /leader-election/<name>/, and the fenced
// store's key_prefix (svcOpts) /ordo/fenced/<name>/, where name is the
// cluster directory's base name and a random id: "ordo-cluster-1f2e3d4c".
// It says the prefix on out, and warns when etcd already holds keys under
// it (a prefix chosen by hand that another cluster uses: its leader would
// be this cluster's too).
func etcdNamespace(ctx context.Context, out io.Writer, protocol string, protoOpts, svcOpts map[string]string, external, dir string) error {
	if external == "" || svcOpts == nil {
		return nil
	}
	p, err := ordo.Lookup(protocol)
	if err != nil {
		return err
	}
	name, err := clusterName(dir)
	if err != nil {
		return err
	}
	var prefixes []string
	if slices.Contains(p.OptionNames(), "prefix") {
		if _, chosen := protoOpts["prefix"]; !chosen {
			protoOpts["prefix"] = "/leader-election/" + name + "/"
			fmt.Fprintf(out, "etcd: this cluster's election keys are under %s (-o prefix=... chooses another)\n", protoOpts["prefix"])
		}
		prefixes = append(prefixes, protoOpts["prefix"])
	}
	for _, s := range p.Services {
		if sp, err := ordo.Lookup(s); err == nil && slices.Contains(sp.OptionNames(), "key_prefix") {
			svcOpts["key_prefix"] = coord.DefaultFencedPrefix + name + "/"
			prefixes = append(prefixes, svcOpts["key_prefix"])
			break
		}
	}
	eps, err := parseEndpoints(external)
	if err != nil {
		return err
	}
	cfg, err := etcdClientConfig(svcOpts)
	if err != nil {
		return err
	}
	cfg.Endpoints = eps
	cli, err := clientv3.New(*cfg)
	if err != nil {
		return err
	}
	defer cli.Close()
	for _, pre := range prefixes {
		rctx, cancel := context.WithTimeout(ctx, etcdProbeTimeout)
		r, err := cli.Get(rctx, pre, clientv3.WithPrefix(), clientv3.WithCountOnly())
		cancel()
		if err != nil {
			return fmt.Errorf("--etcd %s: reading the keys under %s: %w", external, pre, err)
		}
		if r.Count > 0 {
			fmt.Fprintf(out, "warning: etcd already holds %d key(s) under %s: another cluster may be using this prefix, and one leader would lead both (choose another with -o prefix=..., or look: etcdctl get --prefix --keys-only %s)\n", r.Count, pre, pre)
		}
	}
	return nil
}

// clusterName names a cluster in a shared etcd: the base name of its
// directory (letters, digits, '-', '_', '.', no leading dot, at most 32
// bytes; "ordo" when none is left) and 8 random hex digits, so that two
// clusters in directories of one name do not meet either.
func clusterName(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, r := range filepath.Base(abs) {
		if r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			b.WriteRune(r)
		}
	}
	base := strings.TrimLeft(b.String(), ".")
	if len(base) > 32 {
		base = base[:32]
	}
	if base == "" {
		base = "ordo"
	}
	var id [4]byte
	if _, err := rand.Read(id[:]); err != nil {
		return "", err
	}
	return base + "-" + hex.EncodeToString(id[:]), nil
}
