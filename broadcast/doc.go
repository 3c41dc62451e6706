// Package broadcast is reliable broadcast with retransmission: the answer of
// the chapter's section 1 to its first fallacy, "the network is reliable"
// (네트워크는 신뢰할 수 있다; 대응: 재시도, 타임아웃, 멱등성). One node
// broadcasts values; every receiver acknowledges each one; the sender
// retransmits whatever is unacknowledged until it is; receivers deliver each
// value once (idempotency), remembering durably what they delivered.
//
// It is the first protocol ordo runs, used to prove the model: it exercises
// loss, partitions, tampering, bandwidth and crash–restart. The checker
// all-delivered says whether every value reached every node that stayed up,
// exactly once and unaltered.
package broadcast
