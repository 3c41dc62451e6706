package failover

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"ordo/election"
	"ordo/trace"
)

// firstLeaderNote finds the first leader note of a higher term at or
// after the kill, from the offset on, and skips a torn last line — the
// figure the merged trace gives LeaderNoteMs.
func TestFirstLeaderNote(t *testing.T) {
	note := func(tm, term int64) []byte {
		b, err := json.Marshal(trace.Event{Kind: trace.Note, Node: 2, T: tm, Name: election.NoteLeader, Attrs: trace.Attrs{{Key: "term", Value: term}}})
		if err != nil {
			t.Fatal(err)
		}
		return append(b, '\n')
	}
	var data []byte
	data = append(data, []byte("{\"format\":\"header\"}\n")...)
	before := note(50, 9) // a higher term, but before the offset
	data = append(data, before...)
	offset := int64(len(data))
	data = append(data, note(90, 9)...)  // before the kill (from = 100)
	data = append(data, note(150, 3)...) // not a higher term
	data = append(data, note(200, 6)...) // the one
	data = append(data, note(300, 7)...)
	data = append(data, []byte(`{"kind":"note","t":`)...) // torn tail
	path := filepath.Join(t.TempDir(), "trace.jsonl")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, ok := firstLeaderNote(path, offset, 100, 5); !ok || got != 200 {
		t.Fatalf("firstLeaderNote = %d, %v; want 200, true", got, ok)
	}
	if _, ok := firstLeaderNote(path, offset, 100, 7); ok {
		t.Fatal("found a leader note of a term above 7; there is none")
	}
	if _, ok := firstLeaderNote(filepath.Join(t.TempDir(), "none"), 0, 0, 0); ok {
		t.Fatal("found a note in a missing file")
	}
}
