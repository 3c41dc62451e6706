package etcdsvc

import (
	"context"
	"fmt"
	"strconv"

	clientv3 "go.etcd.io/etcd/client/v3"

	"ordo"
	"ordo/coord"
)

// FencedPrefix is where the live fenced store keeps its state in etcd
// unless its key_prefix option says otherwise.
const FencedPrefix = coord.DefaultFencedPrefix

// tokenDigits is the width of a stored token: int64's 19 decimal digits,
// so that etcd's byte-wise comparison of values orders tokens as numbers.
const tokenDigits = 19

// FencedKey is the etcd key of the fenced store of service node id under
// prefix (its key_prefix option, FencedPrefix by default).
func FencedKey(prefix string, id ordo.NodeID) string { return prefix + strconv.Itoa(int(id)) }

// fenced is the live fenced store: every Write is one etcd transaction.
type fenced struct {
	c       *conn
	key     string
	fencing bool
}

func pad(t int64) string { return fmt.Sprintf("%0*d", tokenDigits, t) }

// call runs one Write as
//
//	If(CreateRevision(key) = 0) Then(Put(key, rec))
//	Else(Txn If(Value(key) < pad(Token+1)) Then(Put(key, rec)) Else(Get(key) [, Put(key/stale, rec)]))
//
// rec = pad(Token) + " " + writer + " " + value, so the stored value's
// first 19 bytes are the highest accepted token and "stored < pad(Token+1)"
// is "stored token ≤ Token" (etcd compares values byte-wise; a missing key
// fails any value compare, hence the outer create). Atomic in etcd: two
// writers racing cannot both pass on a stale read.
func (f fenced) call(ctx context.Context, m ordo.Message) ordo.Message {
	req, _ := coord.ReqOf(m)
	w, ok := m.(coord.Write)
	if !ok || coord.Check(w) != nil { // Check bounds Token to MaxIndex: Token+1 cannot overflow
		return coord.Reply{Req: req, Err: coord.ErrBadRequest}
	}
	rec := pad(w.Token) + " " + strconv.Itoa(int(w.Writer)) + " " + w.Value
	refused := []clientv3.Op{clientv3.OpGet(f.key)}
	if !f.fencing {
		refused = append(refused, clientv3.OpPut(f.key+"/stale", rec))
	}
	cctx, cancel := f.c.call(ctx)
	defer cancel()
	r, err := f.c.cli.Txn(cctx).
		If(clientv3.Compare(clientv3.CreateRevision(f.key), "=", 0)).
		Then(clientv3.OpPut(f.key, rec)).
		Else(clientv3.OpTxn(
			[]clientv3.Cmp{clientv3.Compare(clientv3.Value(f.key), "<", pad(w.Token+1))},
			[]clientv3.Op{clientv3.OpPut(f.key, rec)},
			refused)).Commit()
	if err != nil {
		return coord.Reply{Req: req, Err: f.c.code(err)}
	}
	rev := r.Header.GetRevision()
	out := coord.Reply{Req: req, Rev: rev}
	if r.Succeeded {
		out.Highest, out.Seq = w.Token, rev
		return out
	}
	if len(r.Responses) != 1 || r.Responses[0].GetResponseTxn() == nil {
		return coord.Reply{Req: req, Err: coord.ErrUnavailable} // not etcd's answer to this txn
	}
	inner := r.Responses[0].GetResponseTxn()
	if inner.Succeeded {
		out.Highest, out.Seq = w.Token, rev
		return out
	}
	out.Highest = -1
	if len(inner.Responses) >= 1 {
		if g := inner.Responses[0].GetResponseRange(); g != nil && len(g.Kvs) == 1 {
			out.Highest = storedToken(g.Kvs[0].Value)
		}
	}
	if out.Highest < 0 {
		return coord.Reply{Req: req, Err: coord.ErrUnavailable} // the key is not the store's
	}
	if f.fencing {
		out.Err = coord.ErrStaleToken
		return out
	}
	out.Seq = rev // accepted without fencing: kept under key/stale
	return out
}

// storedToken reads the token at the head of a stored value (-1: not one).
func storedToken(v []byte) int64 {
	if len(v) < tokenDigits {
		return -1
	}
	for _, b := range v[:tokenDigits] {
		if b < '0' || b > '9' { // ParseInt would take a sign: not what pad writes
			return -1
		}
	}
	t, err := strconv.ParseInt(string(v[:tokenDigits]), 10, 64)
	if err != nil || t < 0 || t > ordo.MaxIndex {
		return -1
	}
	return t
}
