package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"ordo"
	"ordo/kv"
)

// Caller hands a message to one server and returns its answer (the live
// runtime's live.Gateway.Call). An error that has an HTTPStatus() int
// method says which status to answer with (429 busy, 503 shutting down,
// 504 no answer: outcome unknown); a context error means no answer came in
// time.
type Caller func(ctx context.Context, m ordo.Message) (ordo.Message, error)

// Config configures the handler.
type Config struct {
	Call Caller
	// CallMany, when set, serves POST /v1/kv/batch's requests together
	// (nil: each through Call, concurrently).
	CallMany CallerMany
	// Status is the body of GET /v1/status (nil: the endpoint answers 404).
	Status func() any
	// LeaderAddr is a server's client API address, for the leader hint of
	// a not-leader answer (nil or "": no address, only the id).
	LeaderAddr func(ordo.NodeID) string
	// Timeout bounds a request's wait for the server (default
	// DefaultTimeout): a write still unanswered is 504 (outcome unknown),
	// a read 503.
	Timeout time.Duration
	// WatchTimeout is a watch's longest wait (default and bound
	// MaxWatchTimeout); the server ends watches sooner (its
	// watch_wait option).
	WatchTimeout time.Duration
}

// Bounds of the handler.
const (
	DefaultTimeout  = 5 * time.Second
	MaxWatchTimeout = 60 * time.Second
)

// NewHandler is the client API's http.Handler over c.Call (see the package
// doc for its endpoints and status codes).
func NewHandler(c Config) http.Handler {
	if c.Call == nil {
		panic("api: NewHandler without a Caller")
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.WatchTimeout <= 0 || c.WatchTimeout > MaxWatchTimeout {
		c.WatchTimeout = MaxWatchTimeout
	}
	h := &handler{c: c}
	return NewMux([]Route{
		{http.MethodPost, "/v1/kv", h.kv},
		{http.MethodPost, "/v1/kv/batch", h.batch},
		{http.MethodGet, "/v1/watch", h.watch},
		{http.MethodGet, "/v1/snapshot", h.snapshot},
		{http.MethodGet, "/v1/status", h.status},
	}, writeError)
}

// Route is one endpoint of a client API.
type Route struct {
	Method, Path string
	Serve        http.HandlerFunc
}

// NewMux serves routes. Any other method of a known path is answered 405
// with the one it takes (a GET endpoint takes HEAD too, as ServeMux
// serves it), an unknown path 404 naming the endpoints, each through
// writeError, the API's own error body. The Dynamo-style store's API
// (dynamo/clientapi) is built on it too.
func NewMux(routes []Route, writeError func(w http.ResponseWriter, code int, msg string)) *http.ServeMux {
	mux := http.NewServeMux()
	var names []string
	for _, e := range routes {
		mux.HandleFunc(e.Method+" "+e.Path, e.Serve)
		names = append(names, e.Method+" "+e.Path)
		allow := e.Method
		if allow == http.MethodGet {
			allow += ", " + http.MethodHead
		}
		mux.HandleFunc(e.Path, func(w http.ResponseWriter, req *http.Request) {
			w.Header().Set("Allow", allow)
			writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("%s %s: method not allowed (%s takes %s)", req.Method, e.Path, e.Path, allow))
		})
	}
	list := strings.Join(names, ", ")
	mux.HandleFunc("/", func(w http.ResponseWriter, req *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no endpoint %s %s (%s)", req.Method, req.URL.Path, list))
	})
	return mux
}

// Handler is NewHandler with only a Caller.
func Handler(call Caller) http.Handler { return NewHandler(Config{Call: call}) }

type handler struct{ c Config }

func (h *handler) kv(w http.ResponseWriter, req *http.Request) {
	r, ok := DecodeBody(w, req, MaxBodyBytes, DecodeRequest, writeError)
	if !ok {
		return
	}
	h.serve(w, req, r, h.c.Timeout)
}

func (h *handler) watch(w http.ResponseWriter, req *http.Request) {
	q := req.URL.Query()
	for k := range q {
		if k != "key" && k != "after" && k != "timeout" {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("unknown parameter %q (key, after, timeout)", k))
			return
		}
	}
	r := kv.Request{Op: kv.OpWatch, Key: q.Get("key")}
	if r.Key == "" || len(r.Key) > MaxKeyBytes {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("watch needs key=K of 1..%d bytes", MaxKeyBytes))
		return
	}
	if s := q.Get("after"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("after=%q: want a revision (a log index)", s))
			return
		}
		r.After = n
	}
	d := h.c.WatchTimeout
	if s := q.Get("timeout"); s != "" {
		t, err := time.ParseDuration(s)
		if err != nil || t <= 0 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("timeout=%q: want a positive duration like 30s", s))
			return
		}
		d = min(t, h.c.WatchTimeout)
	}
	h.serve(w, req, r, d)
}

// snapshot streams the server's backup: the first part decides the
// answer (an error, or 200 with the size and revision), the rest is read
// from the server part by part (kv.BackupRead, each part at most
// kv.MaxSnapReply bytes) and written as it comes. Each part gets the full
// timeout. A part that fails after the header is sent can only cut the
// body short: the client sees fewer bytes than Content-Length and refuses
// the backup.
func (h *handler) snapshot(w http.ResponseWriter, req *http.Request) {
	part := func(m ordo.Message) (ordo.Message, error) {
		ctx, cancel := context.WithTimeout(req.Context(), h.c.Timeout)
		defer cancel()
		return h.c.Call(ctx, m)
	}
	r := kv.Request{Op: kv.OpSnap}
	m, err := part(r)
	first, ok := m.(kv.BackupPart)
	if err != nil || !ok {
		// An error, or a refusal (not the leader, busy, too large).
		resp, code, err := h.result(r, m, err)
		if err != nil {
			writeError(w, code, err.Error())
			return
		}
		writeResponse(w, h.toJSON(resp))
		return
	}
	if !partFits(first, first.Rev, 0, first.Total) {
		writeError(w, http.StatusInternalServerError, fmt.Sprintf("the server's backup part does not add up (%d bytes of %d)", len(first.Data), first.Total))
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("X-Ordo-Rev", strconv.FormatUint(first.Rev, 10))
	w.Header().Set("Content-Length", strconv.FormatUint(first.Total, 10))
	w.WriteHeader(http.StatusOK)
	p := first
	for sent := uint64(0); ; {
		if _, err := io.WriteString(w, p.Data); err != nil {
			return
		}
		if sent += uint64(len(p.Data)); sent == first.Total {
			return
		}
		m, err := part(kv.BackupRead{Rev: first.Rev, Offset: sent})
		if p, ok = m.(kv.BackupPart); err != nil || !ok || !partFits(p, first.Rev, sent, first.Total) {
			return // cut short: the client counts the bytes
		}
	}
}

// partFits reports whether p is the part at off of the backup taken at
// rev, total bytes in all: not empty (unless the backup is), not past it.
func partFits(p kv.BackupPart, rev, off, total uint64) bool {
	return p.Rev == rev && p.Offset == off && p.Total == total && total <= kv.MaxBackupBytes &&
		off+uint64(len(p.Data)) <= total && (len(p.Data) > 0 || total == 0)
}

func (h *handler) status(w http.ResponseWriter, req *http.Request) {
	if h.c.Status == nil {
		writeError(w, http.StatusNotFound, "this server has no status endpoint")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	encodeJSON(w, h.c.Status())
}

// serve calls the server with r (waiting at most d) and writes its answer.
func (h *handler) serve(w http.ResponseWriter, req *http.Request, r kv.Request, d time.Duration) {
	ctx, cancel := context.WithTimeout(req.Context(), d)
	defer cancel()
	resp, code, err := h.call(ctx, r)
	if err != nil {
		if r.Op == kv.OpWatch && code == http.StatusServiceUnavailable && ctx.Err() != nil && req.Context().Err() == nil {
			// The watch's own deadline: no change, not a failure.
			writeResponse(w, Response{Status: kv.StatusTimeout.String(), Error: "no change within the watch's timeout"})
			return
		}
		writeError(w, code, err.Error())
		return
	}
	code, out := h.answer(r, resp, nil)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	encodeJSON(w, out)
}

// NoAnswer is the HTTP status and error of a client API call the node did
// not answer (err, from the live gateway): the gateway's own status when
// it has one (busy 429, shutting down 503), else 504 with "outcome
// unknown" for a write, which may still take effect, and 503 for a read,
// which changed nothing. The kv, Dynamo and PBFT client APIs share it.
func NoAnswer(err error, write bool) (int, error) {
	code := http.StatusGatewayTimeout
	var st interface{ HTTPStatus() int }
	if errors.As(err, &st) {
		code = st.HTTPStatus()
	}
	switch {
	case code != http.StatusGatewayTimeout:
		return code, err
	case write:
		return code, fmt.Errorf("outcome unknown: %w", err)
	}
	return http.StatusServiceUnavailable, err
}

// call makes one call; on error, code is the HTTP status to answer.
func (h *handler) call(ctx context.Context, r kv.Request) (kv.Response, int, error) {
	m, err := h.c.Call(ctx, r)
	return h.result(r, m, err)
}

// result reads a call's outcome; on error, code is the HTTP status to
// answer.
func (h *handler) result(r kv.Request, m ordo.Message, err error) (kv.Response, int, error) {
	if err != nil {
		code, err := NoAnswer(err, writes(r.Op))
		return kv.Response{}, code, err
	}
	resp, ok := m.(kv.Response)
	if !ok {
		return kv.Response{}, http.StatusInternalServerError, fmt.Errorf("the server answered %s, not a %s", m.Kind(), kv.Response{}.Kind())
	}
	return resp, 0, nil
}

// toJSON is resp as the API's Response, with the leader's address.
func (h *handler) toJSON(r kv.Response) Response {
	out := Response{Status: r.Status.String(), Value: r.Value, Rev: r.Rev, ModRev: r.ModRev, More: r.More, Leader: int(r.Leader), Error: r.Err}
	for _, p := range r.Pairs {
		out.Pairs = append(out.Pairs, Pair{Key: p.Key, Value: p.Value, Rev: p.Rev})
	}
	if r.Leader != 0 && h.c.LeaderAddr != nil {
		out.LeaderAddr = h.c.LeaderAddr(r.Leader)
	}
	return out
}

// StatusCode is the HTTP status of an answer with status s.
func StatusCode(s kv.Status) int {
	switch s {
	case kv.StatusOK, kv.StatusNotFound, kv.StatusMismatch, kv.StatusTimeout:
		return http.StatusOK
	case kv.StatusNotLeader:
		return http.StatusMisdirectedRequest
	case kv.StatusUnavailable:
		return http.StatusServiceUnavailable
	case kv.StatusUnknown:
		return http.StatusGatewayTimeout
	case kv.StatusBadRequest:
		return http.StatusBadRequest
	case kv.StatusBusy:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

func writeResponse(w http.ResponseWriter, r Response) {
	s, ok := parseStatus(r.Status)
	code := http.StatusInternalServerError
	if ok {
		code = StatusCode(s)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	encodeJSON(w, r)
}

// encodeJSON writes v as one line of JSON, leaving <, > and & as they are
// (json.Marshal's HTML escaping would spend six bytes on each).
func encodeJSON(w http.ResponseWriter, v any) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	encodeJSON(w, errorResponse(code, msg))
}

// parseStatus reads a status name.
func parseStatus(name string) (kv.Status, bool) {
	for s := kv.StatusOK; s <= kv.StatusTimeout; s++ {
		if s.String() == name {
			return s, true
		}
	}
	return 0, false
}

// ParseStatus reads a Response's status name (the Go client's side).
func ParseStatus(name string) (kv.Status, bool) { return parseStatus(name) }
