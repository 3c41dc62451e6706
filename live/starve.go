package live

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Section 1's fallacy "latency is zero" has a local twin: a timer is not
// served on time when the host is starved (CPU stolen by other processes, a
// stopped process, a loop blocked on a slow disk). A follower whose
// election timer fires 400 ms late looks like a dead leader; the term churn
// that follows is the host's doing, not the network's. The runtime measures
// how late every timer fires so the status can say so.

// StarvedLateness is the lateness of a timer (fired this long after it was
// due) that counts as a starved host: a third of the default 150 ms minimum
// election timeout.
const StarvedLateness = 50 * time.Millisecond

// LatenessWindow is how long a late timer keeps a node marked starved.
const LatenessWindow = 10 * time.Second

// lateness records how late the event loop fires its timers. The loop
// writes it, the admin endpoint reads it.
type lateness struct {
	mu    sync.Mutex
	late  uint64        // timers fired at least StarvedLateness late
	worst time.Duration // the worst lateness since lastAt's window began
	// lastAt is when the last late timer fired (zero: never).
	lastAt time.Time
	hist   prometheus.Histogram
}

// register adds the lateness metrics to reg.
func (l *lateness) register(reg *prometheus.Registry) {
	l.hist = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "ordo_timer_lateness_seconds",
		Help:    "How long after its due time the event loop fired a timer (host starvation or a blocked loop).",
		Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 5},
	})
	reg.MustRegister(l.hist)
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "ordo_timers_late_total",
		Help: "Timers fired at least 50ms after they were due.",
	}, func() float64 { s := l.snapshot(time.Now()); return float64(s.Late) }))
}

// observe records one timer fired late by d (negative or zero: on time).
func (l *lateness) observe(now time.Time, d time.Duration) {
	if d < 0 {
		d = 0
	}
	if l.hist != nil {
		l.hist.Observe(d.Seconds())
	}
	if d < StarvedLateness {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.late++
	if now.Sub(l.lastAt) > LatenessWindow {
		l.worst = 0 // the previous episode is over
	}
	l.worst = max(l.worst, d)
	l.lastAt = now
}

// Starvation is the timer-lateness part of a node's status.
type Starvation struct {
	// Late counts timers fired at least StarvedLateness after they were
	// due, since the node started.
	Late uint64 `json:"late_timers"`
	// Worst is the worst lateness of the current episode: late timers
	// within LatenessWindow of each other. Zero when none is recent.
	Worst Duration `json:"worst_lateness,omitempty"`
	// Starved: a timer fired late within the last LatenessWindow.
	Starved bool `json:"starved,omitempty"`
}

func (l *lateness) snapshot(now time.Time) Starvation {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := Starvation{Late: l.late}
	if !l.lastAt.IsZero() && now.Sub(l.lastAt) <= LatenessWindow {
		s.Starved, s.Worst = true, Duration(l.worst)
	}
	return s
}
