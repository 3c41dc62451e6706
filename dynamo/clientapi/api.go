package clientapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"ordo/kv/api"
	"unicode/utf8"

	"ordo/dynamo"
)

// The operations of POST /v1/dynamo.
const (
	OpGet        = "get"
	OpPut        = "put"
	OpDelete     = "delete"
	OpCartAdd    = "cart-add"
	OpCartRemove = "cart-remove"
	OpCartShow   = "cart-show"
)

const opList = "get, put, delete, cart-add, cart-remove, cart-show"

// Statuses of a Response.
const (
	StatusOK          = "ok"
	StatusNotFound    = "not-found"
	StatusBadRequest  = "bad-request"
	StatusUnavailable = "unavailable"
	StatusUnknown     = "unknown"
	StatusBusy        = "busy"
)

// Bounds of a request: the store's own, checked here too so that an
// oversize request is refused with 413 before it reaches the node.
const (
	MaxKeyBytes     = dynamo.MaxKeyLen
	MaxValueBytes   = dynamo.MaxValueLen
	MaxItemBytes    = dynamo.MaxItemLen
	MaxContextBytes = dynamo.MaxContextBytes
	// MaxBodyBytes bounds a request body: the largest key, value and
	// item, each byte JSON-escaped at worst to six (\u00XX), the largest
	// context in base64, and 1 KiB for the rest. About 9 KiB.
	MaxBodyBytes = 6*(MaxKeyBytes+MaxValueBytes+MaxItemBytes) + (MaxContextBytes+2)/3*4 + 1<<10
)

// Request is the body of POST /v1/dynamo. Value is a put's (required,
// possibly empty); Context is the opaque context of a get (base64 in
// JSON): optional for a put (none: a blind write, a sibling of whatever
// the key holds), required for a delete; Item is a cart operation's.
type Request struct {
	Op      string  `json:"op"`
	Key     string  `json:"key"`
	Value   *string `json:"value,omitempty"`
	Context []byte  `json:"context,omitempty"`
	Item    string  `json:"item,omitempty"`
}

// Sibling is one version a get returns: a value, or a tombstone (Deleted,
// no value) of a delete concurrent with the other siblings. Vec is its
// version vector as the chapter writes it ([2,0]).
type Sibling struct {
	Value   string `json:"value"`
	Deleted bool   `json:"deleted,omitempty"`
	Vec     string `json:"vec,omitempty"`
}

// Response is every JSON answer.
type Response struct {
	Status string `json:"status"`
	// Siblings are a get's versions (a merging bucket: the merged one).
	Siblings []Sibling `json:"siblings,omitempty"`
	// Context is what a put or delete must carry to supersede what the
	// get saw (get, cart ops: the context the cart was read with).
	Context []byte `json:"context,omitempty"`
	// Vec is a put's or delete's new version vector.
	Vec string `json:"vec,omitempty"`
	// Items are a cart's items (cart ops) and Merge the bucket's cart
	// (orset or union; "" when the bucket does not merge).
	Items []string `json:"items,omitempty"`
	Merge string   `json:"merge,omitempty"`
	Error string   `json:"error,omitempty"`
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
	if err := api.ReadObject(r, MaxBodyBytes, &q, `{"op":"get","key":"x"}`); err != nil {
		return Request{}, err
	}
	if len(q.Context) == 0 {
		q.Context = nil // "context":"" is no context
	}
	return q, q.Check()
}

// Check refuses what the operation cannot mean. Errors are *Error (400,
// or 413 for an oversize key, value, item or context).
func (q Request) Check() error {
	switch q.Op {
	case OpGet, OpPut, OpDelete, OpCartAdd, OpCartRemove, OpCartShow:
	default:
		return badRequest("unknown op %q (valid: %s)", q.Op, opList)
	}
	switch {
	case q.Key == "":
		return badRequest("op %s needs a key (1..%d bytes)", q.Op, MaxKeyBytes)
	case len(q.Key) > MaxKeyBytes:
		return tooLarge("key of %d bytes: at most %d", len(q.Key), MaxKeyBytes)
	case q.Value != nil && len(*q.Value) > MaxValueBytes:
		return tooLarge("value of %d bytes: at most %d", len(*q.Value), MaxValueBytes)
	case len(q.Context) > MaxContextBytes:
		return tooLarge("context of %d bytes: at most %d (a context is what a get answered, unchanged)", len(q.Context), MaxContextBytes)
	case len(q.Item) > MaxItemBytes:
		return tooLarge("cart item of %d bytes: at most %d", len(q.Item), MaxItemBytes)
	case !utf8.ValidString(q.Key) || q.Value != nil && !utf8.ValidString(*q.Value):
		return badRequest("keys and values are UTF-8 text")
	}
	unused := func(field string, set bool) error {
		if set {
			return badRequest("field %s means nothing to op %s", field, q.Op)
		}
		return nil
	}
	var errs []error
	cart := q.Op == OpCartAdd || q.Op == OpCartRemove || q.Op == OpCartShow
	switch q.Op {
	case OpGet:
		errs = append(errs, unused("value", q.Value != nil), unused("context", q.Context != nil))
	case OpPut:
		if q.Value == nil {
			errs = append(errs, badRequest(`op put needs a value ("" is one)`))
		}
	case OpDelete:
		errs = append(errs, unused("value", q.Value != nil))
		if len(q.Context) == 0 {
			errs = append(errs, badRequest("op delete needs the context of a get of the key: it deletes what that get saw"))
		}
	case OpCartShow:
		errs = append(errs, unused("value", q.Value != nil), unused("context", q.Context != nil), unused("item", q.Item != ""))
	default: // cart-add, cart-remove
		errs = append(errs, unused("value", q.Value != nil), unused("context", q.Context != nil))
		if !validItem(q.Item) {
			errs = append(errs, badRequest("op %s needs an item of 1..%d of [a-z0-9._-], not %q", q.Op, MaxItemBytes, q.Item))
		}
	}
	if !cart {
		errs = append(errs, unused("item", q.Item != ""))
	}
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// validItem is a cart item the store's carts take.
func validItem(s string) bool {
	if s == "" || len(s) > MaxItemBytes {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
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

// ContextString shows a context as it travels in JSON (standard base64),
// the form `ordo kv` prints and --context takes.
func ContextString(c []byte) string { return base64.StdEncoding.EncodeToString(c) }

// ParseContext reads ContextString's form; errors say what is wrong.
func ParseContext(s string) ([]byte, error) {
	if len(s) > (MaxContextBytes+2)/3*4 {
		return nil, fmt.Errorf("context of %d characters: at most %d (a context is what a get printed, unchanged)", len(s), (MaxContextBytes+2)/3*4)
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("context %q is not base64 (copy it from ordo kv get): %v", s, err)
	}
	return b, nil
}
