package clientapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"ordo"
	"ordo/pbft/clientapi"
)

// Every refusal is one JSON object with its status; a replica that does
// not execute in time is 504, outcome unknown, for a write and 503 for a
// get.
func TestHandlerStatuses(t *testing.T) {
	silent := func(ctx context.Context, m ordo.Message) (ordo.Message, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	s := httptest.NewServer(clientapi.NewHandler(clientapi.Config{Call: silent, ID: 3, Timeout: 50 * time.Millisecond}))
	defer s.Close()
	for _, c := range []struct {
		method, path, ctype, body string
		code                      int
		status, want              string
	}{
		{"POST", "/v1/pbft", "application/json", `{"op":"put","key":"x","value":"1","client":1,"timestamp":1}`, 504, "unknown", "outcome unknown: context deadline exceeded: replica n3 did not execute"},
		// A get changed nothing: unavailable, not unknown (as kv and dynamo).
		{"POST", "/v1/pbft", "application/json", `{"op":"get","key":"x","client":1,"timestamp":1}`, 503, "unavailable", "replica n3 did not execute"},
		{"POST", "/v1/pbft", "text/plain", `{}`, 415, "bad-request", "application/json"},
		{"POST", "/v1/pbft", "", `{"op":"get"`, 400, "bad-request", "malformed"},
		// The shared decoder refuses a field twice (api.ReadObject).
		{"POST", "/v1/pbft", "", `{"op":"put","key":"x","key":"y","value":"1","client":1,"timestamp":1}`, 400, "bad-request", `field "key" given twice`},
		{"POST", "/v1/pbft", "", `{"op":"put","key":"x","value":"` + strings.Repeat("v", clientapi.MaxBodyBytes) + `","client":1,"timestamp":1}`, 413, "bad-request", "larger than"},
		{"GET", "/v1/pbft", "", "", 405, "bad-request", "method not allowed"},
		{"GET", "/v1/kv", "", "", 404, "bad-request", "no endpoint"},
		{"GET", "/v1/status", "", "", 404, "bad-request", "no status"},
	} {
		req, _ := http.NewRequest(c.method, s.URL+c.path, strings.NewReader(c.body))
		if c.ctype != "" {
			req.Header.Set("Content-Type", c.ctype)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var r clientapi.Response
		err = json.NewDecoder(resp.Body).Decode(&r)
		resp.Body.Close()
		if err != nil || resp.StatusCode != c.code || r.Status != c.status || !strings.Contains(r.Error, c.want) {
			t.Errorf("%s %s %.40s: %d %+v (%v), want %d %s %q", c.method, c.path, c.body, resp.StatusCode, r, err, c.code, c.status, c.want)
		}
	}
}
