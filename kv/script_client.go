package kv

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"ordo"
)

// ScriptClientProtocol is "kv-script": an operator who changes the
// membership at set times, for scenarios that must place a change at a
// chosen moment (the random admin of kv-client cannot). Option script
// lists the steps, "2200ms remove 5, 2600ms add 5": at each time after
// boot the client sends the change to every server (only a leader acts
// on it; the others answer not-leader) and notes "kv-script" (op, node,
// to, status) for each answer. Thesis 4.1 (single-server changes) and
// its 2015 erratum are what scenarios/kv-early-conf.yaml shows with it.
var ScriptClientProtocol = &ordo.Protocol{
	Name:     "kv-script",
	Doc:      "kv operator: membership changes (add/remove a server) sent to every server at scripted times; answers noted",
	Options:  []ordo.Option{{Name: "script", Default: "", Help: `steps "TIME add|remove NODE", comma-separated, e.g. "2200ms remove 5, 2600ms add 5" (at most 64; times after boot, ascending)`}},
	New:      NewScriptClient,
	Messages: []ordo.Message{Request{}, Response{}},
	Role:     ordo.Client,
}

func init() { ordo.Register(ScriptClientProtocol) }

// MaxScriptSteps bounds a kv-script's steps.
const MaxScriptSteps = 64

// ScriptStep is one scripted membership change.
type ScriptStep struct {
	At   time.Duration // after boot
	Op   string        // "add" or "remove"
	Node ordo.NodeID
}

// ParseScript reads a kv-script's steps: "TIME add|remove NODE", comma
// separated, times ascending, at most MaxScriptSteps, nodes 1..4096
// (ordo's cluster bound). Errors name the step.
func ParseScript(s string) ([]ScriptStep, error) {
	var steps []ScriptStep
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	for i, part := range strings.Split(s, ",") {
		if i >= MaxScriptSteps {
			return nil, fmt.Errorf("kv-script: more than %d steps", MaxScriptSteps)
		}
		f := strings.Fields(part)
		if len(f) != 3 {
			return nil, fmt.Errorf("kv-script: step %d %q: want \"TIME add|remove NODE\"", i+1, strings.TrimSpace(part))
		}
		at, err := time.ParseDuration(f[0])
		if err != nil || at < 0 || at > 24*time.Hour {
			return nil, fmt.Errorf("kv-script: step %d: time %q is not a duration in 0..24h", i+1, f[0])
		}
		if f[1] != "add" && f[1] != "remove" {
			return nil, fmt.Errorf("kv-script: step %d: op %q (valid: add, remove)", i+1, f[1])
		}
		n, err := strconv.Atoi(f[2])
		if err != nil || n < 1 || n > 4096 {
			return nil, fmt.Errorf("kv-script: step %d: node %q is not in 1..4096", i+1, f[2])
		}
		if len(steps) > 0 && at < steps[len(steps)-1].At {
			return nil, fmt.Errorf("kv-script: step %d at %v is before step %d", i+1, at, i)
		}
		steps = append(steps, ScriptStep{At: at, Op: f[1], Node: ordo.NodeID(n)})
	}
	return steps, nil
}

// ScriptClient runs a kv-script.
type ScriptClient struct {
	steps []ScriptStep
	sent  map[uint64]int // request id → step
	next  uint64
}

// NewScriptClient builds a kv-script client. Errors: a bad script.
func NewScriptClient(c ordo.Config) (ordo.Node, error) {
	steps, err := ParseScript(c.Opts.String("script"))
	if err != nil {
		return nil, err
	}
	return &ScriptClient{steps: steps, sent: map[uint64]int{}}, nil
}

const timerScript = "script" // Arg = step

// Start implements ordo.Node. A restarted script client does not replay
// its steps (they are the operator's, once).
func (c *ScriptClient) Start(env ordo.Env) {
	if _, ok := env.Store().Get("kv-script/booted"); ok {
		return
	}
	env.Store().Put("kv-script/booted", []byte{1})
	for i, s := range c.steps {
		env.After(s.At, ordo.Timer{Name: timerScript, Arg: int64(i)})
	}
}

// Fire implements ordo.Node: a step goes to every server.
func (c *ScriptClient) Fire(env ordo.Env, t ordo.Timer) {
	if t.Name != timerScript || t.Arg < 0 || int(t.Arg) >= len(c.steps) {
		return
	}
	s := c.steps[t.Arg]
	for _, srv := range env.Roster().Servers {
		c.next++
		c.sent[c.next] = int(t.Arg)
		env.Send(srv, Request{ID: c.next, Op: OpMember, Value: s.Op, Node: s.Node})
	}
}

// Receive implements ordo.Node: every answer is noted.
func (c *ScriptClient) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	r, ok := m.(Response)
	if !ok {
		return
	}
	i, ok := c.sent[r.ID]
	if !ok {
		return
	}
	delete(c.sent, r.ID)
	s := c.steps[i]
	env.Note("kv-script", "op", s.Op, "node", int(s.Node), "to", int(from), "status", r.Status.String(), "err", r.Err)
}
