package live

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"ordo/live/transport"
)

// Metrics are one node's Prometheus metrics, in a registry of its own so
// several nodes can run in one process (tests).
type Metrics struct {
	reg           *prometheus.Registry
	elections     prometheus.Counter
	leaderChanges prometheus.Counter
	term          prometheus.Gauge
	isLeader      prometheus.Gauge
	timers        prometheus.Gauge
	messages      *prometheus.CounterVec
	bytes         *prometheus.CounterVec
	dropped       *prometheus.CounterVec
	refusedConns  *prometheus.CounterVec
	traceErrors   prometheus.Counter
	peerDown      prometheus.Counter
}

func newMetrics(r *Runtime) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	f := func(c prometheus.Collector) { m.reg.MustRegister(c) }
	m.elections = prometheus.NewCounter(prometheus.CounterOpts{Name: "ordo_elections_total", Help: "Elections this node started (candidate notes)."})
	m.leaderChanges = prometheus.NewCounter(prometheus.CounterOpts{Name: "ordo_leader_changes_total", Help: "Times the leader this node knows of changed."})
	m.term = prometheus.NewGauge(prometheus.GaugeOpts{Name: "ordo_term", Help: "The term this node last noted."})
	m.isLeader = prometheus.NewGauge(prometheus.GaugeOpts{Name: "ordo_is_leader", Help: "1 while this node notes itself leader."})
	m.timers = prometheus.NewGauge(prometheus.GaugeOpts{Name: "ordo_timers_armed", Help: "Timers armed and not yet fired."})
	m.messages = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ordo_messages_total", Help: "Messages written to or read from the network, by kind and direction."}, []string{"kind", "direction"})
	m.bytes = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ordo_message_bytes_total", Help: "Payload bytes written or read, by kind and direction."}, []string{"kind", "direction"})
	m.dropped = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ordo_dropped_total", Help: "Messages dropped by the fault layer or the transport, by reason."}, []string{"reason"})
	m.refusedConns = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ordo_refused_connections_total", Help: "Inbound connections refused (bad certificate, bad hello, undecodable frame)."}, []string{"reason"})
	m.traceErrors = prometheus.NewCounter(prometheus.CounterOpts{Name: "ordo_trace_write_errors_total", Help: "Trace events that could not be written."})
	m.peerDown = prometheus.NewCounter(prometheus.CounterOpts{Name: "ordo_peer_down_total", Help: "PeerDown hints handed to the protocol (a peer's connection closed and a redial was refused)."})
	for _, c := range []prometheus.Collector{m.elections, m.leaderChanges, m.term, m.isLeader, m.timers, m.messages, m.bytes, m.dropped, m.refusedConns, m.traceErrors, m.peerDown} {
		f(c)
	}
	f(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "ordo_inbox_depth", Help: "Messages waiting for the event loop."}, func() float64 { return float64(len(r.inbox)) }))
	for _, p := range r.peers {
		f(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "ordo_send_queue_depth", Help: "Frames queued for a peer.", ConstLabels: prometheus.Labels{"peer": strconv.Itoa(int(p))}},
			func() float64 {
				if r.tr == nil {
					return 0
				}
				for _, s := range r.tr.Peers() {
					if s.ID == p {
						return float64(s.Queue)
					}
				}
				return 0
			}))
		f(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "ordo_peer_connected", Help: "1 while the outbound connection to a peer is up.", ConstLabels: prometheus.Labels{"peer": strconv.Itoa(int(p))}},
			func() float64 {
				if r.tr == nil {
					return 0
				}
				for _, s := range r.tr.Peers() {
					if s.ID == p && s.Out {
						return 1
					}
				}
				return 0
			}))
	}
	return m
}

func (m *Metrics) traffic(dir transport.Direction, kind string, bytes int) {
	m.messages.WithLabelValues(kind, string(dir)).Inc()
	m.bytes.WithLabelValues(kind, string(dir)).Add(float64(bytes))
}

func (m *Metrics) refused(reason string) { m.refusedConns.WithLabelValues(reason).Inc() }
