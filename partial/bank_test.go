package partial_test

import (
	"testing"

	"ordo"
	"ordo/ordotest"
	"ordo/partial"
)

// One step at a time (section 5, strategy 1, 멱등성 설계): the bank applies
// a keyed transfer once, answers its retry from the table without applying
// it again — also after a crash and restart, because the key was written
// in the same event as the transfer — and applies an unkeyed retry again.
func TestBankKeyAppliesOnceAcrossRestart(t *testing.T) {
	roster := ordo.NewRoster(1, 1, 0)
	env := ordotest.ForProtocol(partial.BankProtocol, 1, roster, 1)
	bank := env.NewNode(t, partial.BankProtocol, nil)
	env.Start(bank)
	client := roster.Clients[0]
	step := func(n ordo.Node, req partial.Transfer) partial.TransferReply {
		t.Helper()
		env.Receive(n, client, req)
		if len(env.Sent) != 0 {
			t.Fatalf("the bank answered on receipt: %v; it should answer after its work step", env.Sent)
		}
		work := env.TimersNamed("work")
		if len(work) != 1 {
			t.Fatalf("timers %v: want one work timer", env.Timers)
		}
		env.Fire(n, work[0].Timer)
		got := env.SentTo(client)
		if len(got) != 1 {
			t.Fatalf("sent %v: want one reply", env.Sent)
		}
		return got[0].(partial.TransferReply)
	}
	req := partial.Transfer{Op: 1, Attempt: 1, Key: "k1", Amount: 10}
	r := step(bank, req)
	if r.Replayed || r.Balance != partial.InitialBalance-10 || partial.Applied(env.Storage()) != 1 {
		t.Fatalf("first keyed transfer: reply %+v, applied %d; want applied once", r, partial.Applied(env.Storage()))
	}
	req.Attempt = 2
	if r := step(bank, req); !r.Replayed || r.Attempt != 2 || r.Balance != partial.InitialBalance-10 || partial.Applied(env.Storage()) != 1 {
		t.Fatalf("keyed retry: reply %+v, applied %d; want the first reply replayed, applied once", r, partial.Applied(env.Storage()))
	}
	// The same key for another amount is refused, unanswered.
	env.Receive(bank, client, partial.Transfer{Op: 1, Attempt: 3, Key: "k1", Amount: 20})
	env.Fire(bank, env.TimersNamed("work")[0].Timer)
	if len(env.Sent) != 0 || partial.Applied(env.Storage()) != 1 || len(env.NotesOf("refuse")) != 1 {
		t.Fatalf("key reused for another amount: sent %v, applied %d, notes %v; want a refusal", env.Sent, partial.Applied(env.Storage()), env.Notes)
	}
	// Crash: a fresh node on the same storage.
	bank = env.NewNode(t, partial.BankProtocol, nil)
	env.Start(bank)
	req.Attempt = 3
	if r := step(bank, req); !r.Replayed || partial.Applied(env.Storage()) != 1 {
		t.Fatalf("keyed retry after a restart: reply %+v, applied %d; want a replay", r, partial.Applied(env.Storage()))
	}
	// Without a key the bank cannot tell a retry from a new transfer.
	naive := partial.Transfer{Op: 2, Attempt: 1, Amount: 10}
	step(bank, naive)
	naive.Attempt = 2
	if r := step(bank, naive); r.Replayed || partial.Applied(env.Storage()) != 3 {
		t.Fatalf("unkeyed retry: reply %+v, applied %d; want applied again (3 in all)", r, partial.Applied(env.Storage()))
	}
}
