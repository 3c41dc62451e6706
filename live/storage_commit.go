package live

import "sync"

// groupCommit is the event loop's side of the durability contract
// (ordo.Storage): what an event releases (messages, replies) is held until
// the fsync that covers the event's writes has returned.
//
// After each turn of the loop, endTurn hands the turn's records to the
// store's syncer (DiskStorage.handOff) and tags what the turn holds with
// the count of records handed so far; synced, called when the syncer
// reports an fsync, releases everything whose count is durable. The loop
// never waits for the disk, and the syncer never waits for the loop: it
// writes whatever was handed while it was busy with the next fsync. What
// a turn holds when nothing is unsynced (its events wrote nothing and
// depend on nothing unsynced) leaves at once. A failure is returned and
// the loop must stop (fail-stop): held releases never happen.
//
// The runtime holds transport envelopes in it; `ordo bench storage` holds
// its writers' replies (without direct release: the benchmark measures
// the loop's release path).
//
// Direct release: what direct accepts (a message for the transport, a
// reply to a client call) is released by the store's syncer itself, the
// moment its fsync has returned (syncerDone), rather than by the loop
// once it has woken to the syncer's signal: one goroutine hand-off less
// on the path of a follower's acknowledgement. The rest (a wake-up of the
// node) waits for the loop. Either way nothing leaves before the fsync
// that covers it has returned.
type groupCommit[T any] struct {
	store   *DiskStorage
	release func(T)
	// direct, when set, picks what the syncer may release itself (with
	// release, from the syncer's goroutine).
	direct func(T) bool

	next []T // held by the turn in progress (loop only)

	mu       sync.Mutex  // the syncer releases too
	waiting  []tagged[T] // handed, in order: released when durable
	head     int
	noDirect bool // direct release off (a paused node sends nothing)
}

type tagged[T any] struct {
	records uint64 // durable once the syncer has made this many records durable
	x       T
	gone    bool // released by the syncer
}

// hold keeps x until the writes made so far are durable.
func (g *groupCommit[T]) hold(x T) { g.next = append(g.next, x) }

// endTurn ends a turn of the loop: its records go to the syncer and what
// it holds waits for them (or leaves at once if nothing is unsynced).
func (g *groupCommit[T]) endTurn() error {
	target, err := g.store.handOff()
	if err != nil {
		return err
	}
	n, err := g.store.poll()
	if err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if target <= n && g.head == len(g.waiting) {
		for i, x := range g.next {
			g.release(x)
			g.next[i] = *new(T)
		}
	} else {
		for i, x := range g.next {
			g.waiting = append(g.waiting, tagged[T]{records: target, x: x})
			g.next[i] = *new(T)
		}
	}
	g.next = g.next[:0]
	return nil
}

// synced is called when the store's syncer reports an fsync (Syncing): it
// releases what is now durable.
func (g *groupCommit[T]) synced() error {
	n, err := g.store.poll()
	if err != nil {
		return err
	}
	g.mu.Lock()
	for g.head < len(g.waiting) && g.waiting[g.head].records <= n {
		if !g.waiting[g.head].gone {
			g.release(g.waiting[g.head].x)
		}
		g.waiting[g.head] = tagged[T]{}
		g.head++
	}
	if g.head == len(g.waiting) {
		g.waiting, g.head = g.waiting[:0], 0
	}
	g.mu.Unlock()
	return g.store.maybeCompact()
}

// syncerDone is the store's afterSync: on the syncer's goroutine, once n
// records are durable, it releases what direct accepts among what they
// cover, in order.
func (g *groupCommit[T]) syncerDone(n uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.noDirect || g.direct == nil {
		return
	}
	for i := g.head; i < len(g.waiting) && g.waiting[i].records <= n; i++ {
		w := &g.waiting[i]
		if !w.gone && g.direct(w.x) {
			g.release(w.x)
			w.x, w.gone = *new(T), true
		}
	}
	for g.head < len(g.waiting) && g.waiting[g.head].gone {
		g.waiting[g.head] = tagged[T]{}
		g.head++
	}
	if g.head == len(g.waiting) {
		g.waiting, g.head = g.waiting[:0], 0
	}
}

// setDirect turns direct release on or off; once it returns, the syncer
// releases nothing more until it is turned on again.
func (g *groupCommit[T]) setDirect(on bool) {
	g.mu.Lock()
	g.noDirect = !on
	g.mu.Unlock()
}

// flush makes everything durable and releases it (a graceful stop).
func (g *groupCommit[T]) flush() error {
	if err := g.endTurn(); err != nil {
		return err
	}
	if err := g.store.Commit(); err != nil {
		return err
	}
	return g.synced()
}

// takeHeld returns everything held and forgets it, and turns direct
// release off, under one lock: what a fail-stop or a failed commit keeps
// in is exactly what the syncer did not release (two calls would leave a
// gap in which it could send one of them after all).
func (g *groupCommit[T]) takeHeld() []T {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.noDirect = true
	var out []T
	for _, t := range g.waiting[g.head:] {
		if !t.gone {
			out = append(out, t.x)
		}
	}
	out = append(out, g.next...)
	g.next, g.waiting, g.head = nil, nil, 0
	return out
}
