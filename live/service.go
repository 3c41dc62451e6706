package live

// Services in a live cluster (issue 15): a node with role service is not a
// process. It stands for a real system — an etcd — that each node reaches
// through an adapter hosted in its own runtime: the node's sends to the
// service id go to the adapter's ServiceConn, and the adapter's replies
// and events come back into the node's event loop as messages from the
// service id, like any peer's. So protocol code cannot tell a simulated
// service model from the real system behind it.

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"ordo"
)

// ServiceConn is one node's connection to the real system behind one
// service node.
type ServiceConn interface {
	// Send hands the node's request m to the service. The runtime calls it
	// from the event loop once the turn's writes are durable (as for any
	// send); it must not block: an adapter queues (boundedly) and answers
	// later through deliver, with an error reply when the queue is full.
	Send(m ordo.Message)
	// Close abandons every call in flight and releases the connection; it
	// is called once, when the node stops.
	Close() error
}

// ServiceDial connects node self to service id, a node running a service
// protocol whose resolved options (from the cluster file) are opts.
// deliver injects a reply or event into self's event loop as a message
// from id; it may be called from any goroutine, may block while the
// loop's inbox is full, and returns false once the node is stopping.
type ServiceDial func(ctx context.Context, self, id ordo.NodeID, opts ordo.Options, deliver func(ordo.Message) bool) (ServiceConn, error)

var (
	servicesMu sync.Mutex
	services   = map[string]ServiceDial{}
)

// RegisterService makes the service protocol name runnable in a live
// cluster: a node's sends to a service node running name go through the
// ServiceConn that dial opens. It panics on a duplicate (a programming
// error caught at init).
func RegisterService(name string, dial ServiceDial) {
	servicesMu.Lock()
	defer servicesMu.Unlock()
	if dial == nil {
		panic("live: RegisterService " + name + " without a dial function")
	}
	if _, dup := services[name]; dup {
		panic("live: service registered twice: " + name)
	}
	services[name] = dial
}

// LookupService returns the dial function registered for the service
// protocol name; the error lists the registered ones.
func LookupService(name string) (ServiceDial, error) {
	servicesMu.Lock()
	defer servicesMu.Unlock()
	if d, ok := services[name]; ok {
		return d, nil
	}
	var names []string
	for n := range services {
		names = append(names, n)
	}
	sort.Strings(names)
	return nil, fmt.Errorf("live: no adapter for service protocol %q (registered: %s)", name, strings.Join(names, ", "))
}
