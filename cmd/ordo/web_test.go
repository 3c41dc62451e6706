package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"ordo/viz/web"
	"ordo/viz/web/browser"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startWeb runs `ordo web args...` until the test ends and returns the
// address it serves.
func startWeb(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	root := newRoot()
	var out syncBuffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(append([]string{"web", "--listen", "127.0.0.1:0"}, args...))
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ordo web ended with %v", err)
		}
	})
	re := regexp.MustCompile(`http://[0-9.:]+/`)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if u := re.FindString(out.String()); u != "" {
			return strings.TrimSuffix(u, "/")
		}
		select {
		case err := <-done:
			done <- err
			t.Fatalf("ordo web stopped: %v\n%s", err, out.String())
		default:
		}
	}
	t.Fatalf("ordo web printed no address:\n%s", out.String())
	return ""
}

func getModel(t *testing.T, u string) *web.Model {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("%s: %s", u, resp.Status)
	}
	var m web.Model
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return &m
}

// TestWebScenarioAndTrace: ordo web serves a scenario stepped (its end
// fails single-leader, as the chapter's split brain must) and a trace
// file with its checks; bad arguments are clear errors.
func TestWebScenarioAndTrace(t *testing.T) {
	base := startWeb(t, "partition-bully")
	m := getModel(t, base+"/api/sim?scenario=partition-bully&pos=end")
	failed := false
	for _, r := range m.Results {
		failed = failed || (r.Check == "single-leader" && r.Failed())
	}
	if m.Sim == nil || !m.Sim.End || !failed {
		t.Fatalf("partition-bully at its end: sim %+v, results %+v", m.Sim, m.Results)
	}

	dir := t.TempDir()
	tf := filepath.Join(dir, "run.jsonl")
	if out, err := run(t, "sim", "bully-section4", "--trace", tf); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	base = startWeb(t, tf)
	m = getModel(t, base+"/api/trace")
	if len(m.Events) == 0 || len(m.Results) == 0 || m.Sim != nil || m.Title != tf {
		t.Fatalf("trace page: %d events, %d results, title %q", len(m.Events), len(m.Results), m.Title)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"web", "no-such-scenario"}, "neither a file nor a built-in scenario"},
		{[]string{"web", "--listen", "nonsense", "bully-section4"}, "HOST:PORT"},
		{[]string{"web", "a", "b"}, "web takes [TRACE | SCENARIO] (at most 1 argument, got 2"},
	} {
		out, err := run(t, c.args...)
		if err == nil || !strings.Contains(err.Error()+out, c.want) {
			t.Errorf("%v: %v\n%s\nwant an error naming %q", c.args, err, out, c.want)
		}
	}
}

// TestWebShots: ordo web shots photographs every scene in a real headless
// Chromium (skipped without one, except under CI=true).
func TestWebShots(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a browser")
	}
	if _, err := browser.Find(); err != nil && os.Getenv("CI") != "true" {
		t.Skip(err)
	}
	dir := t.TempDir()
	out, err := run(t, "web", "shots", "--dir", dir)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, sc := range web.Scenes {
		b, err := os.ReadFile(filepath.Join(dir, sc.File))
		if err != nil || len(b) < 10_000 || string(b[1:4]) != "PNG" {
			t.Errorf("%s: %d bytes, %v", sc.File, len(b), err)
		}
	}
}
