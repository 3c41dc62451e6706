package pbft

import (
	"bytes"
	"testing"

	"ordo"
	"ordo/kv"
)

// A replica's snapshot decodes to what it encoded: the chain, the reply
// table (without views) and the machine, whose own snapshot is the same
// bytes again.
func TestSnapshotRoundTrip(t *testing.T) {
	r := &Replica{state: "0123456789abcdef", clients: map[ordo.NodeID]*lastReply{
		5:                {ts: 3, reply: Reply{View: 2, Timestamp: 3, Client: 5, Result: "r5"}},
		ExternalBase + 1: {ts: 9, reply: Reply{View: 1, Timestamp: 9, Client: ExternalBase + 1, Result: "x"}},
	}, externals: []ordo.NodeID{ExternalBase + 1}, machine: kv.NewMachine(kv.DefaultMachineConfig)}
	r.machine.Apply(1, kv.EncodeCommand(kv.Request{Op: kv.OpPut, Key: "k", Value: "v"}))
	snap := r.snapshotState()
	got, err := decodeState(snap)
	if err != nil {
		t.Fatal(err)
	}
	if got.chain != r.state || len(got.clients) != 2 || got.clients[5].ts != 3 || got.clients[5].reply.Result != "r5" ||
		len(got.externals) != 1 || !bytes.Equal(got.machine.Snapshot(), r.machine.Snapshot()) {
		t.Fatalf("decoded %+v", got)
	}
	for i := range len(snap) {
		if _, err := decodeState(snap[:i]); err == nil {
			t.Fatalf("a snapshot cut to %d of %d bytes decoded", i, len(snap))
		}
	}
}

// FuzzDecodeState: no input panics the snapshot decoder, and what decodes
// encodes to bytes that decode to the same state again. (Not always the
// same bytes: the kv machine's own decoder takes a number's longer
// encodings; the replica's part is minimal, TestSnapshotRoundTrip.)
func FuzzDecodeState(f *testing.F) {
	r := &Replica{state: "abc", clients: map[ordo.NodeID]*lastReply{5: {ts: 1, reply: Reply{Result: "r"}}}, machine: kv.NewMachine(kv.DefaultMachineConfig)}
	f.Add(r.snapshotState())
	f.Add([]byte(stateMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := decodeState(b)
		if err != nil {
			return
		}
		enc := func(st restored) []byte {
			return (&Replica{state: st.chain, clients: st.clients, externals: st.externals, machine: st.machine}).snapshotState()
		}
		again := enc(st)
		st2, err := decodeState(again)
		if err != nil {
			t.Fatalf("%x decodes to a state whose encoding %x does not decode: %v", b, again, err)
		}
		if !bytes.Equal(enc(st2), again) {
			t.Fatalf("%x: the state encodes to %x, then to %x", b, again, enc(st2))
		}
	})
}
