package clientapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"ordo"
	"ordo/kv"
	"ordo/kv/api"
	"ordo/pbft"
)

// Caller hands a message to the replica and returns its answer (the live
// runtime's live.Gateway.Call). An error that has an HTTPStatus() int
// method says which status to answer with; a context error means no
// answer came in time.
type Caller func(ctx context.Context, m ordo.Message) (ordo.Message, error)

// Config configures the handler.
type Config struct {
	Call Caller
	// ID is the replica's id, stated in every answer.
	ID ordo.NodeID
	// Status is the body of GET /v1/status (nil: the endpoint answers 404).
	Status func() any
	// Timeout bounds a request's wait for the replica to execute it
	// (default DefaultTimeout): then 504, outcome unknown.
	Timeout time.Duration
}

// DefaultTimeout bounds a request's wait for the replica.
const DefaultTimeout = 5 * time.Second

// NewHandler is the client API's http.Handler over c.Call (see the
// package doc for its endpoints and status codes).
func NewHandler(c Config) http.Handler {
	if c.Call == nil {
		panic("clientapi: NewHandler without a Caller")
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	h := &handler{c: c}
	return api.NewMux([]api.Route{
		{Method: http.MethodPost, Path: "/v1/pbft", Serve: h.pbft},
		{Method: http.MethodGet, Path: "/v1/status", Serve: h.status},
	}, writeError)
}

type handler struct{ c Config }

func (h *handler) status(w http.ResponseWriter, req *http.Request) {
	if h.c.Status == nil {
		writeError(w, http.StatusNotFound, "this server has no status endpoint")
		return
	}
	api.WriteJSON(w, http.StatusOK, h.c.Status())
}

func (h *handler) pbft(w http.ResponseWriter, req *http.Request) {
	q, ok := api.DecodeBody(w, req, MaxBodyBytes, DecodeRequest, writeError)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(req.Context(), h.c.Timeout)
	defer cancel()
	code, resp := h.serve(ctx, q)
	api.WriteJSON(w, code, resp)
}

// Command is q as the pbft request a replica orders: the kv command as
// its operation, the client id above pbft.ExternalBase.
func Command(q Request) (pbft.Request, error) {
	kr := kv.Request{Key: q.Key}
	switch q.Op {
	case OpGet:
		kr.Op = kv.OpGet
	case OpPut:
		kr.Op, kr.Value = kv.OpPut, *q.Value
	case OpDelete:
		kr.Op = kv.OpDelete
	default:
		return pbft.Request{}, fmt.Errorf("unknown op %q", q.Op)
	}
	op, err := pbft.EncodeKV(kr)
	if err != nil {
		return pbft.Request{}, err
	}
	return pbft.Request{Timestamp: q.Timestamp, Client: pbft.ExternalBase + ordo.NodeID(q.Client), Op: op}, nil
}

// serve injects one checked request and waits for the replica's reply.
func (h *handler) serve(ctx context.Context, q Request) (int, Response) {
	r, err := Command(q)
	if err != nil {
		return http.StatusRequestEntityTooLarge, errorResponse(http.StatusRequestEntityTooLarge, err.Error())
	}
	m, err := h.c.Call(ctx, r)
	if err != nil {
		code, err := api.NoAnswer(err, q.Op != "get")
		msg := err.Error()
		if errors.Is(err, context.DeadlineExceeded) {
			msg = fmt.Sprintf("%v: replica %v did not execute the request in time; a retry with the same timestamp is answered once it does. "+
				"A request that did not reach every replica may never execute: a backup prepares a request only once it heard it from its client itself (or f+1 replicas vouch for it), and backups do not relay requests, so send it to every replica's API (as ordo kv and this package's Client do)", err, h.c.ID)
		}
		return code, errorResponse(code, msg)
	}
	return Answer(h.c.ID, r, m)
}

// Answer is the client API's answer for reply m of replica id to request
// r: a reply that does not match r, or whose result is no kv response,
// is a 500 bad-reply (a lying or broken replica, not an outage; the Go
// client counts it as a disagreeing answer).
func Answer(id ordo.NodeID, r pbft.Request, m ordo.Message) (int, Response) {
	rep, ok := m.(pbft.Reply)
	switch {
	case !ok:
		return badReply(id, fmt.Sprintf("the replica answered %s, not a reply", m.Kind()))
	case rep.Client != r.Client || rep.Timestamp != r.Timestamp:
		return badReply(id, fmt.Sprintf("the replica answered another request (client %d, timestamp %d)", int64(rep.Client), rep.Timestamp))
	}
	kr, err := kv.DecodeResult([]byte(rep.Result))
	if err != nil {
		return badReply(id, fmt.Sprintf("its result is not a kv answer (%v)", err))
	}
	out := Response{Rev: kr.Rev, ModRev: kr.ModRev, Replica: int(id), View: rep.View}
	switch kr.Status {
	case kv.StatusOK:
		out.Status, out.Value = StatusOK, kr.Value
	case kv.StatusNotFound:
		out.Status = StatusNotFound
	case kv.StatusBadRequest:
		out.Status, out.Error = StatusBadRequest, kr.Err
		return http.StatusBadRequest, out
	default:
		out.Status, out.Error = StatusUnavailable, fmt.Sprintf("%v: %s", kr.Status, kr.Err)
		return http.StatusServiceUnavailable, out
	}
	return http.StatusOK, out
}

// badReply is the answer for a reply of replica id that answers nothing
// (why says how): 500 bad-reply, naming the replica.
func badReply(id ordo.NodeID, why string) (int, Response) {
	return http.StatusInternalServerError, Response{Status: StatusBadReply, Replica: int(id), Error: "malformed reply: " + why}
}

// errorResponse is the answer of a failed request with HTTP status code.
func errorResponse(code int, msg string) Response {
	return Response{Status: api.ErrorStatus(code), Error: msg}
}

func writeError(w http.ResponseWriter, code int, msg string) {
	api.WriteJSON(w, code, errorResponse(code, msg))
}
