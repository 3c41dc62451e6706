package election

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"ordo"
	"ordo/check"
	"ordo/trace"
)

// ReadNote reads a role note of node self back into the View it announces
// (see the package doc's conventions): "leader" {term, token} makes self
// the leader with that fencing token (the term when the note has no
// token), "follower" {term, leader} a follower of leader (None: unknown),
// "candidate" {term} a candidate with no leader. ok is false for every
// other note. Since is left zero: a note's time is the event's.
func ReadNote(self ordo.NodeID, name string, a trace.Attrs) (v View, ok bool) {
	term, _ := a.Int("term")
	switch name {
	case NoteLeader:
		tok, ok := a.Int("token")
		if !ok {
			tok = term
		}
		return View{Role: Leader, Leader: self, Term: uint64(term), Token: uint64(tok)}, true
	case NoteFollower:
		l, _ := a.Int("leader")
		return View{Role: Follower, Leader: ordo.NodeID(l), Term: uint64(term)}, true
	case NoteCandidate:
		return View{Role: Candidate, Term: uint64(term)}, true
	}
	return View{}, false
}

// IsProtocol reports whether the registered protocol name is a leader
// election: its nodes implement Elector. Unknown names are not.
func IsProtocol(name string) bool {
	if v, ok := isElection.Load(name); ok {
		return v.(bool)
	}
	p, err := ordo.Lookup(name)
	yes := false
	if err == nil && p.Role == ordo.Server {
		if opts, err := p.Resolve(nil); err == nil {
			if nd, err := p.New(ordo.Config{ID: 1, N: 3, Opts: opts, Proto: p}); err == nil {
				_, yes = nd.(Elector)
			}
		}
	}
	isElection.Store(name, yes)
	return yes
}

var isElection sync.Map // protocol name → bool

// Protocols lists the registered leader elections, sorted.
func Protocols() []string {
	var out []string
	for _, name := range ordo.ProtocolNames() {
		if IsProtocol(name) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// gate wraps the judge j of check name for a run described by m. A run of
// a leader election (a registered protocol whose nodes are Electors) is
// judged outright. Any other run (another protocol, an unknown one, a
// trace without a protocol) is judged only if it turns out to follow the
// role-note convention: with no role note at all, the check is refused
// (not-applicable, saying why) rather than passed with "0 leaderships".
func gate(name string, m *trace.Meta, j check.Judge) check.Judge {
	if m.Protocol != "" && IsProtocol(m.Protocol) {
		return j
	}
	return &gated{Judge: j, name: name, meta: m}
}

type gated struct {
	check.Judge
	name string
	meta *trace.Meta
	seen bool
}

func (g *gated) Observe(e *trace.Event) {
	if !g.seen && e.Kind == trace.Note {
		// A role note of a server, or a protected resource's fence note.
		_, role := ReadNote(e.Node, e.Name, e.Attrs)
		g.seen = (role && g.meta.IsServer(int(e.Node))) || e.Name == NoteFence
	}
	g.Judge.Observe(e)
}

// Wants implements check.Interest: role notes until one is seen, then what
// the judge wants.
func (g *gated) Wants(k trace.Kind) bool {
	if k == trace.Note {
		return true
	}
	in, ok := g.Judge.(check.Interest)
	return !ok || in.Wants(k)
}

// VectorFree implements check.VectorFree: no election judge reads vector
// stamps (they judge roles, terms, tokens, crashes, pauses and faults).
func (g *gated) VectorFree() {}

// End implements check.Ender.
func (g *gated) End(t int64) {
	if e, ok := g.Judge.(check.Ender); ok {
		e.End(t)
	}
}

// structural reports whether events of kind k can change what an election
// judge knows: role and fence notes, boots, crashes, pauses and faults.
// Sends, receives, timers and drops cannot.
func structural(k trace.Kind) bool {
	switch k {
	case trace.Note, trace.Start, trace.Restart, trace.Crash, trace.Pause, trace.Resume, trace.Fault:
		return true
	}
	return false
}

func (g *gated) Result() check.Result {
	if g.seen {
		return g.Judge.Result()
	}
	run := "this run"
	if g.meta.Protocol != "" {
		run = "this run of " + g.meta.Protocol
	}
	return check.Refuse(g.name, fmt.Errorf("%s judges leader elections, and %s has no role note (leader, follower, candidate) from a server nor a fence note (leader elections: %s)",
		g.name, run, strings.Join(Protocols(), ", ")))
}
