package kv_test

import (
	"encoding/json"
	"testing"

	_ "ordo/consistency"
	_ "ordo/kv"
	"ordo/scenario"
	"ordo/scenarios"
)

// A kv server's State marshals to a JSON object with Raft's fields and the
// machine's, at every step of exercise 3 (servers and clients stepped by
// scenario.Stepper), and stepping to the end gives Run's trace.
func TestStateJSON(t *testing.T) {
	data, err := scenarios.Read("kv-exercise3")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := scenario.Parse("kv-exercise3.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	st, err := scenario.NewStepper(sc, sc.Seed)
	if err != nil {
		t.Fatal(err)
	}
	keys := false
	for !st.End() {
		if err := st.StepTo(st.Pos() + 1); err != nil {
			t.Fatal(err)
		}
		if st.Pos()%50 != 0 {
			continue
		}
		for _, v := range st.States() {
			if v.Role != "server" || v.Status != "up" && v.Status != "paused" {
				continue
			}
			b, err := json.Marshal(v.State)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatalf("node %d: %s: %v", v.ID, b, err)
			}
			for _, f := range []string{"role", "term", "leader", "log_length", "commit", "applied", "voters", "keys", "pending_writes"} {
				if _, ok := m[f]; !ok {
					t.Fatalf("node %d: %s has no %q", v.ID, b, f)
				}
			}
			keys = keys || m["keys"].(float64) > 0
		}
	}
	if !keys {
		t.Fatal("no server ever reported a key")
	}
	res, err := sc.Run(scenario.RunOptions{Trace: true, KeepMessages: true})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(st.Trace())
	b, _ := json.Marshal(res.Trace)
	if string(a) != string(b) {
		t.Fatal("stepped trace differs from Run's")
	}
}
