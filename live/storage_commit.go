package live

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
// its writers' replies, so the benchmark measures this very code.
type groupCommit[T any] struct {
	store   *DiskStorage
	release func(T)
	next    []T         // held by the turn in progress
	waiting []tagged[T] // handed, in order: released when durable
	head    int
}

type tagged[T any] struct {
	records uint64 // durable once the syncer has made this many records durable
	x       T
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
	if target <= n && g.head == len(g.waiting) {
		for i, x := range g.next {
			g.release(x)
			g.next[i] = *new(T)
		}
	} else {
		for i, x := range g.next {
			g.waiting = append(g.waiting, tagged[T]{target, x})
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
	for g.head < len(g.waiting) && g.waiting[g.head].records <= n {
		g.release(g.waiting[g.head].x)
		g.waiting[g.head] = tagged[T]{}
		g.head++
	}
	if g.head == len(g.waiting) {
		g.waiting, g.head = g.waiting[:0], 0
	}
	return g.store.maybeCompact()
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

// held returns everything held (to record what a fail-stop keeps in).
func (g *groupCommit[T]) held() []T {
	var out []T
	for _, t := range g.waiting[g.head:] {
		out = append(out, t.x)
	}
	return append(out, g.next...)
}

// drop forgets everything held.
func (g *groupCommit[T]) drop() { g.next, g.waiting, g.head = nil, nil, 0 }
