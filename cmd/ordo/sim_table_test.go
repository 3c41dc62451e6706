package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// `ordo sim`'s message table adds up per kind: every copy the network made
// is delivered, dropped or still in flight, sent + duplicated = delivered +
// dropped + in flight, with duplicates and in-flight copies shown per kind.
// The run ends while messages cross an ocean, on a lossy link that
// duplicates, so every column is non-zero.
func TestSimMessageTableAddsUp(t *testing.T) {
	f := filepath.Join(t.TempDir(), "dup.yaml")
	src := "name: dup\nprotocol: broadcast\nnodes: 3\nduration: 1030ms\nnetwork: {latency: intercontinental, loss: 0.1, duplicate: 0.3}\n"
	if err := os.WriteFile(f, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "sim", "--json", f)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	type counts struct {
		Sent, Delivered, Dropped, Duplicated int
		InFlight                             int `json:"in_flight"`
	}
	var s struct {
		counts
		Messages map[string]counts
	}
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatal(err)
	}
	var sum counts
	for k, c := range s.Messages {
		if c.Sent+c.Duplicated != c.Delivered+c.Dropped+c.InFlight || c.InFlight < 0 {
			t.Errorf("%s: %+v does not add up", k, c)
		}
		sum.Sent += c.Sent
		sum.Duplicated += c.Duplicated
		sum.InFlight += c.InFlight
	}
	if sum.Sent != s.Sent || sum.Duplicated != s.Duplicated || sum.InFlight != s.InFlight {
		t.Errorf("kinds sum to %+v, totals are %+v", sum, s.counts)
	}
	if s.Duplicated == 0 || s.InFlight == 0 || s.Dropped == 0 {
		t.Errorf("totals %+v: want duplicates, drops and copies in flight in this run", s.counts)
	}
	text, err := run(t, "sim", f)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"+ duplicated", "= delivered", "+ dropped", "+ in flight", "simulator steps"} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q:\n%s", want, text)
		}
	}
}

// lww-vs-vector is a table of runs: listed, and refusing the flags of a
// single run (its figures are tested in lab, TestLWWVsVectorSiblingBound).
func TestSimLWWVsVectorScene(t *testing.T) {
	out, err := run(t, "sim", "--list")
	if err != nil || !strings.Contains(out, "lww-vs-vector ") || !strings.Contains(out, "lww-vs-vector-lww") {
		t.Errorf("--list: %v\n%s", err, out)
	}
	if _, err := run(t, "sim", "lww-vs-vector", "--json"); err == nil || !strings.Contains(err.Error(), "--json does not apply") {
		t.Errorf("--json: %v", err)
	}
}
