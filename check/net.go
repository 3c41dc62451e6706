package check

import (
	"strconv"
	"strings"

	"ordo/trace"
)

// Net replays, from a trace's events alone, which nodes are running
// (started, not crashed, not paused: a frozen process does nothing) and
// which links are cut, so that liveness can be judged relative to
// connectivity (section 5: a minority that cannot reach anyone cannot be
// expected to elect anyone). Feed it every event in order with Observe.
//
// It reads the fault vocabulary both runtimes record: process events
// start, restart, crash, pause, resume; fault events "partition"
// {groups: "1,2/3,4,5"; servers in no group form one more group},
// "cut-one-way" {from, to: node lists}, "bridge" {node}, "heal", "leave"
// and "kill" {node} (simulator and live cluster), "pause" and "resume"
// {node} (the live cluster's SIGSTOP and SIGCONT), and the live cluster's
// per-node fault layer "faults" {node, block_out, block_in}. Loss, delay
// and clock faults leave links connected.
//
// Clients and services (issue 15) are nodes here too — Running and Link
// answer for them — but Servers, Reach, Majority and WithMajority count
// servers only (Meta.IsServer), so they are never judged as servers.
type Net struct {
	meta    *trace.Meta
	up      []bool
	paused  []bool
	blocked [][]bool // [from][to], by the cluster-wide faults
	out, in [][]bool // the live per-node layer: [node][peer] (nil until used)
	cut     bool     // some link may be blocked (else Reach is a count)
	servers []int
}

// NewNet starts a replay of a run described by m: nothing up, no cut.
func NewNet(m *trace.Meta) *Net {
	n := m.Nodes
	w := &Net{meta: m, up: make([]bool, n+1), paused: make([]bool, n+1)}
	w.blocked = square(n)
	for id := 1; id <= n; id++ {
		if m.IsServer(id) {
			w.servers = append(w.servers, id)
		}
	}
	return w
}

func square(n int) [][]bool {
	cells := make([]bool, (n+1)*(n+1))
	out := make([][]bool, n+1)
	for i := range out {
		out[i] = cells[i*(n+1) : (i+1)*(n+1)]
	}
	return out
}

// Servers lists the run's server ids, ascending.
func (w *Net) Servers() []int { return w.servers }

// Changes reports whether e can change what Net answers.
func Changes(e *trace.Event) bool {
	switch e.Kind {
	case trace.Start, trace.Restart, trace.Crash, trace.Pause, trace.Resume, trace.Fault:
		return true
	}
	return false
}

// Observe applies e.
func (w *Net) Observe(e *trace.Event) {
	n := len(w.up) - 1
	id := int(e.Node)
	if e.Kind != trace.Fault && (id < 1 || id > n) {
		return
	}
	switch e.Kind {
	case trace.Start, trace.Restart:
		w.up[id], w.paused[id] = true, false
	case trace.Crash:
		w.up[id], w.paused[id] = false, false
	case trace.Pause:
		w.paused[id] = true
	case trace.Resume:
		w.paused[id] = false
	case trace.Fault:
		w.fault(e)
	}
}

func (w *Net) fault(e *trace.Event) {
	n := len(w.up) - 1
	str := func(k string) string { s, _ := e.Attrs.Get(k).(string); return s }
	node := func() int {
		v, ok := e.Attrs.Int("node")
		if !ok || v < 1 || v > int64(n) {
			return 0
		}
		return int(v)
	}
	switch e.Name {
	case "heal":
		w.clear()
	case "partition":
		w.clear()
		w.cut = true
		// As the runtimes cut: servers in no group form one more group;
		// a client or service in no group reaches every group, one that
		// a group names is cut off with it (partition 1/5 cuts server 1
		// from service 5).
		group := make([]int, n+1) // 0: in no group
		gs := strings.Split(str("groups"), "/")
		for gi, g := range gs {
			for _, id := range ids(g, n) {
				group[id] = gi + 1
			}
		}
		for _, s := range w.servers {
			if group[s] == 0 {
				group[s] = len(gs) + 1
			}
		}
		for a := 1; a <= n; a++ {
			for b := 1; b <= n; b++ {
				w.blocked[a][b] = a != b && group[a] != 0 && group[b] != 0 && group[a] != group[b]
			}
		}
	case "cut-one-way":
		w.cut = true
		for _, a := range ids(str("from"), n) {
			for _, b := range ids(str("to"), n) {
				if a != b {
					w.blocked[a][b] = true
				}
			}
		}
	case "bridge":
		if b := node(); b != 0 {
			for i := 1; i <= n; i++ {
				w.blocked[i][b], w.blocked[b][i] = false, false
			}
		}
	case "leave", "kill":
		if id := node(); id != 0 {
			w.up[id], w.paused[id] = false, false
		}
	case "pause", "resume":
		// The live cluster's SIGSTOP and SIGCONT (live/faults.go); a node
		// that brackets its pause itself also records pause and resume
		// events, which say the same a moment closer to the truth.
		if id := node(); id != 0 && w.up[id] {
			w.paused[id] = e.Name == "pause"
		}
	case "faults":
		if id := node(); id != 0 {
			if w.out == nil {
				w.out, w.in = square(n), square(n)
			}
			w.cut = true
			clear(w.out[id])
			clear(w.in[id])
			for _, p := range ids(str("block_out"), n) {
				w.out[id][p] = true
			}
			for _, p := range ids(str("block_in"), n) {
				w.in[id][p] = true
			}
		}
	}
}

func (w *Net) clear() {
	if !w.cut {
		return
	}
	for i := range w.blocked {
		clear(w.blocked[i])
		if w.out != nil {
			clear(w.out[i])
			clear(w.in[i])
		}
	}
	w.cut = false
}

// ids reads the node ids of a list however a runtime printed it: "1,2,3",
// "[n1 n2]", "[1 2]". Ids out of 1..n are ignored.
func ids(s string, n int) []int {
	var out []int
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r < '0' || r > '9' }) {
		v, err := strconv.Atoi(f)
		if err == nil && v >= 1 && v <= n {
			out = append(out, v)
		}
	}
	return out
}

// Running reports whether id is up and not paused.
func (w *Net) Running(id int) bool {
	return id >= 1 && id < len(w.up) && w.up[id] && !w.paused[id]
}

// Up reports whether id is up (paused or not).
func (w *Net) Up(id int) bool { return id >= 1 && id < len(w.up) && w.up[id] }

// Paused reports whether id is paused.
func (w *Net) Paused(id int) bool { return id >= 1 && id < len(w.up) && w.paused[id] }

// Link reports whether a message from a to b can get through now.
func (w *Net) Link(a, b int) bool {
	if a == b || !w.cut {
		return true
	}
	return !(w.blocked[a][b] || (w.out != nil && (w.out[a][b] || w.in[b][a])))
}

// Reach counts the running servers id exchanges messages with both ways,
// itself included (0 when id is not running).
func (w *Net) Reach(id int) int {
	if !w.Running(id) {
		return 0
	}
	c := 0
	for _, s := range w.servers {
		if w.Running(s) && w.Link(id, s) && w.Link(s, id) {
			c++
		}
	}
	return c
}

// Majority is the chapter's quorum over the run's servers, N/2 + 1
// (clients never count).
func (w *Net) Majority() int { return len(w.servers)/2 + 1 }

// WithMajority lists the running servers that reach a majority of servers
// both ways: the ones that can still make progress.
func (w *Net) WithMajority() []int {
	var out []int
	if !w.cut {
		// No link is cut: every running server reaches every other one.
		for _, s := range w.servers {
			if w.Running(s) {
				out = append(out, s)
			}
		}
		if len(out) < w.Majority() {
			return nil
		}
		return out
	}
	for _, s := range w.servers {
		if w.Reach(s) >= w.Majority() {
			out = append(out, s)
		}
	}
	return out
}
