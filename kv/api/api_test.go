package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"ordo"
	"ordo/kv"
)

// The decoder refuses what a request cannot mean, with the right status.
func TestDecodeRequest(t *testing.T) {
	long := strings.Repeat("k", MaxKeyBytes+1)
	big := strings.Repeat("v", MaxValueBytes+1)
	for _, c := range []struct {
		body string
		want int // 0: accepted
	}{
		{`{"op":"get","key":"a"}`, 0},
		{`{"op":"put","key":"a","value":"1","session":7,"seq":1}`, 0},
		{`{"op":"cas","key":"a","expect":"1","value":"2"}`, 0},
		{`{"op":"cas","key":"a","value":"2"}`, 0},
		{`{"op":"range","key":"a","end":"b","limit":10}`, 0},
		{`{"op":"member","value":"add","node":4}`, 0},
		{`{"op":"transfer","node":2}`, 0},
		{`{"op":"get","key":"a","read":"serializable"}`, 0},
		{``, 400},
		{`{`, 400},
		{`[]`, 400},
		{`{"op":"get","key":"a"} {}`, 400},
		{`{"op":"get","key":"a","bogus":1}`, 400},
		{`{"op":"frobnicate","key":"a"}`, 400},
		{`{"op":"watch","key":"a"}`, 400},
		{`{"op":"get"}`, 400},
		{`{"op":"get","key":"a","value":"x"}`, 400},
		{`{"op":"put","key":"a","seq":1}`, 400},
		{`{"op":"get","key":"a","session":1,"seq":1}`, 400},
		{`{"op":"get","key":"a","read":"eventually"}`, 400},
		{`{"op":"cas","key":"a","expect":"1","exists":false,"value":"2"}`, 400},
		{`{"op":"range","key":"b","end":"a"}`, 400},
		{`{"op":"range","limit":100000}`, 400},
		{`{"op":"member","value":"grow","node":4}`, 400},
		{`{"op":"transfer"}`, 400},
		{"{\"op\":\"put\",\"key\":\"\xff\",\"value\":\"x\"}", 400},
		{"{\"op\":\"put\",\"key\":\"a\",\"value\":\"\xc3\"}", 400},
		{`{"op":"get","key":"` + long + `"}`, 413},
		{`{"op":"put","key":"a","value":"` + big + `"}`, 413},
		{`{"op":"put","key":"a","value":"` + strings.Repeat("v", MaxBodyBytes) + `"}`, 413},
	} {
		_, err := DecodeRequest(strings.NewReader(c.body))
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
		}
	}
}

// EncodeRequest and DecodeRequest are inverses on valid requests.
func TestEncodeDecodeRoundTrip(t *testing.T) {
	for _, r := range []kv.Request{
		{Op: kv.OpGet, Key: "a", Read: kv.ReadLease},
		{Op: kv.OpPut, Key: "a", Value: "1", Session: 9, Seq: 3},
		{Op: kv.OpDelete, Key: "a", Session: 9, Seq: 4},
		{Op: kv.OpCAS, Key: "a", Expect: "", Exists: true, Value: "x", Session: 9, Seq: 5},
		{Op: kv.OpCAS, Key: "a", Value: "x"},
		{Op: kv.OpRange, Key: "a", End: "z", Limit: 5, Read: kv.ReadSerializable},
		{Op: kv.OpMember, Value: "remove", Node: 3},
		{Op: kv.OpMove, Node: 2},
	} {
		b, err := EncodeRequest(r)
		if err != nil {
			t.Fatalf("%+v: %v", r, err)
		}
		got, err := DecodeRequest(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if !reflect.DeepEqual(got, r) {
			t.Errorf("%s decodes to %+v, want %+v", b, got, r)
		}
	}
}

// FuzzDecodeRequest: the decoder never panics, and what it accepts
// encodes and decodes back to itself.
func FuzzDecodeRequest(f *testing.F) {
	for _, s := range []string{`{"op":"get","key":"a"}`, `{"op":"cas","key":"a","expect":"1","exists":true,"value":"2","session":1,"seq":2}`,
		`{"op":"range","key":"a","end":"b","limit":3,"read":"lease"}`, `{"op":"member","value":"add","node":4}`, `{"op":"put","key":"\u00e9","value":"\ud800"}`,
		`{"op":"put","key":"a","key":"b","value":"v"}`, `{"op":"get","Key":"a","key":"b"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := DecodeRequest(bytes.NewReader(data))
		if err != nil {
			return
		}
		b, err := EncodeRequest(r)
		if err != nil {
			t.Fatalf("accepted %q but cannot encode %+v: %v", data, r, err)
		}
		r2, err := DecodeRequest(bytes.NewReader(b))
		if err != nil || !reflect.DeepEqual(r, r2) {
			t.Fatalf("%q: %+v re-encoded as %s decodes to %+v, %v", data, r, b, r2, err)
		}
	})
}

// callFunc answers every request with answer (or err).
func callFunc(answer kv.Response, err error) Caller {
	return func(ctx context.Context, m ordo.Message) (ordo.Message, error) {
		if err != nil {
			return nil, err
		}
		if _, ok := m.(kv.Request); !ok {
			return nil, errors.New("not a request")
		}
		return answer, nil
	}
}

type statusErr int

func (s statusErr) Error() string   { return "gateway says " + http.StatusText(int(s)) }
func (s statusErr) HTTPStatus() int { return int(s) }

// Every answer and failure maps to its documented HTTP status, with a JSON
// body that says which.
func TestHandlerStatusCodes(t *testing.T) {
	put := `{"op":"put","key":"a","value":"1","session":1,"seq":1}`
	get := `{"op":"get","key":"a"}`
	for _, c := range []struct {
		name   string
		call   Caller
		body   string
		code   int
		status string
	}{
		{"ok", callFunc(kv.Response{Status: kv.StatusOK, Rev: 3}, nil), put, 200, "ok"},
		{"not-found", callFunc(kv.Response{Status: kv.StatusNotFound}, nil), get, 200, "not-found"},
		{"mismatch", callFunc(kv.Response{Status: kv.StatusMismatch, Value: "x"}, nil), `{"op":"cas","key":"a","value":"2"}`, 200, "mismatch"},
		{"not-leader", callFunc(kv.Response{Status: kv.StatusNotLeader, Leader: 2}, nil), put, 421, "not-leader"},
		{"unavailable", callFunc(kv.Response{Status: kv.StatusUnavailable}, nil), put, 503, "unavailable"},
		{"unknown", callFunc(kv.Response{Status: kv.StatusUnknown}, nil), put, 504, "unknown"},
		{"busy", callFunc(kv.Response{Status: kv.StatusBusy}, nil), put, 429, "busy"},
		{"gateway busy", callFunc(kv.Response{}, statusErr(429)), put, 429, "busy"},
		{"shutting down", callFunc(kv.Response{}, statusErr(503)), put, 503, "unavailable"},
		{"write without answer", callFunc(kv.Response{}, context.DeadlineExceeded), put, 504, "unknown"},
		{"read without answer", callFunc(kv.Response{}, context.DeadlineExceeded), get, 503, "unavailable"},
		{"malformed", callFunc(kv.Response{}, nil), `{"op":`, 400, "bad-request"},
		{"unknown op", callFunc(kv.Response{}, nil), `{"op":"explode"}`, 400, "bad-request"},
		{"oversize", callFunc(kv.Response{}, nil), `{"op":"put","key":"a","value":"` + strings.Repeat("v", MaxBodyBytes) + `"}`, 413, "bad-request"},
	} {
		h := NewHandler(Config{Call: c.call, LeaderAddr: func(id ordo.NodeID) string { return "127.0.0.1:900" + string(rune('0'+id)) }})
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("POST", "/v1/kv", strings.NewReader(c.body)))
		var r Response
		if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil {
			t.Fatalf("%s: body %q is not JSON: %v", c.name, w.Body.String(), err)
		}
		if w.Code != c.code || r.Status != c.status {
			t.Errorf("%s: %d %q (%s), want %d %q", c.name, w.Code, r.Status, r.Error, c.code, c.status)
		}
		if c.code != 200 && r.Error == "" && c.status != "not-leader" && c.status != "unavailable" && c.status != "unknown" && c.status != "busy" {
			t.Errorf("%s: no error text", c.name)
		}
		if c.status == "not-leader" && (r.Leader != 2 || r.LeaderAddr != "127.0.0.1:9002") {
			t.Errorf("not-leader hint: leader %d at %q, want 2 at 127.0.0.1:9002", r.Leader, r.LeaderAddr)
		}
	}
}

// A watch that sees no change within its timeout answers "timeout" (200),
// not an error; a snapshot is an octet stream with its revision.
func TestHandlerWatchAndSnapshot(t *testing.T) {
	block := func(ctx context.Context, m ordo.Message) (ordo.Message, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	h := NewHandler(Config{Call: block})
	w := httptest.NewRecorder()
	start := time.Now()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/v1/watch?key=a&after=3&timeout=50ms", nil))
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"timeout"`) || time.Since(start) > 5*time.Second {
		t.Errorf("quiet watch: %d %s", w.Code, w.Body.String())
	}
	for _, q := range []string{"/v1/watch", "/v1/watch?key=a&after=x", "/v1/watch?key=a&timeout=-1s", "/v1/watch?key=a&bogus=1"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", q, nil))
		if w.Code != 400 {
			t.Errorf("%s: %d, want 400", q, w.Code)
		}
	}
	h = NewHandler(Config{Call: func(ctx context.Context, m ordo.Message) (ordo.Message, error) {
		return kv.BackupPart{Rev: 42, Total: 5, Data: "\x00snap"}, nil
	}})
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/v1/snapshot", nil))
	if w.Code != 200 || w.Body.String() != "\x00snap" || w.Header().Get("X-Ordo-Rev") != "42" {
		t.Errorf("snapshot: %d %q rev %q", w.Code, w.Body.String(), w.Header().Get("X-Ordo-Rev"))
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("DELETE", "/v1/kv", nil))
	if w.Code != 405 && w.Code != 404 {
		t.Errorf("DELETE /v1/kv: %d", w.Code)
	}
}

// A backup larger than one reply streams: the handler reads it from the
// server part by part (kv.BackupRead) and writes it as it comes, under
// one Content-Length; a part that fails cuts the body short, so the
// client, counting bytes, refuses it. A backup of 2.5 MB was refused
// before ("exceeds the 983040 a reply holds").
func TestHandlerStreamsALargeSnapshot(t *testing.T) {
	backup := make([]byte, 5*kv.MaxSnapReply/2)
	for i := range backup {
		backup[i] = byte(i * 7)
	}
	var asked []uint64
	serve := func(failAt uint64) Caller {
		return func(ctx context.Context, m ordo.Message) (ordo.Message, error) {
			var off uint64
			switch r := m.(type) {
			case kv.Request:
				if r.Op != kv.OpSnap {
					return kv.Response{Status: kv.StatusBadRequest}, nil
				}
			case kv.BackupRead:
				if r.Rev != 9 {
					return kv.Response{Status: kv.StatusBadRequest, Err: "another backup"}, nil
				}
				off = r.Offset
			}
			asked = append(asked, off)
			if failAt > 0 && off >= failAt {
				return nil, context.DeadlineExceeded
			}
			end := min(off+kv.MaxSnapReply, uint64(len(backup)))
			return kv.BackupPart{Rev: 9, Offset: off, Total: uint64(len(backup)), Data: string(backup[off:end])}, nil
		}
	}
	w := httptest.NewRecorder()
	NewHandler(Config{Call: serve(0)}).ServeHTTP(w, httptest.NewRequest("GET", "/v1/snapshot", nil))
	if w.Code != 200 || !bytes.Equal(w.Body.Bytes(), backup) || w.Header().Get("Content-Length") != fmt.Sprint(len(backup)) || w.Header().Get("X-Ordo-Rev") != "9" {
		t.Fatalf("streamed backup: %d, %d of %d bytes, length %q, rev %q", w.Code, w.Body.Len(), len(backup), w.Header().Get("Content-Length"), w.Header().Get("X-Ordo-Rev"))
	}
	if want := []uint64{0, kv.MaxSnapReply, 2 * kv.MaxSnapReply}; !slices.Equal(asked, want) {
		t.Fatalf("parts asked at %v, want %v", asked, want)
	}
	asked = nil
	w = httptest.NewRecorder()
	NewHandler(Config{Call: serve(2 * kv.MaxSnapReply)}).ServeHTTP(w, httptest.NewRequest("GET", "/v1/snapshot", nil))
	if w.Body.Len() != 2*kv.MaxSnapReply || w.Header().Get("Content-Length") != fmt.Sprint(len(backup)) {
		t.Fatalf("a part failing: %d bytes under a Content-Length of %q, want the body cut at %d", w.Body.Len(), w.Header().Get("Content-Length"), 2*kv.MaxSnapReply)
	}
}

// A refusal of the first part (not the leader, busy) is the API's JSON
// answer with its status code, not a stream.
func TestHandlerSnapshotRefused(t *testing.T) {
	for st, code := range map[kv.Status]int{kv.StatusBusy: 429, kv.StatusNotLeader: 421, kv.StatusBadRequest: 400} {
		h := NewHandler(Config{Call: callFunc(kv.Response{Status: st, Err: "no"}, nil)})
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/v1/snapshot", nil))
		if w.Code != code || !strings.Contains(w.Body.String(), `"status":"`+st.String()+`"`) {
			t.Errorf("%v: %d %s, want %d", st, w.Code, w.Body.String(), code)
		}
	}
}
