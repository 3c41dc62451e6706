package pbft

import (
	"encoding/json"
	"testing"
)

// FuzzParseEntry: a stored entry read back from disk is believed only as
// persist wrote it; anything else is an error (the node then stops as
// corrupt), never a panic, and one accepted is one check accepts.
func FuzzParseEntry(f *testing.F) {
	good, _ := json.Marshal(storedEntry{Seq: 3, View: 1, Digest: BatchDigest([]Request{{Timestamp: 1, Client: 5, Op: "x"}}),
		Reqs: []Request{{Timestamp: 1, Client: 5, Op: "x"}}, PPSig: []byte{1}, Prepare: []byte{2}, Commit: true})
	f.Add(entryKey(3), good)
	f.Add(entryKey(4), good)
	f.Add(entryKey(3), []byte(`{"Seq":3,"View":-1}`))
	f.Add("pbft/entry/x", []byte(`{}`))
	f.Add(entryKey(1), []byte(`{"Seq":1,"View":2,"PView":1,"PReqs":[],"PCert":{}}`))
	f.Fuzz(func(t *testing.T, key string, b []byte) {
		s, err := parseEntry(key, b)
		if err != nil {
			return
		}
		if s.Seq <= 0 || s.View < 0 || s.PView > s.View || (s.Digest != "" && s.Digest != BatchDigest(s.Reqs)) {
			t.Fatalf("accepted %+v from %q", s, b)
		}
	})
}
