package resilience_test

import (
	"testing"
	"time"

	"ordo"
	"ordo/ordotest"
)

// One step at a time (section 5, strategy 1): the bank applies a keyed
// transfer once, writing the effect and the table's record in the same
// event; a duplicate writes nothing and gets the same answer; after a
// restart (a fresh node over the same store) a retry is still a replay.
func TestBankStepByStep(t *testing.T) {
	env := ordotest.NewEnv(1, ordo.NewRoster(1, 1, 0), 1)
	n, _ := bankProto.New(ordo.Config{ID: 1})
	env.Start(n)
	env.Receive(n, 2, transfer{Key: "k", Amount: 10})
	if !env.Wrote("applied/k") || !env.Wrote("idem/k") || len(env.SentTo(2)) != 1 {
		t.Fatalf("first transfer: writes %v, sent %v", env.Writes, env.Sent)
	}
	env.Advance(time.Millisecond)
	env.Receive(n, 2, transfer{Key: "k", Amount: 10})
	if len(env.Writes) != 0 || len(env.NotesOf("replay")) != 1 || len(env.SentTo(2)) != 1 {
		t.Fatalf("duplicate: writes %v, notes %v, sent %v", env.Writes, env.Notes, env.Sent)
	}
	n, _ = bankProto.New(ordo.Config{ID: 1}) // crash and restart
	env.Start(n)
	env.Receive(n, 2, transfer{Key: "k", Amount: 10})
	if env.Wrote("applied/k") || len(env.NotesOf("replay")) != 1 {
		t.Fatalf("retry after restart: writes %v, notes %v", env.Writes, env.Notes)
	}
	env.Receive(n, 2, transfer{Key: "k", Amount: 99})
	if len(env.NotesOf("refused")) != 1 || len(env.Sent) != 0 {
		t.Fatalf("key reused with another amount: notes %v, sent %v", env.Notes, env.Sent)
	}
}
