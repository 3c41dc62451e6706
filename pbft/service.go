package pbft

import (
	"slices"
	"strings"

	"ordo"
	"ordo/agreement"
	"ordo/kv"
)

// The replicated service and the clients outside the cluster (live: the
// client API of package pbft/clientapi).
//
// PBFT orders opaque operations; a request whose Op starts with KVPrefix
// is a command of the key-value database's machine (kv.Machine, the one
// the Raft database applies), applied at its sequence number on every
// replica in the same order, and its reply carries the machine's encoded
// kv.Response. Any other operation (the simulated clients') changes
// nothing but the state digest and is answered with it, as before.
//
// A client of the client API is no node of the roster: its requests reach
// a replica as messages from a live gateway id (>= GatewayBase, one per
// call) and name a client id >= ExternalBase that the client chose. The
// replica answers the gateway that brought a request once it executed it
// (or at once from its reply cache), and the client API's Go client
// accepts a result once f+1 replicas answered it the same (section 4.1).

// GatewayBase is the first live gateway id (live.GatewayBase, which a
// protocol may not import; cmd/ordo checks at compile time that they
// agree). A message from an id at or above it is a client API call.
const GatewayBase ordo.NodeID = 1 << 20

// ExternalBase is the first client id of a client outside the roster
// (the client API's): above every gateway id (GatewayBase + 2^40).
const ExternalBase ordo.NodeID = 1 << 61

// KVPrefix starts an operation that is a kv command (EncodeKV).
const KVPrefix = "kv:"

// Bounds of the service.
const (
	// MaxExternal bounds the external clients whose last reply a replica
	// caches; one more evicts the one that first executed longest ago
	// (deterministically: every correct replica executes the same
	// history). An evicted client's retransmission of an executed request
	// would execute it again: a client retries for seconds, and 4096
	// other clients must execute in between for that to happen.
	MaxExternal = 4096
	// MaxWaiting bounds the client API calls a replica holds an answer
	// for (live.DefaultClientCalls); one more forgets the oldest, whose
	// call then times out and is retried.
	MaxWaiting = 1024
	// MaxResult bounds a reply's result: a kv.Response of the largest
	// value an operation carries.
	MaxResult = 2 * MaxOp
)

// EncodeKV is the operation of kv request q: KVPrefix and q as the kv
// machine's command. It fails when the command exceeds MaxOp bytes.
func EncodeKV(q kv.Request) (string, error) {
	op := KVPrefix + string(kv.EncodeCommand(q))
	if len(op) > MaxOp {
		return "", errOpTooLong
	}
	return op, nil
}

type opError string

func (e opError) Error() string { return string(e) }

const errOpTooLong = opError("pbft: the kv command exceeds the operation bound (MaxOp bytes): shorten the key or value")

// IsExternal reports whether id is a client of the client API.
func IsExternal(id ordo.NodeID) bool { return id >= ExternalBase }

// waiter is a client API call waiting for the reply to (client, ts).
type waiter struct {
	gw     ordo.NodeID
	client ordo.NodeID
	ts     int64
}

// validClient reports whether a request of client c may be ordered: a
// client of the roster, or one of the client API.
func (r *Replica) validClient(env ordo.Env, c ordo.NodeID) bool {
	return IsExternal(c) || slices.Contains(env.Roster().Clients, c)
}

// onGatewayRequest is a request the client API brought (from: the
// call's gateway id): the call waits for the reply, then the request is
// handled as a client's own.
func (r *Replica) onGatewayRequest(env ordo.Env, from ordo.NodeID, m Request) {
	if len(r.waiting) >= MaxWaiting {
		r.waiting = slices.Delete(r.waiting, 0, 1)
	}
	r.waiting = append(r.waiting, waiter{gw: from, client: m.Client, ts: m.Timestamp})
	if d := Digest(m); !r.heard[d] {
		// The client outside the cluster notes nothing: the replica its
		// request reached notes the proposal for it, so that the
		// validity checker knows a client asked for what is decided.
		env.Note(agreement.NotePropose, "value", d, "ts", m.Timestamp, "client", int64(m.Client))
	}
	r.onRequest(env, m)
}

// answer sends rep to its client: a roster client directly, an external
// one through every call waiting for it.
func (r *Replica) answer(env ordo.Env, rep Reply) {
	if !IsExternal(rep.Client) {
		env.Send(rep.Client, rep)
		return
	}
	r.waiting = slices.DeleteFunc(r.waiting, func(w waiter) bool {
		if w.client != rep.Client || w.ts != rep.Timestamp {
			return false
		}
		env.Send(w.gw, rep)
		return true
	})
}

// result applies an executed request to the service and returns
// its reply's result: the kv machine's encoded answer for a kv command,
// the state digest for any other operation. The machine's index (a kv
// answer's rev) counts the requests executed, null ones included, so it
// is the same at every correct replica, and stays so if one sequence
// number ever carries several requests (a batch).
func (r *Replica) result(req Request) string {
	if r.machine == nil {
		r.machine = kv.NewMachine(kv.DefaultMachineConfig)
	}
	var cmd []byte
	if op, ok := strings.CutPrefix(req.Op, KVPrefix); ok && req.Client != 0 {
		cmd = []byte(op)
	}
	res := r.machine.Apply(r.machine.Applied()+1, cmd)
	if cmd == nil {
		return r.state
	}
	return string(res)
}

// remember caches rep as client c's last reply, evicting the external
// client that executed first when MaxExternal are cached.
func (r *Replica) remember(c ordo.NodeID, rep Reply) {
	if _, ok := r.clients[c]; !ok && IsExternal(c) {
		if len(r.externals) >= MaxExternal {
			old := r.externals[0]
			r.externals = r.externals[1:]
			delete(r.clients, old)
			delete(r.assigned, old)
		}
		r.externals = append(r.externals, c)
	}
	r.clients[c] = &lastReply{ts: rep.Timestamp, reply: rep}
}
