package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"ordo"
	"ordo/kv"
)

// The defects a fresh user's trial of exercise 3's database found in the
// client API, each pinned by a test.

// post sends body to POST /v1/kv of h and decodes the answer.
func post(t *testing.T, h http.Handler, body []byte) (int, Response) {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", "/v1/kv", bytes.NewReader(body)))
	var r Response
	if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil {
		t.Fatalf("body %.200q is not JSON: %v", w.Body.String(), err)
	}
	return w.Code, r
}

// A body whose key or value is not UTF-8 is refused (400) before it
// reaches the server: the JSON decoder would have stored U+FFFD instead.
func TestInvalidUTF8Refused(t *testing.T) {
	var calls atomic.Int64
	h := NewHandler(Config{Call: func(ctx context.Context, m ordo.Message) (ordo.Message, error) {
		calls.Add(1)
		return kv.Response{Status: kv.StatusOK, Rev: 1}, nil
	}})
	for _, body := range []string{
		"{\"op\":\"put\",\"key\":\"\xff\",\"value\":\"x\",\"session\":1,\"seq\":1}",
		"{\"op\":\"put\",\"key\":\"k\",\"value\":\"a\xc3(\",\"session\":1,\"seq\":1}",
		"{\"op\":\"get\",\"key\":\"\xed\xa0\x80\"}", // a surrogate encoded in UTF-8: not UTF-8
	} {
		code, r := post(t, h, []byte(body))
		if code != 400 || r.Status != "bad-request" || !strings.Contains(r.Error, "UTF-8") {
			t.Errorf("%q: %d %q %q; want 400 bad-request saying UTF-8", body, code, r.Status, r.Error)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("%d invalid requests reached the server", n)
	}
	if code, r := post(t, h, []byte(`{"op":"put","key":"é","value":"✓","session":1,"seq":1}`)); code != 200 {
		t.Errorf("valid UTF-8: %d %+v", code, r)
	}
}

// A field given twice is refused by name, in a request and in a batch
// (encoding/json kept the last silently: {"key":"x","key":"y"} put y),
// before the server sees it; names match without case, as the decoder
// matches them to fields.
func TestDuplicateFieldRefused(t *testing.T) {
	var calls atomic.Int64
	h := NewHandler(Config{Call: func(ctx context.Context, m ordo.Message) (ordo.Message, error) {
		calls.Add(1)
		return kv.Response{Status: kv.StatusOK, Rev: 1}, nil
	}})
	for body, want := range map[string]string{
		`{"op":"put","key":"x","key":"y","value":"v"}`:      `field "key" given twice`,
		`{"op":"put","key":"x","value":"v","value":"v"}`:    `field "value" given twice`,
		`{"op":"put","key":"x","KEY":"y","value":"v"}`:      `field "key" given twice, as "key" and "KEY"`,
		`{"op":"put","key":"x","value":"v","op":"delete"}`:  `field "op" given twice`,
		`{"op":"get","key":"x","read":"lease","read":null}`: `field "read" given twice`,
		`{"op":"put","key":"x","value":"v","\u006bey":"y"}`: `field "key" given twice (name each`,
	} {
		code, r := post(t, h, []byte(body))
		if code != 400 || r.Status != "bad-request" || !strings.Contains(r.Error, want) {
			t.Errorf("%s: %d %q %q; want 400 bad-request with %q", body, code, r.Status, r.Error, want)
		}
		if _, err := DecodeBatch(strings.NewReader(`[{"op":"get","key":"a"}, ` + body + `]`)); err == nil || !strings.Contains(err.Error(), "request 1: "+want) {
			t.Errorf("batch with %s: %v; want %q", body, err, want)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("%d requests with a field twice reached the server", n)
	}
	if code, r := post(t, h, []byte(`{"op":"put","key":"x","value":"{\"key\":1,\"key\":2}"}`)); code != 200 {
		t.Errorf("a value that reads as JSON with a key twice: %d %+v, want 200", code, r)
	}
}

// The largest legal request of the worst characters to escape (a CAS:
// key, expected value and value at their bounds) fits the body bound as
// EncodeRequest writes it, and as json.Marshal (HTML escaping) would.
func TestMaximalRequestsFitTheBody(t *testing.T) {
	var got atomic.Value
	h := NewHandler(Config{Call: func(ctx context.Context, m ordo.Message) (ordo.Message, error) {
		got.Store(m)
		return kv.Response{Status: kv.StatusOK, Rev: 1}, nil
	}})
	for _, ch := range []string{"<", "&", "\x01", "\x1f", `"`, `\`, "\u2028", "é"} {
		key := strings.Repeat(ch, MaxKeyBytes/len(ch))
		val := strings.Repeat(ch, MaxValueBytes/len(ch))
		r := kv.Request{Op: kv.OpCAS, Key: key, Expect: val, Exists: true, Value: val, Session: 1, Seq: 1}
		body, err := EncodeRequest(r)
		if err != nil {
			t.Fatalf("%q: %v", ch, err)
		}
		code, resp := post(t, h, body)
		if code != 200 {
			t.Errorf("cas of %q × %d (%d bytes of JSON): %d %s", ch, len(val), len(body), code, resp.Error)
			continue
		}
		if m, _ := got.Load().(kv.Request); m.Value != val || m.Expect != val || m.Key != key {
			t.Errorf("%q: the server got another request", ch)
		}
		// Another client's encoder may escape <, > and & too (six bytes
		// each): the bound allows for it.
		q := Request{Op: "cas", Key: key, Expect: &val, Value: val, Session: 1, Seq: 1}
		marshaled, _ := json.Marshal(q)
		if code, resp := post(t, h, marshaled); code != 200 {
			t.Errorf("cas of %q by json.Marshal (%d bytes): %d %s", ch, len(marshaled), code, resp.Error)
		}
	}
}

// A known endpoint asked with another method is 405 with Allow; an
// unknown path is 404; both with the API's JSON error.
func TestMethodNotAllowed(t *testing.T) {
	h := NewHandler(Config{Call: callFunc(kv.Response{Status: kv.StatusOK}, nil), Status: func() any { return map[string]int{"id": 1} }})
	for _, c := range []struct {
		method, path string
		code         int
		allow        string
	}{
		{"GET", "/v1/kv", 405, "POST"},
		{"PUT", "/v1/kv", 405, "POST"},
		{"DELETE", "/v1/kv", 405, "POST"},
		{"POST", "/v1/status", 405, "GET, HEAD"},
		{"POST", "/v1/snapshot", 405, "GET, HEAD"},
		{"POST", "/v1/watch", 405, "GET, HEAD"},
		{"GET", "/v1/nothing", 404, ""},
		{"GET", "/", 404, ""},
		{"GET", "/v1/status", 200, ""},
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(c.method, c.path, nil))
		if w.Code != c.code || w.Header().Get("Allow") != c.allow {
			t.Errorf("%s %s: %d Allow %q; want %d Allow %q", c.method, c.path, w.Code, w.Header().Get("Allow"), c.code, c.allow)
		}
		if c.code == 200 {
			continue
		}
		var r Response
		if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil || r.Status != "bad-request" || r.Error == "" {
			t.Errorf("%s %s: body %q (%v); want the API's JSON error", c.method, c.path, w.Body.String(), err)
		}
	}
}

// The leader's refusal of a membership change (its strict reconfiguration
// check answers unavailable) is 409, a definite answer, not 503 (which
// clients retry until their deadline); other unavailable answers stay 503.
func TestMembershipRefusalIsConflict(t *testing.T) {
	why := "remove 3 refused: 2 of the 4 voters after it answered within 150ms, 4 needed (strict reconfiguration check)"
	h := NewHandler(Config{Call: callFunc(kv.Response{Status: kv.StatusUnavailable, Err: why}, nil)})
	code, r := post(t, h, []byte(`{"op":"member","value":"remove","node":3,"session":1,"seq":1}`))
	if code != http.StatusConflict || r.Error != why {
		t.Errorf("refused member change: %d %+v; want 409 with the reason", code, r)
	}
	if code, _ := post(t, h, []byte(`{"op":"put","key":"a","value":"1","session":1,"seq":1}`)); code != 503 {
		t.Errorf("unavailable put: %d, want 503", code)
	}
}

// A server's ReadTimeout bounds reading a request; the handler clears it
// once the request is read, so a watch's long poll and a slow write
// outlive it instead of having their context cancelled by the connection.
func TestLongCallsOutliveReadTimeout(t *testing.T) {
	slow := func(ctx context.Context, m ordo.Message) (ordo.Message, error) {
		if q := m.(kv.Request); q.Op == kv.OpWatch {
			<-ctx.Done()
			return nil, ctx.Err()
		}
		select {
		case <-time.After(600 * time.Millisecond):
			return kv.Response{Status: kv.StatusOK, Rev: 7}, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	srv := httptest.NewUnstartedServer(NewHandler(Config{Call: slow}))
	srv.Config.ReadTimeout = 100 * time.Millisecond
	srv.Start()
	defer srv.Close()
	check := func(name string, resp *http.Response, err error, status string) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var r Response
		json.Unmarshal(b, &r)
		if resp.StatusCode != 200 || r.Status != status {
			t.Errorf("%s: %d %s; want 200 %s", name, resp.StatusCode, b, status)
		}
	}
	resp, err := http.Get(srv.URL + "/v1/watch?key=a&after=1&timeout=600ms")
	check("watch", resp, err, "timeout")
	resp, err = http.Post(srv.URL+"/v1/kv", "application/json", strings.NewReader(`{"op":"put","key":"a","value":"1","session":1,"seq":1}`))
	check("slow put", resp, err, "ok")
}
