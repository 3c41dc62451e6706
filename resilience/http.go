package resilience

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// IdempotencyKeyHeader is the request header of the IETF
// "The Idempotency-Key HTTP Header Field" draft.
const IdempotencyKeyHeader = "Idempotency-Key"

// ReplayedHeader marks a response replayed from the table rather than
// produced by running the request again.
const ReplayedHeader = "Idempotent-Replayed"

// HandlerOptions configures IdempotencyHandler. The zero value is usable.
type HandlerOptions struct {
	// Clock stamps table operations (default SystemClock()).
	Clock Clock
	// Methods are the methods the handler guards (default POST and
	// PATCH: the methods HTTP does not already make idempotent). Others
	// pass straight through.
	Methods []string
	// Required answers 400 to a guarded request without a key; off, such
	// a request passes through unguarded.
	Required bool
	// MaxBody bounds the request body read to fingerprint it (bytes;
	// default 1 MiB): a longer body gets 413.
	MaxBody int64
	// Fingerprint identifies a request's content (default: method, path
	// with query, body). Same key, other fingerprint: 422.
	Fingerprint func(r *http.Request, body []byte) Fingerprint
	// Forget says which statuses mean "not processed, nothing happened",
	// so the key is released for a retry instead of replaying the status
	// (default: 429 and 503; the handler promises it made no effect when
	// it answers those).
	Forget func(status int) bool
}

// IdempotencyHandler guards h with table, following the IETF
// Idempotency-Key draft: a guarded request carrying a key runs h at most
// once per key; a repeat with the same payload gets the stored response
// with ReplayedHeader "true". Its answers of its own: 400 (key missing
// when Required, or empty or longer than the table's MaxKeyLen), 413
// (body over MaxBody), 422 (key reused with another payload), 409 (the
// key's first request is still in progress, or a crash left it unknown),
// 503 with Retry-After (table full), 500 (a storage Sync error, or the
// first response was not kept). The handler locks around table: do not
// use table elsewhere at the same time. If h panics the claim stays in
// progress (it may have had an effect) and the panic goes on.
func IdempotencyHandler(h http.Handler, table *Table, opts HandlerOptions) http.Handler {
	if opts.Clock == nil {
		opts.Clock = SystemClock()
	}
	if opts.Methods == nil {
		opts.Methods = []string{http.MethodPost, http.MethodPatch}
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = 1 << 20
	}
	if opts.Fingerprint == nil {
		opts.Fingerprint = func(r *http.Request, body []byte) Fingerprint {
			return FingerprintOf([]byte(r.Method), []byte(r.URL.RequestURI()), body)
		}
	}
	if opts.Forget == nil {
		opts.Forget = func(s int) bool { return s == http.StatusTooManyRequests || s == http.StatusServiceUnavailable }
	}
	return &idemHandler{h: h, t: table, o: opts}
}

type idemHandler struct {
	h  http.Handler
	t  *Table
	o  HandlerOptions
	mu sync.Mutex
}

func (ih *idemHandler) guarded(m string) bool {
	for _, x := range ih.o.Methods {
		if x == m {
			return true
		}
	}
	return false
}

func (ih *idemHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !ih.guarded(r.Method) {
		ih.h.ServeHTTP(w, r)
		return
	}
	key, present := idempotencyKey(r.Header)
	if !present {
		if ih.o.Required {
			http.Error(w, "Idempotency-Key header required", http.StatusBadRequest)
			return
		}
		ih.h.ServeHTTP(w, r)
		return
	}
	var body []byte
	if r.Body != nil {
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, ih.o.MaxBody))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			} else {
				http.Error(w, "reading request body: "+err.Error(), http.StatusBadRequest)
			}
			return
		}
		body = b
	}
	fp := ih.o.Fingerprint(r, body)
	ih.mu.Lock()
	c, err := ih.t.Begin(AtTime(ih.o.Clock.Monotonic()), key, fp)
	ih.mu.Unlock()
	switch {
	case errors.Is(err, ErrKeyInvalid):
		http.Error(w, "Idempotency-Key empty or too long", http.StatusBadRequest)
		return
	case errors.Is(err, ErrKeyReused):
		http.Error(w, "Idempotency-Key reused with a different request", http.StatusUnprocessableEntity)
		return
	case errors.Is(err, ErrInProgress):
		http.Error(w, "a request with this Idempotency-Key is in progress", http.StatusConflict)
		return
	case errors.Is(err, ErrTableFull):
		w.Header().Set("Retry-After", "1")
		http.Error(w, "idempotency table full", http.StatusServiceUnavailable)
		return
	case err != nil:
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	case c.Replay:
		resp, err := decodeResponse(c.Response)
		if err != nil {
			http.Error(w, "stored response: "+err.Error(), http.StatusInternalServerError)
			return
		}
		for k, vs := range resp.header {
			w.Header()[k] = vs
		}
		w.Header().Set(ReplayedHeader, "true")
		w.WriteHeader(resp.status)
		w.Write(resp.body)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := &recorder{w: w, limit: ih.t.Config().MaxResponseLen}
	ih.h.ServeHTTP(rec, r) // a panic leaves the claim in progress
	if rec.hijacked {
		return // the handler took the connection: its outcome is unknown
	}
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	ih.mu.Lock()
	defer ih.mu.Unlock()
	if ih.o.Forget(rec.status) {
		ih.t.Abort(key)
		return
	}
	now := AtTime(ih.o.Clock.Monotonic())
	if rec.over {
		ih.t.finishLost(now, key) // replays get 500: never run twice
		return
	}
	// A Finish error is a Sync failure or a response too large to keep:
	// either way the client already has its answer.
	ih.t.Finish(now, key, encodeResponse(nil, rec.status, rec.header, rec.body.Bytes()))
}

// RequestDeadline starts, at now (monotonic), the deadline r carries in
// DeadlineHeader, less margin; NoDeadline if it carries none. Errors are
// ParseTimeout's.
func RequestDeadline(r *http.Request, now, margin time.Duration) (Deadline, error) {
	return ParseDeadline(now, r.Header.Get(DeadlineHeader), margin)
}

// idempotencyKey reads the header, accepting the draft's sf-string form
// ("…") and a bare token.
func idempotencyKey(h http.Header) (string, bool) {
	v := h.Values(IdempotencyKeyHeader)
	if len(v) == 0 {
		return "", false
	}
	k := strings.TrimSpace(v[0])
	if len(k) >= 2 && k[0] == '"' && k[len(k)-1] == '"' {
		k = k[1 : len(k)-1]
	}
	return k, true
}

// recorder passes a response through and keeps a copy of it up to limit
// bytes for the table.
type recorder struct {
	w        http.ResponseWriter
	status   int
	header   http.Header
	body     bytes.Buffer
	limit    int
	over     bool
	hijacked bool
}

func (r *recorder) Header() http.Header { return r.w.Header() }

func (r *recorder) WriteHeader(s int) {
	if r.status != 0 {
		return
	}
	r.status = s
	r.header = r.w.Header().Clone()
	r.w.WriteHeader(s)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.WriteHeader(http.StatusOK)
	}
	if !r.over {
		if r.body.Len()+len(b) > r.limit {
			r.over = true
			r.body = bytes.Buffer{}
		} else {
			r.body.Write(b)
		}
	}
	return r.w.Write(b)
}

func (r *recorder) Flush() {
	if f, ok := r.w.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack passes the connection to the handler; the request's outcome is
// then unknown to the table, so its claim stays in progress.
func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := r.w.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("resilience: the ResponseWriter cannot be hijacked")
	}
	r.hijacked = true
	return hj.Hijack()
}

type storedResponse struct {
	status int
	header http.Header
	body   []byte
}

// Stored response format: uvarint status, uvarint header lines, each a
// uvarint-prefixed name and value, then the body.
const maxStoredHeaders = 256

func encodeResponse(dst []byte, status int, h http.Header, body []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(status))
	n := 0
	for k, vs := range h {
		if k == "Date" || k == "Content-Length" {
			continue
		}
		n += len(vs)
	}
	dst = binary.AppendUvarint(dst, uint64(n))
	for k, vs := range h {
		if k == "Date" || k == "Content-Length" {
			continue
		}
		for _, v := range vs {
			dst = binary.AppendUvarint(dst, uint64(len(k)))
			dst = append(dst, k...)
			dst = binary.AppendUvarint(dst, uint64(len(v)))
			dst = append(dst, v...)
		}
	}
	return append(dst, body...)
}

func decodeResponse(b []byte) (storedResponse, error) {
	var r storedResponse
	bad := func(what string) (storedResponse, error) {
		return storedResponse{}, fmt.Errorf("resilience: stored response: %s", what)
	}
	uv := func() (uint64, bool) {
		v, n := uvarint(b)
		if n <= 0 {
			return 0, false
		}
		b = b[n:]
		return v, true
	}
	str := func() (string, bool) {
		n, ok := uv()
		if !ok || n > uint64(len(b)) {
			return "", false
		}
		s := string(b[:n])
		b = b[n:]
		return s, true
	}
	st, ok := uv()
	if !ok || st < 100 || st > 999 {
		return bad("status")
	}
	r.status = int(st)
	n, ok := uv()
	if !ok || n > maxStoredHeaders {
		return bad("header count")
	}
	r.header = http.Header{}
	for i := uint64(0); i < n; i++ {
		k, ok1 := str()
		v, ok2 := str()
		if !ok1 || !ok2 || k == "" {
			return bad("header line")
		}
		r.header[k] = append(r.header[k], v)
	}
	r.body = b
	return r, nil
}

// Transport is an http.RoundTripper that retries, trips a circuit breaker
// and propagates deadlines: section 5's strategies on the client side.
//
//   - It retries only requests safe to repeat: idempotent methods (GET,
//     HEAD, OPTIONS, TRACE, PUT, DELETE) and requests carrying an
//     Idempotency-Key; and only if their body can be replayed (no body,
//     or Request.GetBody set, as http.NewRequest does for in-memory
//     bodies).
//   - Connection errors, 5xx (but 501) and 409 on a keyed request are
//     failures to retry; 429 and 503 are throttling, honouring
//     Retry-After (seconds or an HTTP date); other statuses are answers.
//     A canceled context is not a failure (an expired one is: the
//     server was too slow).
//   - The request context's deadline becomes a Deadline: no attempt
//     starts past it, and each attempt carries the time remaining (less
//     DeadlineMargin) in DeadlineHeader.
//   - Breaker, if set, is asked before every attempt: open, the request
//     fails at once with an error wrapping ErrOpen or ErrProbes.
//
// Its state machines are shared by every request and locked; Rand must
// not be used elsewhere.
type Transport struct {
	// Base sends the attempts (default http.DefaultTransport).
	Base http.RoundTripper
	// Clock reads time for the state machines (default SystemClock()).
	Clock Clock
	// Rand draws the jitter: a seeded source (default seeded from the
	// clock reading at first use).
	Rand *rand.Rand
	// Policy is the retry policy; its Deadline is ignored (each request's
	// comes from its context) and its Budget is shared by all requests.
	Policy RetryPolicy
	// Breaker, if set, guards every attempt.
	Breaker *Breaker
	// DeadlineMargin is subtracted from the time remaining sent to the
	// server (a duration ≥ 0: the reply's way back).
	DeadlineMargin time.Duration
	// OnRetry, if set, is called before each wait (for logs and tests).
	OnRetry func(attempt int, wait time.Duration, cause error)

	mu   sync.Mutex
	once sync.Once
}

func (t *Transport) init() {
	t.once.Do(func() {
		if t.Base == nil {
			t.Base = http.DefaultTransport
		}
		if t.Clock == nil {
			t.Clock = SystemClock()
		}
		if t.Rand == nil {
			s := uint64(time.Now().UnixNano())
			t.Rand = rand.New(rand.NewPCG(s, s>>1|1))
		}
	})
}

func retryableRequest(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
	default:
		if _, ok := idempotencyKey(r.Header); !ok {
			return false
		}
	}
	return r.Body == nil || r.Body == http.NoBody || r.GetBody != nil
}

// classify turns one attempt's result into an Outcome.
func classify(req *http.Request, resp *http.Response, err error) Outcome {
	if err != nil {
		// The caller giving up is not the server's fault; its deadline
		// running out is (too slow), and Retry.Next then stops on it.
		if errors.Is(req.Context().Err(), context.Canceled) {
			return Outcome{Kind: Canceled}
		}
		return Outcome{Kind: Failed}
	}
	switch s := resp.StatusCode; {
	case s == http.StatusTooManyRequests || s == http.StatusServiceUnavailable:
		return Outcome{Kind: Throttled, RetryAfter: retryAfter(resp.Header.Get("Retry-After"))}
	case s == http.StatusConflict && req.Header.Get(IdempotencyKeyHeader) != "":
		return Outcome{Kind: Failed} // the first attempt is still in progress
	case s >= 500 && s != http.StatusNotImplemented:
		return Outcome{Kind: Failed}
	case s >= 400:
		return Outcome{Kind: Fatal}
	}
	return Outcome{Kind: Succeeded}
}

// retryAfter reads Retry-After: delay-seconds, or an HTTP date (read
// against the wall clock: that is what the server meant). 0 if absent or
// malformed; at most MaxTimeout.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseUint(v, 10, 32); err == nil {
		return time.Duration(n) * time.Second
	}
	if at, err := http.ParseTime(v); err == nil {
		if d := time.Until(at); d > 0 {
			return d
		}
	}
	return 0
}

// ErrNotRetryable wraps the last failure of a request Transport would not
// repeat (a non-idempotent method without a key, or a body it cannot
// replay).
var ErrNotRetryable = errors.New("resilience: request not safe to retry")

// RoundTrip implements http.RoundTripper. It returns the last attempt's
// response when that was an answer (any status), or an error wrapping the
// last attempt's error and Retry.Next's reason for stopping (ErrAttempts,
// ErrBudget, ErrDeadline, ErrRetryAfter, ErrCanceled), ErrOpen or
// ErrProbes from the breaker, or ErrNotRetryable.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.init()
	ctx := req.Context()
	pol := t.Policy
	t.mu.Lock()
	now := t.Clock.Monotonic()
	t.mu.Unlock()
	pol.Deadline = NoDeadline
	if dl, ok := ctx.Deadline(); ok {
		pol.Deadline = DeadlineIn(now, time.Until(dl))
	}
	retry := NewRetry(pol, now)
	canRetry := retryableRequest(req)
	for attempt := 1; ; attempt++ {
		areq := req
		if attempt > 1 || pol.Deadline.IsSet() {
			areq = req.Clone(ctx)
			if attempt > 1 && req.GetBody != nil {
				b, err := req.GetBody()
				if err != nil {
					return nil, fmt.Errorf("resilience: replaying the request body: %w", err)
				}
				areq.Body = b
			}
		}
		var ticket Ticket
		t.mu.Lock()
		now = t.Clock.Monotonic()
		if t.Breaker != nil {
			tk, err := t.Breaker.Allow(now)
			if err != nil {
				t.mu.Unlock()
				return nil, fmt.Errorf("resilience: %s %s: %w", req.Method, req.URL.Redacted(), err)
			}
			ticket = tk
		}
		t.mu.Unlock()
		if pol.Deadline.IsSet() {
			areq.Header.Set(DeadlineHeader, TimeoutString(pol.Deadline.Forward(now, t.DeadlineMargin)))
		}
		resp, err := t.Base.RoundTrip(areq)
		o := classify(areq, resp, err)
		t.mu.Lock()
		now = t.Clock.Monotonic()
		if t.Breaker != nil {
			t.Breaker.Record(now, ticket, o.Kind)
		}
		var wait time.Duration
		var stop error
		switch {
		case o.Kind == Succeeded || o.Kind == Fatal:
			if o.Kind == Succeeded {
				retry.Succeeded()
			}
			t.mu.Unlock()
			return resp, err
		case !canRetry:
			stop = ErrNotRetryable
			if pol.Budget != nil && o.Kind != Canceled {
				pol.Budget.Failure()
			}
		default:
			wait, stop = retry.Next(now, t.Rand, o)
		}
		t.mu.Unlock()
		if stop != nil {
			if err == nil {
				return resp, nil // the last answer, as the server gave it
			}
			return nil, fmt.Errorf("%w (after %d attempts: %w)", err, attempt, stop)
		}
		cause := err
		if resp != nil {
			cause = fmt.Errorf("status %d", resp.StatusCode)
			io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		if t.OnRetry != nil {
			t.OnRetry(attempt, wait, cause)
		}
		if err := sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("resilience: %s %s: waiting to retry: %w", req.Method, req.URL.Redacted(), err)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
