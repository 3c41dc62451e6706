package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
	"unicode/utf8"

	"ordo"
	"ordo/kv"
)

// MaxBatch bounds the requests of one POST /v1/kv/batch.
const MaxBatch = 256

// CallerMany hands several messages to one server at once and returns
// each one's answer or error at the same index, as Caller would (the live
// runtime's live.Gateway.CallMany: the messages are events of one turn of
// the server's loop, so a leader proposes them together).
type CallerMany func(ctx context.Context, ms []ordo.Message) ([]ordo.Message, []error)

// BatchAnswer is one request's answer in a batch's answer: the HTTP status
// it would have had alone and its body.
type BatchAnswer struct {
	Code int `json:"code"`
	Response
}

// BatchItem is one request of a decoded batch: the request, or why it was
// refused (then the others are still served).
type BatchItem struct {
	Req kv.Request
	Err *Error
}

// DecodeBatch reads the body of POST /v1/kv/batch: a JSON array of 1 to
// MaxBatch requests (each as POST /v1/kv takes it), at most MaxBodyBytes
// in all. A malformed body, or one over a bound, is an *Error for the
// whole batch (400, or 413 oversize); a request that is well-formed JSON
// but that Check refuses is refused alone, in its item.
func DecodeBatch(r io.Reader) ([]BatchItem, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxBodyBytes+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge("batch body larger than %d bytes", MaxBodyBytes)
		}
		return nil, badRequest("reading the batch: %v", err)
	}
	if len(data) > MaxBodyBytes {
		return nil, tooLarge("batch body larger than %d bytes", MaxBodyBytes)
	}
	if !utf8.Valid(data) {
		return nil, badRequest("keys and values are UTF-8 text: the batch has bytes that are not UTF-8 (at offset %d)", invalidAt(data))
	}
	if items, ok := decodeBatchFast(data); ok {
		return items, nil
	}
	return decodeBatchJSON(data)
}

// decodeBatchJSON decodes a batch body (valid UTF-8, within MaxBodyBytes)
// with encoding/json: every batch decodeBatchFast leaves, and the
// reference it is checked against.
func decodeBatchJSON(data []byte) ([]BatchItem, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if t, err := dec.Token(); err != nil || t != json.Delim('[') {
		return nil, badRequest("malformed batch: want a JSON array of requests such as [{\"op\":\"put\",\"key\":\"k\",\"value\":\"v\"}]")
	}
	var items []BatchItem
	for dec.More() {
		if len(items) == MaxBatch {
			return nil, tooLarge("batch of more than %d requests", MaxBatch)
		}
		var q Request
		start := dec.InputOffset()
		if err := dec.Decode(&q); err != nil {
			return nil, badRequest("malformed batch: request %d: %v", len(items), err)
		}
		// A field given twice is refused as POST /v1/kv refuses it (the
		// fast path leaves such a request here). The span may start with
		// the comma before the request.
		if err := duplicateField(bytes.TrimLeft(data[start:dec.InputOffset()], ", \t\r\n")); err != "" {
			return nil, badRequest("malformed batch: request %d: %s", len(items), err)
		}
		r, err := q.Check()
		it := BatchItem{Req: r}
		if err != nil {
			it.Err = err.(*Error)
		}
		items = append(items, it)
	}
	if t, err := dec.Token(); err != nil || t != json.Delim(']') {
		return nil, badRequest("malformed batch: unterminated array")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, badRequest("malformed batch: trailing data after the array")
	}
	if len(items) == 0 {
		return nil, badRequest("empty batch: want 1 to %d requests", MaxBatch)
	}
	return items, nil
}

// EncodeBatch joins requests EncodeRequest encoded into a batch body.
func EncodeBatch(bodies [][]byte) []byte {
	n := 2
	for _, b := range bodies {
		n += len(b) + 1
	}
	out := make([]byte, 0, n)
	out = append(out, '[')
	for i, b := range bodies {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, b...)
	}
	return append(out, ']')
}

// batch serves POST /v1/kv/batch: every request of the body reaches the
// server at once (CallMany), and the answer is 200 with a JSON array of
// BatchAnswer, one per request in order, each with the status it would
// have had alone. A batch refused whole (malformed, oversize) is answered
// like a single request refused.
func (h *handler) batch(w http.ResponseWriter, req *http.Request) {
	items, ok := DecodeBody(w, req, MaxBodyBytes, DecodeBatch, writeError)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(req.Context(), h.c.Timeout)
	defer cancel()
	out := make([]BatchAnswer, len(items))
	var idx []int
	var msgs []ordo.Message
	for i, it := range items {
		if it.Err != nil {
			out[i] = BatchAnswer{Code: it.Err.Status, Response: errorResponse(it.Err.Status, it.Err.Msg)}
			continue
		}
		idx = append(idx, i)
		msgs = append(msgs, it.Req)
	}
	if len(msgs) > 0 {
		reps, errs := h.callMany(ctx, msgs)
		for j, i := range idx {
			code, body := h.answer(items[i].Req, reps[j], errs[j])
			out[i] = BatchAnswer{Code: code, Response: body}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	if b, ok := appendBatchAnswers(nil, out); ok {
		w.Write(b)
		return
	}
	encodeJSON(w, out)
}

// callMany is Config.CallMany, or Call for each message at once.
func (h *handler) callMany(ctx context.Context, msgs []ordo.Message) ([]ordo.Message, []error) {
	if h.c.CallMany != nil {
		return h.c.CallMany(ctx, msgs)
	}
	reps := make([]ordo.Message, len(msgs))
	errs := make([]error, len(msgs))
	var wg sync.WaitGroup
	for i, m := range msgs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reps[i], errs[i] = h.c.Call(ctx, m)
		}()
	}
	wg.Wait()
	return reps, errs
}

// answer is the HTTP status and body of one call's outcome.
func (h *handler) answer(r kv.Request, m ordo.Message, err error) (int, Response) {
	resp, code, err := h.result(r, m, err)
	if err != nil {
		return code, errorResponse(code, err.Error())
	}
	if r.Op == kv.OpMember && resp.Status == kv.StatusUnavailable {
		// The leader refused the change (its strict reconfiguration
		// check): a definite answer, nothing changed. Not 503, which
		// clients retry until their deadline.
		return http.StatusConflict, h.toJSON(resp)
	}
	out := h.toJSON(resp)
	return StatusCode(resp.Status), out
}

// errorResponse is the body of an error answered with HTTP status code.
func errorResponse(code int, msg string) Response {
	return Response{Status: ErrorStatus(code), Error: msg}
}
