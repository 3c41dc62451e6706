package etcd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	"go.etcd.io/etcd/server/v3/embed"
)

// MemberCommand is the ordo subcommand that runs one member (hidden from
// ordo's help): `ordo service etcd-member --name ... --dir ...`.
var MemberCommand = []string{"service", "etcd-member"}

// IsMemberArgs reports whether args (os.Args[1:]) ask to run a member: a
// test binary's TestMain uses it to play the member process.
func IsMemberArgs(args []string) bool {
	return len(args) >= 2 && args[0] == MemberCommand[0] && args[1] == MemberCommand[1]
}

// Member configures one etcd member process.
type Member struct {
	Name    string // member name, e.g. "etcd1"
	Dir     string // data directory (created if missing; a restart reuses it)
	Peer    string // peer URL, http://127.0.0.1:PORT (https with TLS)
	Client  string // client URL
	Cluster string // initial cluster: name=peerURL,... (ignored once Dir holds data)
	Token   string // initial cluster token
	Log     string // log file (default Dir/../NAME.log)
	Level   string // log level: debug, info, warn, error (default warn)
	// TLS turns on TLS for clients and peers with certificates etcd
	// generates itself (auto TLS): encrypted, not authenticated.
	TLS bool
	// CA, Cert and Key (absolute paths of PEM files, all three or none;
	// not with TLS) make the member serve clients and peers over TLS with
	// Cert/Key and require of every client and peer a certificate signed
	// by CA (mutual TLS): a local process without one can neither read
	// nor write a key.
	CA, Cert, Key string
	// TickMs and ElectionMs are etcd's heartbeat interval and election
	// timeout in ms (0: etcd's defaults, 100 and 1000).
	TickMs, ElectionMs uint
}

// Args are the command-line arguments after MemberCommand that make the
// member process run m (read back by ParseMember).
func (m Member) Args() []string {
	a := []string{"--name", m.Name, "--dir", m.Dir, "--peer", m.Peer, "--client", m.Client,
		"--cluster", m.Cluster, "--token", m.Token, "--log", m.Log, "--level", m.Level}
	if m.TLS {
		a = append(a, "--tls")
	}
	if m.CA != "" || m.Cert != "" || m.Key != "" {
		a = append(a, "--ca", m.CA, "--cert", m.Cert, "--key", m.Key)
	}
	if m.TickMs != 0 || m.ElectionMs != 0 {
		a = append(a, "--tick-ms", fmt.Sprint(m.TickMs), "--election-ms", fmt.Sprint(m.ElectionMs))
	}
	return a
}

// ParseMember reads the arguments Args wrote. Every URL must be a loopback
// http(s) URL with a port: the launcher never exposes a member beyond the
// machine.
func ParseMember(args []string) (Member, error) {
	var m Member
	fs := flag.NewFlagSet("etcd-member", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&m.Name, "name", "", "member name")
	fs.StringVar(&m.Dir, "dir", "", "data directory")
	fs.StringVar(&m.Peer, "peer", "", "peer URL")
	fs.StringVar(&m.Client, "client", "", "client URL")
	fs.StringVar(&m.Cluster, "cluster", "", "initial cluster name=peerURL,...")
	fs.StringVar(&m.Token, "token", "ordo-etcd", "initial cluster token")
	fs.StringVar(&m.Log, "log", "", "log file")
	fs.StringVar(&m.Level, "level", "warn", "log level")
	fs.BoolVar(&m.TLS, "tls", false, "auto TLS for clients and peers")
	fs.StringVar(&m.CA, "ca", "", "CA file: clients and peers must present a certificate it signed")
	fs.StringVar(&m.Cert, "cert", "", "the member's certificate file")
	fs.StringVar(&m.Key, "key", "", "the member's key file")
	fs.UintVar(&m.TickMs, "tick-ms", 0, "heartbeat interval in ms (0: etcd's default)")
	fs.UintVar(&m.ElectionMs, "election-ms", 0, "election timeout in ms (0: etcd's default)")
	if err := fs.Parse(args); err != nil {
		return m, fmt.Errorf("etcd-member: %w", err)
	}
	if fs.NArg() > 0 {
		return m, fmt.Errorf("etcd-member: unexpected argument %q", fs.Arg(0))
	}
	return m, m.validate()
}

func (m Member) validate() error {
	if m.Name == "" || len(m.Name) > 64 || strings.ContainsAny(m.Name, "=, \t\n") {
		return fmt.Errorf("etcd-member: --name %q: want 1..64 characters without '=', ',' or spaces", m.Name)
	}
	if m.Dir == "" {
		return fmt.Errorf("etcd-member: --dir is required")
	}
	if err := checkCerts(m.CA, m.Cert, m.Key, m.TLS); err != nil {
		return fmt.Errorf("etcd-member: %w", err)
	}
	for _, u := range []struct{ flag, v string }{{"--peer", m.Peer}, {"--client", m.Client}} {
		if err := checkURL(u.v, m.secure()); err != nil {
			return fmt.Errorf("etcd-member: %s: %w", u.flag, err)
		}
	}
	if m.Cluster == "" {
		return fmt.Errorf("etcd-member: --cluster is required")
	}
	members := strings.Split(m.Cluster, ",")
	if len(members) > MaxMembers {
		return fmt.Errorf("etcd-member: --cluster names %d members, at most %d", len(members), MaxMembers)
	}
	self := false
	for _, p := range members {
		name, u, ok := strings.Cut(p, "=")
		if !ok || name == "" {
			return fmt.Errorf("etcd-member: --cluster entry %q: want name=URL", p)
		}
		if err := checkURL(u, m.secure()); err != nil {
			return fmt.Errorf("etcd-member: --cluster entry %q: %w", p, err)
		}
		if name == m.Name {
			self = u == m.Peer
		}
	}
	if !self {
		return fmt.Errorf("etcd-member: --cluster does not name %s at its --peer %s", m.Name, m.Peer)
	}
	if m.TickMs > 60_000 || m.ElectionMs > 600_000 || m.ElectionMs != 0 && m.ElectionMs < 5*max(m.TickMs, 1) {
		return fmt.Errorf("etcd-member: --tick-ms %d --election-ms %d: want a tick up to 60 s and an election timeout of at least 5 ticks, up to 10 min", m.TickMs, m.ElectionMs)
	}
	switch m.Level {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("etcd-member: --level %q: want debug, info, warn or error", m.Level)
	}
	return nil
}

// checkURL accepts http://127.x.x.x:PORT (https with TLS) and nothing else.
func checkURL(s string, tls bool) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	want := "http"
	if tls {
		want = "https"
	}
	if u.Scheme != want {
		return fmt.Errorf("%q: want a %s:// URL", s, want)
	}
	if !strings.HasPrefix(u.Hostname(), "127.") || u.Port() == "" || u.Path != "" && u.Path != "/" {
		return fmt.Errorf("%q: want a loopback address with a port (127.0.0.1:PORT)", s)
	}
	return nil
}

// RunMember runs one etcd member in this process until ctx is done (then
// it stops gracefully) or the server fails. fsync stays on (etcd's
// default): a put is acknowledged once a majority has it in its fsynced
// WAL. ready, if not nil, is closed once the member serves clients.
func RunMember(ctx context.Context, m Member, ready chan<- struct{}) error {
	if err := m.validate(); err != nil {
		return err
	}
	if err := os.MkdirAll(m.Dir, 0o700); err != nil {
		return err
	}
	cfg := embed.NewConfig()
	cfg.Name = m.Name
	cfg.Dir = m.Dir
	peer, _ := url.Parse(m.Peer)
	client, _ := url.Parse(m.Client)
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*peer}, []url.URL{*peer}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*client}, []url.URL{*client}
	cfg.InitialCluster = m.Cluster
	cfg.InitialClusterToken = m.Token
	cfg.ClusterState = embed.ClusterStateFlagNew // ignored by a member that restarts from its WAL
	cfg.UnsafeNoFsync = false                    // the comparison is only fair with fsync on
	cfg.Logger = "zap"
	cfg.LogLevel = m.Level
	log := m.Log
	if log == "" {
		log = filepath.Join(filepath.Dir(m.Dir), m.Name+".log")
	}
	cfg.LogOutputs = []string{log}
	if m.TLS {
		cfg.ClientAutoTLS, cfg.PeerAutoTLS = true, true
	}
	if m.CA != "" {
		// Mutual TLS on both ports: a client or would-be peer without a
		// certificate from CA is refused in the handshake.
		info := transport.TLSInfo{CertFile: m.Cert, KeyFile: m.Key, TrustedCAFile: m.CA, ClientCertAuth: true}
		cfg.ClientTLSInfo, cfg.PeerTLSInfo = info, info
	}
	if m.TickMs != 0 {
		cfg.TickMs = m.TickMs
	}
	if m.ElectionMs != 0 {
		cfg.ElectionMs = m.ElectionMs
	}
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return fmt.Errorf("etcd member %s: %w", m.Name, err)
	}
	defer e.Close()
	select {
	case <-e.Server.ReadyNotify():
		if ready != nil {
			close(ready)
		}
	case err := <-e.Err():
		return fmt.Errorf("etcd member %s: %w", m.Name, err)
	case <-e.Server.StopNotify():
		return fmt.Errorf("etcd member %s stopped before it was ready", m.Name)
	case <-ctx.Done():
		return nil
	}
	select {
	case err := <-e.Err():
		return fmt.Errorf("etcd member %s: %w", m.Name, err)
	case <-e.Server.StopNotify():
		// Removed from the cluster or stopped by etcd itself.
		return errors.New("etcd member " + m.Name + " stopped")
	case <-ctx.Done():
		// Stop without handing leadership over: a launcher stops every
		// member at once, and a leader would wait for a transferee that
		// is stopping too. The WAL is fsynced, so nothing acknowledged is
		// lost; the deferred e.Close closes listeners and the backend.
		e.Server.HardStop()
		return nil
	}
}

// MemberMain runs the member that args (after MemberCommand) describe
// until ctx is done: the body of `ordo service etcd-member`. The process
// should cancel ctx on SIGTERM/SIGINT for a graceful stop.
func MemberMain(ctx context.Context, args []string) error {
	m, err := ParseMember(args)
	if err != nil {
		return err
	}
	return RunMember(ctx, m, nil)
}

// memberStartTimeout bounds how long Start and Restart wait for a member
// to serve: etcd's own first election takes about one second.
const memberStartTimeout = 30 * time.Second
