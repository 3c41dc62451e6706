package lww

import (
	"time"

	"ordo"
)

// Store is the node that holds X; every other node writes it once.
const Store ordo.NodeID = 3

// Write is a client's write of X, stamped with its writer's physical clock.
type Write struct {
	Value int
	TS    int64 // the writer's Env.Now, ns since the Unix epoch
}

// Kind implements ordo.Message.
func (Write) Kind() string { return "write" }

// Note kinds of the store.
const (
	NoteApply = "apply"      // attrs "value": the write is kept
	NoteLost  = "lost-write" // attrs "value", "kept": the write is discarded
)

// Node is one node of the scene: node Store keeps the write with the
// larger timestamp (last-write-wins); any other node id writes X = id once,
// 90+10·id ms after it starts.
type Node struct {
	id   ordo.NodeID
	x    Write
	have bool
}

// New builds node c.ID.
func New(c ordo.Config) (ordo.Node, error) { return &Node{id: c.ID}, nil }

// Protocol is the scene's protocol, "lww-skew": unregistered (it is a
// demonstration, not a protocol a scenario file names), for sim.Config.
func Protocol() *ordo.Protocol {
	return &ordo.Protocol{Name: "lww-skew", New: New}
}

// Start arms a writer's write.
func (n *Node) Start(env ordo.Env) {
	if n.id != Store {
		env.After(time.Duration(90+10*int(n.id))*time.Millisecond, ordo.Timer{Name: "write"})
	}
}

// Fire sends the write, stamped with the writer's wall clock.
func (n *Node) Fire(env ordo.Env, t ordo.Timer) {
	env.Send(Store, Write{Value: int(n.id), TS: env.Now().UnixNano()})
}

// Receive is the store's last-write-wins rule: a write whose timestamp is
// not larger than the kept one's is lost, however much later it happened.
func (n *Node) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	wr, ok := m.(Write)
	if !ok {
		return
	}
	if n.have && wr.TS <= n.x.TS {
		env.Note(NoteLost, "value", wr.Value, "kept", n.x.Value)
		return
	}
	n.x, n.have = wr, true
	env.Note(NoteApply, "value", wr.Value)
}
