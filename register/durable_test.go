package register

import (
	"encoding/binary"
	"math"
	"testing"

	"ordo"
	"ordo/ordotest"
)

// loadStored runs load on a store holding b for key "x", reporting an
// ordo.Corrupt panic naming the key (any other panic fails the test).
func loadStored(t *testing.T, b []byte) (ts Timestamp, v string, corrupt bool) {
	t.Helper()
	env := ordotest.NewEnv(1, roster, 1)
	env.Store().Put(valuePrefix+"x", b)
	defer func() {
		if p := recover(); p != nil {
			c, ok := p.(ordo.Corrupt)
			if !ok || c.Key != valuePrefix+"x" {
				t.Fatalf("load(%x) panicked with %v, want ordo.Corrupt naming the key", b, p)
			}
			corrupt = true
		}
	}()
	ts, v = load(env, "x")
	return ts, v, false
}

func record(counter uint64, writer int64, round uint64, v string) []byte {
	b := binary.BigEndian.AppendUint64(nil, counter)
	b = binary.BigEndian.AppendUint64(b, uint64(writer))
	b = binary.BigEndian.AppendUint64(b, round)
	return append(b, v...)
}

// A stored copy is believed only within the bounds: a counter whose +1
// would wrap would make one old value look newest forever.
func TestStoredCopyBounds(t *testing.T) {
	for _, tc := range []struct {
		b       []byte
		corrupt bool
	}{
		{record(3, 2, 1, "v"), false},
		{record(ordo.MaxIndex, ordo.MaxNodeID, ordo.MaxIndex, ""), false},
		{record(math.MaxUint64, 2, 1, "v"), true},
		{record(3, -1, 1, "v"), true},
		{record(3, 2, ordo.MaxIndex+1, "v"), true},
		{record(3, 2, 1, "")[:23], true},
	} {
		if _, _, corrupt := loadStored(t, tc.b); corrupt != tc.corrupt {
			t.Errorf("%x: corrupt=%v, want %v", tc.b, corrupt, tc.corrupt)
		}
	}
}

// A replica's stored bytes load within the bounds or stop it with
// ordo.Corrupt; nothing else.
func FuzzStoredCopy(f *testing.F) {
	f.Add(record(3, 2, 1, "v"))
	f.Add(record(math.MaxUint64, 2, 1, "v"))
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		ts, v, corrupt := loadStored(t, b)
		if corrupt {
			return
		}
		if ts.Validate() != nil || len(v) != len(b)-recordHead {
			t.Fatalf("%x loaded as %v %q", b, ts, v)
		}
	})
}

// A boot count that cannot be believed stops the server, and the client
// (whose op ids it numbers), at Start: read as 0 it would reuse ids.
func TestAbsurdBootCountStops(t *testing.T) {
	for _, c := range []struct {
		p     *ordo.Protocol
		id    ordo.NodeID
		key   string
		limit uint64 // the first count not believed
	}{{Protocol, 1, bootKey, 1<<30 - 1}, {ClientProtocol, 6, clientBootKey, 1<<30 - 1}} {
		for _, b := range [][]byte{binary.BigEndian.AppendUint64(nil, c.limit), binary.BigEndian.AppendUint64(nil, math.MaxUint64), {1, 2}} {
			env := ordotest.ForProtocol(c.p, c.id, roster, 1)
			env.Store().Put(c.key, b)
			n := env.NewNode(t, c.p, nil)
			func() {
				defer func() {
					if cr, ok := recover().(ordo.Corrupt); !ok || cr.Key != c.key {
						t.Errorf("%s: boot count %x: want ordo.Corrupt{Key: %q}", c.p.Name, b, c.key)
					}
				}()
				env.Start(n)
			}()
		}
	}
}

// A server whose round sequence would spill into the boot bits refuses
// new operations (busy) instead of reusing a later incarnation's rounds.
func TestRoundSequenceExhaustedIsBusy(t *testing.T) {
	env := ordotest.ForProtocol(Protocol, 1, roster, 1)
	n := env.NewNode(t, Protocol, nil)
	env.Start(n)
	n.(*Server).seq = 1<<32 - 2
	env.Receive(n, 6, Request{Op: 1, Write: true, Key: "k0", Value: "a"})
	if got := env.SentTo(6); len(got) != 0 {
		t.Fatalf("seq 2^32-2: sent %v to the client at once, want the operation started", got)
	}
	env.Receive(n, 6, Request{Op: 2, Write: true, Key: "k0", Value: "b"})
	if got := env.SentTo(6); len(got) != 1 || got[0] != (Reply{Op: 2, Busy: true}) {
		t.Fatalf("seq 2^32-1: sent %v to the client, want one busy reply to op 2", got)
	}
}
