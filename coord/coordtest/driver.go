// Package coordtest drives one service node of package coord (the "coord"
// model of etcd or the "fenced-store") without a simulator: the test is
// the network and the clock. coord's step tests and coord/etcdsvc's
// conformance test (the same operations against the model and a real
// etcd) use it; so can a client protocol's tests that want a service to
// talk to.
//
//	d := coordtest.New(t, coord.Protocol, nil)
//	r := d.Call(1, coord.Grant{Req: 1, TTL: 2})[0].Msg.(coord.Reply)
//	d.Advance(2 * time.Second) // the lease expires on the model's clock
package coordtest

import (
	"slices"
	"testing"
	"time"

	"ordo"
	"ordo/ordotest"
)

// Roster is the roster a Driver's service lives in: servers 1..3 (the
// callers) and the service as node 4.
var Roster = ordo.NewRoster(3, 0, 1)

// ServiceID is the driven service's node id.
const ServiceID ordo.NodeID = 4

// Driver runs one service node on a recording Env and fires its timers
// as time advances.
type Driver struct {
	Env  *ordotest.Env
	Node ordo.Node
	// Notes holds every note of every step so far, in order.
	Notes  []ordotest.Note
	timers []pending
	seq    int
}

type pending struct {
	at  time.Duration // on Env.Mono
	seq int
	t   ordo.Timer
}

// New starts a node of p (a service protocol of package coord) with the
// given options. Every message in and out goes through p's codec (wire
// mode); NewRaw does not.
func New(t testing.TB, p *ordo.Protocol, opts map[string]string) *Driver {
	t.Helper()
	return start(t, p, ordotest.ForProtocol(p, ServiceID, Roster, 1), opts)
}

// NewRaw is New without the codec: a test can hand the node a message the
// codec would refuse (as the simulator without wire mode does).
func NewRaw(t testing.TB, p *ordo.Protocol, opts map[string]string) *Driver {
	t.Helper()
	return start(t, p, ordotest.NewEnv(ServiceID, Roster, 1), opts)
}

func start(t testing.TB, p *ordo.Protocol, env *ordotest.Env, opts map[string]string) *Driver {
	t.Helper()
	d := &Driver{Env: env}
	d.Node = env.NewNode(t, p, opts)
	env.Start(d.Node)
	d.collect()
	return d
}

// Call delivers m from node from and returns what the node sent in that
// step, in order.
func (d *Driver) Call(from ordo.NodeID, m ordo.Message) []ordotest.Sent {
	d.Env.Receive(d.Node, from, m)
	return d.collect()
}

// Advance moves the service's clocks forward by dt, firing each armed
// timer at its instant (earliest first, ties in arming order), and returns
// everything the node sent meanwhile.
func (d *Driver) Advance(dt time.Duration) []ordotest.Sent {
	end := d.Env.Mono + dt
	var out []ordotest.Sent
	for len(d.timers) > 0 && d.timers[0].at <= end {
		p := d.timers[0]
		d.timers = d.timers[1:]
		d.Env.Advance(p.at - d.Env.Mono)
		d.Env.Fire(d.Node, p.t)
		out = append(out, d.collect()...)
	}
	d.Env.Advance(end - d.Env.Mono)
	return out
}

// Pending is the number of timers armed and not yet fired.
func (d *Driver) Pending() int { return len(d.timers) }

func (d *Driver) collect() []ordotest.Sent {
	for _, a := range d.Env.Timers {
		d.seq++
		d.timers = append(d.timers, pending{at: d.Env.Mono + a.After, seq: d.seq, t: a.Timer})
	}
	slices.SortStableFunc(d.timers, func(a, b pending) int {
		if a.at != b.at {
			if a.at < b.at {
				return -1
			}
			return 1
		}
		return a.seq - b.seq
	})
	d.Notes = append(d.Notes, d.Env.Notes...)
	return slices.Clone(d.Env.Sent)
}
