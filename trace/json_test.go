package trace

import (
	"encoding/json"
	"math"
	"testing"

	"ordo/clock"
)

// AppendJSON must give json.Marshal's bytes exactly: readers and golden
// files see one encoding whichever path wrote the event.
func TestAppendJSONIsMarshal(t *testing.T) {
	type odd struct{ A int }
	events := []Event{
		{},
		{ID: 7, Kind: Send, Node: 2, T: 123, Local: -5, Lamport: 9, Vector: clock.Vector{1, 0, 3}, Peer: 1048577, Msg: 1 << 41, MsgKind: "AppendEntries", Bytes: 300},
		{ID: 1, Kind: Note, Node: 1, Name: "applied", Attrs: Attrs{{"index", uint64(64)}, {"hash", uint64(math.MaxUint64)}, {"term", 3}, {"ok", true}, {"f", 1.5}, {"nil", nil}}},
		{Kind: Note, Name: "x<y>&\"q\"\\\n\u2028é", Attrs: Attrs{{"s", "tab\there"}, {"o", odd{3}}, {"i64", int64(-4)}, {"u32", uint32(7)}, {"nan", math.NaN()}}},
	}
	for i, e := range events {
		got := string(AppendJSON(nil, &e))
		want, err := json.Marshal(&e)
		if err != nil {
			// json.Marshal refuses NaN; AppendJSON writes the error instead.
			continue
		}
		if got != string(want) {
			t.Errorf("event %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

func FuzzAppendJSON(f *testing.F) {
	f.Add("note", "applied", "k", "v", int64(3), uint64(9))
	f.Add("send", "Append\x00Entries", "<k>", "é\u2028", int64(-1), uint64(0))
	f.Add("send", "Vote", "k", `{ "Term": 3, "Text": "<a&b>\u2028" }`, int64(5), uint64(7))
	f.Fuzz(func(t *testing.T, kind, name, k, v string, i int64, u uint64) {
		e := Event{ID: int(u % 1000), Kind: Kind(kind), T: i, Lamport: u, Name: name, MsgKind: name,
			Attrs: Attrs{{k, v}, {"i", i}, {"u", u}}}
		if json.Valid([]byte(v)) {
			b := json.RawMessage(v) // a message body: any JSON, as written
			e.Body = &b
		}
		want, err := json.Marshal(&e)
		if err != nil {
			return
		}
		if got := AppendJSON(nil, &e); string(got) != string(want) {
			t.Fatalf("got %s\nwant %s", got, want)
		}
	})
}
