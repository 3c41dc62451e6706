package live

// The runtime side of services (service.go's contract, issue 15). A node
// opens one ServiceConn per service node of the cluster when it starts
// (the adapter registered for the service's protocol, or
// Options.Services), and then:
//
//   - a Send to a service id is encoded by the node's codec (so it is
//     bounded and checked like any message), traced as a send with a
//     message id of its own that no receive will name (the service keeps
//     no trace; a send to a gateway id is traced so too), held until the
//     turn's fsync like every send (SendEarly: the turn's end), and only
//     then decoded into a fresh value and handed to the adapter;
//   - what the adapter delivers is encoded and decoded the same way (a
//     reply the node's protocol cannot read, or an absurd one, is dropped
//     and traced, never believed), waits in the node's bounded inbox, and
//     is received in the loop as a message from the service id, traced as
//     a receive with message id 0: no vector merge, as for gateway calls
//     and PeerDown hints (the service is outside the cluster's clocks);
//   - the node's fault layer cuts its links to a service as to a peer: a
//     blocked direction drops the request or the reply with a drop event
//     (transport.ReasonPartitionOut / In). Delay and loss apply to peer
//     traffic only, and the kernel's faults (--netns) do not see service
//     traffic at all: an etcd on the host is reached from the node's
//     namespace through the adapter, not through the cut veths;
//   - a pause (SIGSTOP) freezes the adapter with the process; a stop
//     cancels its context and closes every connection after the loop's
//     last turn, and a deliver blocked on a full inbox returns false then.

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"ordo"
	"ordo/live/transport"
	"ordo/trace"
)

// serviceConns is the node's open connections to the cluster's services.
type serviceConns struct {
	ctx    context.Context
	cancel context.CancelFunc
	ids    []ordo.NodeID
	conns  map[ordo.NodeID]ServiceConn
	is     []bool // by node id: a service (no process, reached by adapter)
}

// isService reports whether id is one of the cluster's service nodes.
func (r *Runtime) isService(id ordo.NodeID) bool {
	return id >= 1 && int(id) < len(r.svc.is) && r.svc.is[id]
}

// openServices dials every service node of the cluster (none for a
// cluster without services). An error closes what was opened.
func (r *Runtime) openServices(o Options) error {
	r.svc.is = make([]bool, r.n+1)
	if len(r.roster.Services) == 0 {
		return nil
	}
	r.svc.ctx, r.svc.cancel = context.WithCancel(context.Background())
	r.svc.conns = map[ordo.NodeID]ServiceConn{}
	for _, id := range r.roster.Services {
		r.svc.is[id] = true
		p, opts, _, err := r.cfg.ProtocolOf(id)
		if err != nil {
			r.closeServices()
			return err
		}
		dial := o.Services[id]
		if dial == nil {
			if dial, err = LookupService(p.Name); err != nil {
				r.closeServices()
				return fmt.Errorf("service node %d: %w", id, err)
			}
		}
		conn, err := dial(r.svc.ctx, r.id, id, opts, r.serviceDeliver(id))
		if err == nil && conn == nil {
			err = errors.New("the adapter returned no connection")
		}
		if err != nil {
			r.closeServices()
			return fmt.Errorf("service node %d (%s): %w", id, p.Name, err)
		}
		r.svc.ids = append(r.svc.ids, id)
		r.svc.conns[id] = conn
	}
	return nil
}

// closeServices cancels every call in flight and closes the connections,
// in id order; the loop has ended (or never started).
func (r *Runtime) closeServices() {
	if r.svc.cancel == nil {
		return
	}
	r.svc.cancel()
	for _, id := range r.svc.ids {
		if err := r.svc.conns[id].Close(); err != nil {
			r.log.Warn("closing a service connection", "service", int(id), "err", err)
		}
	}
	r.svc.ids, r.svc.conns, r.svc.cancel = nil, nil, nil
}

// serviceDeliver is service id's deliver function (ServiceDial): any
// goroutine. It checks the message as the transport checks a peer's
// (encoded and decoded by the node's codec, so bounded, of a kind the
// protocol knows and valid) and queues it for the loop, blocking while
// the inbox is full; false once the node is stopping or has stopped.
func (r *Runtime) serviceDeliver(id ordo.NodeID) func(ordo.Message) bool {
	return func(m ordo.Message) bool {
		select {
		case <-r.stop:
			return false
		case <-r.done:
			return false
		default:
		}
		if m == nil {
			r.log.Error("a service adapter delivered nil", "service", int(id))
			return true
		}
		kind := m.Kind()
		payload, err := r.codec.Encode(m)
		if err == nil && len(payload) > ordo.MaxMessageSize {
			err = fmt.Errorf("%d bytes, bound is %d", len(payload), ordo.MaxMessageSize)
		}
		var fresh ordo.Message
		if err == nil {
			fresh, err = r.codec.Decode(kind, payload)
		}
		if err != nil {
			reason := transport.RejectReason(err)
			r.metrics.dropped.WithLabelValues(reason).Inc()
			r.record(trace.Event{Kind: trace.Drop, Node: id, Peer: r.id, MsgKind: kind, Bytes: len(payload), Name: reason})
			r.log.Warn("a service reply refused", "service", int(id), "kind", kind, "err", err)
			return true
		}
		in := inbound{env: transport.Envelope{From: id, To: r.id, Kind: kind}, msg: fresh, bytes: len(payload), service: true}
		select {
		case r.inbox <- in:
			return true
		case <-r.stop:
			return false
		case <-r.done:
			return false
		}
	}
}

// sendService is Send to a service id (loop goroutine).
func (r *Runtime) sendService(to ordo.NodeID, m ordo.Message, early bool) {
	payload, err := r.codec.Encode(m)
	if err != nil {
		panic(fmt.Sprintf("live: %v cannot encode %s for service %v: %v", r.id, m.Kind(), to, err))
	}
	if len(payload) > ordo.MaxMessageSize {
		panic(fmt.Sprintf("live: %v sends %s of %d bytes to service %v, bound is %d", r.id, m.Kind(), len(payload), to, ordo.MaxMessageSize))
	}
	r.msgSeq++
	if r.msgSeq >= 1<<40 {
		panic("live: message sequence exhausted")
	}
	id := uint64(r.id)<<40 | r.msgSeq
	r.stamp.Tick()
	// No receive will name id: the service keeps no trace.
	r.record(trace.Event{Kind: trace.Send, Peer: to, Msg: id, MsgKind: m.Kind(), Bytes: len(payload)})
	if r.guardSend(to, id, m.Kind(), len(payload)) {
		return // fenced after losing its disk (amnesia.go)
	}
	o := outbound{env: transport.Envelope{From: r.id, To: to, Msg: id, Kind: m.Kind(), Payload: payload}}
	if early {
		r.early = append(r.early, o)
		return
	}
	r.gc.hold(o) // until the turn's fsync, as every send
}

// releaseService hands a request whose fsync has returned to the adapter,
// unless the node's fault layer cuts its link to the service.
func (r *Runtime) releaseService(o outbound) {
	e := o.env
	if f := r.tr.Faults(); slices.Contains(f.BlockOut, e.To) {
		r.metrics.dropped.WithLabelValues(transport.ReasonPartitionOut).Inc()
		r.record(trace.Event{Kind: trace.Drop, Node: r.id, Peer: e.To, Msg: e.Msg, MsgKind: e.Kind, Bytes: len(e.Payload), Name: transport.ReasonPartitionOut})
		return
	}
	// A fresh value: the adapter shares no memory with the protocol.
	m, err := r.codec.Decode(e.Kind, e.Payload)
	if err != nil {
		panic(fmt.Sprintf("live: %v's own %s for service %v does not decode: %v", r.id, e.Kind, e.To, err))
	}
	r.metrics.traffic(transport.Out, e.Kind, len(e.Payload))
	r.svc.conns[e.To].Send(m)
}

// receiveService runs one reply or event of a service as an event: a
// receive with message id 0 that ticks like a local event.
func (r *Runtime) receiveService(in inbound) {
	from := in.env.From
	if f := r.tr.Faults(); slices.Contains(f.BlockIn, from) {
		r.metrics.dropped.WithLabelValues(transport.ReasonPartitionIn).Inc()
		r.record(trace.Event{Kind: trace.Drop, Node: from, Peer: r.id, MsgKind: in.env.Kind, Bytes: in.bytes, Name: transport.ReasonPartitionIn})
		return
	}
	r.metrics.traffic(transport.In, in.env.Kind, in.bytes)
	r.stamp.Tick()
	r.record(trace.Event{Kind: trace.Recv, Peer: from, MsgKind: in.env.Kind, Bytes: in.bytes})
	r.node.Receive(r, from, in.msg)
	r.store.EndBatch()
}
