package partial

import (
	"encoding/binary"
	"fmt"

	"ordo"
)

// The bank's idempotency table: key → the request's amount and the first
// reply, in the node's durable Storage, written in the same event as the
// transfer it records, so a crash keeps both or neither (section 5,
// strategy 1: 멱등성 설계).

// dedup returns the stored first reply of key, if any. A key reused for
// another request (a different amount) is a client bug: it panics in the
// scene, where it cannot happen.
func (b *Bank) dedup(env ordo.Env, key string, req Transfer) (TransferReply, bool) {
	v, ok := env.Store().Get(idemPrefix + key)
	if !ok {
		return TransferReply{}, false
	}
	if len(v) != 24 {
		panic(fmt.Sprintf("partial: idempotency entry %q of %d bytes", key, len(v)))
	}
	amount := int64(binary.BigEndian.Uint64(v[0:8]))
	if amount != req.Amount {
		panic(fmt.Sprintf("partial: idempotency key %q reused for amount %d (first %d)", key, req.Amount, amount))
	}
	return TransferReply{
		Op:      int64(binary.BigEndian.Uint64(v[8:16])),
		Balance: int64(binary.BigEndian.Uint64(v[16:24])),
	}, true
}

// remember stores key's first reply.
func (b *Bank) remember(env ordo.Env, key string, req Transfer, r TransferReply) {
	v := binary.BigEndian.AppendUint64(nil, uint64(req.Amount))
	v = binary.BigEndian.AppendUint64(v, uint64(r.Op))
	v = binary.BigEndian.AppendUint64(v, uint64(r.Balance))
	env.Store().Put(idemPrefix+key, v)
}
