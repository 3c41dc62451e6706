package live

// A Byzantine node at run time (issue 14, the chapter's section 5):
// POST /byzantine on the admin endpoint makes the runtime lie about the
// node's outgoing messages with one of package adversary's behaviours,
// the very decisions the simulator makes (sim/adversary.go), drawn from a
// random source seeded from the cluster's seed and the node's id. The
// protocol code still runs honestly; the runtime rewrites, drops, garbles,
// replays or forges what it sends, or (vote-for-everything) adds votes
// for what it hears. {"behaviour":"honest"} stops it.
//
// What the receivers do about it is the point: a forged sender needs a
// connection whose hello claims another node, which mutual TLS refuses
// because the certificate names the liar (counted as a refused
// connection, "tls identity"); garbage fails the decoder (counted as a
// rejected message); an equivocation or a replay is authentically the
// liar's, and only the protocol's quorums, digests and sequence numbers
// defend against it. Every lie is a note "byzantine" in the liar's trace
// (behaviour, recipient, kind, the message id it concerns, what changed),
// a silent node's sends appear dropped with reason "byzantine: silent",
// and each switch is an event "byzantine" in the cluster's fault log.

import (
	"container/heap"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"ordo"
	"ordo/adversary"
)

// Honest is the behaviour name that makes a liar honest again.
const Honest = "honest"

// ByzantineSetting is POST /byzantine's body: the behaviour (required:
// one of adversary.Behaviours, or "honest"), the probability of lying about one message (0: every
// one), Replay's delay (0: adversary.DefaultReplayAfter) and the sender
// Forge claims (0: adversary.Claim's choice).
type ByzantineSetting struct {
	Behaviour string   `json:"behaviour"`
	Rate      float64  `json:"rate,omitempty"`
	After     Duration `json:"after,omitempty"`
	As        int      `json:"as,omitempty"`
}

// Bounds of a setting and of the replays in flight.
const (
	maxReplayAfter = time.Minute
	// maxReplays bounds the messages a replaying node holds to send
	// again; beyond it a message is not replayed.
	maxReplays = 1024
	// replayTimer names the runtime's own timer of a replay (never a
	// protocol's: protocol timers are not under "ordo/").
	replayTimer = "ordo/byzantine-replay"
)

// ByzantineFlags says which behaviours take which part of a setting.
const ByzantineFlags = "rate is for every behaviour but honest, after for replay only, as for forge only"

// Check refuses a setting the runtime cannot follow, and one with a part
// its behaviour ignores (after with silent, rate with honest: see
// ByzantineFlags).
func (s ByzantineSetting) Check(n int, self ordo.NodeID) error {
	b := s.Behaviour
	// No behaviour is refused, not taken as honest: a body of {} or null
	// (a script's mistake) made a liar honest without a word.
	if b == "" {
		return fmt.Errorf(`missing field "behaviour": want one of %s, or %s to stop lying`, adversary.Names(), Honest)
	}
	switch {
	case s.Rate != 0 && b == Honest:
		return fmt.Errorf("rate %g with %s: an honest node lies about nothing (%s)", s.Rate, Honest, ByzantineFlags)
	case s.After != 0 && b != string(adversary.Replay):
		return fmt.Errorf("after %v with %s: only %s sends a message again after a while (%s)", time.Duration(s.After), b, adversary.Replay, ByzantineFlags)
	case s.As != 0 && b != string(adversary.Forge):
		return fmt.Errorf("as %d with %s: only %s claims another sender (%s)", s.As, b, adversary.Forge, ByzantineFlags)
	}
	if b == Honest {
		return nil
	}
	if _, err := adversary.Parse(b); err != nil {
		return fmt.Errorf("%v (or %s)", err, Honest)
	}
	// A rate out of range: "(or honest)" would answer another question.
	if err := (&adversary.Liar{Behaviour: adversary.Behaviour(b), Rate: s.Rate}).Check(); err != nil {
		return err
	}
	switch {
	case s.After < 0 || time.Duration(s.After) > maxReplayAfter:
		return fmt.Errorf("after %v out of range [0, %v]", time.Duration(s.After), maxReplayAfter)
	case s.As != 0 && (s.As < 1 || s.As > n || ordo.NodeID(s.As) == self):
		return fmt.Errorf("as %d: want another node of 1..%d", s.As, n)
	}
	return nil
}

// ByzantineStatus is what GET /status says of a liar: its behaviour now
// (honest when it stopped lying), and its lies since the node booted, in
// all (Lies) and by the behaviour it told them with (LiesBy), whatever it
// does now.
type ByzantineStatus struct {
	Behaviour string            `json:"behaviour"`
	Rate      float64           `json:"rate,omitempty"`
	Lies      uint64            `json:"lies"`
	LiesBy    map[string]uint64 `json:"lies_by,omitempty"`
}

// byzantine is the runtime's side: the setting the admin endpoint sets
// (any goroutine) and the liar the loop lies with (loop goroutine).
type byzantine struct {
	cur  atomic.Pointer[ByzantineSetting] // nil: honest
	lies atomic.Uint64
	// liesBy counts lies by behaviour (one counter each, made at init:
	// read-only map).
	liesBy map[adversary.Behaviour]*atomic.Uint64
	// Counted rejects of the node as a receiver, by reason: connections
	// refused (a forged hello) and messages the decoder refused.
	mu      sync.Mutex
	refused map[string]uint64

	metric *prometheus.CounterVec

	// Owned by the loop goroutine.
	seen    *ByzantineSetting
	liar    *adversary.Liar
	book    adversary.Book
	replays map[int64]byzReplay
	nextRep int64
}

type byzReplay struct {
	to      ordo.NodeID
	of      uint64
	kind    string
	payload []byte
}

func (r *Runtime) initByzantine() {
	r.byz.refused = map[string]uint64{}
	r.byz.liesBy = map[adversary.Behaviour]*atomic.Uint64{}
	for _, b := range adversary.Behaviours {
		r.byz.liesBy[b] = new(atomic.Uint64)
	}
	r.byz.metric = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ordo_byzantine_lies_total", Help: "Messages this node lied about (POST /byzantine), by behaviour."}, []string{"behaviour"})
	r.metrics.reg.MustRegister(r.byz.metric)
}

// SetByzantine makes the node lie with s from its next send (or honest).
func (r *Runtime) SetByzantine(s ByzantineSetting) error {
	if err := s.Check(r.n, r.id); err != nil {
		return err
	}
	if s.Behaviour == Honest {
		r.byz.cur.Store(nil)
		r.log.Info("byzantine: honest again")
		return nil
	}
	r.byz.cur.Store(&s)
	r.log.Warn("byzantine: lying", "behaviour", s.Behaviour, "rate", s.Rate)
	return nil
}

// liar is the loop's liar for the current setting (nil: honest). A new
// setting gets a new liar whose random source starts from the cluster's
// seed and the node's id, as the simulator's does.
func (r *Runtime) liar() *adversary.Liar {
	s := r.byz.cur.Load()
	if s != r.byz.seen {
		r.byz.seen = s
		r.byz.liar, r.byz.book = nil, adversary.Book{}
		if s != nil {
			r.byz.liar = adversary.NewLiar(r.cfg.Seed, r.id, adversary.Behaviour(s.Behaviour), s.Rate)
			r.byz.liar.Sign = r.Sign // its lies are signed by itself (sign.go)
		}
	}
	return r.byz.liar
}

// countLie counts one lie told with behaviour b.
func (r *Runtime) countLie(b adversary.Behaviour) {
	r.byz.lies.Add(1)
	if c := r.byz.liesBy[b]; c != nil {
		c.Add(1)
	}
	r.byz.metric.WithLabelValues(string(b)).Inc()
}

// noteLie counts one lie and notes it before the send it concerns (whose
// message id is the next one).
func (r *Runtime) noteLie(b adversary.Behaviour, to ordo.NodeID, kind string, attrs ...any) {
	r.countLie(b)
	next := uint64(r.id)<<40 | (r.msgSeq + 1)
	r.Note(adversary.NoteByzantine, append([]any{"behaviour", string(b), "to", int64(to), "kind", kind, "msg", int64(next)}, attrs...)...)
}

// lieSend is Send at a liar (loop goroutine): true when it sent m its
// own way, false to send it honestly.
func (r *Runtime) lieSend(to ordo.NodeID, m ordo.Message, early bool) bool {
	l := r.liar()
	if l == nil || !l.Lies() {
		return false
	}
	s := r.byz.seen
	switch l.Behaviour {
	case adversary.Silent:
		r.countLie(l.Behaviour)
		r.sendBytes(to, m.Kind(), r.encode(m), early, sendSilent, 0)
	case adversary.Equivocate:
		if lie, ok := l.Equivocate(m, to, &r.byz.book); ok {
			if adversary.Changed(m, lie) {
				r.noteLie(l.Behaviour, to, m.Kind(), "honest", adversary.Shown(m), "sent", adversary.Shown(lie))
			}
			r.sendBytes(to, m.Kind(), r.encode(lie), early, sendHonest, 0)
			return true
		}
		r.noteLie(l.Behaviour, to, m.Kind(), "honest", adversary.Shown(m), "sent", "its bytes with bits flipped")
		r.sendBytes(to, m.Kind(), adversary.Flip(r.encode(m), l.Rng), early, sendHonest, 0)
	case adversary.Garbage:
		kind := m.Kind()
		b := adversary.GarbageBytes(nil, len(r.encode(m)), l.Rng, func(b []byte) bool {
			_, err := r.codec.Decode(kind, b)
			return err == nil
		})
		r.noteLie(l.Behaviour, to, kind, "bytes", len(b))
		r.sendBytes(to, kind, b, early, sendHonest, 0)
	case adversary.Replay:
		payload := r.encode(m)
		id := r.sendBytes(to, m.Kind(), payload, early, sendHonest, 0)
		r.scheduleReplay(byzReplay{to: to, of: id, kind: m.Kind(), payload: payload}, time.Duration(s.After))
	case adversary.Forge:
		as := adversary.Claim(ordo.NodeID(s.As), r.id, to, r.roster.Servers, r.n)
		if as == 0 {
			return false // no third node to impersonate
		}
		r.noteLie(l.Behaviour, to, m.Kind(), "as", int64(as))
		r.sendBytes(to, m.Kind(), r.encode(m), early, sendForged, as)
	default: // vote-for-everything: its own messages are honest (heard adds votes)
		return false
	}
	return true
}

// lieToClient is what a liar answers a client API call instead of m:
// an equivocating node's lie about m (PBFT: a forged result to
// odd-numbered gateway ids), or nothing at all from a silent one
// (silent). The other behaviours lie to peers only.
func (r *Runtime) lieToClient(to ordo.NodeID, m ordo.Message) (lie ordo.Message, silent bool) {
	l := r.liar()
	if l == nil || (l.Behaviour != adversary.Silent && l.Behaviour != adversary.Equivocate) || !l.Lies() {
		return m, false
	}
	if l.Behaviour == adversary.Silent {
		r.countLie(l.Behaviour)
		return m, true
	}
	lie, ok := l.Equivocate(m, to, &r.byz.book)
	if ok && adversary.Changed(m, lie) {
		r.noteLie(l.Behaviour, to, m.Kind(), "honest", adversary.Shown(m), "sent", adversary.Shown(lie))
	}
	return lie, false
}

// heard is a liar's reaction to a message it received, after the
// protocol handled it: a vote-for-everything node's extra votes, each to
// every other server; an equivocating node's book of what it heard.
func (r *Runtime) heard(m ordo.Message) {
	l := r.liar()
	if l == nil {
		return
	}
	if l.Behaviour == adversary.Equivocate {
		r.byz.book.Add(m, r.id)
		return
	}
	for _, vote := range l.Votes(m) {
		for _, to := range r.roster.Servers {
			if to == r.id {
				continue
			}
			r.noteLie(l.Behaviour, to, vote.Kind(), "sent", adversary.Shown(vote), "heard", m.Kind())
			r.sendBytes(to, vote.Kind(), r.encode(vote), false, sendHonest, 0)
		}
	}
}

// scheduleReplay arms the replay of one message after d (0: the default).
func (r *Runtime) scheduleReplay(rp byzReplay, d time.Duration) {
	if d <= 0 {
		d = adversary.DefaultReplayAfter
	}
	if r.byz.replays == nil {
		r.byz.replays = map[int64]byzReplay{}
	}
	if len(r.byz.replays) >= maxReplays || len(r.timers) >= MaxTimers {
		return
	}
	r.byz.nextRep++
	r.byz.replays[r.byz.nextRep] = rp
	r.seqTimer++
	heap.Push(&r.timers, armed{at: time.Now().Add(d), seq: r.seqTimer, t: ordo.Timer{Name: replayTimer, Arg: r.byz.nextRep}})
}

// replay sends a held message again, now: an authentic old message (a
// new message id; the note names the original).
func (r *Runtime) replay(key int64) {
	rp, ok := r.byz.replays[key]
	if !ok {
		return
	}
	delete(r.byz.replays, key)
	r.noteLie(adversary.Replay, rp.to, rp.kind, "of", int64(rp.of))
	r.sendBytes(rp.to, rp.kind, rp.payload, true, sendHonest, 0) // it left once already, after its turn's fsync
}

// onRefused counts a refused inbound connection (a forged hello among
// them) for the status and the metrics; any goroutine.
func (r *Runtime) onRefused(reason string) {
	r.metrics.refused(reason)
	r.countReject("connection: " + reason)
}

func (r *Runtime) countReject(reason string) {
	r.byz.mu.Lock()
	if len(r.byz.refused) < 64 || r.byz.refused[reason] > 0 { // reasons are a fixed, small set
		r.byz.refused[reason]++
	}
	r.byz.mu.Unlock()
}

// rejects is the status's copy of the counted rejects.
func (r *Runtime) rejects() map[string]uint64 {
	r.byz.mu.Lock()
	defer r.byz.mu.Unlock()
	if len(r.byz.refused) == 0 {
		return nil
	}
	out := make(map[string]uint64, len(r.byz.refused))
	for k, v := range r.byz.refused {
		out[k] = v
	}
	return out
}

func (r *Runtime) byzantineStatus() *ByzantineStatus {
	s := r.byz.cur.Load()
	if s == nil && r.byz.lies.Load() == 0 {
		return nil
	}
	st := &ByzantineStatus{Behaviour: Honest}
	for b, c := range r.byz.liesBy {
		if n := c.Load(); n > 0 {
			if st.LiesBy == nil {
				st.LiesBy = map[string]uint64{}
			}
			st.LiesBy[string(b)] = n
			st.Lies += n // the whole is the sum of what is shown
		}
	}
	if s != nil {
		st.Behaviour, st.Rate = s.Behaviour, s.Rate
	}
	return st
}

// byzantineRoutes adds POST /byzantine to the admin endpoint.
func (r *Runtime) byzantineRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /byzantine", func(w http.ResponseWriter, req *http.Request) {
		var s ByzantineSetting
		if !decodeJSONBody(w, req, &s, "byzantine") {
			return
		}
		if err := r.SetByzantine(s); err != nil {
			http.Error(w, "byzantine: "+err.Error(), http.StatusBadRequest)
			return
		}
		writeJSON(w, r.Status())
	})
}

// Byzantine makes node id lie with s at run time (POST /byzantine), and
// logs it to the cluster's fault log.
func (c *Cluster) Byzantine(id ordo.NodeID, s ByzantineSetting) error {
	if err := c.RequireNode(id); err != nil {
		return err
	}
	if err := s.Check(c.N(), id); err != nil {
		return err
	}
	// A paused node's admin endpoint takes the request into its socket
	// and answers nothing: the call timed out, said it failed and logged
	// no switch, and the node took the behaviour when it resumed.
	if c.Paused(id) {
		return fmt.Errorf("node %d is paused (SIGSTOP): it would take the behaviour only once resumed, unlogged; resume it first (ordo cluster resume %d --dir %s)", id, id, c.Dir)
	}
	body, err := json.Marshal(s)
	if err != nil {
		return err
	}
	if err := c.adminPostBody(id, "/byzantine", string(body)); err != nil {
		return err
	}
	return LogFault(c.Cfg, c.now(), "byzantine", "node", int(id), "behaviour", s.Behaviour, "rate", s.Rate)
}

// formatRejects says what each node refused as a receiver: the runtime's
// rejects (forged connections, malformed messages), and the protocol's
// own refusals by reason when its state reports them (a PBFT replica's
// refused_by: the conflicting votes, bad certificates and stale views of
// a liar), duplicates apart: the same message again is mostly an honest
// retransmission, counted in a column of its own (PBFT's DUPLICATES), and
// would bury a liar's few refusals in every node's line.
func formatRejects(v []NodeView) string {
	var lines []string
	for _, nv := range v {
		if !nv.Up || nv.Status == nil {
			continue
		}
		// The reasons are the drop reasons ("rejected: truncated"):
		// under the heading "rejected:" the prefix says it twice.
		trimmed := make(map[string]uint64, len(nv.Status.Rejected))
		for reason, n := range nv.Status.Rejected {
			trimmed[strings.TrimPrefix(reason, "rejected: ")] += n
		}
		if parts := counts(trimmed); parts != "" {
			lines = append(lines, fmt.Sprintf("n%d rejected: %s", int(nv.ID), parts))
		}
		var st struct {
			RefusedBy map[string]uint64 `json:"refused_by"`
		}
		if len(nv.Status.State) > 0 && json.Unmarshal(nv.Status.State, &st) == nil {
			if parts := counts(st.RefusedBy); parts != "" {
				lines = append(lines, fmt.Sprintf("n%d refused (protocol): %s", int(nv.ID), parts))
			}
		}
	}
	return strings.Join(lines, "\n")
}

// counts is "reason n, ..." sorted by reason ("" for none).
func counts(m map[string]uint64) string {
	var parts []string
	for reason, n := range m {
		parts = append(parts, fmt.Sprintf("%s %d", reason, n))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// byzantineFault is the FAULTS column's word for a liar: its behaviour
// now, and its lies since boot by behaviour ("byzantine:silent(lies since
// boot: garbage 3, silent 12)"), so the lies of a behaviour it told
// before are not counted as the current one's; a node honest again that
// lied is "honest-again(lies since boot: ...)" (the merged trace names it
// a liar).
func byzantineFault(s *ByzantineStatus) string {
	if s == nil || s.Behaviour == Honest && s.Lies == 0 {
		return ""
	}
	word := "byzantine:" + s.Behaviour
	if s.Behaviour == Honest {
		word = "honest-again"
	}
	by := s.LiesBy
	if by == nil && s.Lies > 0 {
		by = map[string]uint64{"all": s.Lies} // a node of before lies_by
	}
	lies := "no lies yet"
	if parts := counts(by); parts != "" {
		lies = "lies since boot: " + parts
	}
	return fmt.Sprintf("%s(%s)", word, lies)
}
