package etcd

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets this test binary play the member processes Start runs
// and the candidate processes StartCandidate runs.
func TestMain(m *testing.M) {
	if IsMemberArgs(os.Args[1:]) {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
		defer stop()
		if err := MemberMain(ctx, os.Args[3:]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if IsCampaignArgs(os.Args[1:]) {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
		defer stop()
		if err := CampaignMain(ctx, os.Args[3:], os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func startCluster(t *testing.T, n int) *Cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("runs real etcd member processes; skipped with -short")
	}
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := Start(ctx, Options{N: n, Dir: t.TempDir(), Binary: bin})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop() })
	return c
}

// A write acknowledged by a 3-member cluster survives a SIGKILL of the
// leader: a new leader is elected among the two others, serves the value
// and takes new writes; the killed member comes back from its own disk
// and catches up (section 4: the leader fails, the others re-elect).
func TestKillLeaderElectsAnother(t *testing.T) {
	t0 := time.Now()
	c := startCluster(t, 3)
	t.Logf("started in %v", time.Since(t0))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cli, err := c.Client(c.Endpoints()...)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	if _, err := cli.Put(ctx, "k", "before"); err != nil {
		t.Fatal(err)
	}
	old, err := c.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Kill(old); err != nil {
		t.Fatal(err)
	}
	if c.Running(old) {
		t.Fatalf("member %d still runs after Kill", old)
	}
	now, err := c.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if now == old {
		t.Fatalf("leader is still member %d, which was killed", old)
	}
	// The client fails over to a live member on its own; a put may fail
	// while the election runs, so retry within the test's deadline.
	for {
		_, err = cli.Put(ctx, "k2", "after")
		if err == nil || ctx.Err() != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("no put accepted after the leader's crash: %v", err)
	}
	got, err := cli.Get(ctx, "k")
	if err != nil || len(got.Kvs) != 1 || string(got.Kvs[0].Value) != "before" {
		t.Fatalf("get k after failover = %v, %v; want the acknowledged \"before\"", got, err)
	}
	t.Logf("failover done at %v", time.Since(t0))
	if err := c.Restart(ctx, old); err != nil {
		t.Fatal(err)
	}
	one, err := c.Client(c.Endpoints()[old])
	if err != nil {
		t.Fatal(err)
	}
	defer one.Close()
	// A linearizable get through the restarted member: it must have
	// rejoined and caught up with the write made while it was down.
	got, err = one.Get(ctx, "k2")
	if err != nil || len(got.Kvs) != 1 || string(got.Kvs[0].Value) != "after" {
		t.Fatalf("get k2 via restarted member %d = %v, %v; want \"after\"", old, got, err)
	}
	t.Logf("restart done at %v", time.Since(t0))
}

func TestParseMemberRoundTrip(t *testing.T) {
	m := Member{Name: "etcd1", Dir: "/tmp/x/etcd1", Peer: "http://127.0.0.1:1", Client: "http://127.0.0.1:2",
		Cluster: "etcd1=http://127.0.0.1:1,etcd2=http://127.0.0.1:3", Token: "t", Log: "/tmp/x/etcd1.log", Level: "warn", TickMs: 15, ElectionMs: 150}
	got, err := ParseMember(m.Args())
	if err != nil {
		t.Fatal(err)
	}
	if got != m {
		t.Fatalf("ParseMember(Args()) = %+v, want %+v", got, m)
	}
}

func TestParseMemberRefuses(t *testing.T) {
	good := Member{Name: "etcd1", Dir: "d", Peer: "http://127.0.0.1:1", Client: "http://127.0.0.1:2",
		Cluster: "etcd1=http://127.0.0.1:1", Token: "t", Level: "warn"}
	for name, edit := range map[string]func(*Member){
		"no name":           func(m *Member) { m.Name = "" },
		"no dir":            func(m *Member) { m.Dir = "" },
		"remote peer":       func(m *Member) { m.Peer = "http://10.0.0.1:1"; m.Cluster = "etcd1=http://10.0.0.1:1" },
		"no port":           func(m *Member) { m.Client = "http://127.0.0.1" },
		"https without tls": func(m *Member) { m.Client = "https://127.0.0.1:2" },
		"self missing":      func(m *Member) { m.Cluster = "etcd2=http://127.0.0.1:1" },
		"bad entry":         func(m *Member) { m.Cluster = "etcd1=http://127.0.0.1:1,junk" },
		"bad level":         func(m *Member) { m.Level = "loud" },
	} {
		m := good
		edit(&m)
		if _, err := ParseMember(m.Args()); err == nil {
			t.Errorf("%s: ParseMember accepted %+v", name, m)
		}
	}
	if _, err := ParseMember(append(good.Args(), "extra")); err == nil {
		t.Error("ParseMember accepted a stray argument")
	}
}

func FuzzParseMember(f *testing.F) {
	f.Add("etcd1", "http://127.0.0.1:1", "etcd1=http://127.0.0.1:1,etcd2=http://127.0.0.1:3", "")
	f.Add("a", "https://127.0.0.1:9", "a=https://127.0.0.1:9", "/ca.pem")
	f.Fuzz(func(t *testing.T, name, peer, cluster, ca string) {
		args := []string{"--name", name, "--dir", "d", "--peer", peer, "--client", "http://127.0.0.1:2", "--cluster", cluster}
		if ca != "" {
			args = append(args, "--ca", ca, "--cert", ca+".crt", "--key", ca+".key")
		}
		m, err := ParseMember(args)
		if err == nil && (m.Name != name || m.CA != ca || m.validate() != nil) {
			t.Fatalf("accepted %+v", m)
		}
	})
}

// With TLS the members speak only HTTPS (auto TLS), and a put through the
// leader-following Driver is acknowledged.
func TestTLSDriver(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a real etcd member; skipped with -short")
	}
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := Start(ctx, Options{N: 1, Dir: t.TempDir(), Binary: bin, Procs: -1}); err == nil || !strings.Contains(err.Error(), "GOMAXPROCS -1") {
		t.Fatalf("Procs -1: %v, want it refused", err)
	}
	d, err := NewDriver(ctx, Options{N: 1, Dir: t.TempDir(), Binary: bin, TLS: true, Procs: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	// Options.Procs reaches the member (ordo bench kv --etcd-procs).
	if runtime.GOOS == "linux" {
		env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", d.Pids()[0]))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(strings.Split(string(env), "\x00"), "GOMAXPROCS=1") {
			t.Fatalf("member's environment has no GOMAXPROCS=1: %q", env)
		}
	}
	if ep := d.Endpoints()[0]; !strings.HasPrefix(ep, "https://") {
		t.Fatalf("endpoint %s, want https", ep)
	}
	if err := d.Put(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	cli, err := d.Client(d.Endpoints()...)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	got, err := cli.Get(ctx, "k")
	if err != nil || len(got.Kvs) != 1 || string(got.Kvs[0].Value) != "v" {
		t.Fatalf("get k = %v, %v; want v", got, err)
	}
}
