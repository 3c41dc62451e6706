package lease

import (
	"strconv"
	"time"

	"ordo"
	"ordo/coord"
)

// Probing the predecessor's lease.
//
// A dead leader's key goes when etcd revokes its lease, and etcd's lessor
// looks for expired leases only every 500 ms: etcd's own recipe waits a
// quarter of a second on average, half a second at worst, past the TTL.
// The successor can do that revocation itself, at the expiry, if it can
// tell that the lease has certainly expired. etcd tells anyone how long a
// lease has left (LeaseTimeToLive), in whole seconds truncated toward
// zero, and never renews a lease past its deadline (lessor.Renew waits
// for the revocation). So, with TTL ≥ 2 s:
//
//   - an answer 0 at service time s0 means the deadline d < s0 + 1 s,
//     unless the lease is renewed later;
//   - a renewal at u sets the deadline to u + TTL, and an answer 0 at s
//     after it needs s − u > TTL − 1 s: two answers 0 less than TTL − 1 s
//     apart (a chain) prove that no renewal fell between them;
//   - a chain of answers 0 that starts at s0 and holds an answer to a
//     probe sent at or after s0 + 1 s proves d < that probe's service
//     time: the lease has expired, and no one can renew it any more.
//
// Times are on this node's clock, so the bounds are widened by both
// clocks' rate error (config.second, and the chain's gap is shortened by
// the drift margin, for the shortest TTL a node may hold). Probes are sent every `probe` while the answer is
// 1 s or less and the lease's last second is near; further out, one probe
// when the answer can first reach 1 s. The revocation is the lessor's own
// act, done sooner: it never shortens a lease.

// timerProbe wakes a waiting candidate to probe its predecessor's lease;
// Arg is the probe generation (a new predecessor starts a new one).
const timerProbe = "probe"

// NotePredRevoked: a candidate revoked its predecessor's lease, which had
// certainly expired ({lease, chain_ms}: how long its chain of probes ran).
const NotePredRevoked = "pred-revoked"

// probeState is a candidate's view of its predecessor's lease.
type probeState struct {
	lease int64         // the predecessor's lease (0: none to probe)
	gen   int64         // generation of the probe timer
	at    time.Duration // monotonic time of the last probe sent
	// The chain of answers 0: start is when its first answer arrived (0:
	// no chain), last when the latest probe in it was sent.
	start, last time.Duration
	revoked     bool // a Revoke was sent for this lease
}

// watchPred starts probing lease, the lease of the predecessor now
// watched (0: a key bound to no lease, which nothing can expire).
func (n *Node) watchPred(env ordo.Env, lease int64) {
	n.pl = probeState{lease: lease, gen: n.pl.gen + 1}
	n.probe(env)
}

// stopProbe ends probing (no predecessor watched any more).
func (n *Node) stopProbe() { n.pl = probeState{gen: n.pl.gen + 1} }

// probe asks how long the predecessor's lease has left.
func (n *Node) probe(env ordo.Env) {
	if n.cfg.probe == 0 || n.pl.lease == 0 || n.pl.revoked || n.ph != phWatch {
		return
	}
	n.pl.at = env.Monotonic()
	n.send(env, opProbe, coord.TimeToLive{Lease: n.pl.lease})
}

// probeAfter arms the next probe d from now.
func (n *Node) probeAfter(env ordo.Env, d time.Duration) {
	env.After(d, ordo.Timer{Name: timerProbe, Arg: n.pl.gen})
}

// probed takes a TimeToLive answer about the predecessor's lease.
func (n *Node) probed(env ordo.Env, p pending, r coord.Reply) {
	if p.sess != n.sess || n.ph != phWatch || p.lease != n.pl.lease || n.pl.lease == 0 || n.pl.revoked {
		return // about a predecessor or session given up
	}
	now := env.Monotonic()
	switch {
	case r.Err == coord.ErrNoLease:
		// Gone already: its key went with it, and the watch says so.
		n.stopProbe()
		return
	case r.Err != coord.OK:
		// Unavailable: no evidence either way; the chain's gap bound
		// breaks it if the answers stay away too long.
		n.probeAfter(env, n.cfg.probe)
		return
	case r.TTL >= 1:
		n.pl.start, n.pl.last = 0, 0 // renewed, or not near its end
		if r.TTL >= 2 {
			// At least r.TTL s left: the answer cannot be 0 before
			// r.TTL − 1 s from now.
			n.probeAfter(env, max(time.Duration(r.TTL-1)*time.Second-n.cfg.driftMargin(), n.cfg.probe))
			return
		}
		n.probeAfter(env, n.cfg.probe)
		return
	}
	// An answer 0. The predecessor's TTL is not known here (nodes may be
	// configured apart): the gap that rules out a renewal is taken for
	// the shortest TTL any node may hold.
	const minTTL = coord.MinTTLSeconds * time.Second
	gap := minTTL - n.cfg.second() - n.cfg.drift(minTTL)
	if n.pl.start == 0 || p.sent < n.pl.last || now-n.pl.last >= gap {
		// A new chain (or a late answer out of order, or one too far
		// from the last to rule out a renewal between them).
		if p.sent >= n.pl.last {
			n.pl.start, n.pl.last = now, p.sent
		}
		n.probeAfter(env, n.cfg.probe)
		return
	}
	n.pl.last = p.sent
	if p.sent < n.pl.start+n.cfg.second() {
		n.probeAfter(env, min(n.cfg.probe, max(n.pl.start+n.cfg.second()-now, 0)))
		return
	}
	// Certainly expired: do the lessor's work now.
	n.pl.revoked = true
	env.Note(NotePredRevoked, "lease", strconv.FormatInt(n.pl.lease, 16), "chain_ms", (now - n.pl.start).Milliseconds())
	n.send(env, opRevoke, coord.Revoke{Lease: n.pl.lease})
}
