package coord_test

import (
	"fmt"
	"testing"
	"time"

	"ordo"
	"ordo/coord"
	"ordo/ordotest"
	"ordo/sim"
)

// probe is a test-only server protocol that keeps both services busy:
// every 50 ms a random request (grant, keepalive, create under /p/ bound
// to its lease, find first, watch the first key, revoke, a write to the
// fenced store with its key's create revision as token). The kit runs it
// with the services under a nemesis to show the model is deterministic in
// wire mode; TestProbeUnderFaults checks what the services promise.
type probe struct {
	seq     uint64
	lease   int64
	created int64
	first   string
}

var probeProtocol = &ordo.Protocol{
	Name:     "coord-probe",
	Doc:      "test: random requests to the coord and fenced-store services",
	New:      func(ordo.Config) (ordo.Node, error) { return &probe{}, nil },
	Messages: coord.Messages,
	Services: []string{coord.Name, coord.FencedName},
}

func init() { ordo.Register(probeProtocol) }

func (p *probe) Start(env ordo.Env) { env.After(50*time.Millisecond, ordo.Timer{Name: "probe"}) }

func (p *probe) Fire(env ordo.Env, _ ordo.Timer) {
	env.After(50*time.Millisecond, ordo.Timer{Name: "probe"})
	svc := env.Roster().Services
	if len(svc) < 2 {
		return
	}
	p.seq++
	var m ordo.Message
	switch env.Rand().IntN(8) {
	case 0:
		m = coord.Grant{Req: p.seq, TTL: 2}
	case 1, 2:
		m = coord.KeepAlive{Req: p.seq, Lease: p.lease}
	case 3:
		m = coord.Create{Req: p.seq, Key: fmt.Sprintf("/p/%x", p.lease), Value: env.ID().String(), Lease: p.lease}
	case 4:
		m = coord.Find{Req: p.seq, Prefix: "/p/"}
	case 5:
		if p.first != "" {
			m = coord.Watch{Req: p.seq, Key: p.first}
		}
	case 6:
		if env.Rand().IntN(4) == 0 {
			m = coord.Revoke{Req: p.seq, Lease: p.lease}
		}
	case 7:
		env.Send(svc[1], coord.Write{Req: p.seq, Token: p.created, Writer: env.ID(), Value: "x"})
	}
	if m != nil {
		env.Send(svc[0], m)
	}
}

func (p *probe) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {
	r, ok := m.(coord.Reply)
	if !ok || r.Err != coord.OK {
		return
	}
	switch {
	case r.TTL > 0 && r.Lease != 0 && p.lease == 0:
		p.lease = r.Lease
	case r.Succeeded && r.KeyLease == p.lease && r.CreateRev > 0:
		p.created = r.CreateRev
	case r.Found && r.CreateRev > 0 && r.KeyLease != p.lease:
		p.first = r.Key
	}
	if r.Err == coord.ErrNoLease {
		p.lease = 0
	}
}

func TestConformance(t *testing.T) {
	for _, p := range []*ordo.Protocol{coord.Protocol, coord.FencedProtocol} {
		t.Run(p.Name, func(t *testing.T) {
			ordotest.Protocol(t, p, ordotest.ServedBy(probeProtocol), ordotest.Nodes(3))
		})
	}
}

// Under crashes, partitions, pauses and clock jumps of the servers, the
// fenced store never accepts a token below one it accepted (fencing on),
// and the model answers every kind of request.
func TestProbeUnderFaults(t *testing.T) {
	const seed = 7
	s, err := sim.New(sim.Config{Protocol: probeProtocol, Nodes: 3, Seed: seed, Trace: true, Wire: true, Name: "coord-probe",
		Network: sim.Network{Default: sim.Link{Latency: sim.Presets["lan"]}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.StartNemesis(sim.Nemesis{Start: time.Second, Stop: 8 * time.Second, Crash: 0.5, Partition: 0.5, Pause: 0.5, ClockJump: 0.5, MeanDowntime: time.Second}); err != nil {
		t.Fatal(err)
	}
	if err := s.RunFor(10 * time.Second); err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	tr := s.Trace()
	highest, accepted, refused := int64(-1), 0, 0
	kinds := map[string]int{}
	for _, e := range tr.Events {
		if e.Name == coord.NoteFence {
			tok, _ := e.Attrs.Int("token")
			if acc, _ := e.Attrs.Get("accepted").(bool); acc {
				accepted++
				if tok < highest {
					t.Fatalf("seed %d: the fenced store accepted token %d after %d", seed, tok, highest)
				}
				highest = tok
			} else {
				refused++
			}
		}
		kinds[e.Name]++
	}
	if accepted == 0 || kinds["lease-expired"]+kinds["lease-revoked"] == 0 {
		t.Fatalf("seed %d: %d writes accepted, %d leases ended: the probe exercised nothing (events %v)", seed, accepted, kinds["lease-expired"]+kinds["lease-revoked"], kinds)
	}
	t.Logf("seed %d: %d writes accepted, %d refused, highest token %d, %d leases expired, %d revoked", seed, accepted, refused, highest, kinds["lease-expired"], kinds["lease-revoked"])
}
