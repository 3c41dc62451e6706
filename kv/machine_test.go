package kv

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func apply(t *testing.T, m *Machine, r Request) Response {
	t.Helper()
	res, err := DecodeResult(m.Apply(m.Applied()+1, EncodeCommand(r)))
	if err != nil {
		t.Fatalf("result of %+v does not decode: %v", r, err)
	}
	return res
}

// The operations of the chapter's database, with revisions = log indexes.
func TestMachineOperations(t *testing.T) {
	m := NewMachine(DefaultMachineConfig)
	if r := apply(t, m, Request{Op: OpGet, Key: "x"}); r.Status != StatusNotFound || r.Rev != 1 {
		t.Fatalf("get of an absent key: %+v", r)
	}
	if r := apply(t, m, Request{Op: OpPut, Key: "x", Value: "a"}); r.Status != StatusOK || r.Rev != 2 {
		t.Fatalf("put: %+v", r)
	}
	if r := apply(t, m, Request{Op: OpGet, Key: "x"}); r.Status != StatusOK || r.Value != "a" || r.ModRev != 2 || r.Rev != 3 {
		t.Fatalf("get: %+v", r)
	}
	if r := apply(t, m, Request{Op: OpCAS, Key: "x", Expect: "b", Exists: true, Value: "c"}); r.Status != StatusMismatch || r.Value != "a" {
		t.Fatalf("cas with the wrong expectation: %+v", r)
	}
	if r := apply(t, m, Request{Op: OpCAS, Key: "x", Exists: false, Value: "c"}); r.Status != StatusMismatch {
		t.Fatalf("cas expecting absence of a present key: %+v", r)
	}
	if r := apply(t, m, Request{Op: OpCAS, Key: "x", Expect: "a", Exists: true, Value: "c"}); r.Status != StatusOK || r.Rev != 6 {
		t.Fatalf("cas: %+v", r)
	}
	if r := apply(t, m, Request{Op: OpCAS, Key: "y", Exists: false, Value: "new"}); r.Status != StatusOK {
		t.Fatalf("cas creating a key: %+v", r)
	}
	if v, rev, _ := m.Get("x"); v != "c" || rev != 6 {
		t.Fatalf("x = %q @%d", v, rev)
	}
	if r := apply(t, m, Request{Op: OpDelete, Key: "x"}); r.Status != StatusOK || m.Rev("x") != 8 {
		t.Fatalf("delete: %+v, watch rev %d", r, m.Rev("x"))
	}
	if r := apply(t, m, Request{Op: OpDelete, Key: "x"}); r.Status != StatusNotFound || m.Rev("x") != 8 {
		t.Fatalf("delete of an absent key changed something: %+v", r)
	}
	for i := range 5 {
		apply(t, m, Request{Op: OpPut, Key: fmt.Sprintf("r%d", i), Value: "v"})
	}
	r := apply(t, m, Request{Op: OpRange, Key: "r1", End: "r4"})
	if len(r.Pairs) != 3 || r.Pairs[0].Key != "r1" || r.Pairs[2].Key != "r3" || r.More {
		t.Fatalf("range [r1, r4): %+v", r)
	}
	r = apply(t, m, Request{Op: OpRange, Key: "r", Limit: 2})
	if len(r.Pairs) != 2 || !r.More {
		t.Fatalf("range limit 2: %+v", r)
	}
	if r := apply(t, m, Request{Op: OpWatch, Key: "x"}); r.Status != StatusBadRequest {
		t.Fatalf("a watch in the log: %+v", r)
	}
}

// A command that does not decode or breaks a bound is applied as a no-op
// with an error result: it was committed, every replica must agree.
func TestMachineBadCommands(t *testing.T) {
	m := NewMachine(DefaultMachineConfig)
	if res := m.Apply(1, nil); res != nil {
		t.Fatalf("Raft's own entry (nil) gave %x", res)
	}
	for i, cmd := range [][]byte{{0xff}, append(EncodeCommand(Request{Op: OpPut, Key: "k"}), 0)} {
		r, err := DecodeResult(m.Apply(uint64(i+2), cmd))
		if err != nil || r.Status != StatusBadRequest || !strings.Contains(r.Err, "decode") {
			t.Fatalf("command %x: %+v %v", cmd, r, err)
		}
	}
	for _, bad := range []Request{
		{Op: 0, Key: "k"}, {Op: 99, Key: "k"}, {Op: OpPut, Key: strings.Repeat("k", MaxKey+1)},
		{Op: OpPut, Key: "k", Value: strings.Repeat("v", MaxValue+1)}, {Op: OpPut}, {Op: OpRange, Limit: MaxRange + 1},
		{Op: OpPut, Key: "k", Session: 3},
	} {
		if r := apply(t, m, bad); r.Status != StatusBadRequest || r.Err == "" {
			t.Errorf("%+v: %+v", bad, r)
		}
	}
	if m.Len() != 0 || m.Sessions() != 0 || m.lastDelete != 0 {
		t.Fatalf("bad commands changed the state: %d keys, %d sessions", m.Len(), m.Sessions())
	}
}

// A retried (Session, Seq) applies once and returns the first result; an
// older Seq changes nothing (Raft thesis 6.3).
func TestMachineSessionsApplyOnce(t *testing.T) {
	m := NewMachine(DefaultMachineConfig)
	w := Request{Session: 7, Seq: 1, Op: OpCAS, Key: "x", Exists: false, Value: "a"}
	first := apply(t, m, w)
	apply(t, m, Request{Op: OpPut, Key: "x", Value: "b"}) // another client
	again := apply(t, m, w)
	if first.Status != StatusOK || again.Status != StatusOK || again.Rev != first.Rev {
		t.Fatalf("retry of (7,1): first %+v, again %+v", first, again)
	}
	if v, _, _ := m.Get("x"); v != "b" {
		t.Fatalf("the retry applied again: x = %q", v)
	}
	apply(t, m, Request{Session: 7, Seq: 2, Op: OpPut, Key: "x", Value: "c"})
	if r := apply(t, m, w); r.Status != StatusBadRequest || !strings.Contains(r.Err, "stale") {
		t.Fatalf("seq 1 after seq 2: %+v", r)
	}
	if v, _, _ := m.Get("x"); v != "c" {
		t.Fatalf("x = %q", v)
	}
}

// A sequence number used again by a different request is refused, not
// answered with the first request's result (which told the client its
// second write was applied: a fresh user's trial); a retry of the same
// request, even under another ID, is still answered from the table; both
// survive a snapshot, and a snapshot of format 1 (no digests) restores.
func TestMachineSessionsRefuseASequenceNumberReused(t *testing.T) {
	m := NewMachine(DefaultMachineConfig)
	w := Request{ID: 1, Session: 9, Seq: 5, Op: OpPut, Key: "s3", Value: "A"}
	first := apply(t, m, w)
	other := w
	other.ID, other.Key, other.Value = 2, "s4", "B"
	if r := apply(t, m, other); r.Status != StatusBadRequest || !strings.Contains(r.Err, "used by another request") {
		t.Fatalf("(9,5) again with another key: %+v", r)
	}
	if _, _, ok := m.Get("s4"); ok {
		t.Fatal("the refused request was applied")
	}
	retry := w
	retry.ID = 3
	if r := apply(t, m, retry); r.Status != StatusOK || r.Rev != first.Rev {
		t.Fatalf("a retry under another ID: %+v, want the first answer %+v", r, first)
	}
	r2 := NewMachine(DefaultMachineConfig)
	if err := r2.Restore(m.Applied(), m.Snapshot()); err != nil {
		t.Fatal(err)
	}
	if r := apply(t, r2, other); r.Status != StatusBadRequest {
		t.Fatalf("after a snapshot, (9,5) with another key: %+v", r)
	}
	// Format 1, with a session: format 2 but for the header and the
	// session's trailing digest. It restores, its session answers a retry
	// from the table, and a different request under its sequence number
	// is taken as a retry (format 1 kept no digest).
	v2 := m.Snapshot()
	digest := binary.AppendUvarint(nil, m.sessions[9].digest)
	if len(m.sessions) != 1 || !bytes.HasSuffix(v2, digest) {
		t.Fatalf("the test's snapshot: %d sessions, digest not last", len(m.sessions))
	}
	v1 := append([]byte(snapMagic1), v2[len(snapMagic):len(v2)-len(digest)]...)
	old := NewMachine(DefaultMachineConfig)
	if err := old.Restore(m.Applied(), v1); err != nil {
		t.Fatalf("a snapshot of format 1 with a session: %v", err)
	}
	if r := apply(t, old, retry); r.Status != StatusOK || r.Rev != first.Rev {
		t.Fatalf("a retry after a format-1 restore: %+v", r)
	}
}

// The stored encodings do not move: a command as the Raft log holds it
// and a result as the session table holds it, written by earlier
// versions, still decode (backup paging got messages of its own rather
// than fields in these).
func TestStoredEncodingsAreStable(t *testing.T) {
	cmd, _ := hex.DecodeString(goldenPutCommand)
	r, err := DecodeCommand(cmd)
	if err != nil || r.Op != OpPut || r.Key != "k" || r.Value != "v" || r.Session != 2 || r.Seq != 1 {
		t.Fatalf("an old put command: %+v, %v", r, err)
	}
	if got := hex.EncodeToString(EncodeCommand(r)); got != goldenPutCommand {
		t.Fatalf("the put encodes as %s, the log holds %s", got, goldenPutCommand)
	}
	res, _ := hex.DecodeString(goldenOKResult)
	if a, err := DecodeResult(res); err != nil || a.Status != StatusOK || a.Rev != 3 {
		t.Fatalf("an old result: %+v, %v", a, err)
	}
}

// Session entries expire by log position: unused for SessionWindow
// indexes, an entry is gone (and a retry would apply again); the table
// evicts its least recently used entry beyond Sessions.
func TestMachineSessionsExpireByLogPosition(t *testing.T) {
	m := NewMachine(MachineConfig{SessionWindow: 3, Sessions: 2})
	apply(t, m, Request{Session: 1, Seq: 1, Op: OpPut, Key: "a", Value: "1"}) // index 1
	apply(t, m, Request{Session: 2, Seq: 1, Op: OpPut, Key: "b", Value: "1"}) // 2
	apply(t, m, Request{Op: OpGet, Key: "a"})                                 // 3
	apply(t, m, Request{Op: OpGet, Key: "a"})                                 // 4: session 1 used at 1, 3 ago
	if m.Sessions() != 2 {
		t.Fatalf("at index 4: %d sessions, want 2", m.Sessions())
	}
	apply(t, m, Request{Op: OpGet, Key: "a"}) // 5: session 1 is 4 old
	if _, ok := m.sessions[1]; ok || m.Sessions() != 1 {
		t.Fatalf("at index 5: session 1 still held (%d sessions)", m.Sessions())
	}
	apply(t, m, Request{Session: 3, Seq: 1, Op: OpPut, Key: "c", Value: "1"}) // 6
	apply(t, m, Request{Session: 4, Seq: 1, Op: OpPut, Key: "d", Value: "1"}) // 7: evicts 2 (LRU)
	if _, ok := m.sessions[2]; ok || m.Sessions() != 2 {
		t.Fatalf("the table holds %d sessions, session 2 kept: %v", m.Sessions(), ok)
	}
}

// Replicas that applied the same commands hold equal snapshots, and a
// restored machine continues like the original.
func TestMachineSnapshotRestore(t *testing.T) {
	a := NewMachine(DefaultMachineConfig)
	for i := range 50 {
		apply(t, a, Request{Session: uint64(i%7 + 1), Seq: uint64(i/7 + 1), Op: OpPut, Key: fmt.Sprintf("k%d", i%13), Value: fmt.Sprint(i)})
		if i%5 == 0 {
			apply(t, a, Request{Op: OpDelete, Key: fmt.Sprintf("k%d", i%13)})
		}
	}
	snap := a.Snapshot()
	b := NewMachine(DefaultMachineConfig)
	if err := b.Restore(a.Applied(), snap); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Snapshot(), snap) {
		t.Fatal("restored snapshot differs")
	}
	if err := b.Restore(a.Applied()+1, snap); err == nil {
		t.Fatal("a snapshot restored at another index")
	}
	for _, m := range []*Machine{a, b} {
		apply(t, m, Request{Session: 3, Seq: 8, Op: OpPut, Key: "z", Value: "z"})
		apply(t, m, Request{Session: 3, Seq: 8, Op: OpPut, Key: "z", Value: "z"})
	}
	if !bytes.Equal(a.Snapshot(), b.Snapshot()) {
		t.Fatal("the replicas diverged after a restore")
	}
	if i, err := SnapshotIndex(snap); err != nil || i != a.Applied()-2 {
		t.Fatalf("SnapshotIndex = %d, %v", i, err)
	}
	// Every truncation is refused and leaves the state as it was.
	for n := range len(snap) {
		if err := b.Restore(a.Applied()-2, snap[:n]); err == nil {
			t.Fatalf("a snapshot cut at %d of %d bytes was restored", n, len(snap))
		}
	}
	if !bytes.Equal(a.Snapshot(), b.Snapshot()) {
		t.Fatal("a refused restore changed the state")
	}
}

func FuzzCommand(f *testing.F) {
	f.Add(EncodeCommand(Request{Op: OpPut, Key: "k", Value: "v"}))
	f.Add(EncodeCommand(Request{Session: 1, Seq: 1, Op: OpCAS, Key: "k", Exists: true, Expect: "v", Value: "w"}))
	f.Add(EncodeCommand(Request{Op: OpRange, Key: "a", End: "z", Limit: 3}))
	f.Add([]byte{0})
	f.Fuzz(func(t *testing.T, cmd []byte) {
		a, b := NewMachine(DefaultMachineConfig), NewMachine(DefaultMachineConfig)
		for _, m := range []*Machine{a, b} {
			m.Apply(1, EncodeCommand(Request{Op: OpPut, Key: "k", Value: "v"}))
		}
		ra, rb := a.Apply(2, cmd), b.Apply(2, cmd)
		if !bytes.Equal(ra, rb) || !bytes.Equal(a.Snapshot(), b.Snapshot()) {
			t.Fatal("not deterministic")
		}
		if _, err := DecodeResult(ra); len(cmd) > 0 && err != nil {
			t.Fatalf("result does not decode: %v", err)
		}
		if r, err := DecodeCommand(cmd); err == nil {
			if again := EncodeCommand(r); r.ID == 0 && r.Read == 0 && !bytes.Equal(again, cmd) {
				t.Fatalf("decode/encode is not canonical: %x → %x", cmd, again)
			}
		}
	})
}

func FuzzRestore(f *testing.F) {
	m := NewMachine(DefaultMachineConfig)
	m.Apply(1, EncodeCommand(Request{Session: 2, Seq: 1, Op: OpPut, Key: "k", Value: "v"}))
	m.Apply(2, EncodeCommand(Request{Op: OpDelete, Key: "j"}))
	m.Apply(3, EncodeCommand(Request{Op: OpPut, Key: "l", Value: "w"}))
	f.Add(uint64(3), m.Snapshot())
	f.Add(uint64(0), NewMachine(DefaultMachineConfig).Snapshot())
	f.Fuzz(func(t *testing.T, index uint64, snap []byte) {
		r := NewMachine(DefaultMachineConfig)
		if err := r.Restore(index, snap); err != nil {
			if r.Applied() != 0 || r.Len() != 0 {
				t.Fatal("a refused restore changed the state")
			}
			return
		}
		again := r.Snapshot()
		if bytes.HasPrefix(snap, []byte(snapMagic1)) {
			// Format 1 is read and written as format 2: the rewrite
			// must restore to the same state and be canonical itself.
			r2 := NewMachine(DefaultMachineConfig)
			if err := r2.Restore(index, again); err != nil || !bytes.Equal(r2.Snapshot(), again) || r2.Len() != r.Len() {
				t.Fatalf("format 1 %x rewritten as %x: %v", snap, again, err)
			}
		} else if !bytes.Equal(again, snap) {
			t.Fatalf("accepted a non-canonical snapshot %x", snap)
		}
		r.Apply(index+1, EncodeCommand(Request{Op: OpPut, Key: "k", Value: "x"}))
	})
}

// BenchmarkMachineApply: one put of a 100-byte value, decoded, applied
// and its result encoded (what every replica does per entry), without a
// session (the commands repeat: a session would answer them from its
// table): over 1000 keys in order, and over 100 000 keys in random order
// with the machine already holding them (the cache-missing case of `ordo
// bench kv`, where nearly every put replaces a key).
func BenchmarkMachineApply(b *testing.B) {
	for _, keys := range []int{1000, 100_000} {
		b.Run(fmt.Sprintf("keys=%d", keys), func(b *testing.B) {
			m := NewMachine(DefaultMachineConfig)
			value := strings.Repeat("v", 100)
			for i := range keys {
				m.Apply(m.Applied()+1, EncodeCommand(Request{Op: OpPut, Key: fmt.Sprintf("key-%d", i), Value: value}))
			}
			rng := rand.New(rand.NewPCG(1, 2))
			cmds := make([][]byte, 4096)
			for i := range cmds {
				k := i % keys
				if keys > len(cmds) {
					k = rng.IntN(keys)
				}
				cmds[i] = EncodeCommand(Request{Op: OpPut, Key: fmt.Sprintf("key-%d", k), Value: value})
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				m.Apply(m.Applied()+1, cmds[i%len(cmds)])
			}
		})
	}
}

// A CAS mismatch says whether the key exists by its ModRev (0: absent),
// since its value may be empty: a key holding "" read as absent (a fresh
// user's re-trial: "mismatch: c1 is absent" for --absent on c1).
func TestMachineCASMismatchSaysTheKeyExists(t *testing.T) {
	m := NewMachine(DefaultMachineConfig)
	put := apply(t, m, Request{Op: OpPut, Key: "c1", Value: ""})
	if r := apply(t, m, Request{Op: OpCAS, Key: "c1", Exists: false, Value: "Y"}); r.Status != StatusMismatch || r.ModRev != put.Rev || r.Value != "" {
		t.Fatalf("--absent on a key holding \"\": %+v, want mismatch with mod rev %d", r, put.Rev)
	}
	if r := apply(t, m, Request{Op: OpCAS, Key: "nope", Exists: true, Expect: "x", Value: "Y"}); r.Status != StatusMismatch || r.ModRev != 0 {
		t.Fatalf("--expect on an absent key: %+v, want mismatch with mod rev 0", r)
	}
}

// Written by the code of e10c288 (before this change): EncodeCommand of
// a put of k=v in session 2, seq 1, and encodeResult of an ok at rev 3.
const (
	goldenPutCommand = "0002010200016b0001760000000000"
	goldenOKResult   = "000000000300000000"
)

// BenchmarkMachineInsertDelete: over 100 000 keys, puts and deletes of
// keys that come and go (the B-tree's share of Apply: a descent a put of
// a new key, a delete): odd keys of a 200 000 key space, in random order,
// each put when absent and deleted when present.
func BenchmarkMachineInsertDelete(b *testing.B) {
	m := NewMachine(DefaultMachineConfig)
	value := strings.Repeat("v", 100)
	for i := range 100_000 {
		m.Apply(m.Applied()+1, EncodeCommand(Request{Op: OpPut, Key: fmt.Sprintf("key-%07d", 2*i), Value: value}))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	puts, dels := make([][]byte, 4096), make([][]byte, 4096)
	for i := range puts {
		k := fmt.Sprintf("key-%07d", 2*rng.IntN(100_000)+1)
		puts[i] = EncodeCommand(Request{Op: OpPut, Key: k, Value: value})
		dels[i] = EncodeCommand(Request{Op: OpDelete, Key: k})
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j := i % len(puts)
		if i/len(puts)%2 == 0 {
			m.Apply(m.Applied()+1, puts[j])
		} else {
			m.Apply(m.Applied()+1, dels[j])
		}
	}
}

// BenchmarkMachineSnapshot: the snapshot of 100 000 keys of 100 bytes
// (about 11 MB), as Raft takes it every snapshot_entries in the event loop
// (docs/kv.md, "Snapshots").
func BenchmarkMachineSnapshot(b *testing.B) {
	m := NewMachine(DefaultMachineConfig)
	v := strings.Repeat("v", 100)
	for i := range 100_000 {
		m.Apply(uint64(i+1), EncodeCommand(Request{Op: OpPut, Key: fmt.Sprintf("key-%06d", i), Value: v}))
	}
	b.ResetTimer()
	for range b.N {
		if len(m.Snapshot()) < 10<<20 {
			b.Fatal("a snapshot of less than 10 MB")
		}
	}
}

// The machine against a plain map: random puts, deletes, CAS, gets and
// ranges over a few keys, with a snapshot and restore now and then. The
// machine keeps its keys twice (the ordered tree for ranges and
// snapshots, a hash index for point operations): every answer must be
// the model's, and a range over everything must list exactly the model.
func TestMachineAgreesWithAMap(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		m := NewMachine(DefaultMachineConfig)
		model := map[string]string{}
		for step := 0; step < 2000; step++ {
			k := fmt.Sprintf("k%02d", rng.IntN(30))
			v := fmt.Sprintf("v%d", rng.IntN(5))
			want, had := model[k]
			switch op := rng.IntN(10); {
			case op < 4:
				if r := apply(t, m, Request{Op: OpPut, Key: k, Value: v}); r.Status != StatusOK {
					t.Fatalf("seed %d step %d: put %s: %+v", seed, step, k, r)
				}
				model[k] = v
			case op < 6:
				r := apply(t, m, Request{Op: OpDelete, Key: k})
				if (r.Status == StatusOK) != had {
					t.Fatalf("seed %d step %d: delete %s (present %v): %+v", seed, step, k, had, r)
				}
				delete(model, k)
			case op < 7:
				expect := fmt.Sprintf("v%d", rng.IntN(5))
				r := apply(t, m, Request{Op: OpCAS, Key: k, Exists: true, Expect: expect, Value: v})
				if ok := had && want == expect; (r.Status == StatusOK) != ok {
					t.Fatalf("seed %d step %d: cas %s %s→%s (model %q, %v): %+v", seed, step, k, expect, v, want, had, r)
				} else if ok {
					model[k] = v
				}
			case op < 8:
				got, _, ok := m.Get(k)
				if ok != had || got != want {
					t.Fatalf("seed %d step %d: get %s = %q %v, model %q %v", seed, step, k, got, ok, want, had)
				}
			case op < 9:
				r := m.Range("", "", 0, m.Applied())
				if len(r.Pairs) != len(model) || m.Len() != len(model) {
					t.Fatalf("seed %d step %d: range lists %d keys, Len %d, model %d", seed, step, len(r.Pairs), m.Len(), len(model))
				}
				for _, p := range r.Pairs {
					if model[p.Key] != p.Value {
						t.Fatalf("seed %d step %d: range %s=%q, model %q", seed, step, p.Key, p.Value, model[p.Key])
					}
				}
			default:
				n := NewMachine(DefaultMachineConfig)
				if err := n.Restore(m.Applied(), m.Snapshot()); err != nil {
					t.Fatalf("seed %d step %d: restore: %v", seed, step, err)
				}
				m = n
			}
		}
	}
}

// A snapshot rebased forward keeps every key with its own revision,
// restores at the new index only, drops the session table, and refuses
// to go backwards (an offline restore into a cluster that had gone past
// the backup: revisions are never handed out twice).
func TestRebaseSnapshot(t *testing.T) {
	m := NewMachine(DefaultMachineConfig)
	apply(t, m, Request{Session: 7, Seq: 1, Op: OpPut, Key: "a", Value: "1"})
	apply(t, m, Request{Op: OpPut, Key: "b", Value: "2"})
	snap := m.Snapshot()
	out, dropped, err := RebaseSnapshot(DefaultMachineConfig, snap, 2, 50)
	if err != nil || dropped != 1 {
		t.Fatalf("rebase: %d sessions dropped, %v; want 1 (session 7)", dropped, err)
	}
	n := NewMachine(DefaultMachineConfig)
	if err := n.Restore(2, out); err == nil {
		t.Fatal("the rebased snapshot restored at its old index")
	}
	if err := n.Restore(50, out); err != nil {
		t.Fatal(err)
	}
	if v, rev, ok := n.Get("a"); !ok || v != "1" || rev != 1 {
		t.Errorf("a after the rebase: %q rev %d %v, want 1 rev 1", v, rev, ok)
	}
	if n.Applied() != 50 || n.Sessions() != 0 {
		t.Errorf("applied %d, %d sessions; want 50 and none", n.Applied(), n.Sessions())
	}
	if r := apply(t, n, Request{Op: OpPut, Key: "c", Value: "3"}); r.Rev != 51 {
		t.Errorf("the next write's revision: %d, want 51", r.Rev)
	}
	if _, _, err := RebaseSnapshot(DefaultMachineConfig, snap, 2, 1); err == nil {
		t.Error("a rebase backwards was accepted")
	}
	if _, _, err := RebaseSnapshot(DefaultMachineConfig, snap, 3, 50); err == nil {
		t.Error("a snapshot rebased from the wrong index was accepted")
	}
}

// The B-tree's order (refLess over 16-byte prefixes) is the keys' bytewise
// order, for keys that end inside, at and past the prefix, share it, or
// differ only by trailing zero bytes.
func TestRefOrderIsTheKeysOrder(t *testing.T) {
	keys := []string{"", "\x00", "\x00\x00", "a", "a\x00", "a\x00b", "ab", "ab\x00", "ab\x01",
		"key-0000123", "key-0000124", "key-00001230", strings.Repeat("k", 15), strings.Repeat("k", 16),
		strings.Repeat("k", 16) + "\x00", strings.Repeat("k", 16) + "a", strings.Repeat("k", 17), strings.Repeat("k", 15) + "\xff",
		"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x00"}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		b := make([]byte, rng.IntN(24))
		for i := range b {
			b[i] = []byte{0, 1, 'k', 0xff}[rng.IntN(4)]
		}
		keys = append(keys, string(b))
	}
	for _, a := range keys {
		for _, b := range keys[:60] {
			ra, rb := refOf(&item{key: a}), refOf(&item{key: b})
			if refLess(ra, rb) != (a < b) || refLess(rb, ra) != (b < a) {
				t.Fatalf("refLess(%q, %q) = %v, refLess(%q, %q) = %v; bytewise %v, %v", a, b, refLess(ra, rb), b, a, refLess(rb, ra), a < b, b < a)
			}
		}
	}
	// And the machine ranges over such keys in bytewise order.
	m := NewMachine(DefaultMachineConfig)
	var want []string
	for _, k := range keys {
		if k == "" || len(k) > MaxKey {
			continue
		}
		if _, _, ok := m.Get(k); !ok {
			want = append(want, k)
		}
		apply(t, m, Request{Op: OpPut, Key: k, Value: "v"})
	}
	slices.Sort(want)
	var got []string
	for from := ""; ; {
		r := m.Range(from, "", 0, m.Applied())
		for _, p := range r.Pairs {
			got = append(got, p.Key)
		}
		if !r.More {
			break
		}
		from = r.Pairs[len(r.Pairs)-1].Key + "\x00"
	}
	if !slices.Equal(got, want) {
		t.Fatalf("range over %d keys: %d back, not in bytewise order or not all", len(want), len(got))
	}
}
