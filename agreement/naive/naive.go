package naive

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"ordo"
	"ordo/agreement"
)

// Proposal is a node's value, broadcast to every peer.
type Proposal struct {
	Value int64
}

// Kind implements ordo.Message.
func (Proposal) Kind() string { return "proposal" }

// Equivocate is what an equivocating node (sim.Equivocator) tells to:
// the truth to an even-numbered node, the value plus 2 to an odd-numbered
// one. With 5 that is the chapter's figure: node 2 (B) hears 5, node 3 (C)
// hears 7.
func (p Proposal) Equivocate(to ordo.NodeID, _ *rand.Rand) ordo.Message {
	if to%2 == 1 {
		return Proposal{Value: p.Value + 2}
	}
	return p
}

// MaxValues bounds the values option.
const MaxValues = 1024

// Protocol is the naive agreement protocol.
var Protocol = &ordo.Protocol{
	Name: "naive-agreement",
	// Each node proposes once, at boot: the simulator boots every node at
	// the same instant, a live cluster one process after another, so live
	// the first proposals would find no peer listening and every node
	// would decide alone.
	SimOnly: "each node proposes once, at boot, which assumes every node starts at the same instant (a live cluster starts its processes one by one)",
	Doc:     "agreement by the majority of what each node heard, no defence against liars (section 5's Byzantine figure)",
	Options: []ordo.Option{
		{Name: "values", Default: "5,5,7", Help: "the value each node proposes, node 1 first (comma-separated integers; nodes past the list repeat it from the start)"},
		{Name: "timeout", Default: "100ms", Help: "decide with what was heard by then, if some peer is still silent"},
	},
	New:      New,
	Messages: []ordo.Message{Proposal{}},
}

func init() { ordo.Register(Protocol) }

// parseValues reads the values option.
func parseValues(s string) ([]int64, error) {
	parts := strings.Split(s, ",")
	if len(parts) > MaxValues {
		return nil, fmt.Errorf("naive-agreement: %d values, at most %d", len(parts), MaxValues)
	}
	out := make([]int64, 0, len(parts))
	for _, p := range parts {
		v, err := strconv.ParseInt(strings.TrimSpace(p), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("naive-agreement: values: %q is not an integer (write values=5,5,7)", strings.TrimSpace(p))
		}
		out = append(out, v)
	}
	return out, nil
}

// New builds one node.
func New(cfg ordo.Config) (ordo.Node, error) {
	vals, err := parseValues(cfg.Opts.String("values"))
	if err != nil {
		return nil, err
	}
	timeout := cfg.Opts.Duration("timeout")
	if timeout <= 0 || timeout > time.Hour {
		return nil, fmt.Errorf("naive-agreement: timeout %v out of range (0, 1h]", timeout)
	}
	i := max(int(cfg.ID)-1, 0)
	return &Node{value: vals[i%len(vals)], timeout: timeout}, nil
}

// Node is one participant.
type Node struct {
	value   int64
	timeout time.Duration
	// heard is what each sender said first, in arrival order (volatile:
	// a restarted node hears again from the proposals it rebroadcasts
	// for).
	heard   []heardFrom
	decided bool
	outcome int64
}

type heardFrom struct {
	from  ordo.NodeID
	value int64
}

const keyDecided = "naive/decided"

// Start implements ordo.Node: broadcast the proposal, arm the timeout. A
// node that decided before a crash keeps its decision.
func (n *Node) Start(env ordo.Env) {
	n.heard, n.decided = n.heard[:0], false
	if b, ok := env.Store().Get(keyDecided); ok {
		v, err := strconv.ParseInt(string(b), 10, 64)
		if err != nil {
			panic(ordo.Corrupt{Key: keyDecided, Err: fmt.Errorf("naive-agreement: stored decision %q: %v", b, err)})
		}
		n.decided, n.outcome = true, v
	}
	env.Note(agreement.NotePropose, "value", n.value)
	for _, p := range env.Peers() {
		env.Send(p, Proposal{Value: n.value})
	}
	if !n.decided {
		env.After(n.timeout, ordo.Timer{Name: "timeout"})
	}
}

// Receive implements ordo.Node: remember the first value each peer sent;
// decide once every peer was heard.
func (n *Node) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	p, ok := m.(Proposal)
	if !ok || from == env.ID() || !slices.Contains(env.Peers(), from) {
		return
	}
	for _, h := range n.heard {
		if h.from == from {
			return // a duplicate or a replay: the first word counts
		}
	}
	n.heard = append(n.heard, heardFrom{from, p.Value})
	if !n.decided && len(n.heard) >= len(env.Peers()) {
		n.decide(env)
	}
}

// Fire implements ordo.Node: the timeout decides with what was heard.
func (n *Node) Fire(env ordo.Env, t ordo.Timer) {
	if t.Name != "timeout" {
		panic("naive-agreement: unknown timer " + t.Name)
	}
	if !n.decided {
		n.decide(env)
	}
}

// Majority is the naive rule: the value most of vals say, the smallest on a
// tie. vals must not be empty.
func Majority(vals []int64) int64 {
	s := slices.Sorted(slices.Values(vals))
	best, bestN := s[0], 0
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j] == s[i] {
			j++
		}
		if j-i > bestN {
			best, bestN = s[i], j-i
		}
		i = j
	}
	return best
}

func (n *Node) decide(env ordo.Env) {
	vals := []int64{n.value}
	for _, h := range n.heard {
		vals = append(vals, h.value)
	}
	n.decided, n.outcome = true, Majority(vals)
	env.Store().Put(keyDecided, []byte(strconv.FormatInt(n.outcome, 10)))
	env.Note(agreement.NoteDecide, "value", n.outcome, "heard", len(n.heard))
}

// State is a node's state as data (ordo.StateReporter).
type State struct {
	Proposes int64 `json:"proposes"`
	// Heard is what each peer said, "n2=5", in arrival order.
	Heard   []string `json:"heard"`
	Decided bool     `json:"decided"`
	Value   *int64   `json:"value,omitempty"` // the decision, once decided
}

var _ ordo.StateReporter = (*Node)(nil)

// State implements ordo.StateReporter. It reads n only.
func (n *Node) State() any {
	st := State{Proposes: n.value, Heard: []string{}, Decided: n.decided}
	for _, h := range n.heard {
		st.Heard = append(st.Heard, fmt.Sprintf("%v=%d", h.from, h.value))
	}
	if n.decided {
		v := n.outcome
		st.Value = &v
	}
	return st
}
