package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"ordo"
	"ordo/kv"
)

// Bounds of a request: the database's own (kv.MaxKey, kv.MaxValue,
// kv.MaxRange), checked here too so that an oversize request is refused
// with 413 before it reaches the node.
const (
	MaxKeyBytes   = kv.MaxKey   // bytes of a key (and of a range's end)
	MaxValueBytes = kv.MaxValue // bytes of a value (and of a CAS's expected value)
	// MaxBodyBytes bounds a request body: the largest key, end, value
	// and expected value, each byte JSON-escaped at worst to six (a
	// control character is \u00XX; EncodeRequest leaves <, > and & as
	// they are, but another client's encoder may not), and 4 KiB for the
	// rest. About 3.1 MiB.
	MaxBodyBytes = maxEscape*(2*MaxValueBytes+2*MaxKeyBytes) + 4<<10
	// maxEscape is the most bytes JSON spends on one byte of a string.
	maxEscape = 6
	// MaxRange bounds the keys one range answers.
	MaxRange = kv.MaxRange
)

// Request is the body of POST /v1/kv. Op is one of get, put, delete, cas,
// range, member, transfer. A write carries the client's session (random,
// nonzero) and a sequence number (from 1, one per write, the same on a
// retry) so that a retried write applies once.
type Request struct {
	Op    string `json:"op"`
	Key   string `json:"key,omitempty"`
	End   string `json:"end,omitempty"` // range: exclusive end ("": to the last key)
	Value string `json:"value,omitempty"`
	// Expect is a CAS's expected current value; Exists (default: whether
	// Expect is given) says whether the key must exist with it (true) or
	// be absent (false).
	Expect *string `json:"expect,omitempty"`
	Exists *bool   `json:"exists,omitempty"`
	Limit  uint32  `json:"limit,omitempty"` // range: most keys (0: MaxRange)
	// Read is how a get or range is served: index (default; also named
	// linearizable), lease, or serializable (any server, possibly stale).
	Read    string `json:"read,omitempty"`
	Session uint64 `json:"session,omitempty"`
	Seq     uint64 `json:"seq,omitempty"`
	// Node is the server a member (value "add" or "remove") or transfer
	// names.
	Node int `json:"node,omitempty"`
}

// Pair is one key of a range.
type Pair struct {
	Key   string `json:"key"`
	Value string `json:"value"`
	Rev   uint64 `json:"rev"`
}

// Response is every JSON answer. Status is the kv.Status's name (ok,
// not-found, mismatch, not-leader, unavailable, unknown, bad-request,
// busy, timeout), or unauthorized for a 401 (the runtime's token check,
// live/gateway.go, before this API sees the request); Error says why for
// anything but ok.
type Response struct {
	Status string `json:"status"`
	Value  string `json:"value,omitempty"`
	Rev    uint64 `json:"rev,omitempty"` // the log index the operation was applied or read at
	// ModRev is the log index of the key's last change (get, watch).
	ModRev uint64 `json:"mod_rev,omitempty"`
	Pairs  []Pair `json:"pairs,omitempty"`
	// More: a range stopped at its limit or size bound; continue after
	// its last key.
	More bool `json:"more,omitempty"`
	// Leader is the leader a not-leader answer knows of (0: none), and
	// LeaderAddr its client API address ("host:port").
	Leader     int    `json:"leader,omitempty"`
	LeaderAddr string `json:"leader_addr,omitempty"`
	Error      string `json:"error,omitempty"`
}

// Error is a request the API refuses, with the HTTP status it answers.
type Error struct {
	Status int
	Msg    string
}

func (e *Error) Error() string { return e.Msg }

// HTTPStatus is the status the API answers a refused request with.
func (e *Error) HTTPStatus() int { return e.Status }

func badRequest(format string, a ...any) *Error {
	return &Error{Status: 400, Msg: fmt.Sprintf(format, a...)}
}

func tooLarge(format string, a ...any) *Error {
	return &Error{Status: 413, Msg: fmt.Sprintf(format, a...)}
}

// ops are the operations POST /v1/kv takes (watch and snapshot have
// their own endpoints).
var ops = map[string]kv.Op{
	kv.OpGet.String(): kv.OpGet, kv.OpPut.String(): kv.OpPut, kv.OpDelete.String(): kv.OpDelete,
	kv.OpCAS.String(): kv.OpCAS, kv.OpRange.String(): kv.OpRange, kv.OpMember.String(): kv.OpMember,
	kv.OpMove.String(): kv.OpMove,
}

const opList = "get, put, delete, cas, range, member, transfer"

// ParseRead reads a read level: "" or index (ReadIndex; linearizable is
// its alias), lease, serializable.
func ParseRead(s string) (kv.Read, error) {
	switch s {
	case "", "index", "linearizable":
		return kv.ReadIndex, nil
	case "lease":
		return kv.ReadLease, nil
	case "serializable":
		return kv.ReadSerializable, nil
	}
	return 0, fmt.Errorf("read %q: want index (or its alias linearizable), lease or serializable", s)
}

// ReadName is ParseRead's inverse.
func ReadName(r kv.Read) string {
	switch r {
	case kv.ReadLease:
		return "lease"
	case kv.ReadSerializable:
		return "serializable"
	}
	return "index"
}

// DecodeRequest reads one JSON request of at most MaxBodyBytes from r
// (strict: unknown fields, a field twice, trailing data, bytes that are not UTF-8 and
// anything but one object are refused) and checks it (Check). Errors are
// *Error: 400 malformed, 413 oversize.
func DecodeRequest(r io.Reader) (kv.Request, error) {
	var q Request
	if err := ReadObject(r, MaxBodyBytes, &q, `{"op":"get","key":"k"}`); err != nil {
		return kv.Request{}, err
	}
	return q.Check()
}

// ReadObject reads one JSON object of at most max bytes from r into v,
// strictly: unknown fields, a field given twice, trailing data, bytes
// that are not UTF-8 (the decoder would store U+FFFD, a key the client
// never wrote) and anything but one object are refused. It is every client API's request decoder
// (this package's, dynamo/clientapi's, pbft/clientapi's); example is the
// object an empty body's error shows. Errors are *Error: 400 malformed,
// 413 oversize.
func ReadObject(r io.Reader, max int, v any, example string) error {
	data, err := io.ReadAll(io.LimitReader(r, int64(max)+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge("request body larger than %d bytes", max)
		}
		return badRequest("reading the request: %v", err)
	}
	if len(data) > max {
		return tooLarge("request body larger than %d bytes", max)
	}
	if !utf8.Valid(data) {
		return badRequest("keys and values are UTF-8 text: the request body has bytes that are not UTF-8 (at offset %d)", invalidAt(data))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if err == io.EOF {
			return badRequest("empty request: want a JSON object such as %s", example)
		}
		return badRequest("malformed request: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("malformed request: trailing data after the JSON object")
	}
	if err := duplicateField(data); err != "" {
		return badRequest("malformed request: %s", err)
	}
	return nil
}

// duplicateField says which field the JSON object data names twice, or
// "": encoding/json keeps the last value silently, so {"key":"x",
// "key":"y"} would act on y where the client (or a proxy that checked
// it) may read x. Names match as encoding/json matches them to struct
// fields, without case. data has decoded already; a value that is not an
// object has no fields. One token scan of a bounded body, values skipped.
func duplicateField(data []byte) string {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return ""
	}
	seen := map[string]string{} // folded name: the name as first given
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return ""
		}
		name, _ := t.(string)
		if first, ok := seen[foldName(name)]; ok {
			if first == name {
				return fmt.Sprintf("field %q given twice (name each field once)", name)
			}
			return fmt.Sprintf("field %q given twice, as %q and %q (names match without case; name each field once)", first, first, name)
		}
		seen[foldName(name)] = name
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return ""
		}
	}
	return ""
}

// foldName maps each rune of s to the least of its case folds, so that
// two names are equal under strings.EqualFold exactly when their
// foldNames are equal.
func foldName(s string) string {
	return strings.Map(func(r rune) rune {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		return least
	}, s)
}

// Check turns a decoded request into a kv.Request, refusing what the
// operation cannot mean. Errors are *Error (400, or 413 for an oversize
// key or value).
func (q Request) Check() (kv.Request, error) {
	op, ok := ops[q.Op]
	if !ok {
		if q.Op == "watch" || q.Op == "snapshot" {
			return kv.Request{}, badRequest("op %q has its own endpoint: GET /v1/%s", q.Op, q.Op)
		}
		return kv.Request{}, badRequest("unknown op %q (valid: %s)", q.Op, opList)
	}
	if len(q.Key) > MaxKeyBytes || len(q.End) > MaxKeyBytes {
		return kv.Request{}, tooLarge("key of %d bytes: at most %d", max(len(q.Key), len(q.End)), MaxKeyBytes)
	}
	if len(q.Value) > MaxValueBytes || (q.Expect != nil && len(*q.Expect) > MaxValueBytes) {
		return kv.Request{}, tooLarge("value of more than %d bytes", MaxValueBytes)
	}
	for _, s := range []string{q.Key, q.End, q.Value} {
		if !utf8.ValidString(s) {
			return kv.Request{}, badRequest("keys and values are UTF-8 text")
		}
	}
	read, err := ParseRead(q.Read)
	if err != nil {
		return kv.Request{}, badRequest("%v", err)
	}
	if (q.Session == 0) != (q.Seq == 0) {
		return kv.Request{}, badRequest("session and seq go together (a session is nonzero, its seq counts from 1)")
	}
	r := kv.Request{Op: op, Read: read, Key: q.Key, Value: q.Value, Session: q.Session, Seq: q.Seq}
	unused := func(field string, set bool) error {
		if set {
			return badRequest("field %s means nothing to op %s", field, q.Op)
		}
		return nil
	}
	needKey := func() error {
		if q.Key == "" {
			return badRequest("op %s needs a key", q.Op)
		}
		return nil
	}
	var errs []error
	switch op {
	case kv.OpGet:
		errs = append(errs, needKey(), unused("value", q.Value != ""), unused("end", q.End != ""), unused("limit", q.Limit != 0))
	case kv.OpPut, kv.OpDelete:
		errs = append(errs, needKey(), unused("end", q.End != ""), unused("limit", q.Limit != 0), unused("read", q.Read != ""))
		if op == kv.OpDelete {
			errs = append(errs, unused("value", q.Value != ""))
		}
	case kv.OpCAS:
		errs = append(errs, needKey(), unused("end", q.End != ""), unused("limit", q.Limit != 0), unused("read", q.Read != ""))
		if q.Expect != nil {
			r.Expect = *q.Expect
		}
		r.Exists = q.Expect != nil
		if q.Exists != nil {
			r.Exists = *q.Exists
		}
		if !r.Exists && r.Expect != "" {
			errs = append(errs, badRequest("cas with exists=false (the key must be absent) and an expected value"))
		}
	case kv.OpRange:
		errs = append(errs, unused("value", q.Value != ""))
		if q.End != "" && q.End <= q.Key {
			errs = append(errs, badRequest("range [%q, %q) is empty: end must sort after key", q.Key, q.End))
		}
		if q.Limit > MaxRange {
			errs = append(errs, badRequest("limit %d: at most %d", q.Limit, MaxRange))
		}
		r.End, r.Limit = q.End, q.Limit
	case kv.OpMember:
		if q.Value != "add" && q.Value != "remove" {
			errs = append(errs, badRequest("op member needs value \"add\" or \"remove\", not %q", q.Value))
		}
		errs = append(errs, unused("key", q.Key != ""))
	case kv.OpMove:
		errs = append(errs, unused("key", q.Key != ""), unused("value", q.Value != ""))
	}
	if op != kv.OpCAS {
		errs = append(errs, unused("expect", q.Expect != nil), unused("exists", q.Exists != nil))
	}
	if op == kv.OpMember || op == kv.OpMove {
		if q.Node < 1 || q.Node > 1<<16 {
			errs = append(errs, badRequest("op %s needs a node id 1..%d, not %d", q.Op, 1<<16, q.Node))
		}
		r.Node = ordo.NodeID(q.Node)
	} else {
		errs = append(errs, unused("node", q.Node != 0))
	}
	if !writes(op) {
		errs = append(errs, unused("session", q.Session != 0))
	}
	for _, e := range errs {
		if e != nil {
			return kv.Request{}, e
		}
	}
	return r, nil
}

// EncodeRequest is DecodeRequest's inverse for a valid kv.Request of an
// op POST /v1/kv takes (the Go client's encoder).
func EncodeRequest(r kv.Request) ([]byte, error) {
	q := Request{Op: r.Op.String(), Key: r.Key, End: r.End, Value: r.Value, Limit: r.Limit, Session: r.Session, Seq: r.Seq, Node: int(r.Node)}
	if r.Read != kv.ReadIndex {
		q.Read = ReadName(r.Read)
	}
	if r.Op == kv.OpCAS {
		exists := r.Exists
		q.Exists = &exists
		if r.Exists {
			e := r.Expect
			q.Expect = &e
		}
	}
	if _, err := q.Check(); err != nil {
		return nil, err
	}
	if b, ok := appendRequest(nil, q); ok {
		return b, nil
	}
	// Without HTML escaping: json.Marshal would spend six bytes on each
	// <, > and &. Control characters still take six (\u00XX), which
	// MaxBodyBytes allows for.
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(q); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// invalidAt is the offset of the first byte of data that is not UTF-8.
func invalidAt(data []byte) int {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(data)
}

// writes reports whether op changes the database (or its membership): a
// write carries a session and may have an unknown outcome.
func writes(op kv.Op) bool {
	switch op {
	case kv.OpPut, kv.OpDelete, kv.OpCAS, kv.OpMember, kv.OpMove:
		return true
	}
	return false
}
