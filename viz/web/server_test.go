package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"ordo/scenario"
	"ordo/viz/web"
)

// simModel fetches /api/sim?query and decodes the model.
func simModel(t *testing.T, base, query string) *web.Model {
	t.Helper()
	resp, err := http.Get(base + "/api/sim?" + query)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/api/sim?%s: %d %s", query, resp.StatusCode, body)
	}
	var m web.Model
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	return &m
}

func statusOf(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServerRefusesBadRequests: every bad query is a 400 that names the
// problem; a foreign Host (DNS rebinding) is a 403; a scenario outside the
// built-in ones cannot be named by a URL.
func TestServerRefusesBadRequests(t *testing.T) {
	base := serve(t, web.ServerOptions{Scenario: builtin(t, "bully-section4"), Lookup: func(name string) (*scenario.Scenario, error) {
		if name != "partition-bully" {
			return nil, &url.Error{Op: "lookup", URL: name, Err: io.EOF}
		}
		return builtin(t, name), nil
	}})
	for _, c := range []struct{ query, want string }{
		{"scenario=bully-section4&seed=x", "seed"},
		{"scenario=bully-section4&seed=-1", "seed"},
		{"scenario=bully-section4&pos=-3", "pos"},
		{"scenario=bully-section4&pos=99999999999", "pos"},
		{"scenario=bully-section4&go=sideways", "go"},
		{"scenario=bully-section4&go=%2B0", "go"},
		{"scenario=bully-section4&inject=crash%202", "POSITION:FAULT"},
		{"scenario=bully-section4&inject=5:", "empty"},
		{"scenario=bully-section4&inject=5:" + strings.Repeat("x", web.MaxFaultText+1), "longer"},
		{"scenario=bully-section4&inject=0:explode%202", "explode"},
		{"scenario=bully-section4&inject=0:crash%209", "9"},
		{"scenario=..%2F..%2Fetc%2Fpasswd", "passwd"},
		{"scenario=bully-section4" + strings.Repeat("&inject=1:crash%202", web.MaxInjections+1), "at most"},
	} {
		code, body := statusOf(t, mustReq(t, base+"/api/sim?"+c.query, ""))
		if code != http.StatusBadRequest || !strings.Contains(body, c.want) {
			t.Errorf("%s: %d %q, want 400 naming %q", c.query, code, body, c.want)
		}
	}
	for _, q := range []string{"a=x&b=1", "a=1", "a=0&b=99999&scenario=bully-section4&pos=3", "a=0&b=1&scenario=bully-section4&seed=q"} {
		if code, body := statusOf(t, mustReq(t, base+"/api/why?"+q, "")); code != http.StatusBadRequest {
			t.Errorf("/api/why?%s: %d %s, want 400", q, code, body)
		}
	}
	code, _ := statusOf(t, mustReq(t, base+"/", "evil.example:80"))
	if code != http.StatusForbidden {
		t.Errorf("a foreign Host got %d, want 403", code)
	}
	req := mustReq(t, base+"/", "")
	req.Method = http.MethodPost
	if code, _ := statusOf(t, req); code != http.StatusMethodNotAllowed {
		t.Errorf("POST got %d, want 405", code)
	}
	if code, _ := statusOf(t, mustReq(t, base+"/api/trace", "")); code != http.StatusNotFound {
		t.Errorf("/api/trace of a scenario server got %d, want 404", code)
	}
}

func mustReq(t *testing.T, u, host string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	return req
}

// TestServerSteps: next makes at least one event, back returns to the
// events of before, a position is the same however it is reached, and an
// injected crash is in the states from its step on.
func TestServerSteps(t *testing.T) {
	base := serve(t, web.ServerOptions{Scenario: builtin(t, "bully-section4")})
	start := simModel(t, base, "scenario=bully-section4&pos=0")
	if start.Sim == nil || start.Sim.Pos != 0 || start.Sim.End {
		t.Fatalf("start: %+v", start.Sim)
	}
	next := simModel(t, base, "scenario=bully-section4&pos=0&go=next")
	if len(next.Events) <= len(start.Events) || next.Sim.Pos <= 0 {
		t.Fatalf("next from 0: pos %d, %d events (start had %d)", next.Sim.Pos, len(next.Events), len(start.Events))
	}
	far := simModel(t, base, "scenario=bully-section4&pos=300")
	back := simModel(t, base, "scenario=bully-section4&pos=300&go=back")
	if back.Sim.Pos >= 300 || len(back.Events) >= len(far.Events) {
		t.Fatalf("back from 300: pos %d with %d events; 300 has %d", back.Sim.Pos, len(back.Events), len(far.Events))
	}
	// The same position reached again, after a different run was held.
	simModel(t, base, "scenario=bully-section4&seed=9&pos=10")
	again := simModel(t, base, "scenario=bully-section4&pos=300")
	a, _ := json.Marshal(far.Events)
	b, _ := json.Marshal(again.Events)
	sa, _ := json.Marshal(far.Sim.States)
	sb, _ := json.Marshal(again.Sim.States)
	if string(a) != string(b) || string(sa) != string(sb) {
		t.Fatal("position 300 differs between two visits")
	}
	if plus := simModel(t, base, "scenario=bully-section4&pos=10&go=%2010"); plus.Sim.Pos != 20 {
		t.Fatalf("go=' 10' (a '+' unescaped) from 10 went to %d", plus.Sim.Pos)
	}
	end := simModel(t, base, "scenario=bully-section4&pos=end")
	if !end.Sim.End || len(end.Results) == 0 {
		t.Fatalf("end: %+v with %d results", end.Sim, len(end.Results))
	}
	inj := simModel(t, base, "scenario=bully-section4&pos=40&inject=20:crash%203")
	if len(inj.Sim.Injected) != 1 || inj.Sim.Injected[0].Pos != 20 {
		t.Fatalf("injected: %+v", inj.Sim.Injected)
	}
	states, _ := json.Marshal(inj.Sim.States)
	var nodes []struct {
		ID     int    `json:"id"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal(states, &nodes); err != nil || len(nodes) != 5 || nodes[2].ID != 3 || nodes[2].Status != "crashed" {
		t.Fatalf("after crash 3 at step 20, step 40 shows %s (%v)", states, err)
	}
	// The proof of ordo trace why, for two events of a position.
	code, body := statusOf(t, mustReq(t, base+"/api/why?scenario=bully-section4&pos=300&a=e0&b=40", ""))
	if code != http.StatusOK || !strings.Contains(body, `"text":"e`) || !strings.Contains(body, `"order":`) {
		t.Fatalf("/api/why: %d %s", code, body)
	}
	// /sim with go redirects to the position reached: the URL is the
	// state.
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(base + "/sim?scenario=bully-section4&pos=0&go=next")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.Contains(loc, "pos=") || strings.Contains(loc, "go=") {
		t.Fatalf("go=next answered %d to %q", resp.StatusCode, loc)
	}
}

// TestServerTrace: a trace server shows its trace at / and /api/trace.
func TestServerTrace(t *testing.T) {
	tr := largeTrace(t, 500)
	srv, err := web.NewServer(web.ServerOptions{Trace: tr})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	code, body := statusOf(t, mustReq(t, hs.URL+"/", ""))
	if code != 200 || !strings.Contains(body, `<script id="ordo-data"`) {
		t.Fatalf("/: %d", code)
	}
	resp, err := http.Get(hs.URL + "/api/trace")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m web.Model
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	if len(m.Events) != 500 || m.Picture == nil || len(m.Picture.Marks) == 0 || m.Sim != nil {
		t.Fatalf("/api/trace: %d events, picture %v", len(m.Events), m.Picture != nil)
	}
	if _, err := web.NewServer(web.ServerOptions{}); err == nil {
		t.Fatal("a server of nothing was accepted")
	}
}

// TestServerPorcupine: a linearizability finding's porcupine visualization
// is served beside it, and no other file is.
func TestServerPorcupine(t *testing.T) {
	t.Setenv("ORDO_VIZ_DIR", t.TempDir())
	base := serve(t, web.ServerOptions{Scenario: builtin(t, "register-stale-reads")})
	m := simModel(t, base, "scenario=register-stale-reads&pos=end")
	path := ""
	for _, r := range m.Results {
		for _, v := range r.Violations {
			if v.File != "" {
				path = v.File
			}
		}
	}
	if path == "" {
		t.Fatalf("no porcupine visualization among %+v", m.Results)
	}
	code, body := statusOf(t, mustReq(t, base+"/porcupine?path="+url.QueryEscape(path), ""))
	if code != http.StatusOK || !strings.Contains(body, "<html") {
		t.Fatalf("/porcupine: %d (%d bytes)", code, len(body))
	}
	for _, p := range []string{"/etc/passwd", path + "x", ""} {
		if code, _ := statusOf(t, mustReq(t, base+"/porcupine?path="+url.QueryEscape(p), "")); code != http.StatusNotFound {
			t.Errorf("/porcupine?path=%s: %d, want 404", p, code)
		}
	}
}
