package live

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// A node started held (ordo node --hold, Options.Hold) answers its admin
// endpoint but runs no protocol until POST /release: ordo cluster run
// starts its clients so and releases them when its clock starts. A
// second release is a no-op; a held node stops cleanly.
func TestHeldNodeStartsAtRelease(t *testing.T) {
	cfg := testConfig(t, t.TempDir(), "live-test-elect", 1, nil)
	rt, err := Start(cfg, 1, Options{Log: quietLog(), Hold: true})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Stop()
	time.Sleep(500 * time.Millisecond) // several election timeouts of the test protocol
	if s := rt.Status(); s.Role != "" || s.Elections != 0 {
		t.Fatalf("held, and the protocol runs: %+v", s)
	}
	nc, _ := cfg.Node(1)
	for range 2 {
		resp, err := http.Post("http://"+nc.Admin+"/release", "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("release: %s", resp.Status)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for rt.Status().Elections == 0 { // alone, it campaigns
		if time.Now().After(deadline) {
			t.Fatalf("released, and the protocol does not run: %+v", rt.Status())
		}
		time.Sleep(20 * time.Millisecond)
	}

	// Stopped while still held: no protocol ever ran, nothing leaks.
	cfg2 := testConfig(t, t.TempDir(), "live-test-elect", 1, nil)
	rt2, err := Start(cfg2, 1, Options{Log: quietLog(), Hold: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt2.Stop(); err != nil {
		t.Fatal(err)
	}
}
