package etcdsvc

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"ordo"
	"ordo/coord"
	"ordo/coord/coordtest"
	"ordo/live"
	"ordo/ordotest"
	"ordo/service/etcd"
)

// TestMain lets this test binary play the etcd member that
// service/etcd.Start runs.
func TestMain(m *testing.M) {
	if etcd.IsMemberArgs(os.Args[1:]) {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
		defer stop()
		if err := etcd.MemberMain(ctx, os.Args[3:]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// ---- the operations ---------------------------------------------------------

// backend runs operations against one implementation and records every
// message a node received, by (node, Req).
type backend interface {
	send(t *testing.T, from ordo.NodeID, m ordo.Message)
	watchSent(t *testing.T, from ordo.NodeID) // a Watch was sent: wait until it holds
	sleep(d time.Duration)
	settle()
	wait(t *testing.T, from ordo.NodeID, req uint64) ordo.Message
	results() map[answerKey][]ordo.Message
}

type answerKey struct {
	node ordo.NodeID
	req  uint64
}

// session is one run of a script against one backend. A script is a
// function of the session, so later requests can use earlier answers
// (a lease id, a create revision) whatever their absolute values.
type session struct {
	t     *testing.T
	b     backend
	order []answerKey // requests in the order they were made
}

func (s *session) sent(from ordo.NodeID, m ordo.Message) uint64 {
	req, _ := coord.ReqOf(m)
	s.order = append(s.order, answerKey{from, req})
	return req
}

// call makes one request and returns its answer.
func (s *session) call(from ordo.NodeID, m ordo.Message) coord.Reply {
	s.t.Helper()
	req := s.sent(from, m)
	s.b.send(s.t, from, m)
	r, ok := s.b.wait(s.t, from, req).(coord.Reply)
	if !ok {
		s.t.Fatalf("request %d of %v (%s) answered with no Reply", req, from, m.Kind())
	}
	return r
}

// watch sends a Watch whose answer comes later (or at once, for an absent
// key); await waits for it.
func (s *session) watch(from ordo.NodeID, m coord.Watch) {
	s.t.Helper()
	s.sent(from, m)
	s.b.send(s.t, from, m)
	s.b.watchSent(s.t, from)
}

func (s *session) await(from ordo.NodeID, req uint64) ordo.Message {
	s.t.Helper()
	return s.b.wait(s.t, from, req)
}

// sleep lets time pass: real time on etcd, the model's clocks in the
// model (expiry there happens exactly at the TTL; etcd's lessor may lag
// by half a second, so scripts sleep well past it and compare outcomes).
func (s *session) sleep(d time.Duration) { s.b.sleep(d) }

// settle gives etcd's late answers (a watch that should not fire) a
// moment to show up before the answers are compared.
func (s *session) settle() { s.b.settle() }

// ---- the model --------------------------------------------------------------

type modelBackend struct {
	d   *coordtest.Driver
	out map[answerKey][]ordo.Message
}

func newModel(t *testing.T, p *ordo.Protocol, opts map[string]string) *modelBackend {
	return &modelBackend{d: coordtest.New(t, p, opts), out: map[answerKey][]ordo.Message{}}
}

func (m *modelBackend) record(sent []ordotest.Sent) {
	for _, s := range sent {
		req := reqOfAnswer(s.Msg)
		m.out[answerKey{s.To, req}] = append(m.out[answerKey{s.To, req}], s.Msg)
	}
}

func (m *modelBackend) send(t *testing.T, from ordo.NodeID, msg ordo.Message) {
	m.record(m.d.Call(from, msg))
}
func (m *modelBackend) watchSent(*testing.T, ordo.NodeID) {}
func (m *modelBackend) sleep(d time.Duration)             { m.record(m.d.Advance(d)) }
func (m *modelBackend) settle()                           {}
func (m *modelBackend) wait(t *testing.T, from ordo.NodeID, req uint64) ordo.Message {
	t.Helper()
	a := m.out[answerKey{from, req}]
	if len(a) == 0 {
		t.Fatalf("model: no answer to request %d of %v", req, from)
	}
	return a[0]
}
func (m *modelBackend) results() map[answerKey][]ordo.Message { return m.out }

// ---- etcd through the adapter ---------------------------------------------

type etcdBackend struct {
	proto string
	svc   ordo.NodeID
	opts  ordo.Options
	conns map[ordo.NodeID]*conn

	mu  sync.Mutex
	out map[answerKey][]ordo.Message
	got chan struct{}
}

func newEtcd(t *testing.T, endpoints string, proto *ordo.Protocol, svc ordo.NodeID, opts map[string]string) *etcdBackend {
	t.Helper()
	o := map[string]string{"endpoints": endpoints, "timeout": "5s"}
	for k, v := range opts {
		o[k] = v
	}
	resolved, err := proto.Resolve(o)
	if err != nil {
		t.Fatal(err)
	}
	b := &etcdBackend{proto: proto.Name, svc: svc, opts: resolved, conns: map[ordo.NodeID]*conn{}, out: map[answerKey][]ordo.Message{}, got: make(chan struct{}, 1)}
	t.Cleanup(func() {
		for _, c := range b.conns {
			c.Close()
		}
	})
	return b
}

func (b *etcdBackend) conn(t *testing.T, from ordo.NodeID) *conn {
	t.Helper()
	if c := b.conns[from]; c != nil {
		return c
	}
	dial, err := live.LookupService(b.proto)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := dial(context.Background(), from, b.svc, b.opts, func(m ordo.Message) bool {
		b.mu.Lock()
		k := answerKey{from, reqOfAnswer(m)}
		b.out[k] = append(b.out[k], m)
		b.mu.Unlock()
		select {
		case b.got <- struct{}{}:
		default:
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	b.conns[from] = sc.(*conn)
	return b.conns[from]
}

func (b *etcdBackend) send(t *testing.T, from ordo.NodeID, m ordo.Message) { b.conn(t, from).Send(m) }

// watchSent waits until the watch's first read is done: from then on no
// delete can slip between the read and the watch (it starts at the
// revision after the read), so the script's next step is ordered after
// it, as in the model.
func (b *etcdBackend) watchSent(t *testing.T, from ordo.NodeID) {
	t.Helper()
	c := b.conn(t, from)
	deadline := time.Now().Add(15 * time.Second)
	for c.watchesRead.Load() < c.watchesSent.Load() {
		if time.Now().After(deadline) {
			t.Fatalf("etcd: the watch's read did not finish in 15 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (b *etcdBackend) sleep(d time.Duration) { time.Sleep(d) }
func (b *etcdBackend) settle()               { time.Sleep(300 * time.Millisecond) }

func (b *etcdBackend) wait(t *testing.T, from ordo.NodeID, req uint64) ordo.Message {
	t.Helper()
	timeout := time.After(15 * time.Second)
	for {
		b.mu.Lock()
		a := b.out[answerKey{from, req}]
		b.mu.Unlock()
		if len(a) > 0 {
			return a[0]
		}
		select {
		case <-b.got:
		case <-time.After(10 * time.Millisecond):
		case <-timeout:
			t.Fatalf("etcd: no answer to request %d of %v in 15 s", req, from)
		}
	}
}

func (b *etcdBackend) results() map[answerKey][]ordo.Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.out
}

// ---- comparing ----------------------------------------------------------------

func reqOfAnswer(m ordo.Message) uint64 {
	switch m := m.(type) {
	case coord.Reply:
		return m.Req
	case coord.Deleted:
		return m.Req
	}
	return 0
}

// normalizer renders answers with revisions relative to the script's
// first answer and lease ids as L1, L2, … in order of appearance: etcd's
// absolute revisions and random lease ids differ from the model's, their
// relations must not.
type normalizer struct {
	base   int64
	leases map[int64]string
	fenced bool // the fenced store: Rev and Seq are each store's own order
}

func (n *normalizer) rev(r int64) string {
	if r == 0 {
		return "0"
	}
	return fmt.Sprintf("+%d", r-n.base)
}

func (n *normalizer) lease(l int64) string {
	if l == 0 {
		return "0"
	}
	if s, ok := n.leases[l]; ok {
		return s
	}
	s := fmt.Sprintf("L%d", len(n.leases)+1)
	n.leases[l] = s
	return s
}

func (n *normalizer) render(m ordo.Message) string {
	switch m := m.(type) {
	case coord.Deleted:
		return fmt.Sprintf("DELETED key=%s rev=%s", m.Key, n.rev(m.Rev))
	case coord.Reply:
		if n.fenced {
			return fmt.Sprintf("REPLY %s highest=%d accepted=%v", coord.ErrName(m.Err), m.Highest, m.Seq > 0)
		}
		s := fmt.Sprintf("REPLY %s rev=%s", coord.ErrName(m.Err), n.rev(m.Rev))
		if m.Lease != 0 || m.TTL != 0 {
			s += fmt.Sprintf(" lease=%s ttl=%d", n.lease(m.Lease), m.TTL)
		}
		if m.Succeeded {
			s += " succeeded"
		}
		if m.Found {
			s += fmt.Sprintf(" found key=%s value=%q create=%s mod=%s lease=%s", m.Key, m.Value, n.rev(m.CreateRev), n.rev(m.ModRev), n.lease(m.KeyLease))
		}
		return s
	}
	return fmt.Sprintf("%T %+v", m, m)
}

// transcript renders a session's answers in the order of its requests
// (answers to no request last); the first answer sets the base revision.
func transcript(ss *session, fenced bool) []string {
	out := ss.b.results()
	n := &normalizer{leases: map[int64]string{}, fenced: fenced}
	var keys []answerKey
	seen := map[answerKey]bool{}
	for _, k := range ss.order {
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	var extra []answerKey
	for k := range out {
		if !seen[k] {
			extra = append(extra, k)
		}
	}
	slices.SortFunc(extra, func(a, b answerKey) int {
		if a.node != b.node {
			return int(a.node - b.node)
		}
		return cmpUint(a.req, b.req)
	})
	var lines []string
	for i, k := range append(keys, extra...) {
		msgs := out[k]
		if i == 0 && len(msgs) > 0 {
			if r, ok := msgs[0].(coord.Reply); ok {
				n.base = r.Rev - 1 // the model starts at revision 1: "+1"
			}
		}
		var parts []string
		for _, m := range msgs {
			parts = append(parts, n.render(m))
		}
		if len(parts) == 0 {
			parts = []string{"(no answer)"}
		}
		lines = append(lines, fmt.Sprintf("%v req %d: %s", k.node, k.req, strings.Join(parts, " | ")))
	}
	return lines
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// conformance runs script against the model and against etcd and fails
// on every line where their transcripts differ.
func conformance(t *testing.T, endpoints string, proto *ordo.Protocol, svc ordo.NodeID, opts map[string]string, script func(s *session)) {
	t.Helper()
	model := &session{t: t, b: newModel(t, proto, opts)}
	script(model)
	model.settle()
	real := &session{t: t, b: newEtcd(t, endpoints, proto, svc, opts)}
	script(real)
	real.settle()
	fenced := proto == coord.FencedProtocol
	want, got := transcript(model, fenced), transcript(real, fenced)
	for i := range max(len(want), len(got)) {
		w, g := "(none)", "(none)"
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		if w != g {
			t.Errorf("line %d differs:\nmodel: %s\netcd:  %s", i+1, w, g)
		}
	}
	if t.Failed() {
		t.Logf("model transcript:\n%s\netcd transcript:\n%s", strings.Join(want, "\n"), strings.Join(got, "\n"))
	} else {
		t.Logf("%d answers agree:\n%s", len(want), strings.Join(want, "\n"))
	}
}

// ---- the scripts ---------------------------------------------------------------

// unknownLease is a lease id no one was granted.
const unknownLease = 0x0badc0ffee

func TestConformanceWithEtcd(t *testing.T) {
	if testing.Short() && os.Getenv("CI") != "true" {
		t.Skip("runs a real etcd member process; skipped with -short (never under CI=true)")
	}
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := etcd.Start(ctx, etcd.Options{N: 1, Dir: t.TempDir(), Binary: bin})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop() })
	eps := strings.Join(c.Endpoints(), ",")

	// Leases, create-if-absent, ordered finds, conditional deletes,
	// revoke. Each script leaves no lease with keys behind, so the next
	// one's revisions are its own.
	t.Run("basics", func(t *testing.T) {
		conformance(t, eps, coord.Protocol, 4, nil, func(s *session) {
			s.call(1, coord.Get{Req: 1, Key: "/b/none"})
			l := s.call(1, coord.Grant{Req: 2, TTL: 10}).Lease
			s.call(1, coord.KeepAlive{Req: 3, Lease: l})
			a := s.call(1, coord.Create{Req: 4, Key: "/b/e/a", Value: "n1", Lease: l}).CreateRev
			s.call(2, coord.Create{Req: 4, Key: "/b/e/a", Value: "n2"}) // fails: returns n1's
			b := s.call(1, coord.Create{Req: 5, Key: "/b/e/b", Value: "n1", Lease: l}).CreateRev
			s.call(3, coord.Create{Req: 5, Key: "/b/e/c", Value: "n3"})
			s.call(1, coord.Find{Req: 6, Prefix: "/b/e/"})
			s.call(1, coord.Find{Req: 7, Prefix: "/b/e/", Last: true})
			s.call(1, coord.Find{Req: 8, Prefix: "/b/e/", Last: true, Below: b})
			s.call(1, coord.Find{Req: 9, Prefix: "/b/e/", Last: true, Below: a})
			s.call(1, coord.Find{Req: 10, Prefix: "/b/e/", Below: 1})
			s.call(1, coord.Find{Req: 11, Prefix: "/b/none/"})
			s.call(1, coord.Delete{Req: 12, Key: "/b/e/b", Rev: a}) // the wrong create revision
			s.call(1, coord.Delete{Req: 13, Key: "/b/e/b", Rev: b})
			s.call(1, coord.Delete{Req: 14, Key: "/b/e/c"})
			s.call(1, coord.Delete{Req: 15, Key: "/b/e/zz"})
			s.call(1, coord.Create{Req: 16, Key: "/b/e/d", Lease: unknownLease})
			s.call(1, coord.Create{Req: 17, Key: "/b/e/a", Lease: unknownLease}) // exists: no lease check
			s.call(1, coord.KeepAlive{Req: 18, Lease: unknownLease})
			s.call(1, coord.Revoke{Req: 19, Lease: unknownLease})
			s.call(1, coord.TimeToLive{Req: 25, Lease: unknownLease})
			s.sleep(100 * time.Millisecond)
			s.call(1, coord.TimeToLive{Req: 26, Lease: l}) // 9.9 s left: 9
			s.call(1, coord.Grant{Req: 20, TTL: 1})
			s.call(1, coord.Get{Req: 21})
			s.watch(2, coord.Watch{Req: 30, Key: "/b/e/a", Rev: a})
			s.call(1, coord.Revoke{Req: 22, Lease: l})
			s.await(2, 30)
			s.call(1, coord.Revoke{Req: 23, Lease: l})
			s.call(1, coord.Get{Req: 24, Key: "/b/e/a"})
		})
	})

	// Delete watches: fired by a delete, answered at once for an absent
	// key, cancelled by Unwatch.
	t.Run("watch", func(t *testing.T) {
		conformance(t, eps, coord.Protocol, 4, nil, func(s *session) {
			s.call(1, coord.Get{Req: 1, Key: "/w/none"})
			c := s.call(1, coord.Create{Req: 2, Key: "/w/a", Value: "x"}).CreateRev
			s.watch(2, coord.Watch{Req: 10, Key: "/w/a", Rev: c})
			s.watch(2, coord.Watch{Req: 11, Key: "/w/none"})
			s.await(2, 11)
			s.watch(3, coord.Watch{Req: 12, Key: "/w/a"})
			s.call(3, coord.Unwatch{Req: 12})
			s.call(3, coord.Unwatch{Req: 99})
			s.call(1, coord.Delete{Req: 3, Key: "/w/a"})
			s.await(2, 10)
			s.settle() // the cancelled watch 12 must stay silent
		})
	})

	// A lease's expiry on the service's clock deletes its keys in one
	// revision and fires their watches; a keepalive before the TTL is up
	// keeps it (TTL 3 s: kept alive at 1.5 s, read at 3.5 s, a second
	// before its renewed deadline, half a second past its first).
	t.Run("expiry", func(t *testing.T) {
		conformance(t, eps, coord.Protocol, 4, nil, func(s *session) {
			s.call(1, coord.Get{Req: 1, Key: "/x/none"})
			l := s.call(1, coord.Grant{Req: 2, TTL: 2}).Lease
			a := s.call(1, coord.Create{Req: 3, Key: "/x/a", Value: "n1", Lease: l}).CreateRev
			b := s.call(1, coord.Create{Req: 4, Key: "/x/b", Value: "n1", Lease: l}).CreateRev
			s.watch(2, coord.Watch{Req: 10, Key: "/x/a", Rev: a})
			s.watch(3, coord.Watch{Req: 10, Key: "/x/b", Rev: b})
			k := s.call(2, coord.Grant{Req: 5, TTL: 3}).Lease
			s.call(2, coord.Create{Req: 6, Key: "/x/k", Value: "n2", Lease: k})
			s.sleep(1500 * time.Millisecond)
			s.call(1, coord.TimeToLive{Req: 14, Lease: l}) // 0.5 s left: 0
			s.call(2, coord.KeepAlive{Req: 7, Lease: k})
			s.sleep(2 * time.Second)
			s.await(2, 10)
			s.await(3, 10)
			s.call(1, coord.Get{Req: 8, Key: "/x/a"})
			s.call(1, coord.KeepAlive{Req: 9, Lease: l})
			s.call(2, coord.Get{Req: 11, Key: "/x/k"})
			s.call(1, coord.Find{Req: 12, Prefix: "/x/"})
			s.call(2, coord.Revoke{Req: 13, Lease: k})
		})
	})

	// Fencing tokens: a write with a token below the highest accepted is
	// refused; equal and higher ones pass.
	writes := func(s *session) {
		for i, w := range []struct {
			token int64
			by    ordo.NodeID
		}{{5, 1}, {5, 1}, {7, 2}, {5, 1}, {6, 3}, {8, 3}} {
			s.call(w.by, coord.Write{Req: uint64(i + 1), Token: w.token, Writer: w.by, Value: fmt.Sprint("w", i)})
		}
	}
	t.Run("fenced", func(t *testing.T) { conformance(t, eps, coord.FencedProtocol, 5, nil, writes) })
	t.Run("unfenced", func(t *testing.T) {
		conformance(t, eps, coord.FencedProtocol, 6, map[string]string{"fencing": "false"}, writes)
	})

	// key_prefix keeps stores apart: two clusters sharing this etcd whose
	// fenced stores have the same service id but their own prefixes do
	// not fence each other's writers; one prefix is one store.
	t.Run("key_prefix", func(t *testing.T) {
		write := func(b *etcdBackend, req uint64, token int64) coord.Reply {
			t.Helper()
			b.send(t, 1, coord.Write{Req: req, Token: token, Writer: 1, Value: "v"})
			r, ok := b.wait(t, 1, req).(coord.Reply)
			if !ok {
				t.Fatalf("write %d: not a reply", req)
			}
			return r
		}
		a := newEtcd(t, eps, coord.FencedProtocol, 7, map[string]string{"key_prefix": "/ordo/fenced/cluster-a/"})
		b := newEtcd(t, eps, coord.FencedProtocol, 7, map[string]string{"key_prefix": "/ordo/fenced/cluster-b/"})
		again := newEtcd(t, eps, coord.FencedProtocol, 7, map[string]string{"key_prefix": "/ordo/fenced/cluster-a/"})
		if r := write(a, 1, 9); r.Err != coord.OK {
			t.Fatalf("cluster a's first write: %s", coord.ErrName(r.Err))
		}
		if r := write(b, 1, 3); r.Err != coord.OK {
			t.Errorf("cluster b's write of token 3 after cluster a's 9 under another prefix: %s, want ok (its own store)", coord.ErrName(r.Err))
		}
		if r := write(again, 1, 3); r.Err != coord.ErrStaleToken || r.Highest != 9 {
			t.Errorf("token 3 under cluster a's prefix after its 9: %s (highest %d), want stale-token (highest 9)", coord.ErrName(r.Err), r.Highest)
		}
		cli, err := clientv3.New(clientv3.Config{Endpoints: strings.Split(eps, ","), Logger: zap.NewNop()})
		if err != nil {
			t.Fatal(err)
		}
		defer cli.Close()
		for key, token := range map[string]int64{FencedKey("/ordo/fenced/cluster-a/", 7): 9, FencedKey("/ordo/fenced/cluster-b/", 7): 3} {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			g, err := cli.Get(ctx, key)
			cancel()
			if err != nil {
				t.Fatal(err)
			}
			if len(g.Kvs) != 1 || storedToken(g.Kvs[0].Value) != token {
				t.Errorf("etcd key %s: %v, want token %d stored there", key, g.Kvs, token)
			}
		}
	})

	t.Run("random", func(t *testing.T) {
		seeds := []uint64{1, 2, 3, 4}
		if *seedFlag != 0 {
			seeds = []uint64{*seedFlag}
		}
		for _, seed := range seeds {
			t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
				defer func() {
					if t.Failed() {
						t.Logf("replay: go test ./coord/etcdsvc -run 'TestConformanceWithEtcd/random' -coord.seed %d", seed)
					}
				}()
				conformance(t, eps, coord.Protocol, 4, nil, randomScript(seed, 150))
			})
		}
	})
}

var seedFlag = flag.Uint64("coord.seed", 0, "run the random conformance script with this seed only")

// randomScript makes ops random requests over four keys under a prefix of
// its own, three nodes and up to three leases (TTL 60 s: nothing expires
// here; the expiry script covers that), each chosen from the answers so
// far, then revokes every lease and deletes every key so that every watch
// still pending fires, and awaits them all. Unwatch is only asked of a
// watch whose key has not been deleted since it was placed: otherwise
// whether it still held would depend on when etcd's event arrived, which
// the model cannot know.
func randomScript(seed uint64, ops int) func(s *session) {
	return func(s *session) {
		rng := rand.New(rand.NewPCG(seed, 0x636f6f7264))
		prefix := fmt.Sprintf("/r/%d/", seed)
		const nkeys = 4
		type keyState struct {
			create, lease int64
			deletes       int
		}
		keys := map[string]*keyState{}
		var leases []int64
		type placed struct {
			node    ordo.NodeID
			req     uint64
			key     string
			deletes int
			present bool // the key existed when the watch was placed
			done    bool
		}
		var watches []*placed
		req := uint64(0)
		next := func() uint64 { req++; return req }
		key := func() string { return fmt.Sprintf("%sk%d", prefix, rng.IntN(nkeys)) }
		state := func(k string) *keyState {
			if keys[k] == nil {
				keys[k] = &keyState{}
			}
			return keys[k]
		}
		deleted := func(k string) {
			st := state(k)
			st.create, st.lease = 0, 0
			st.deletes++
		}
		lease := func() int64 {
			switch {
			case len(leases) > 0 && rng.IntN(5) > 0:
				return leases[rng.IntN(len(leases))]
			case rng.IntN(2) == 0:
				return 0
			}
			return unknownLease
		}
		rev := func() int64 { // a create revision seen, or a small one
			var revs []int64
			for i := range nkeys {
				if st := keys[fmt.Sprintf("%sk%d", prefix, i)]; st != nil && st.create > 0 {
					revs = append(revs, st.create)
				}
			}
			slices.Sort(revs)
			if len(revs) == 0 || rng.IntN(4) == 0 {
				return int64(rng.IntN(3))
			}
			return revs[rng.IntN(len(revs))] + int64(rng.IntN(2))
		}
		revoked := func(l int64) {
			leases = slices.DeleteFunc(leases, func(x int64) bool { return x == l })
			for k, st := range keys {
				if st.lease == l && st.create > 0 {
					deleted(k)
				}
			}
		}
		node := func() ordo.NodeID { return ordo.NodeID(1 + rng.IntN(3)) }
		s.call(1, coord.Get{Req: next(), Key: prefix + "none"})
		for range ops {
			switch rng.IntN(10) {
			case 0:
				if len(leases) < 3 {
					if r := s.call(node(), coord.Grant{Req: next(), TTL: 60}); r.Err == coord.OK {
						leases = append(leases, r.Lease)
					}
				}
			case 1:
				s.call(node(), coord.KeepAlive{Req: next(), Lease: lease()})
			case 2:
				if rng.IntN(3) == 0 {
					l := lease()
					if r := s.call(node(), coord.Revoke{Req: next(), Lease: l}); r.Err == coord.OK {
						revoked(l)
					}
				}
			case 3, 4:
				k, l := key(), lease()
				if r := s.call(node(), coord.Create{Req: next(), Key: k, Value: fmt.Sprint("v", req), Lease: l}); r.Succeeded {
					st := state(k)
					st.create, st.lease = r.CreateRev, l
				}
			case 5:
				s.call(node(), coord.Get{Req: next(), Key: key()})
			case 6:
				s.call(node(), coord.Find{Req: next(), Prefix: prefix, Last: rng.IntN(2) == 0, Below: rev()})
			case 7:
				k := key()
				if r := s.call(node(), coord.Delete{Req: next(), Key: k, Rev: rev()}); r.Succeeded {
					deleted(k)
				}
			case 8:
				n, k := node(), key()
				for range 3 { // mostly a present key: its watch waits for a delete
					if state(k).create > 0 {
						break
					}
					k = key()
				}
				w := &placed{node: n, req: next(), key: k, deletes: state(k).deletes, present: state(k).create > 0}
				watches = append(watches, w)
				s.watch(n, coord.Watch{Req: w.req, Key: k, Rev: rev()})
			case 9:
				if rng.IntN(3) > 0 {
					break
				}
				for _, w := range watches {
					if !w.done && w.present && state(w.key).deletes == w.deletes {
						s.call(w.node, coord.Unwatch{Req: w.req})
						w.done = true
						break
					}
				}
			}
		}
		for _, l := range slices.Clone(leases) {
			s.call(1, coord.Revoke{Req: next(), Lease: l})
			revoked(l)
		}
		for i := range nkeys {
			s.call(1, coord.Delete{Req: next(), Key: fmt.Sprintf("%sk%d", prefix, i)})
		}
		for _, w := range watches {
			if !w.done {
				s.await(w.node, w.req)
			}
		}
	}
}
