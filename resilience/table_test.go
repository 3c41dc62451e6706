package resilience

import (
	"errors"
	"testing"
	"time"

	"ordo"
)

var fpA, fpB = FingerprintOf([]byte("POST"), []byte("/transfer"), []byte("10")), FingerprintOf([]byte("POST"), []byte("/transfer"), []byte("20"))

// Section 5, strategy 1 ("멱등성 설계: 재시도해도 안전하게"): the first
// request under a key runs, its response is replayed, a duplicate in
// progress is refused, a reuse with another payload is an error.
func TestTableDedup(t *testing.T) {
	tb, err := NewTable(TableConfig{TTL: time.Minute}, 0)
	if err != nil {
		t.Fatal(err)
	}
	c, err := tb.Begin(0, "k1", fpA)
	if err != nil || c.Replay {
		t.Fatalf("first Begin: %+v, %v", c, err)
	}
	if _, err := tb.Begin(AtTime(ms), "k1", fpA); !errors.Is(err, ErrInProgress) {
		t.Fatalf("duplicate in progress: %v", err)
	}
	if err := tb.Finish(AtTime(2*ms), "k1", []byte("ok 10")); err != nil {
		t.Fatal(err)
	}
	c, err = tb.Begin(AtTime(3*ms), "k1", fpA)
	if err != nil || !c.Replay || string(c.Response) != "ok 10" {
		t.Fatalf("replay: %+v, %v", c, err)
	}
	if _, err := tb.Begin(AtTime(3*ms), "k1", fpB); !errors.Is(err, ErrKeyReused) {
		t.Fatalf("reuse: %v", err)
	}
	if err := tb.Finish(AtTime(3*ms), "k1", nil); !errors.Is(err, ErrNotInProgress) {
		t.Fatalf("second Finish: %v", err)
	}
	// Expiry: after TTL the key is forgotten and may run again.
	if n := tb.Expire(AtTime(time.Minute)); n != 1 || tb.Len() != 0 {
		t.Fatalf("expired %d, len %d", n, tb.Len())
	}
	if c, err := tb.Begin(AtTime(time.Minute), "k1", fpB); err != nil || c.Replay {
		t.Fatalf("after expiry: %+v, %v", c, err)
	}
}

// A full table refuses a new key rather than forget a live one; Abort
// frees a claim that had no effect.
func TestTableBounds(t *testing.T) {
	tb, _ := NewTable(TableConfig{MaxEntries: 2, MaxKeyLen: 4, MaxResponseLen: 3, TTL: time.Second}, 0)
	if _, err := tb.Begin(0, "", fpA); !errors.Is(err, ErrKeyInvalid) {
		t.Fatalf("empty key: %v", err)
	}
	if _, err := tb.Begin(0, "12345", fpA); !errors.Is(err, ErrKeyInvalid) {
		t.Fatalf("long key: %v", err)
	}
	tb.Begin(0, "a", fpA)
	tb.Begin(0, "b", fpA)
	if _, err := tb.Begin(0, "c", fpA); !errors.Is(err, ErrTableFull) {
		t.Fatalf("full: %v", err)
	}
	tb.Abort("b")
	if _, err := tb.Begin(0, "c", fpA); err != nil {
		t.Fatalf("after abort: %v", err)
	}
	if err := tb.Finish(0, "a", []byte("long")); !errors.Is(err, ErrResponseTooLarge) {
		t.Fatalf("large response: %v", err)
	}
	if _, err := tb.Begin(0, "a", fpA); !errors.Is(err, ErrResponseNotKept) {
		t.Fatalf("replay of a response not kept: %v", err)
	}
	if _, err := tb.Begin(AtTime(time.Second), "d", fpA); err != nil {
		t.Fatalf("expired entries must make room: %v", err)
	}
}

// Durable: a restart (a new Table over the same store) replays finished
// keys; with DurableClaims a claim whose request never finished stays
// refused until it expires; expiry by position survives as positions.
func TestTableDurable(t *testing.T) {
	st := ordo.NewMemStorage()
	cfg := TableConfig{Store: st, Prefix: "idem/", DurableClaims: true, TTL: time.Minute}
	tb, err := NewTable(cfg, 0)
	if err != nil {
		t.Fatal(err)
	}
	tb.Begin(0, "done", fpA)
	tb.Finish(0, "done", []byte("r"))
	tb.Begin(0, "crashed", fpA) // applied, then the server died before Finish
	// Restart: a new process, its monotonic clock from a new origin.
	tb, err = NewTable(cfg, AtTime(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if c, err := tb.Begin(AtTime(5*time.Second), "done", fpA); err != nil || !c.Replay || string(c.Response) != "r" {
		t.Fatalf("replay after restart: %+v, %v", c, err)
	}
	if _, err := tb.Begin(AtTime(5*time.Second), "crashed", fpA); !errors.Is(err, ErrInProgress) {
		t.Fatalf("orphaned claim after restart: %v", err)
	}
	// Loaded entries live a full TTL from the restart.
	if tb.Expire(AtTime(5*time.Second+time.Minute-1)) != 0 || tb.Expire(AtTime(5*time.Second+time.Minute)) != 2 {
		t.Fatal("loaded entries must expire one TTL after the restart")
	}
	n := 0
	st.Scan("idem/", "idem0", func(string, []byte) bool { n++; return true })
	if n != 0 {
		t.Fatalf("%d records left after expiry", n)
	}

	pcfg := TableConfig{Store: st, Prefix: "p/", Expiry: ByPosition, TTLPositions: 100}
	tb, _ = NewTable(pcfg, AtPosition(10))
	tb.Begin(AtPosition(10), "k", fpA)
	tb.Finish(AtPosition(10), "k", nil)
	tb, _ = NewTable(pcfg, AtPosition(50))
	if tb.Expire(AtPosition(109)) != 0 || tb.Expire(AtPosition(110)) != 1 {
		t.Fatal("by position, entries expire TTLPositions after their Begin, restart or not")
	}
}

// A corrupt stored record is an error naming it, not a silent loss.
func TestTableCorrupt(t *testing.T) {
	st := ordo.NewMemStorage()
	st.Put("idem/x", []byte{1, 2, 3})
	if _, err := NewTable(TableConfig{Store: st, Prefix: "idem/"}, 0); err == nil {
		t.Fatal("corrupt record loaded")
	}
	if _, err := NewTable(TableConfig{Store: st}, 0); err == nil {
		t.Fatal("a store without a prefix accepted")
	}
}

func FuzzDecodeEntry(f *testing.F) {
	f.Add(encodeEntry(nil, &entry{state: done, resp: []byte("hi")}))
	f.Add(encodeEntry(nil, &entry{state: inProgress}))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decodeEntry(b, 16)
		if err != nil {
			return
		}
		if len(e.resp) > 16 {
			t.Fatalf("response of %d bytes over the bound", len(e.resp))
		}
		if got := encodeEntry(nil, e); string(got) != string(b) {
			t.Fatalf("%x decoded and re-encoded as %x", b, got)
		}
	})
}
