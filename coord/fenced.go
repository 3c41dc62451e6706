package coord

import (
	"fmt"
	"slices"
	"unicode/utf8"

	"ordo"
)

// NoteFence is the note the fenced store makes on every Write: {token,
// accepted, writer, seq}. The fencing checker (election/verdict.go) reads
// the accepted tokens of each resource and fails a run in which one went
// down.
const NoteFence = "fence"

// FencedProtocol is "fenced-store": a resource that accepts a Write only
// with a token at least as high as the highest it has accepted
// (Kleppmann's fencing tokens) — or, with fencing off, every Write, so
// that a scenario shows what fencing prevents.
var FencedProtocol = &ordo.Protocol{
	Name: FencedName,
	Doc:  "a fenced resource: accepts a write only with a token ≥ the highest accepted (fencing tokens, section 4)",
	Options: append([]ordo.Option{
		{Name: "fencing", Default: "true", Help: "refuse writes whose token is below the highest accepted (false: accept every write and only record it)"},
		{Name: "key_prefix", Default: DefaultFencedPrefix, Help: "live: the store's etcd key is key_prefix + its service id (ordo cluster up --etcd makes it unique per cluster, so that clusters sharing an etcd keep apart; the simulator's model ignores it)"},
	}, slices.Clone(liveOptions)...),
	New:      NewFenced,
	Messages: Messages,
	Role:     ordo.Service,
}

// DefaultFencedPrefix is the key_prefix option's default: the live store
// of service node id keeps its state in etcd under
// DefaultFencedPrefix + id.
const DefaultFencedPrefix = "/ordo/fenced/"

// MaxFencedPrefixBytes bounds the key_prefix option: the key adds the
// service id (and "/stale" with fencing off) and must stay a valid key.
const MaxFencedPrefixBytes = MaxKeyBytes - 32

// CheckFencedPrefix checks a key_prefix option: 1..MaxFencedPrefixBytes
// bytes of UTF-8.
func CheckFencedPrefix(p string) error {
	if p == "" || len(p) > MaxFencedPrefixBytes || !utf8.ValidString(p) {
		return fmt.Errorf("coord: key_prefix of %d bytes: want 1..%d bytes of UTF-8", len(p), MaxFencedPrefixBytes)
	}
	return nil
}

// Fenced is the fenced-store model. Like the coordination model it keeps
// its state in memory.
type Fenced struct {
	fencing bool
	highest int64 // the highest token accepted (0: none yet)
	seq     int64 // accepted writes so far: the store's order
}

// NewFenced builds a fenced-store node from resolved options.
func NewFenced(cfg ordo.Config) (ordo.Node, error) {
	if d := cfg.Opts.Duration("timeout"); d <= 0 {
		return nil, fmt.Errorf("coord: timeout %v: want a positive duration", d)
	}
	if err := CheckFencedPrefix(cfg.Opts.String("key_prefix")); err != nil {
		return nil, err // the model keeps no key, but a cluster file is judged alike in both runtimes
	}
	return &Fenced{fencing: cfg.Opts.Bool("fencing")}, nil
}

// Start implements ordo.Node.
func (f *Fenced) Start(env ordo.Env) {}

// Fire implements ordo.Node (the store arms no timer).
func (f *Fenced) Fire(env ordo.Env, t ordo.Timer) {}

// Receive implements ordo.Node: a Write is accepted iff fencing is off or
// its Token ≥ the highest accepted; the reply carries the highest token
// after it and the write's sequence number (0 when refused). Any other
// request is refused as bad.
func (f *Fenced) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	w, ok := m.(Write)
	if !ok || Check(w) != nil {
		if req, ok := reqOf(m); ok {
			env.Send(from, Reply{Req: req, Err: ErrBadRequest})
		}
		return
	}
	accepted := !f.fencing || w.Token >= f.highest
	r := Reply{Req: w.Req, Err: ErrStaleToken}
	if accepted {
		f.seq++
		f.highest = max(f.highest, w.Token)
		r.Err, r.Seq = OK, f.seq
	}
	r.Highest, r.Rev = f.highest, f.seq // the store's revision: its count of accepted writes
	env.Note(NoteFence, "token", w.Token, "accepted", accepted, "writer", w.Writer, "seq", r.Seq)
	env.Send(from, r)
}
