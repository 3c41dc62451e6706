package election

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"ordo"
)

// Watch is what Bully and Ring share besides their messages: a leader's
// heartbeat, the followers' failure detector, the quorum gate and its lease.
// Each protocol lists its own options (ordo.Option, with its own help);
// ParseWatch reads the ones of these names.
type Watch struct {
	Heartbeat time.Duration // "heartbeat": the leader's interval
	Timeout   time.Duration // "timeout": the detector's; with quorum also a promise's length
	Jitter    time.Duration // "suspect_jitter"
	Answer    time.Duration // "answer_timeout"
	Coord     time.Duration // "coordinator_timeout"
	First     ordo.NodeID   // "first_detector" (None: nobody is favoured)
	Quorum    bool          // "quorum"
}

// ParseWatch reads c's options heartbeat, timeout, suspect_jitter,
// answer_timeout, coordinator_timeout, first_detector and quorum, and
// checks their floors and order; errors name protocol.
func ParseWatch(protocol string, c ordo.Config) (Watch, error) {
	w := Watch{
		Heartbeat: c.Opts.Duration("heartbeat"),
		Timeout:   c.Opts.Duration("timeout"),
		Jitter:    c.Opts.Duration("suspect_jitter"),
		Answer:    c.Opts.Duration("answer_timeout"),
		Coord:     c.Opts.Duration("coordinator_timeout"),
		Quorum:    c.Opts.Bool("quorum"),
	}
	if err := CheckTimers(protocol,
		TimerOption{Name: "heartbeat", D: w.Heartbeat, Floor: MinHeartbeat},
		TimerOption{Name: "timeout", D: w.Timeout, Floor: MinTimeout},
		TimerOption{Name: "suspect_jitter", D: w.Jitter, Floor: 0},
		TimerOption{Name: "answer_timeout", D: w.Answer, Floor: MinTimeout},
		TimerOption{Name: "coordinator_timeout", D: w.Coord, Floor: MinTimeout}); err != nil {
		return Watch{}, err
	}
	if w.Timeout <= w.Heartbeat {
		return Watch{}, fmt.Errorf("%s: option timeout=%v must be longer than heartbeat=%v", protocol, w.Timeout, w.Heartbeat)
	}
	if v := c.Opts.String("first_detector"); v != "none" && v != "" {
		first, err := strconv.Atoi(v)
		if err != nil || first < 1 || first > c.N {
			return Watch{}, fmt.Errorf("%s: first_detector %q is not a node of 1..%d (or none)", protocol, v, c.N)
		}
		w.First = ordo.NodeID(first)
	}
	return w, nil
}

// Lease is how long a leader may lead after sending a round that a
// majority acknowledged: a tenth less than the followers' promise
// (Timeout), so clocks that drift apart by up to ±5% keep it safe. Both
// run on monotonic timers; clock jumps do not move them.
func (w Watch) Lease() time.Duration { return w.Timeout - w.Timeout/10 }

// SuspectAfter is the failure-detector timeout of node id: Timeout, or
// twice that when First names another node (so that First detects a
// failure before everyone else, as in the chapter's figures), plus up to
// Jitter unless id is First.
func (w Watch) SuspectAfter(r *rand.Rand, id ordo.NodeID) time.Duration {
	d := w.Timeout
	switch w.First {
	case ordo.None:
	case id:
		return d
	default:
		d *= 2
	}
	if w.Jitter > 0 {
		d += time.Duration(r.Int64N(int64(w.Jitter)))
	}
	return d
}

// Epoch is the highest epoch a Bully or Ring node has seen, durable under
// its storage key: See writes a new one before any message that carries
// it can leave.
type Epoch struct {
	N   uint64
	key string
}

// NewEpoch returns an epoch stored under key.
func NewEpoch(key string) Epoch { return Epoch{key: key} }

// Load reads the durable epoch at boot.
func (e *Epoch) Load(env ordo.Env) {
	if w, ok := LoadWords(env, e.key, 1); ok {
		e.N = w[0]
	}
}

// See raises the epoch to n, durably, if n is newer.
func (e *Epoch) See(env ordo.Env, n uint64) {
	if n <= e.N {
		return
	}
	if n > ordo.MaxTerm {
		// Only reachable from MaxTerm by epoch+1: peers would refuse it
		// and the next boot would not believe it, so never store it.
		env.Note("term-exhausted", "term", n, "bound", uint64(ordo.MaxTerm))
		return
	}
	e.N = n
	var v [8]byte
	binary.BigEndian.PutUint64(v[:], n)
	env.Store().Put(e.key, v[:])
}
