package clientapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"unicode/utf8"

	"ordo/kv/api"
	"ordo/pbft"
)

// The operations of POST /v1/pbft.
const (
	OpGet    = "get"
	OpPut    = "put"
	OpDelete = "delete"
)

// Statuses of a Response.
const (
	StatusOK         = "ok"
	StatusNotFound   = "not-found"
	StatusBadRequest = "bad-request"
	// StatusUnavailable: the replica is stopping or could not take it.
	StatusUnavailable = "unavailable"
	// StatusUnknown: no reply in time (the request may still execute).
	StatusUnknown = "unknown"
	StatusBusy    = "busy"
	// StatusBadReply: the replica's reply does not answer the request
	// (another request's, or a result that is no kv answer): a lying or
	// broken replica, a Byzantine-fault symptom, not an outage (500).
	StatusBadReply = "bad-reply"
)

// Bounds of a request: a put of the largest key and value encodes, with
// the kv command's fields, within pbft.MaxOp (TestBoundsFitAnOperation).
const (
	MaxKeyBytes   = 64
	MaxValueBytes = 128
	// MaxTimestamp bounds a request's timestamp.
	MaxTimestamp = 1 << 62
	// MaxBodyBytes bounds a request body: key and value JSON-escaped at
	// worst to six bytes each, and 512 bytes for the rest.
	MaxBodyBytes = 6*(MaxKeyBytes+MaxValueBytes) + 512
)

// Request is the body of POST /v1/pbft. Client names the client (PBFT's
// c, 1..2^32-1) and Timestamp orders its requests (PBFT's t: a replica
// executes a client's request only if its timestamp exceeds the last one
// executed, and answers the same timestamp again from its cache).
type Request struct {
	Op        string  `json:"op"`
	Key       string  `json:"key"`
	Value     *string `json:"value,omitempty"`
	Client    uint32  `json:"client"`
	Timestamp int64   `json:"timestamp"`
}

// Response is every JSON answer: a replica's reply (Replica, View), or an
// error.
type Response struct {
	Status  string `json:"status"`
	Value   string `json:"value,omitempty"`
	Rev     uint64 `json:"rev,omitempty"`     // the request's position in the replicas' execution history
	ModRev  uint64 `json:"mod_rev,omitempty"` // get: the rev of the key's last change
	Replica int    `json:"replica,omitempty"`
	View    int64  `json:"view,omitempty"`
	Error   string `json:"error,omitempty"`
}

// Error is a request the API refuses, with the HTTP status it answers
// (the key-value API's: one type for every client API).
type Error = api.Error

func badRequest(format string, a ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Msg: fmt.Sprintf(format, a...)}
}

func tooLarge(format string, a ...any) *Error {
	return &Error{Status: http.StatusRequestEntityTooLarge, Msg: fmt.Sprintf(format, a...)}
}

// DecodeRequest reads one JSON request of at most MaxBodyBytes from r
// (strict: unknown fields, a field twice, trailing data, bytes that are not UTF-8 and
// anything but one object are refused) and checks it (Check). Errors are
// *Error: 400 malformed, 413 oversize.
func DecodeRequest(r io.Reader) (Request, error) {
	var q Request
	if err := api.ReadObject(r, MaxBodyBytes, &q, `{"op":"get","key":"x","client":1,"timestamp":1}`); err != nil {
		return Request{}, err
	}
	return q, q.Check()
}

// Check refuses what the operation cannot mean. Errors are *Error (400,
// or 413 for an oversize key or value).
func (q Request) Check() error {
	switch {
	case q.Op != OpGet && q.Op != OpPut && q.Op != OpDelete:
		return badRequest("unknown op %q (valid: get, put, delete)", q.Op)
	case q.Key == "":
		return badRequest("op %s needs a key (1..%d bytes)", q.Op, MaxKeyBytes)
	case len(q.Key) > MaxKeyBytes:
		return tooLarge("key of %d bytes: at most %d (a PBFT operation is at most %d bytes)", len(q.Key), MaxKeyBytes, pbft.MaxOp)
	case q.Value != nil && len(*q.Value) > MaxValueBytes:
		return tooLarge("value of %d bytes: at most %d (a PBFT operation is at most %d bytes)", len(*q.Value), MaxValueBytes, pbft.MaxOp)
	case !utf8.ValidString(q.Key) || q.Value != nil && !utf8.ValidString(*q.Value):
		return badRequest("keys and values are UTF-8 text")
	case q.Op == OpPut && q.Value == nil:
		return badRequest(`op put needs a value ("" is one)`)
	case q.Op != OpPut && q.Value != nil:
		return badRequest("field value means nothing to op %s", q.Op)
	case q.Client == 0:
		return badRequest("client: want the client's id, 1..%d", uint32(1<<32-1))
	case q.Timestamp < 1 || q.Timestamp > MaxTimestamp:
		return badRequest("timestamp %d: want 1..%d, growing with each request of the client", q.Timestamp, int64(MaxTimestamp))
	}
	return nil
}

// EncodeRequest is DecodeRequest's inverse for a valid request (the Go
// client's encoder): it refuses what Check refuses.
func EncodeRequest(q Request) ([]byte, error) {
	if err := q.Check(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(q); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
