package ordo_test

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"ordo"
	"ordo/detect"
	"ordo/sim"
	"ordo/trace"
)

// watched is a parent protocol that embeds the heartbeat failure detector
// (section 5) as layer "hb": its own job is to count, durably, the peers
// it has heard suspected; the detector runs inside it, unchanged.
type watched struct {
	hb    ordo.Node
	hbEnv *ordo.SubEnv
	cfg   ordo.Config
}

// hello is the parent's own message, to show that its kinds and the
// layer's travel side by side.
type hello struct{ From ordo.NodeID }

func (hello) Kind() string { return "hello" }

var watchedProto = &ordo.Protocol{
	Name: "watched",
	New: func(cfg ordo.Config) (ordo.Node, error) {
		opts, err := detect.Protocol.Resolve(map[string]string{"interval": "50ms", "timeout": "300ms"})
		if err != nil {
			return nil, err
		}
		hb, err := detect.Protocol.New(ordo.Config{ID: cfg.ID, N: cfg.N, Opts: opts, Proto: detect.Protocol, Roster: cfg.Roster})
		return &watched{hb: hb, cfg: cfg}, err
	},
	Messages: append([]ordo.Message{hello{}}, ordo.LayerMessages("hb", detect.Protocol.Messages)...),
}

func (w *watched) Start(env ordo.Env) {
	w.hbEnv = ordo.Sub(env, "hb")
	w.hb.Start(w.hbEnv)
	w.hbEnv.Store().Put("boots", []byte{1}) // the layer's key: "hb/boots"
	env.After(100*time.Millisecond, ordo.Timer{Name: "hello"})
}

func (w *watched) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	if inner, ok := ordo.Unwrap(m, "hb"); ok {
		w.hb.Receive(w.hbEnv, from, inner)
		return
	}
	if h, ok := m.(hello); !ok || h.From != from {
		panic("watched: unexpected message " + m.Kind())
	}
	env.Note("hello", "from", from)
}

func (w *watched) Fire(env ordo.Env, t ordo.Timer) {
	if inner, ok := ordo.TimerIn(t, "hb"); ok {
		w.hb.Fire(w.hbEnv, inner)
		return
	}
	for _, p := range env.Peers() {
		env.Send(p, hello{From: env.ID()})
	}
}

// TestLayeredDetectorInWireMode: the embedded detector's beats travel as
// "hb/heartbeat" through the codec, its timers fire through the parent,
// and its notes reach the trace as "hb/suspect" once node 3 crashes.
func TestLayeredDetectorInWireMode(t *testing.T) {
	if err := registerOnce(watchedProto); err != nil {
		t.Fatal(err)
	}
	s, err := sim.New(sim.Config{Protocol: watchedProto, Nodes: 3, Seed: 5, Trace: true, Wire: true,
		Network: sim.Network{Default: sim.Link{Latency: sim.Presets["lan"]}}})
	if err != nil {
		t.Fatal(err)
	}
	s.At(time.Second, func(s *sim.Sim) { s.Crash(3) })
	if err := s.RunFor(3 * time.Second); err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	suspects := map[ordo.NodeID]bool{}
	for _, e := range s.Trace().Events {
		switch {
		case e.Kind == trace.Recv:
			kinds[e.MsgKind]++
		case e.Kind == trace.Note && e.Name == "hb/suspect":
			suspects[e.Node] = true
		case e.Kind == trace.Note && e.Name == "suspect":
			t.Fatalf("an embedded note escaped its layer: %+v", e)
		}
	}
	if kinds["hb/heartbeat"] == 0 || kinds["hello"] == 0 {
		t.Fatalf("received kinds %v, want hb/heartbeat and hello", kinds)
	}
	if !suspects[1] || !suspects[2] {
		t.Fatalf("after node 3's crash, suspects noted by %v, want nodes 1 and 2", suspects)
	}
	if _, ok := s.Store(1).Get("hb/boots"); !ok {
		t.Fatal("the layer's storage key is not prefixed hb/")
	}
	if s.Stats().Malformed != 0 {
		t.Fatalf("%d malformed messages in a clean run", s.Stats().Malformed)
	}
}

func registerOnce(p *ordo.Protocol) error {
	if _, err := ordo.Lookup(p.Name); err == nil {
		return nil
	}
	ordo.Register(p)
	return nil
}

func TestLayeredCodec(t *testing.T) {
	c, err := ordo.NewCodec(watchedProto.Messages)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Kinds(); !slices.Equal(got, []string{"hb/heartbeat", "hello"}) {
		t.Fatalf("kinds %v", got)
	}
	m := ordo.Layered{Layer: "hb", Msg: detect.Beat{}}
	b, err := c.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Decode("hb/heartbeat", b)
	if err != nil {
		t.Fatal(err)
	}
	if inner, ok := ordo.Unwrap(got, "hb"); !ok || !reflect.DeepEqual(inner, detect.Beat{}) || got.Kind() != "hb/heartbeat" {
		t.Fatalf("decoded %#v", got)
	}
	if _, err := c.Encode(ordo.Layered{Layer: "other", Msg: detect.Beat{}}); err == nil {
		t.Fatal("a message of an unregistered layer was encoded")
	}
	if _, err := c.Decode("hb/heartbeat", []byte{0}); err == nil {
		t.Fatal("trailing bytes in a layered message decoded")
	}
	// Nested layers: a layer of a layer.
	nested := ordo.LayerMessages("app", ordo.LayerMessages("hb", detect.Protocol.Messages))
	c2, err := ordo.NewCodec(nested)
	if err != nil || !slices.Equal(c2.Kinds(), []string{"app/hb/heartbeat"}) {
		t.Fatalf("nested: %v %v", c2, err)
	}
}

// TestSubEnvStorage: a layer's keys are prefixed, and its scans and range
// deletes see and touch its own keys only.
func TestSubEnvStorage(t *testing.T) {
	env := &storeEnv{st: ordo.NewMemStorage()}
	env.st.Put("a", []byte("parent"))
	env.st.Put("hb0", []byte("parent, sorts after the layer"))
	sub := ordo.Sub(env, "hb")
	st := sub.Store()
	st.Put("x", []byte("1"))
	st.Put("y", []byte("2"))
	var b ordo.Batch
	b.Put("z", []byte("3"))
	b.Delete("x")
	st.Apply(&b)
	var keys []string
	st.Scan("", "", func(k string, _ []byte) bool { keys = append(keys, k); return true })
	if !slices.Equal(keys, []string{"y", "z"}) {
		t.Fatalf("layer scan %v, want [y z]", keys)
	}
	if v, ok := env.st.Get("hb/z"); !ok || string(v) != "3" {
		t.Fatal("layer key not stored as hb/z")
	}
	st.DeleteRange("", "")
	if env.st.Len() != 2 {
		t.Fatalf("range delete of the layer left %d keys, want the parent's 2", env.st.Len())
	}
	// Timers and notes are namespaced too, and TimerIn/TimerLayer undo it.
	sub.After(time.Second, ordo.Timer{Name: "beat", Arg: 4})
	sub.Note("suspect")
	if env.timer != (ordo.Timer{Name: "hb/beat", Arg: 4}) || env.note != "hb/suspect" {
		t.Fatalf("timer %v note %q", env.timer, env.note)
	}
	if in, ok := ordo.TimerIn(env.timer, "hb"); !ok || in != (ordo.Timer{Name: "beat", Arg: 4}) {
		t.Fatalf("TimerIn: %v %v", in, ok)
	}
	if _, ok := ordo.TimerIn(ordo.Timer{Name: "hbx/beat"}, "hb"); ok {
		t.Fatal("TimerIn matched another layer with the same prefix")
	}
	if l, in, ok := ordo.TimerLayer(env.timer); !ok || l != "hb" || in.Name != "beat" {
		t.Fatalf("TimerLayer: %q %v %v", l, in, ok)
	}
}

// storeEnv is an Env that records what a sub-environment hands it.
type storeEnv struct {
	ordo.Env
	st    *ordo.MemStorage
	timer ordo.Timer
	note  string
}

func (e *storeEnv) Store() ordo.Storage                 { return e.st }
func (e *storeEnv) After(d time.Duration, t ordo.Timer) { e.timer = t }
func (e *storeEnv) Note(kind string, attrs ...any)      { e.note = kind }
func (e *storeEnv) Send(to ordo.NodeID, m ordo.Message) {}
func (e *storeEnv) Peers() []ordo.NodeID                { return nil }
