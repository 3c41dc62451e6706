package etcdsvc

// A node whose adapter cannot reach etcd gets only ErrUnavailable: the
// lease election then stays a candidate, correctly, and says nothing a
// user would see. So the adapter says it in the node's log (its standard
// error: DIR/nodeN/node.log under ordo cluster up), rate-limited: a WARN
// once WarnAfter calls in a row got no answer, again at most every
// WarnEvery while that lasts, and an INFO when etcd answers again.

import (
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"ordo"
	"ordo/coord"
)

// Bounds of the unreachable-etcd warning.
const (
	// WarnAfter is how many calls in a row must end ErrUnavailable
	// before the adapter warns (one lost call is not news).
	WarnAfter = 3
	// WarnEvery is the least time between two warnings of one outage.
	WarnEvery = 30 * time.Second
)

// health counts one connection's calls in a row that got no answer.
type health struct {
	log       *slog.Logger
	endpoints string

	mu     sync.Mutex
	fails  int       // calls in a row ended ErrUnavailable
	since  time.Time // the first of them
	warned time.Time // the last warning of this outage (zero: none yet)
	last   error     // the latest client error
	warns  int       // warnings logged (tests read it)
}

// newHealth logs to w. The runtime's logger does not reach an adapter
// (live.ServiceDial takes none): a text handler on the node's standard
// error writes the runtime's own log format into the node's log.
func newHealth(w io.Writer, self, id ordo.NodeID, eps []string) *health {
	log := slog.New(slog.NewTextHandler(w, nil)).With("node", int(self), "service", int(id))
	return &health{log: log, endpoints: strings.Join(eps, ",")}
}

// code is Code(err), counting an ErrUnavailable for the warning unless the
// connection is closing (its calls end for that reason, not etcd's).
func (c *conn) code(err error) uint8 {
	k := Code(err)
	if k == coord.ErrUnavailable && c.ctx.Err() == nil {
		c.health.failed(err, time.Now())
	}
	return k
}

// answered notes that etcd answered request m with r: any answer but
// ErrUnavailable, except those the adapter makes itself (an Unwatch, a
// request it refuses as bad), which say nothing of etcd.
func (c *conn) answered(m, r ordo.Message) {
	if _, local := m.(coord.Unwatch); local {
		return
	}
	if rep, ok := r.(coord.Reply); ok && (rep.Err == coord.ErrUnavailable || rep.Err == coord.ErrBadRequest) {
		return
	}
	c.health.ok(time.Now())
}

func (h *health) failed(err error, now time.Time) {
	h.mu.Lock()
	h.fails++
	if h.fails == 1 {
		h.since = now
	}
	h.last = err
	warn := h.fails >= WarnAfter && (h.warned.IsZero() || now.Sub(h.warned) >= WarnEvery)
	fails, since := h.fails, h.since
	if warn {
		h.warned = now
		h.warns++
	}
	h.mu.Unlock()
	if warn {
		h.log.Warn("cannot reach etcd: its calls get no answer, so the node can neither campaign, lead nor write while this lasts (is etcd running there? does TLS match?)",
			"endpoints", h.endpoints, "failed_calls", fails, "for", now.Sub(since).Round(time.Millisecond), "err", err)
	}
}

func (h *health) ok(now time.Time) {
	h.mu.Lock()
	fails, since, warned := h.fails, h.since, !h.warned.IsZero()
	h.fails, h.warned, h.last = 0, time.Time{}, nil
	h.mu.Unlock()
	if warned {
		h.log.Info("etcd answers again", "endpoints", h.endpoints, "failed_calls", fails, "for", now.Sub(since).Round(time.Millisecond))
	}
}

// warnings is how many warnings h has logged.
func (h *health) warnings() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.warns
}
