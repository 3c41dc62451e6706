package partial

import (
	"encoding/binary"
	"fmt"

	"ordo"
	"ordo/resilience"
)

// The bank's idempotency table is a resilience.Table kept in the node's
// durable Storage: Begin, the transfer and Finish happen in one event, so
// their writes commit together and a crash keeps both or neither (section
// 5, strategy 1: 멱등성 설계).

// openTable loads the bank's table at boot.
func openTable(env ordo.Env) *resilience.Table {
	t, err := resilience.NewTable(resilience.TableConfig{
		Store:     env.Store(),
		Prefix:    idemPrefix,
		MaxKeyLen: MaxKeyLen + 16, // the client's key, prefixed by its node
	}, resilience.AtTime(env.Monotonic()))
	if err != nil {
		// A table the bank itself wrote does not decode: storage is
		// corrupt, and a storage failure stops the node (fail-stop).
		panic(fmt.Sprintf("partial: bank: idempotency table: %v", err))
	}
	return t
}

// keyed handles a request with an idempotency key: it applies the first
// request under the key and replays its reply to every retry. It reports
// false when the request must be dropped unanswered (a key reused for
// another amount, a full table: the client's retry gets the same refusal).
func (b *Bank) keyed(env ordo.Env, from ordo.NodeID, req Transfer) (TransferReply, bool) {
	key := fmt.Sprintf("%v/%s", from, req.Key)
	at := resilience.AtTime(env.Monotonic())
	fp := resilience.FingerprintOf(binary.BigEndian.AppendUint64(nil, uint64(req.Amount)))
	claim, err := b.idem.Begin(at, key, fp)
	switch {
	case err != nil:
		// ErrInProgress cannot happen (Begin and Finish share an event);
		// ErrKeyReused and ErrTableFull are refusals.
		env.Note("refuse", "op", req.Op, "err", err.Error())
		return TransferReply{}, false
	case claim.Replay:
		if len(claim.Response) != 8 {
			panic(fmt.Sprintf("partial: bank: stored reply of %d bytes", len(claim.Response)))
		}
		env.Note("replay", "op", req.Op, "attempt", req.Attempt)
		return TransferReply{Op: req.Op, Attempt: req.Attempt, Replayed: true,
			Balance: int64(binary.BigEndian.Uint64(claim.Response))}, true
	}
	r := TransferReply{Op: req.Op, Attempt: req.Attempt, Balance: b.apply(env, req)}
	if err := b.idem.Finish(at, key, binary.BigEndian.AppendUint64(nil, uint64(r.Balance))); err != nil {
		panic(fmt.Sprintf("partial: bank: finish %q: %v", key, err)) // claimed just above
	}
	return r, true
}
