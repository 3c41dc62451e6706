package broadcast

import (
	"fmt"
	"strconv"
	"time"

	"ordo"
)

// Value carries one broadcast value.
type Value struct {
	Seq   int   // 1..messages
	Value int64 // the payload's value
	// Payload is the value's body: `payload` bytes, so the message has
	// the size the scenario asks for on the wire and in the simulator.
	Payload []byte
}

// Ack acknowledges one value.
type Ack struct {
	Seq int
}

func (Value) Kind() string { return "value" }
func (Ack) Kind() string   { return "ack" }

// headerSize bounds the encoding of Value's integer fields and the
// payload's length: payload + headerSize stays within ordo.MaxMessageSize.
const headerSize = 24

// ValueOf is the value broadcast as number seq: a fixed function, so a
// checker (and a reader of the trace) can tell an altered value.
func ValueOf(seq int) int64 { return int64(1000 + seq) }

// MaxMessages bounds the `messages` option.
const MaxMessages = 100_000

func init() {
	ordo.Register(&ordo.Protocol{
		Name: "broadcast",
		Doc:  "reliable broadcast: one sender, acks, retransmission until acked, deliver once",
		Options: []ordo.Option{
			{Name: "sender", Default: "1", Help: "the node that broadcasts"},
			{Name: "messages", Default: "10", Help: "how many values to broadcast"},
			{Name: "interval", Default: "100ms", Help: "time between two new values"},
			{Name: "retransmit", Default: "200ms", Help: "resend unacknowledged values this often"},
			{Name: "payload", Default: "100", Help: "payload bytes per value (message size)"},
		},
		New:      New,
		Messages: []ordo.Message{Value{}, Ack{}},
	})
}

// New builds one broadcast node.
func New(cfg ordo.Config) (ordo.Node, error) {
	n := &Node{
		sender:     ordo.NodeID(cfg.Opts.Int("sender")),
		messages:   cfg.Opts.Int("messages"),
		interval:   cfg.Opts.Duration("interval"),
		retransmit: cfg.Opts.Duration("retransmit"),
		payload:    cfg.Opts.Int("payload"),
	}
	switch {
	case n.sender < 1 || int(n.sender) > cfg.N:
		return nil, fmt.Errorf("broadcast: sender %d is not a node of 1..%d", n.sender, cfg.N)
	case n.messages < 0 || n.messages > MaxMessages:
		return nil, fmt.Errorf("broadcast: messages %d out of range 0..%d", n.messages, MaxMessages)
	case int64(n.messages)*int64(cfg.N) > 10_000_000:
		return nil, fmt.Errorf("broadcast: %d messages to %d nodes is too much state", n.messages, cfg.N)
	case n.interval <= 0 || n.retransmit <= 0:
		return nil, fmt.Errorf("broadcast: interval and retransmit must be more than 0")
	case n.payload < 0 || n.payload > ordo.MaxMessageSize-headerSize:
		return nil, fmt.Errorf("broadcast: payload %d out of range 0..%d", n.payload, ordo.MaxMessageSize-headerSize)
	}
	if n.payload > 0 && n.sender == cfg.ID {
		n.pad = make([]byte, n.payload) // shared by every Value sent: messages are immutable
	}
	return n, nil
}

// Node is one participant: the sender or a receiver.
type Node struct {
	sender               ordo.NodeID
	messages, payload    int
	pad                  []byte // the payload every Value carries (sender only)
	interval, retransmit time.Duration

	// The sender's state. next is the next sequence number to broadcast
	// (durable, so a restarted sender does not reuse numbers); unacked[seq]
	// lists the peers that have not acknowledged seq (volatile: after a
	// restart the sender resends everything).
	next     int
	unacked  [][]ordo.NodeID
	pending  int  // values with at least one unacked peer
	rearmed  bool // a retransmit timer is armed
	Received int  // values delivered here (for tests)
}

const keyNext = "broadcast/next"

func deliveredKey(seq int) string { return "broadcast/delivered/" + strconv.Itoa(seq) }

func (n *Node) Start(env ordo.Env) {
	if env.ID() != n.sender {
		return
	}
	n.next = 1
	if b, ok := env.Store().Get(keyNext); ok {
		v, err := strconv.Atoi(string(b))
		if err != nil || v < 1 || v > n.messages+1 {
			panic(fmt.Sprintf("broadcast: corrupt %s=%q", keyNext, b))
		}
		n.next = v
	}
	n.unacked = make([][]ordo.NodeID, n.messages+1)
	// Everything sent by an earlier incarnation may be unacknowledged.
	for seq := 1; seq < n.next; seq++ {
		n.unacked[seq] = append([]ordo.NodeID(nil), env.Peers()...)
		n.pending++
	}
	if n.pending > 0 {
		n.armRetransmit(env)
	}
	if n.next <= n.messages {
		env.After(n.interval, ordo.Timer{Name: "broadcast"})
	}
}

func (n *Node) Fire(env ordo.Env, t ordo.Timer) {
	switch t.Name {
	case "broadcast":
		n.broadcast(env)
	case "retransmit":
		n.rearmed = false
		n.resend(env)
	default:
		panic("broadcast: unknown timer " + t.Name)
	}
}

func (n *Node) broadcast(env ordo.Env) {
	seq := n.next
	if seq > n.messages {
		return
	}
	n.next++
	env.Store().Put(keyNext, []byte(strconv.Itoa(n.next)))
	v := Value{Seq: seq, Value: ValueOf(seq), Payload: n.pad}
	env.Note("broadcast", "seq", seq, "value", v.Value)
	n.deliver(env, v)
	n.unacked[seq] = append([]ordo.NodeID(nil), env.Peers()...)
	if len(n.unacked[seq]) > 0 {
		n.pending++
	}
	for _, p := range env.Peers() {
		env.Send(p, v)
	}
	n.armRetransmit(env)
	if n.next <= n.messages {
		env.After(n.interval, ordo.Timer{Name: "broadcast"})
	}
}

func (n *Node) armRetransmit(env ordo.Env) {
	if !n.rearmed && n.pending > 0 {
		n.rearmed = true
		env.After(n.retransmit, ordo.Timer{Name: "retransmit"})
	}
}

// resend sends every unacknowledged value again, in sequence order.
func (n *Node) resend(env ordo.Env) {
	for seq := 1; seq < n.next; seq++ {
		for _, p := range n.unacked[seq] {
			env.Send(p, Value{Seq: seq, Value: ValueOf(seq), Payload: n.pad})
		}
	}
	n.armRetransmit(env)
}

func (n *Node) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	switch m := m.(type) {
	case Value:
		if m.Seq < 1 || m.Seq > n.messages {
			return // not a sequence number this broadcast uses: ignore
		}
		n.deliver(env, m)
		env.Send(from, Ack{Seq: m.Seq})
	case Ack:
		if env.ID() != n.sender || m.Seq < 1 || m.Seq >= n.next {
			return
		}
		left := n.unacked[m.Seq]
		for i, p := range left {
			if p == from {
				n.unacked[m.Seq] = append(left[:i], left[i+1:]...)
				if len(n.unacked[m.Seq]) == 0 {
					n.pending--
				}
				break
			}
		}
	default:
		panic(fmt.Sprintf("broadcast: unexpected message %T", m))
	}
}

// deliver hands v to the application once: a retransmitted copy of a value
// already delivered is only acknowledged again.
func (n *Node) deliver(env ordo.Env, v Value) {
	key := deliveredKey(v.Seq)
	if _, done := env.Store().Get(key); done {
		return
	}
	env.Store().Put(key, nil)
	n.Received++
	env.Note("deliver", "seq", v.Seq, "value", v.Value)
}

// Done reports whether the sender has broadcast every value and had each
// acknowledged by every peer.
func (n *Node) Done() bool { return n.next > n.messages && n.pending == 0 }
