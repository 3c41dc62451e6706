package client_test

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"ordo/dynamo/client"
	"ordo/dynamo/clientapi"
)

// answer is a server that answers every request with code and r, and
// counts the requests.
func answer(t *testing.T, code int, r clientapi.Response, n *atomic.Int32) string {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		n.Add(1)
		if _, err := clientapi.DecodeRequest(req.Body); err != nil {
			t.Errorf("the client sent a request the API refuses: %v", err)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(r)
	}))
	t.Cleanup(ts.Close)
	return ts.URL
}

// dead is an address nothing listens on.
func dead(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// Which answers move on to the next server and which end the operation,
// with which error; a write that reached a server is never sent again.
func TestErrorsAndFailover(t *testing.T) {
	ok := clientapi.Response{Status: "ok", Vec: "[1]", Siblings: []clientapi.Sibling{{Value: "v"}}}
	for _, c := range []struct {
		name      string
		first     int
		firstResp clientapi.Response
		write     bool
		want      error
		calls     int32 // requests the second server got
	}{
		{"503 moves on", 503, clientapi.Response{Status: "unavailable", Error: "1 of 3"}, true, nil, 1},
		{"429 moves on", 429, clientapi.Response{Status: "busy", Error: "busy"}, true, nil, 1},
		{"504 write: unknown", 504, clientapi.Response{Status: "unknown", Error: "outcome unknown: 1 of 3"}, true, client.ErrUnknown, 0},
		{"400: refused", 400, clientapi.Response{Status: "bad-request", Error: "forged context"}, true, client.ErrRefused, 0},
		{"401: refused", 401, clientapi.Response{Status: "unauthorized", Error: "token"}, false, client.ErrRefused, 0},
		{"500 read moves on", 500, clientapi.Response{Status: "unavailable", Error: "?"}, false, nil, 1},
		{"500 write: unknown", 500, clientapi.Response{Status: "unavailable", Error: "?"}, true, client.ErrUnknown, 0},
	} {
		var n1, n2 atomic.Int32
		cl, err := client.New(client.Config{Endpoints: []string{answer(t, c.first, c.firstResp, &n1), answer(t, 200, ok, &n2)}})
		if err != nil {
			t.Fatal(err)
		}
		// Start at the first server whatever the random start: the
		// second answers ok, so a run that began there proves nothing.
		for n1.Load() == 0 {
			n2.Store(0)
			if c.write {
				_, err = cl.Put(t.Context(), "x", "v", nil)
			} else {
				_, err = cl.Get(t.Context(), "x")
			}
		}
		if !errors.Is(err, c.want) && !(c.want == nil && err == nil) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		if n2.Load() != c.calls {
			t.Errorf("%s: the second server got %d requests, want %d", c.name, n2.Load(), c.calls)
		}
	}
}

// A server that refuses the connection is skipped, even by a write (it
// never got the request); with every server down the answer is
// ErrUnavailable.
func TestDownServers(t *testing.T) {
	var n atomic.Int32
	c, _ := client.New(client.Config{Endpoints: []string{dead(t), answer(t, 200, clientapi.Response{Status: "ok", Vec: "[1]"}, &n)}})
	for range 4 {
		if vec, err := c.Put(t.Context(), "x", "v", nil); err != nil || vec != "[1]" {
			t.Fatalf("put with one server down: %q %v", vec, err)
		}
	}
	c, _ = client.New(client.Config{Endpoints: []string{dead(t), dead(t)}})
	if _, err := c.Get(t.Context(), "x"); !errors.Is(err, client.ErrUnavailable) {
		t.Fatalf("every server down: %v, want ErrUnavailable", err)
	}
	if _, err := c.Put(t.Context(), "", "v", nil); !errors.Is(err, client.ErrRefused) {
		t.Fatalf("empty key: %v, want ErrRefused before any server", err)
	}
}
