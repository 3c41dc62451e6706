package kv

import (
	"strings"
	"testing"
	"time"

	"ordo"
	"ordo/ordotest"
)

func TestParseScript(t *testing.T) {
	steps, err := ParseScript(" 2200ms remove 5, 2.7s add 5 ,4600ms remove 1")
	if err != nil {
		t.Fatal(err)
	}
	want := []ScriptStep{{2200 * time.Millisecond, "remove", 5}, {2700 * time.Millisecond, "add", 5}, {4600 * time.Millisecond, "remove", 1}}
	if len(steps) != len(want) {
		t.Fatalf("steps %v, want %v", steps, want)
	}
	for i := range want {
		if steps[i] != want[i] {
			t.Errorf("step %d: %v, want %v", i+1, steps[i], want[i])
		}
	}
	if s, err := ParseScript("  "); err != nil || len(s) != 0 {
		t.Errorf("empty script: %v, %v", s, err)
	}
	for in, msg := range map[string]string{
		"1s remove":          "want \"TIME add|remove NODE\"",
		"x remove 1":         "not a duration",
		"-1s remove 1":       "not a duration",
		"1s move 1":          "valid: add, remove",
		"1s add 0":           "not in 1..4096",
		"1s add 4097":        "not in 1..4096",
		"2s add 1, 1s add 2": "before step 1",
		strings.Repeat("1s add 1,", 64) + "1s add 1": "more than 64 steps",
	} {
		if _, err := ParseScript(in); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("ParseScript(%.30q): %v, want an error with %q", in, err, msg)
		}
	}
}

// A step goes to every server at its time, and every answer is noted; a
// restarted script client does not replay its steps.
func TestScriptClientSendsToEveryServer(t *testing.T) {
	env := ordotest.ForProtocol(ScriptClientProtocol, 4, ordo.NewRoster(3, 1, 0), 1)
	opts := map[string]string{"script": "1s remove 3"}
	n := env.NewNode(t, ScriptClientProtocol, opts)
	env.Start(n)
	tm := env.OneTimer(t, timerScript)
	if tm.After != time.Second {
		t.Fatalf("step armed after %v, want 1s", tm.After)
	}
	env.Fire(n, tm.Timer)
	env.WantSent(t, "KVRequest→n1", "KVRequest→n2", "KVRequest→n3")
	for _, s := range env.Sent {
		if r := s.Msg.(Request); r.Op != OpMember || r.Value != "remove" || r.Node != 3 {
			t.Errorf("sent %v, want remove n3", s)
		}
	}
	id := env.Sent[1].Msg.(Request).ID
	env.Receive(n, 2, Response{ID: id, Status: StatusOK})
	if notes := env.NotesOf("kv-script"); len(notes) != 1 {
		t.Errorf("notes %v, want one kv-script note", env.Notes)
	}
	env.Receive(n, 2, Response{ID: id, Status: StatusOK})
	if len(env.Notes) != 0 {
		t.Errorf("a duplicated answer was noted again: %v", env.Notes)
	}
	n2 := env.NewNode(t, ScriptClientProtocol, opts)
	env.Start(n2)
	if len(env.Timers) != 0 {
		t.Errorf("a restarted script client armed %v", env.Timers)
	}
}

func FuzzParseScript(f *testing.F) {
	f.Add("2200ms remove 5, 2700ms add 5")
	f.Add("1s add 1,")
	f.Fuzz(func(t *testing.T, s string) {
		steps, err := ParseScript(s)
		if err != nil {
			return
		}
		if len(steps) > MaxScriptSteps {
			t.Fatalf("%d steps", len(steps))
		}
		for i, st := range steps {
			if st.Node < 1 || st.At < 0 || (st.Op != "add" && st.Op != "remove") || i > 0 && st.At < steps[i-1].At {
				t.Fatalf("step %d: %v", i, st)
			}
		}
	})
}
