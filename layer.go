package ordo

import (
	"math/rand/v2"
	"strings"
	"time"
)

// Layering lets one node embed another protocol (a store over Raft, an
// application over a lease elector, a protocol over a failure detector):
// the parent hands the embedded node a sub-environment, Sub(env, layer),
// that namespaces everything the embedded node does, so its timers,
// storage keys, notes and messages never collide with the parent's:
//
//	what           the embedded node does    the parent's Env sees
//	timer          After(d, {"beat", 0})     After(d, {"hb/beat", 0})
//	storage key    Put("epoch", v)           Put("hb/epoch", v)
//	note           Note("suspect", ...)      Note("hb/suspect", ...)
//	message        Send(to, Beat{})          Send(to, Layered{"hb", Beat{}}), kind "hb/heartbeat"
//
// The parent registers the embedded protocol's messages under the layer
// (Messages: append(own, LayerMessages("hb", detect.Messages)...)), so the
// codec carries them in both runtimes, and routes what arrives:
//
//	func (n *node) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
//		if inner, ok := ordo.Unwrap(m, "hb"); ok {
//			n.hb.Receive(n.hbEnv, from, inner)
//			return
//		}
//		...
//	}
//	func (n *node) Fire(env ordo.Env, t ordo.Timer) {
//		if inner, ok := ordo.TimerIn(t, "hb"); ok {
//			n.hb.Fire(n.hbEnv, inner)
//			return
//		}
//		...
//	}
//
// Checkers see an embedded protocol's notes under the prefixed kind
// ("hb/suspect", "raft/leader"): a checker of the parent is not misled by
// the embedded protocol's notes, and one that judges the embedded protocol
// matches the prefixed kind (SplitLayer splits it). PeerDown hints reach
// the parent, which forwards them if the embedded node wants them.

// LayerSep separates a layer from the name it qualifies.
const LayerSep = "/"

// Layered is a message of an embedded protocol travelling in its parent's
// protocol: its kind is Layer + "/" + Msg.Kind(). On the wire it is Msg's
// own encoding (the kind names the layer).
type Layered struct {
	Layer string
	Msg   Message
	kind  string // cached Layer+"/"+Msg.Kind(), set by Sub and Decode
}

// Kind implements Message.
func (l Layered) Kind() string {
	if l.kind != "" {
		return l.kind
	}
	return l.Layer + LayerSep + l.Msg.Kind()
}

// LayerMessages wraps every message of an embedded protocol for
// registration in the parent's Protocol.Messages under layer.
func LayerMessages(layer string, msgs []Message) []Message {
	out := make([]Message, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, Layered{Layer: layer, Msg: m})
	}
	return out
}

// Unwrap returns the embedded message if m is a message of layer.
func Unwrap(m Message, layer string) (Message, bool) {
	if l, ok := m.(Layered); ok && l.Layer == layer {
		return l.Msg, true
	}
	return nil, false
}

// TimerIn returns the embedded node's timer if t was armed through
// Sub(env, layer).
func TimerIn(t Timer, layer string) (Timer, bool) {
	if len(t.Name) > len(layer) && strings.HasPrefix(t.Name, layer) && t.Name[len(layer)] == LayerSep[0] {
		return Timer{Name: t.Name[len(layer)+1:], Arg: t.Arg}, true
	}
	return Timer{}, false
}

// TimerLayer splits a timer armed through a sub-environment into its
// (outermost) layer and the embedded node's timer; ok is false for a timer
// of the node itself.
func TimerLayer(t Timer) (layer string, inner Timer, ok bool) {
	layer, name, ok := SplitLayer(t.Name)
	if !ok {
		return "", t, false
	}
	return layer, Timer{Name: name, Arg: t.Arg}, true
}

// SplitLayer splits a layered name (a message kind, timer name or note
// kind, "hb/suspect") at its first separator.
func SplitLayer(name string) (layer, rest string, ok bool) {
	i := strings.Index(name, LayerSep)
	if i <= 0 || i == len(name)-1 {
		return "", name, false
	}
	return name[:i], name[i+1:], true
}

// SubEnv is the Env an embedded node runs in (see Sub).
type SubEnv struct {
	env    Env
	layer  string
	prefix string
	store  subStore
	// names interns layered kinds and timer names, so a steady-state send
	// or timer allocates no new string.
	names map[string]string
}

// Sub returns the environment of an embedded node of layer inside env. The
// Env a node is handed stays the same for the node's incarnation, so a
// parent builds its sub-environments once, in Start. layer must be
// non-empty and contain no "/" (layers nest by nesting Sub).
func Sub(env Env, layer string) *SubEnv {
	if layer == "" || strings.Contains(layer, LayerSep) {
		panic("ordo: Sub needs a layer name without " + LayerSep + ": " + layer)
	}
	s := &SubEnv{env: env, layer: layer, prefix: layer + LayerSep, names: map[string]string{}}
	s.store = subStore{s: env.Store(), prefix: s.prefix}
	return s
}

var _ Env = (*SubEnv)(nil)

func (s *SubEnv) name(n string) string {
	if q, ok := s.names[n]; ok {
		return q
	}
	q := s.prefix + n
	if len(s.names) < 1024 { // bound the cache: names are a protocol's constants
		s.names[n] = q
	}
	return q
}

// Layer is the layer's name.
func (s *SubEnv) Layer() string { return s.layer }

// ID implements Env.
func (s *SubEnv) ID() NodeID { return s.env.ID() }

// Peers implements Env.
func (s *SubEnv) Peers() []NodeID { return s.env.Peers() }

// Roster implements Env.
func (s *SubEnv) Roster() *Roster { return s.env.Roster() }

// Now implements Env.
func (s *SubEnv) Now() time.Time { return s.env.Now() }

// Monotonic implements Env.
func (s *SubEnv) Monotonic() time.Duration { return s.env.Monotonic() }

// Rand implements Env: the parent's source (one node, one stream).
func (s *SubEnv) Rand() *rand.Rand { return s.env.Rand() }

// Send implements Env: m travels as Layered{layer, m}.
func (s *SubEnv) Send(to NodeID, m Message) {
	s.env.Send(to, Layered{Layer: s.layer, Msg: m, kind: s.name(m.Kind())})
}

// After implements Env: the timer fires at the parent as layer/name.
func (s *SubEnv) After(d time.Duration, t Timer) {
	s.env.After(d, Timer{Name: s.name(t.Name), Arg: t.Arg})
}

// Store implements Env: every key is prefixed with layer/.
func (s *SubEnv) Store() Storage { return &s.store }

// Note implements Env: the kind is prefixed with layer/.
func (s *SubEnv) Note(kind string, attrs ...any) { s.env.Note(s.name(kind), attrs...) }

// subStore prefixes every key; scans and range deletes stay inside the
// prefix.
type subStore struct {
	s      Storage
	prefix string
}

// end maps an end bound: "" (no bound) becomes the end of the prefix.
func (st *subStore) end(end string) string {
	if end == "" {
		// The prefix ends with '/': every key of the layer sorts before
		// the prefix with its last byte incremented ('0').
		return st.prefix[:len(st.prefix)-1] + string(rune(LayerSep[0]+1))
	}
	return st.prefix + end
}

// Reserve implements Reserver: the hint goes to the store beneath, if it
// takes one.
func (st *subStore) Reserve(n int) {
	if r, ok := st.s.(Reserver); ok {
		r.Reserve(n)
	}
}

func (st *subStore) Get(key string) ([]byte, bool) { return st.s.Get(st.prefix + key) }
func (st *subStore) Put(key string, value []byte)  { st.s.Put(st.prefix+key, value) }
func (st *subStore) Delete(key string)             { st.s.Delete(st.prefix + key) }
func (st *subStore) DeleteRange(start, end string) {
	st.s.DeleteRange(st.prefix+start, st.end(end))
}
func (st *subStore) Scan(start, end string, fn func(key string, value []byte) bool) {
	n := len(st.prefix)
	st.s.Scan(st.prefix+start, st.end(end), func(k string, v []byte) bool { return fn(k[n:], v) })
}
func (st *subStore) Apply(b *Batch) {
	var pb Batch
	for _, op := range b.Ops {
		switch op.Kind {
		case OpPut:
			pb.Put(st.prefix+op.Key, op.Value)
		case OpDelete:
			pb.Delete(st.prefix + op.Key)
		case OpDeleteRange:
			pb.DeleteRange(st.prefix+op.Key, st.end(op.End))
		}
	}
	st.s.Apply(&pb)
}
