package live

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"ordo"
	"ordo/live/transport"
	"ordo/trace"
)

// startGuarded starts n in-process nodes of a cluster whose admin endpoint
// takes a token, and returns them with the token.
func startGuarded(t *testing.T, n int) (*inproc, string) {
	t.Helper()
	dir := t.TempDir()
	cfg := testConfig(t, dir, "live-test-elect", n, nil)
	tok, err := GenerateAdminToken(filepath.Join(dir, AdminTokenFileName))
	if err != nil {
		t.Fatal(err)
	}
	cfg.AdminToken = AdminTokenFileName
	c := &inproc{t: t, cfg: cfg, rt: make([]*Runtime, n)}
	for i := 1; i <= n; i++ {
		c.start(ordo.NodeID(i))
	}
	t.Cleanup(func() {
		for _, rt := range c.rt {
			if rt != nil {
				rt.Stop()
			}
		}
	})
	return c, tok
}

type adminReq struct {
	method, path, body string
	ctype, token, host string
	origin             string
}

func (a adminReq) do(t *testing.T, rt *Runtime) (int, string) {
	t.Helper()
	req, err := http.NewRequest(a.method, "http://"+rt.AdminAddr()+a.path, strings.NewReader(a.body))
	if err != nil {
		t.Fatal(err)
	}
	if a.ctype != "" {
		req.Header.Set("Content-Type", a.ctype)
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	if a.host != "" {
		req.Host = a.host
	}
	if a.origin != "" {
		req.Header.Set("Origin", a.origin)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(b)
}

// Issue 10, item 1: the admin endpoint sets faults, so it is guarded as a
// remote control is. Each bad request is refused with its own status and
// changes nothing; the good one is applied and lands in the fault log.
func TestAdminEndpointRefusesUnauthenticatedAndMalformedRequests(t *testing.T) {
	c, tok := startGuarded(t, 2)
	rt := c.rt[0]
	cut := `{"block_out":[2],"block_in":[2]}`
	big := `{"loss":0.1` + strings.Repeat(" ", MaxAdminBody) + `}`
	for _, tc := range []struct {
		name string
		req  adminReq
		want int
	}{
		{"status without the token", adminReq{method: "GET", path: "/status"}, http.StatusUnauthorized},
		{"status with a wrong token", adminReq{method: "GET", path: "/status", token: strings.Repeat("0", len(tok))}, http.StatusUnauthorized},
		{"faults without the token", adminReq{method: "POST", path: "/faults", body: cut, ctype: "application/json"}, http.StatusUnauthorized},
		{"faults with a token of another length", adminReq{method: "POST", path: "/faults", body: cut, ctype: "application/json", token: tok[:10]}, http.StatusUnauthorized},
		// What a web page can send cross-origin without a preflight: a
		// "simple" text/plain POST. It carries no token and the wrong type.
		{"cross-origin text/plain", adminReq{method: "POST", path: "/faults", body: cut, ctype: "text/plain", origin: "http://evil.example"}, http.StatusUnauthorized},
		{"text/plain with the token", adminReq{method: "POST", path: "/faults", body: cut, ctype: "text/plain", token: tok}, http.StatusUnsupportedMediaType},
		{"form with the token", adminReq{method: "POST", path: "/faults", body: "block_out=2", ctype: "application/x-www-form-urlencoded", token: tok}, http.StatusUnsupportedMediaType},
		{"no content type", adminReq{method: "POST", path: "/heal", token: tok}, http.StatusUnsupportedMediaType},
		// The token is checked first: a wrong one is told so, whatever
		// the content type (a fresh user's trial reported 415 here).
		{"byzantine, wrong token, no content type", adminReq{method: "POST", path: "/byzantine", body: `{}`, token: strings.Repeat("0", len(tok))}, http.StatusUnauthorized},
		{"pause, no token, no content type", adminReq{method: "POST", path: "/pause"}, http.StatusUnauthorized},
		// DNS rebinding: the page's own name resolves to 127.0.0.1, and
		// the browser sends that name as Host.
		{"foreign Host", adminReq{method: "POST", path: "/faults", body: cut, ctype: "application/json", token: tok, host: "evil.example:80"}, http.StatusForbidden},
		{"foreign Host, metrics", adminReq{method: "GET", path: "/metrics", host: "rebound.example"}, http.StatusForbidden},
		{"trailing data", adminReq{method: "POST", path: "/faults", body: cut + `{"loss":1}`, ctype: "application/json", token: tok}, http.StatusBadRequest},
		{"trailing garbage", adminReq{method: "POST", path: "/faults", body: cut + `x`, ctype: "application/json", token: tok}, http.StatusBadRequest},
		{"unknown field", adminReq{method: "POST", path: "/faults", body: `{"block_all":true}`, ctype: "application/json", token: tok}, http.StatusBadRequest},
		{"body over the bound", adminReq{method: "POST", path: "/faults", body: big, ctype: "application/json", token: tok}, http.StatusRequestEntityTooLarge},
		{"clock, trailing data", adminReq{method: "POST", path: "/clock", body: `{"step":"1s"} {"step":"1s"}`, ctype: "application/json", token: tok}, http.StatusBadRequest},
		{"clock without the token", adminReq{method: "POST", path: "/clock", body: `{"step":"1s"}`, ctype: "application/json"}, http.StatusUnauthorized},
	} {
		if code, body := tc.req.do(t, rt); code != tc.want {
			t.Errorf("%s: status %d, want %d (%s)", tc.name, code, tc.want, strings.TrimSpace(body))
		}
	}
	if f := rt.tr.Faults(); !f.Healthy() {
		t.Fatalf("a refused request set faults: %+v", f)
	}
	if st := rt.clock.State(); st.Offset != 0 {
		// A refused step of 1s would show here.
		if d := time.Duration(st.Offset); d > 500*time.Millisecond || d < -500*time.Millisecond {
			t.Fatalf("a refused request stepped the clock: %+v", st)
		}
	}
	if _, err := os.Stat(filepath.Join(c.cfg.Path("."), FaultsFileName)); err == nil {
		t.Fatal("a refused request reached the fault log")
	}

	// Metrics are served without the token (docs/live.md): read-only.
	if code, _ := (adminReq{method: "GET", path: "/metrics"}).do(t, rt); code != http.StatusOK {
		t.Errorf("GET /metrics without the token: %d, want 200", code)
	}
	// Loopback names all pass the Host check.
	for _, h := range []string{"localhost", "LOCALHOST.:1", "127.0.0.1:9", "[::1]:9", "127.3.4.5"} {
		if code, _ := (adminReq{method: "GET", path: "/status", token: tok, host: h}).do(t, rt); code != http.StatusOK {
			t.Errorf("Host %q: %d, want 200", h, code)
		}
	}

	// The good request: applied, and logged where the merged trace finds
	// cluster faults.
	if code, body := (adminReq{method: "POST", path: "/faults", body: cut, ctype: "application/json; charset=utf-8", token: tok}).do(t, rt); code != http.StatusOK {
		t.Fatalf("POST /faults with the token: %d %s", code, body)
	}
	if f := rt.tr.Faults(); !slices.Equal(f.BlockOut, []ordo.NodeID{2}) {
		t.Fatalf("faults %+v, want block_out [2]", f)
	}
	if code, body := (adminReq{method: "POST", path: "/clock", body: `{"drift_ppm":100}`, ctype: "application/json", token: tok}).do(t, rt); code != http.StatusOK {
		t.Fatalf("POST /clock with the token: %d %s", code, body)
	}
	if code, body := (adminReq{method: "POST", path: "/heal", ctype: "application/json", token: tok}).do(t, rt); code != http.StatusOK {
		t.Fatalf("POST /heal with the token: %d %s", code, body)
	}
	evs := faultLog(t, c.cfg)
	var names []string
	for _, e := range evs {
		node, _ := e.Attrs.Int("node")
		by, _ := e.Attrs.Get("by").(string)
		if node != 1 || by != "admin" {
			t.Errorf("fault event %+v: want node 1, by admin", e)
		}
		names = append(names, e.Name)
	}
	if !slices.Equal(names, []string{"faults", "clock", "faults"}) {
		t.Fatalf("fault log %q, want faults, clock, faults (the heal)", names)
	}
	if bo, _ := evs[0].Attrs.Get("block_out").(string); bo != "[n2]" {
		t.Errorf("logged block_out %q, want [n2]", bo)
	}
}

// faultLog reads the cluster's fault log.
func faultLog(t *testing.T, cfg *Config) []trace.Event {
	t.Helper()
	f, err := os.Open(filepath.Join(cfg.Path("."), FaultsFileName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []trace.Event
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e trace.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		if e.Kind == trace.Fault {
			out = append(out, e)
		}
	}
	return out
}

func TestReadAdminTokenRefusesLooseOrAbsurdFiles(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, AdminTokenFileName)
	tok, err := GenerateAdminToken(p)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
		t.Fatalf("token file mode %v, want 0600", st.Mode().Perm())
	}
	if got, err := ReadAdminToken(p); err != nil || got != tok {
		t.Fatalf("ReadAdminToken = %q, %v; want the token", got, err)
	}
	os.Chmod(p, 0o644)
	if _, err := ReadAdminToken(p); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("a world-readable token file: %v, want a chmod hint", err)
	}
	// Regenerating makes a 0600 file again, whatever the old mode.
	if _, err := GenerateAdminToken(p); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
		t.Fatalf("regenerated token file mode %v, want 0600", st.Mode().Perm())
	}
	big := filepath.Join(dir, "big")
	os.WriteFile(big, bytes.Repeat([]byte("a"), MaxAdminTokenFile+1), 0o600)
	short := filepath.Join(dir, "short")
	os.WriteFile(short, []byte("secret\n"), 0o600)
	for _, bad := range []string{big, short, "/dev/zero", filepath.Join(dir, "missing")} {
		if _, err := ReadAdminToken(bad); err == nil {
			t.Errorf("ReadAdminToken(%s) accepted it", bad)
		}
	}
}

// Issue 10, item 8: a partition of the fault layer keeps the TCP
// connections open; the status must still list the peers as cut.
func TestStatusListsPartitionedPeersAsCut(t *testing.T) {
	c := startCluster(t, 3)
	rt := c.rt[0]
	until(t, "n1 connected to 2 and 3", func() bool { return connectedTo(rt, 2) && connectedTo(rt, 3) })
	if err := rt.SetFaults(transport.Faults{BlockOut: []ordo.NodeID{2, 3}, BlockIn: []ordo.NodeID{2}}); err != nil {
		t.Fatal(err)
	}
	s := rt.Status()
	for _, p := range s.Peers {
		if !p.Out {
			t.Fatalf("peer %d's connection closed; this test needs it open", p.ID)
		}
	}
	var b bytes.Buffer
	FormatView(&b, []NodeView{{ID: 1, Kind: "server", Up: true, Status: &s}}, "")
	row := ""
	for _, l := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(l, "n1 ") {
			row = l
		}
	}
	f := strings.Fields(row)
	// NODE PID ROLE TERM LEADER BOOT CONNECTED-TO CUT-OFF FAULTS
	if len(f) < 9 || f[6] != "-" || f[7] != "2,3:out" {
		t.Fatalf("n1's row %q: want CONNECTED-TO - and CUT-OFF 2,3:out\n%s", row, b.String())
	}
}

// stallNode stands for a starved host: its first timer's handler keeps the
// event loop busy for stallFor while a timer of 1ms is due, so that timer
// fires at least stallFor-1ms late. (Protocol code never sleeps; this is
// the host stealing the CPU, played inside the loop.)
type stallNode struct{ fired int }

const stallFor = 200 * time.Millisecond

func (p *stallNode) Start(env ordo.Env)                                     { env.After(time.Millisecond, ordo.Timer{Name: "stall"}) }
func (p *stallNode) Receive(env ordo.Env, from ordo.NodeID, m ordo.Message) {}
func (p *stallNode) Fire(env ordo.Env, t ordo.Timer) {
	if t.Name == "stall" {
		env.After(time.Millisecond, ordo.Timer{Name: "probe"})
		time.Sleep(stallFor)
	}
}

func init() {
	ordo.Register(&ordo.Protocol{
		Name: "live-test-stall", Doc: "stalls its event loop once (tests)", Messages: testElectMessages,
		New: func(c ordo.Config) (ordo.Node, error) { return &stallNode{}, nil },
	})
}

// Issue 10, item 8: timers that fire late are measured and the status
// warns of a starved host instead of leaving term churn unexplained.
func TestStatusWarnsOfLateTimers(t *testing.T) {
	c := startClusterOf(t, "live-test-stall", 1)
	rt := c.rt[0]
	until(t, "the late probe timer", func() bool { return rt.Status().Timers.Late > 0 })
	s := rt.Status()
	if !s.Timers.Starved || time.Duration(s.Timers.Worst) < stallFor-time.Millisecond {
		t.Fatalf("timers %+v: want starved, worst ≥ %v", s.Timers, stallFor-time.Millisecond)
	}
	var b bytes.Buffer
	FormatView(&b, []NodeView{{ID: 1, Kind: "server", Up: true, Status: &s}}, "")
	if !strings.Contains(b.String(), "warning: n1 fired timers up to") || !strings.Contains(b.String(), "starved") {
		t.Fatalf("no starvation warning:\n%s", b.String())
	}
}

func TestLatenessWindow(t *testing.T) {
	var l lateness
	t0 := time.Unix(1000, 0)
	l.observe(t0, StarvedLateness/2) // on time enough
	if s := l.snapshot(t0); s.Late != 0 || s.Starved {
		t.Fatalf("%+v after a timer %v late", s, StarvedLateness/2)
	}
	l.observe(t0, 300*time.Millisecond)
	l.observe(t0.Add(time.Second), 100*time.Millisecond)
	if s := l.snapshot(t0.Add(2 * time.Second)); !s.Starved || s.Late != 2 || time.Duration(s.Worst) != 300*time.Millisecond {
		t.Fatalf("%+v, want starved, 2 late, worst 300ms", s)
	}
	later := t0.Add(time.Second + LatenessWindow + time.Millisecond)
	if s := l.snapshot(later); s.Starved || s.Worst != 0 || s.Late != 2 {
		t.Fatalf("%+v a window after the last late timer: want not starved, the count kept", s)
	}
	// A new episode starts its own worst.
	l.observe(later, 60*time.Millisecond)
	if s := l.snapshot(later); time.Duration(s.Worst) != 60*time.Millisecond {
		t.Fatalf("%+v, want worst 60ms for the new episode", s)
	}
}
