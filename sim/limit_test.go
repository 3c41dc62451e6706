package sim

import (
	"errors"
	"strings"
	"testing"
	"time"

	"ordo"
)

// flooder re-arms a zero-length timer forever: the shape of heartbeat=1ns.
type flooder struct{}

func (flooder) Start(env ordo.Env)                          { env.After(0, ordo.Timer{Name: "t"}) }
func (flooder) Receive(ordo.Env, ordo.NodeID, ordo.Message) {}
func (flooder) Fire(env ordo.Env, t ordo.Timer)             { env.After(0, t) }

var floodProto = &ordo.Protocol{Name: "flooder", New: func(ordo.Config) (ordo.Node, error) { return flooder{}, nil }}

func TestTracedRunsGetAMemoryBound(t *testing.T) {
	for _, c := range []struct {
		trace bool
		want  uint64
	}{{false, DefaultMaxEvents}, {true, TracedMaxEvents(3)}} {
		s, err := New(Config{Protocol: floodProto, Nodes: 3, Trace: c.trace})
		if err != nil {
			t.Fatal(err)
		}
		if s.Config().MaxEvents != c.want {
			t.Errorf("trace=%v: MaxEvents %d, want %d", c.trace, s.Config().MaxEvents, c.want)
		}
	}
	// The model: 2 GiB at 1024+12n bytes per event; more nodes, fewer events.
	if got := TracedMaxEvents(5); got < 1_500_000 || got > 2_500_000 {
		t.Errorf("TracedMaxEvents(5) = %d, want about 2 M", got)
	}
	if TracedMaxEvents(1024) >= TracedMaxEvents(5) {
		t.Error("the traced bound does not shrink with the cluster")
	}
}

func TestEventLimitSaysHowToRaiseIt(t *testing.T) {
	s, err := New(Config{Protocol: floodProto, Nodes: 2, Trace: true, MaxEvents: 1000})
	if err != nil {
		t.Fatal(err)
	}
	err = s.RunFor(time.Second)
	var lim ErrEventLimit
	if !errors.As(err, &lim) || lim.Limit != 1000 || !lim.Traced {
		t.Fatalf("err %v, want ErrEventLimit{1000, traced}", err)
	}
	for _, want := range []string{"stopped after 1000 events", "--max-events", "in memory"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not say %q", err, want)
		}
	}
	if s.Events() != 1000 {
		t.Errorf("processed %d events, want 1000", s.Events())
	}
}
