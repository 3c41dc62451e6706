package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"ordo"
	"ordo/kv"
)

// A batch body is refused whole when its shape or size is wrong, and item
// by item when a well-formed request means nothing.
func TestDecodeBatch(t *testing.T) {
	put := `{"op":"put","key":"a","value":"1","session":7,"seq":1}`
	many := "[" + strings.Repeat(put+",", MaxBatch) + put + "]"
	for _, c := range []struct {
		body  string
		want  int   // whole-batch status, 0: decoded
		items []int // per item: 0 accepted, else its status
	}{
		{`[` + put + `]`, 0, []int{0}},
		{`[` + put + `,{"op":"get","key":"b"}]`, 0, []int{0, 0}},
		{`[` + put + `,{"op":"frobnicate"},{"op":"get"}]`, 0, []int{0, 400, 400}},
		{`[{"op":"put","key":"` + strings.Repeat("k", MaxKeyBytes+1) + `","value":"v"}]`, 0, []int{413}},
		{``, 400, nil},
		{`[]`, 400, nil},
		{`{}`, 400, nil},
		{put, 400, nil},
		{`[` + put, 400, nil},
		{`[` + put + `] []`, 400, nil},
		{`[` + put + `,]`, 400, nil},
		{`[{"op":"put","key":"a","bogus":1}]`, 400, nil},
		{`[1]`, 400, nil},
		{"[{\"op\":\"put\",\"key\":\"\xff\",\"value\":\"x\"}]", 400, nil},
		{many, 413, nil},
		{`[{"op":"put","key":"a","value":"` + strings.Repeat("v", MaxBodyBytes) + `"}]`, 413, nil},
	} {
		items, err := DecodeBatch(strings.NewReader(c.body))
		got := 0
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("%.60s: error %v is not an *Error", c.body, err)
			}
			got = e.Status
		}
		if got != c.want {
			t.Errorf("%.60s: status %d (%v), want %d", c.body, got, err, c.want)
			continue
		}
		if len(items) != len(c.items) {
			t.Errorf("%.60s: %d items, want %d", c.body, len(items), len(c.items))
			continue
		}
		for i, it := range items {
			st := 0
			if it.Err != nil {
				st = it.Err.Status
			}
			if st != c.items[i] {
				t.Errorf("%.60s: item %d status %d (%v), want %d", c.body, i, st, it.Err, c.items[i])
			}
		}
	}
}

// The batch endpoint answers each request as it would have been answered
// alone (status and body, in order), calls the server once for the
// batch, and refuses bad items without dropping the good ones.
func TestBatchEndpoint(t *testing.T) {
	var mu sync.Mutex
	var calls []int
	many := func(ctx context.Context, ms []ordo.Message) ([]ordo.Message, []error) {
		mu.Lock()
		calls = append(calls, len(ms))
		mu.Unlock()
		reps := make([]ordo.Message, len(ms))
		errs := make([]error, len(ms))
		for i, m := range ms {
			q := m.(kv.Request)
			switch q.Key {
			case "follower":
				reps[i] = kv.Response{Status: kv.StatusNotLeader, Leader: 2}
			case "lost":
				errs[i] = context.DeadlineExceeded
			case "absent":
				reps[i] = kv.Response{Status: kv.StatusNotFound}
			default:
				reps[i] = kv.Response{Status: kv.StatusOK, Rev: uint64(10 + i)}
			}
		}
		return reps, errs
	}
	h := NewHandler(Config{Call: func(context.Context, ordo.Message) (ordo.Message, error) {
		t.Error("Call used although CallMany is set")
		return nil, errors.New("no")
	}, CallMany: many, LeaderAddr: func(id ordo.NodeID) string { return "127.0.0.1:2002" }})
	body := `[{"op":"put","key":"a","value":"1","session":1,"seq":1},` +
		`{"op":"bogus"},` +
		`{"op":"put","key":"follower","value":"1","session":2,"seq":1},` +
		`{"op":"delete","key":"lost","session":3,"seq":1},` +
		`{"op":"get","key":"lost"},` +
		`{"op":"get","key":"absent"}]`
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/v1/kv/batch", strings.NewReader(body)))
	if w.Code != http.StatusOK {
		t.Fatalf("batch: HTTP %d %s", w.Code, w.Body)
	}
	var out []BatchAnswer
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		code   int
		status string
	}{
		{200, "ok"}, {400, "bad-request"}, {421, "not-leader"}, {504, "unknown"}, {503, "unavailable"}, {200, "not-found"},
	}
	if len(out) != len(want) {
		t.Fatalf("%d answers, want %d: %s", len(out), len(want), w.Body)
	}
	for i, a := range out {
		if a.Code != want[i].code || a.Status != want[i].status {
			t.Errorf("answer %d: %d %s (%s), want %d %s", i, a.Code, a.Status, a.Error, want[i].code, want[i].status)
		}
	}
	if out[0].Rev != 10 || out[2].LeaderAddr != "127.0.0.1:2002" || out[1].Error == "" {
		t.Errorf("answers lost their fields: %+v", out)
	}
	if len(calls) != 1 || calls[0] != 5 {
		t.Errorf("CallMany calls %v, want one of the 5 valid requests", calls)
	}

	// Refused whole: the error body a single request gets.
	for _, c := range []struct {
		body string
		ct   string
		want int
	}{
		{`[`, "application/json", 400},
		{`[]`, "application/json", 400},
		{`[{"op":"get","key":"a"}]`, "text/plain", 415},
	} {
		w := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/v1/kv/batch", strings.NewReader(c.body))
		req.Header.Set("Content-Type", c.ct)
		h.ServeHTTP(w, req)
		var r Response
		if w.Code != c.want || json.Unmarshal(w.Body.Bytes(), &r) != nil || r.Status != "bad-request" || r.Error == "" {
			t.Errorf("%q (%s): HTTP %d %s, want %d with a bad-request body", c.body, c.ct, w.Code, w.Body, c.want)
		}
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/v1/kv/batch", nil))
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET /v1/kv/batch: HTTP %d, want 405", w.Code)
	}
}

// Without CallMany the batch is served through Call, one goroutine a
// request, answers still in order.
func TestBatchEndpointWithoutCallMany(t *testing.T) {
	h := NewHandler(Config{Call: func(_ context.Context, m ordo.Message) (ordo.Message, error) {
		q := m.(kv.Request)
		return kv.Response{Status: kv.StatusOK, Value: q.Key}, nil
	}})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/v1/kv/batch", strings.NewReader(`[{"op":"get","key":"a"},{"op":"get","key":"b"},{"op":"get","key":"c"}]`)))
	var out []BatchAnswer
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil || len(out) != 3 {
		t.Fatalf("HTTP %d %s: %v", w.Code, w.Body, err)
	}
	for i, k := range []string{"a", "b", "c"} {
		if out[i].Value != k {
			t.Errorf("answer %d: %+v, want the value %q", i, out[i], k)
		}
	}
}

// EncodeBatch of EncodeRequest's bodies decodes to the same requests.
func TestEncodeBatchRoundTrip(t *testing.T) {
	in := []kv.Request{
		{Op: kv.OpPut, Key: "a", Value: "<&>", Session: 1, Seq: 1},
		{Op: kv.OpDelete, Key: "b", Session: 2, Seq: 5},
	}
	var bodies [][]byte
	for _, r := range in {
		b, err := EncodeRequest(r)
		if err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, b)
	}
	items, err := DecodeBatch(strings.NewReader(string(EncodeBatch(bodies))))
	if err != nil || len(items) != len(in) {
		t.Fatalf("%v, %d items", err, len(items))
	}
	for i, it := range items {
		if it.Err != nil || it.Req != in[i] {
			t.Errorf("item %d: %+v, want %+v", i, it, in[i])
		}
	}
}

// FuzzDecodeBatch: no input panics, decoding is bounded, and every
// accepted request passes Check (so re-encodes).
func FuzzDecodeBatch(f *testing.F) {
	f.Add(`[{"op":"put","key":"a","value":"1","session":7,"seq":1}]`)
	f.Add(`[{"op":"get","key":"a"},{"op":"bogus"}]`)
	f.Add(`[]`)
	f.Add(`[{"op":"cas","key":"a","expect":"1","value":"2"}] x`)
	f.Add(`[[[[`)
	f.Add(`[{"op":"get","key":"a"} , {"op":"put","key":"a","value":"1","KEY":"b"}]`)
	f.Fuzz(func(t *testing.T, body string) {
		items, err := DecodeBatch(strings.NewReader(body))
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || (e.Status != 400 && e.Status != 413) {
				t.Fatalf("error %v is not a 400/413 *Error", err)
			}
			return
		}
		if len(items) == 0 || len(items) > MaxBatch {
			t.Fatalf("%d items accepted", len(items))
		}
		for _, it := range items {
			if it.Err != nil {
				continue
			}
			if _, err := EncodeRequest(it.Req); err != nil {
				t.Fatalf("accepted %+v, which does not re-encode: %v", it.Req, err)
			}
		}
	})
}

// What the fast batch decoder accepts, encoding/json decodes to the same
// items; what it leaves, encoding/json decodes (or refuses) alone.
func FuzzDecodeBatchFast(f *testing.F) {
	f.Add(`[{"op":"put","key":"a","value":"1","session":7,"seq":1}]`)
	f.Add(` [ {"op" : "put", "key":"a\u0041","value":""} , {"op":"get","key":"a","read":"lease"} ] `)
	f.Add(`[{"op":"range","key":"a","end":"b","limit":4294967295},{"op":"member","value":"add","node":4}]`)
	f.Add(`[{"op":"put","key":"a","key":"b","session":18446744073709551615,"seq":01}]`)
	f.Add(`[{"OP":"put","key":"a"},{"op":"cas","key":"a","expect":"1","exists":true}]`)
	f.Add(`[{"op":"get","key":"a","limit":1.5},{},{"op":null}]`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, body string) {
		if !utf8.ValidString(body) {
			return
		}
		fast, ok := decodeBatchFast([]byte(body))
		if !ok {
			return
		}
		slow, err := decodeBatchJSON([]byte(body))
		if err != nil {
			t.Fatalf("the fast decoder accepted what encoding/json refuses (%v)", err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("decoded differently:\nfast %+v\njson %+v", fast, slow)
		}
	})
}

// The batches kv/client sends take the fast path.
func TestDecodeBatchFastTakesClientBatches(t *testing.T) {
	var bodies [][]byte
	for i, r := range []kv.Request{
		{Op: kv.OpPut, Key: "k<&>", Value: "v é", Session: 7, Seq: 1},
		{Op: kv.OpDelete, Key: "k", Session: 7, Seq: 2},
		{Op: kv.OpGet, Key: "k", Read: kv.ReadLease},
		{Op: kv.OpRange, Key: "a", End: "z", Limit: 10},
	} {
		b, err := EncodeRequest(r)
		if err != nil {
			t.Fatal(i, err)
		}
		bodies = append(bodies, b)
	}
	body := EncodeBatch(bodies)
	fast, ok := decodeBatchFast(body)
	if !ok {
		t.Fatalf("a client's batch left the fast path: %s", body)
	}
	slow, err := decodeBatchJSON(body)
	if err != nil || !reflect.DeepEqual(fast, slow) {
		t.Fatalf("fast %+v, json %+v (%v)", fast, slow, err)
	}
}

// A batch of 16 puts of 100-byte values, as ordo bench kv sends them:
// the fast decoder and encoding/json.
func BenchmarkDecodeBatch(b *testing.B) {
	var bodies [][]byte
	for i := range 16 {
		body, _ := EncodeRequest(kv.Request{Op: kv.OpPut, Key: fmt.Sprintf("key-%08d", i), Value: strings.Repeat("v", 100), Session: 1 << 60, Seq: uint64(1000 + i)})
		bodies = append(bodies, body)
	}
	data := EncodeBatch(bodies)
	b.Run("fast", func(b *testing.B) {
		for b.Loop() {
			if _, ok := decodeBatchFast(data); !ok {
				b.Fatal("left the fast path")
			}
		}
	})
	b.Run("json", func(b *testing.B) {
		for b.Loop() {
			if _, err := decodeBatchJSON(data); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// The answers' fast paths: what appendBatchAnswers writes is encodeJSON's
// bytes; what decodeAnswersFast reads, json.Unmarshal reads alike.
func FuzzBatchAnswersFast(f *testing.F) {
	f.Add(200, "ok", "", uint64(7), uint64(0), false, 0, "", "", `[{"code":200,"status":"ok","rev":7}]`)
	f.Add(421, "not-leader", "", uint64(0), uint64(0), false, 2, "127.0.0.1:80", "not the leader", `[{"code":421,"status":"not-leader","leader":2,"leader_addr":"h:1"} , {"rev":1,"code":200}]`)
	f.Add(200, "ok", "v\"é", uint64(1), uint64(1), true, 0, "", "x\n", `[{"code":200,"pairs":[],"more":false,"Rev":1}]`)
	f.Fuzz(func(t *testing.T, code int, status, value string, rev, modRev uint64, more bool, leader int, addr, msg, body string) {
		out := []BatchAnswer{{Code: code, Response: Response{Status: status, Value: value, Rev: rev, ModRev: modRev, More: more, Leader: leader, LeaderAddr: addr, Error: msg}}, {Code: 200, Response: Response{Status: "ok", Rev: rev}}}
		if b, ok := appendBatchAnswers(nil, out); ok {
			rec := httptest.NewRecorder()
			encodeJSON(rec, out)
			if string(b) != rec.Body.String() {
				t.Fatalf("fast %s\njson %s", b, rec.Body.String())
			}
			if got, err := DecodeBatchAnswers(b); err != nil || !reflect.DeepEqual(got, out) {
				t.Fatalf("%s read back as %+v (%v)", b, got, err)
			}
			// And by the fast path itself, not the encoding/json fallback
			// behind DecodeBatchAnswers, unless a number is negative
			// (which the fast reader leaves to encoding/json).
			got, ok := decodeAnswersFast(b)
			if ok && !reflect.DeepEqual(got, out) || !ok && code >= 0 && leader >= 0 {
				t.Fatalf("%s read back by the fast path as %+v (ok %v)", b, got, ok)
			}
		}
		if got, ok := decodeAnswersFast([]byte(body)); ok {
			var want []BatchAnswer
			if err := json.Unmarshal([]byte(body), &want); err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("%q: fast %+v, json %+v (%v)", body, got, want, err)
			}
		}
	})
}

// appendRequest writes what encoding/json writes for the requests it
// takes.
func FuzzAppendRequest(f *testing.F) {
	f.Add("put", "k", "", "v", uint32(0), "", uint64(7), uint64(1), 0)
	f.Add("range", "a<", "z&", "", uint32(10), "lease", uint64(0), uint64(0), -3)
	f.Add("get", "k\"é\u2028", "", "", uint32(0), "serializable", uint64(0), uint64(0), 0)
	f.Fuzz(func(t *testing.T, op, key, end, value string, limit uint32, read string, session, seq uint64, node int) {
		q := Request{Op: op, Key: key, End: end, Value: value, Limit: limit, Read: read, Session: session, Seq: seq, Node: node}
		b, ok := appendRequest(nil, q)
		if !ok {
			return
		}
		var buf strings.Builder
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.Encode(q)
		if want := strings.TrimSuffix(buf.String(), "\n"); string(b) != want {
			t.Fatalf("fast %s\njson %s", b, want)
		}
	})
}
