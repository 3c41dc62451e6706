package clientapi

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"ordo"
	"ordo/dynamo"
	"ordo/kv/api"
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
	// Status is the body of GET /v1/status (nil: the endpoint answers 404).
	Status func() any
	// Timeout bounds a request's wait for the server (default
	// DefaultTimeout): a write still unanswered is 504 (outcome unknown),
	// a read 503.
	Timeout time.Duration
	// Tag makes a unique tag for an observed-remove cart's add (default:
	// 64 random bits in hex); tests make them predictable.
	Tag func() string
}

// DefaultTimeout bounds a request's wait for the server.
const DefaultTimeout = 5 * time.Second

// getAttempts bounds the attempts of a get: a forwarded get that found
// its first preference-list member silent tries the next (Attempt).
// Writes are sent once: a second attempt of a put would make a sibling of
// the first.
const getAttempts = 3

// NewHandler is the client API's http.Handler over c.Call (see the package
// doc for its endpoints and status codes).
func NewHandler(c Config) http.Handler {
	if c.Call == nil {
		panic("clientapi: NewHandler without a Caller")
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Tag == nil {
		c.Tag = randomTag
	}
	h := &handler{c: c}
	return api.NewMux([]api.Route{
		{Method: http.MethodPost, Path: "/v1/dynamo", Serve: h.dynamo},
		{Method: http.MethodGet, Path: "/v1/status", Serve: h.status},
	}, writeError)
}

type handler struct{ c Config }

func randomTag() string {
	var b [8]byte
	crand.Read(b[:]) // never fails (crypto/rand panics instead)
	return "h" + hex.EncodeToString(b[:])
}

func (h *handler) status(w http.ResponseWriter, req *http.Request) {
	if h.c.Status == nil {
		writeError(w, http.StatusNotFound, "this server has no status endpoint")
		return
	}
	api.WriteJSON(w, http.StatusOK, h.c.Status())
}

func (h *handler) dynamo(w http.ResponseWriter, req *http.Request) {
	q, ok := api.DecodeBody(w, req, MaxBodyBytes, DecodeRequest, writeError)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(req.Context(), h.c.Timeout)
	defer cancel()
	code, resp := h.serve(ctx, q)
	api.WriteJSON(w, code, resp)
}

// serve runs one checked request.
func (h *handler) serve(ctx context.Context, q Request) (int, Response) {
	switch q.Op {
	case OpGet:
		rep, code, resp := h.get(ctx, q.Key)
		if code != 0 {
			return code, resp
		}
		return http.StatusOK, getResponse(rep)
	case OpPut:
		return h.write(ctx, dynamo.Request{Op: dynamo.OpPut, Key: q.Key, Value: *q.Value, Context: q.Context})
	case OpDelete:
		return h.write(ctx, dynamo.Request{Op: dynamo.OpDelete, Key: q.Key, Context: q.Context})
	}
	return h.cart(ctx, q)
}

// call sends one request to this node (Relay: the answer comes back here
// even when a preference-list member answers) and maps what goes wrong:
// code 0 means rep is the node's answer.
func (h *handler) call(ctx context.Context, r dynamo.Request) (dynamo.Reply, int, error) {
	r.ID, r.Relay = 1, true // each call has a gateway id of its own
	m, err := h.c.Call(ctx, r)
	if err != nil {
		code, err := api.NoAnswer(err, r.Op != dynamo.OpGet)
		return dynamo.Reply{}, code, err
	}
	rep, ok := m.(dynamo.Reply)
	if !ok {
		return dynamo.Reply{}, http.StatusInternalServerError, fmt.Errorf("the server answered %s, not a %s", m.Kind(), dynamo.Reply{}.Kind())
	}
	if err := rep.Validate(); err != nil {
		return dynamo.Reply{}, http.StatusInternalServerError, fmt.Errorf("the server's answer: %v", err)
	}
	switch rep.Status {
	case dynamo.StatusOK:
		return rep, 0, nil
	case dynamo.StatusBadRequest:
		return rep, http.StatusBadRequest, errors.New(rep.Err)
	case dynamo.StatusBusy:
		return rep, http.StatusTooManyRequests, fmt.Errorf("busy: %s", rep.Err)
	case dynamo.StatusUnavailable:
		if r.Op != dynamo.OpGet {
			// The coordinator stored the write before it asked the
			// replicas: it may survive and spread.
			return rep, http.StatusGatewayTimeout, fmt.Errorf("outcome unknown: %s; the write may have been stored: get the key before trying again", rep.Err)
		}
		return rep, http.StatusServiceUnavailable, fmt.Errorf("unavailable: %s", rep.Err)
	}
	return rep, http.StatusInternalServerError, fmt.Errorf("the server answered status %v", rep.Status)
}

// get reads key, trying the next preference-list member when the one
// asked is silent; code 0: rep is the answer.
func (h *handler) get(ctx context.Context, key string) (dynamo.Reply, int, Response) {
	var (
		code int
		err  error
		rep  dynamo.Reply
	)
	for a := range getAttempts {
		rep, code, err = h.call(ctx, dynamo.Request{Op: dynamo.OpGet, Key: key, Attempt: uint8(a)})
		if code != http.StatusServiceUnavailable || ctx.Err() != nil {
			break
		}
	}
	if code != 0 {
		return rep, code, errorResponse(code, err.Error())
	}
	return rep, 0, Response{}
}

// getResponse is a get's answer: every sibling, the context, and
// not-found when every sibling is a tombstone (or there is none).
func getResponse(rep dynamo.Reply) Response {
	out := Response{Status: StatusOK, Context: rep.Context, Merge: rep.Merge}
	for i, v := range rep.Values {
		s := Sibling{Value: v}
		if i < len(rep.Vecs) {
			s.Vec = rep.Vecs[i]
		}
		if i < len(rep.Deleted) && rep.Deleted[i] {
			s.Value, s.Deleted = "", true
		}
		out.Siblings = append(out.Siblings, s)
	}
	if !rep.Found() {
		out.Status = StatusNotFound
	}
	return out
}

func (h *handler) write(ctx context.Context, r dynamo.Request) (int, Response) {
	rep, code, err := h.call(ctx, r)
	if code != 0 {
		return code, errorResponse(code, err.Error())
	}
	out := Response{Status: StatusOK}
	if len(rep.Vecs) > 0 {
		out.Vec = rep.Vecs[0]
	}
	return http.StatusOK, out
}

// cart runs a cart operation: a get (the bucket merges its siblings into
// one cart), the edit, and a put with the get's context. An edit
// concurrent with another is a sibling the next get merges in; nothing
// is retried.
func (h *handler) cart(ctx context.Context, q Request) (int, Response) {
	rep, code, resp := h.get(ctx, q.Key)
	if code != 0 {
		return code, resp
	}
	if rep.Merge != "orset" && rep.Merge != "union" {
		return http.StatusBadRequest, errorResponse(http.StatusBadRequest,
			"cart operations need a bucket that merges carts, and this cluster's resolution is not merge: start one with -o resolution=merge (-o merge=orset or union), or get and put the key")
	}
	or := rep.Merge == "orset"
	cart := dynamo.NewCart(or)
	if rep.Found() && len(rep.Values) > 0 {
		c, err := dynamo.ParseCart(or, rep.Values[0])
		if err != nil {
			return http.StatusInternalServerError, errorResponse(http.StatusInternalServerError, fmt.Sprintf("key %q holds no %s cart: %v", q.Key, rep.Merge, err))
		}
		cart = c
	}
	out := Response{Status: StatusOK, Merge: rep.Merge, Context: rep.Context}
	switch q.Op {
	case OpCartShow:
		out.Items = cart.Items()
		if !rep.Found() {
			out.Status = StatusNotFound
		}
		return http.StatusOK, out
	case OpCartAdd:
		cart.Add(q.Item, h.c.Tag())
	case OpCartRemove:
		if !contains(cart.Items(), q.Item) {
			out.Status, out.Items = StatusNotFound, cart.Items()
			out.Error = fmt.Sprintf("item %q is not in cart %q", q.Item, q.Key)
			return http.StatusOK, out
		}
		cart.Remove(q.Item)
	}
	code, w := h.write(ctx, dynamo.Request{Op: dynamo.OpPut, Key: q.Key, Value: cart.String(), Context: rep.Context})
	if code != http.StatusOK {
		return code, w
	}
	out.Items, out.Vec = cart.Items(), w.Vec
	return http.StatusOK, out
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

// errorResponse is the answer of a failed request with HTTP status code.
func errorResponse(code int, msg string) Response {
	return Response{Status: api.ErrorStatus(code), Error: msg}
}

func writeError(w http.ResponseWriter, code int, msg string) {
	api.WriteJSON(w, code, errorResponse(code, msg))
}
