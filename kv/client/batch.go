package client

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"ordo/kv/api"
)

// Client-side batching. Goroutines that write through one Client at the
// same time share HTTP requests: a write that finds fewer than
// Config.BatchInflight requests in flight to its server leaves at once,
// with whatever waits beside it; one that finds them all busy waits for
// the first to come back and leaves in the next batch (POST
// /v1/kv/batch). A lone writer pays nothing; under load the server gets
// one request, one turn of its event loop, one AppendEntries per follower
// and one fsync per node for many writes, which is where a replicated
// log's cost lies (group commit, moved to the client's side).

// Bounds of a batch.
const (
	// DefaultBatchInflight is Config.BatchInflight's default: one batch
	// at a time, so that writers gather while it is out.
	DefaultBatchInflight = 1
	// DefaultLinger is Config.Linger's default: long enough for writers
	// woken together to queue again on a loaded machine, short beside a
	// replicated fsync.
	DefaultLinger = 500 * time.Microsecond
	// maxLinger bounds Config.Linger.
	maxLinger = 100 * time.Millisecond
	// maxBatchInflight bounds Config.BatchInflight.
	maxBatchInflight = 64
	// maxBatchRespBytes bounds a batch's answer: MaxBatch answers of puts
	// and deletes (no value; a short error at most).
	maxBatchRespBytes = api.MaxBatch * (4 << 10)
)

// pending is one write waiting for its batch's answer.
type pending struct {
	body []byte
	done chan attemptResult // buffered: the batch never blocks on it
}

// attemptResult is one attempt's outcome, as post returns it.
type attemptResult struct {
	r    api.Response
	code int
	sent bool
	err  error
}

// batcher gathers the writes to one server.
type batcher struct {
	c  *Client
	ep string

	mu       sync.Mutex
	queue    []*pending
	inflight int // batches being sent
	// expect is how many writers took part in the last round: the
	// batch's and those queued when it came back. The next batch waits
	// (at most Linger) until that many are queued, so that writers who
	// all came back together leave together rather than as a first
	// batch of one and a second of the rest.
	expect int
	full   chan struct{} // closed when the queue reaches expect; nil: nobody waits
	idle   []*batchConn  // its own connections, idle (batchconn.go)
	closed bool          // Client.Close: no connection is kept
}

// batcherOf is ep's batcher, made on first use.
func (c *Client) batcherOf(ep string) *batcher {
	c.bmu.Lock()
	defer c.bmu.Unlock()
	b := c.batchers[ep]
	if b == nil {
		b = &batcher{c: c, ep: ep}
		c.batchers[ep] = b
	}
	return b
}

// BatchStats count what the batcher sent.
type BatchStats struct {
	Requests int64 // HTTP requests the batcher sent (a batch of one included)
	Writes   int64 // writes they carried (a write sent again after a not-leader answer counts again)
}

// batchStats are BatchStats' counters.
type batchStats struct{ requests, batched atomic.Int64 }

// BatchStats is what the client's batching has sent so far: Writes/Requests
// is the mean batch.
func (c *Client) BatchStats() BatchStats {
	return BatchStats{Requests: c.stats.requests.Load(), Writes: c.stats.batched.Load()}
}

// postBatched is post through ep's batcher. The attempt's deadline is
// ctx's and the batch's own (AttemptTimeout from when it leaves); a write
// whose ctx ends first is reported as possibly sent.
func (c *Client) postBatched(ctx context.Context, ep string, body []byte) (api.Response, int, bool, error) {
	b := c.batcherOf(ep)
	p := &pending{body: body, done: make(chan attemptResult, 1)}
	b.mu.Lock()
	b.queue = append(b.queue, p)
	if b.full != nil && len(b.queue) >= b.expect {
		close(b.full)
		b.full = nil
	}
	start := b.inflight < c.cfg.BatchInflight
	if start {
		b.inflight++
	}
	b.mu.Unlock()
	if start {
		go b.run()
	}
	select {
	case a := <-p.done:
		return a.r, a.code, a.sent, a.err
	case <-ctx.Done():
		return api.Response{}, 0, true, ctx.Err()
	}
}

// run sends batches until the queue is empty, then retires.
func (b *batcher) run() {
	waited := false
	for {
		b.mu.Lock()
		if len(b.queue) == 0 {
			b.inflight--
			b.mu.Unlock()
			return
		}
		if !waited && len(b.queue) < min(b.expect, api.MaxBatch) && b.c.cfg.Linger > 0 {
			// Fewer writers than last round: give the others a moment.
			full := make(chan struct{})
			b.full = full
			b.mu.Unlock()
			t := time.NewTimer(b.c.cfg.Linger)
			select {
			case <-full:
			case <-t.C:
			}
			t.Stop()
			waited = true
			b.mu.Lock()
			if b.full == full {
				b.full = nil
			}
			b.mu.Unlock()
			continue
		}
		waited = false
		batch := b.take()
		b.mu.Unlock()
		b.send(batch)
		b.mu.Lock()
		b.expect = len(batch) + len(b.queue)
		b.mu.Unlock()
	}
}

// take removes the next batch from the queue (b.mu held): up to MaxBatch
// writes and MaxBodyBytes of body, at least one.
func (b *batcher) take() []*pending {
	n, size := 0, 2
	for n < len(b.queue) && n < api.MaxBatch {
		s := len(b.queue[n].body) + 1
		if n > 0 && size+s > api.MaxBodyBytes {
			break
		}
		size += s
		n++
	}
	batch := make([]*pending, n)
	copy(batch, b.queue[:n])
	rest := copy(b.queue, b.queue[n:])
	clear(b.queue[rest:])
	b.queue = b.queue[:rest]
	return batch
}

// send posts one batch and hands each write its answer. A batch of one is
// an ordinary POST /v1/kv.
func (b *batcher) send(batch []*pending) {
	b.c.stats.requests.Add(1)
	b.c.stats.batched.Add(int64(len(batch)))
	ctx, cancel := context.WithTimeout(context.Background(), b.c.cfg.AttemptTimeout)
	defer cancel()
	if len(batch) == 1 {
		r, code, sent, err := b.post(ctx, batch[0].body)
		batch[0].done <- attemptResult{r, code, sent, err}
		return
	}
	bodies := make([][]byte, len(batch))
	for i, p := range batch {
		bodies[i] = p.body
	}
	answers, r, code, sent, err := b.postBatch(ctx, api.EncodeBatch(bodies))
	for i, p := range batch {
		switch {
		case err != nil || code != http.StatusOK:
			// Refused or lost whole: each write has the batch's outcome.
			p.done <- attemptResult{r, code, sent, err}
		case len(answers) != len(batch):
			p.done <- attemptResult{sent: true, err: fmt.Errorf("%s: a batch of %d writes answered with %d answers", b.ep, len(batch), len(answers))}
		default:
			p.done <- attemptResult{r: answers[i].Response, code: answers[i].Code, sent: true}
		}
	}
}

// post sends a batch of one as an ordinary POST /v1/kv, on the
// batcher's own connection.
func (b *batcher) post(ctx context.Context, body []byte) (r api.Response, code int, sent bool, err error) {
	data, code, sent, err := b.exchangeOwn(ctx, "/v1/kv", body, maxRespBytes)
	if err != nil {
		return r, 0, sent, err
	}
	if err := decodeResponse(data, code, &r); err != nil {
		return r, 0, true, err
	}
	return r, code, true, nil
}

// postBatch sends one POST /v1/kv/batch on the batcher's own connection.
// On a 200 answers holds one answer per request; otherwise r and code
// are the refusal of the whole.
func (b *batcher) postBatch(ctx context.Context, body []byte) (answers []api.BatchAnswer, r api.Response, code int, sent bool, err error) {
	data, code, sent, err := b.exchangeOwn(ctx, "/v1/kv/batch", body, maxBatchRespBytes)
	if err != nil {
		return nil, r, 0, sent, err
	}
	if code != http.StatusOK {
		if err := decodeResponse(data, code, &r); err != nil {
			return nil, r, 0, true, err
		}
		return nil, r, code, true, nil
	}
	if answers, err = api.DecodeBatchAnswers(data); err != nil {
		return nil, r, 0, true, fmt.Errorf("a batch answer that is not the API's JSON: %.200q", data)
	}
	return answers, r, http.StatusOK, true, nil
}
