package election_test

import (
	"testing"
	"time"

	"ordo/election"
	_ "ordo/election/bully"
	_ "ordo/election/raft"
	_ "ordo/election/ring"
	"ordo/trace"
)

// A node's role notes, read back as its status: the conventions of the
// package doc (a new term forgets the old leader, a candidacy counts an
// election, "leader" names self).
func TestStatusObserveRoleNotes(t *testing.T) {
	var s election.Status
	steps := []struct {
		kind  string
		attrs []any
		role  bool
		want  election.Status
	}{
		{"follower", []any{"term", 0, "leader", 0}, true, election.Status{Role: "follower"}},
		{"fence", []any{"token", 3, "accepted", true}, false, election.Status{Role: "follower"}},
		{"candidate", []any{"term", 1}, true, election.Status{Role: "candidate", Term: 1, Elections: 1}},
		{"leader", []any{"term", 1, "token", 1}, true, election.Status{Role: "leader", Term: 1, Leader: 2, Elections: 1, LeaderChanges: 1}},
		{"follower", []any{"term", 1, "leader", 2}, true, election.Status{Role: "follower", Term: 1, Leader: 2, Elections: 1, LeaderChanges: 1}},
		{"follower", []any{"term", 2}, true, election.Status{Role: "follower", Term: 2, Elections: 1, LeaderChanges: 1}},
		{"follower", []any{"term", 2, "leader", 4}, true, election.Status{Role: "follower", Term: 2, Leader: 4, Elections: 1, LeaderChanges: 2}},
	}
	for i, st := range steps {
		if got := s.Observe(2, st.kind, trace.MakeAttrs(st.attrs)); got != st.role {
			t.Errorf("step %d (%s): role note %v, want %v", i, st.kind, got, st.role)
		}
		if s != st.want {
			t.Fatalf("step %d (%s %v): %+v, want %+v", i, st.kind, st.attrs, s, st.want)
		}
	}
	if s.Leading() {
		t.Error("a follower leads")
	}
}

// Section 4, step 1 waits a timeout before an election: every election
// protocol says how long, from its own options.
func TestTimeouts(t *testing.T) {
	for _, c := range []struct {
		proto  string
		opts   map[string]string
		lo, hi time.Duration
	}{
		{"raft", nil, 150 * time.Millisecond, 300 * time.Millisecond},
		{"raft", map[string]string{"election_timeout_max": "1s"}, 150 * time.Millisecond, time.Second},
		{"bully", nil, 150 * time.Millisecond, 300 * time.Millisecond},
		{"bully", map[string]string{"first_detector": "2"}, 150 * time.Millisecond, 450 * time.Millisecond},
		{"ring", map[string]string{"suspect_jitter": "0s", "timeout": "200ms"}, 200 * time.Millisecond, 200 * time.Millisecond},
	} {
		lo, hi, err := election.Timeouts(c.proto, c.opts, 5)
		if err != nil || lo != c.lo || hi != c.hi {
			t.Errorf("%s %v: [%v, %v] %v, want [%v, %v]", c.proto, c.opts, lo, hi, err, c.lo, c.hi)
		}
	}
	if _, _, err := election.Timeouts("nosuch", nil, 5); err == nil {
		t.Error("an unknown protocol has timeouts")
	}
	if _, _, err := election.Timeouts("raft", map[string]string{"bogus": "1"}, 5); err == nil {
		t.Error("an unknown option was accepted")
	}
}
