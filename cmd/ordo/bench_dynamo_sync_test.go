package main

import (
	"encoding/json"
	"testing"
)

// `ordo bench dynamo-sync` on a small store: every row converged, with
// the fields the docs' table reads.
func TestBenchDynamoSyncSmoke(t *testing.T) {
	out, err := run(t, "bench", "dynamo-sync", "--store", "500", "--differ", "0,1,20", "--json")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var rows []struct {
		Converged bool  `json:"converged"`
		Bytes     int64 `json:"bytes"`
		Depth     int   `json:"depth"`
		Written   int   `json:"written"`
		Config    struct {
			Differ int `json:"Differ"`
		} `json:"config"`
	}
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(rows) != 3 {
		t.Fatalf("%d rows, want 3:\n%s", len(rows), out)
	}
	for _, r := range rows {
		if !r.Converged || r.Depth < 1 || r.Written != r.Config.Differ || r.Bytes <= 0 {
			t.Errorf("row %+v", r)
		}
	}
	if out, err := run(t, "bench", "dynamo-sync", "--store", "x"); err == nil {
		t.Errorf("--store x accepted:\n%s", out)
	}
}
