// Package poll is the one way ordo's tests of real processes and sockets
// (package live, live/transport) wait: for a condition that proves the
// system got there, polled up to a generous deadline — never for a fixed
// time — so a loaded machine makes them slower, not flaky (the chapter's
// section 5: a timeout cannot tell slow from dead, so tests must not
// guess one).
//
//	poll.Until(t, "a leader", func() bool { return leader() != 0 })
package poll

import (
	"testing"
	"time"
)

// Within is how long Until waits before failing the test.
const Within = 20 * time.Second

// Every is how often Until asks.
const Every = 5 * time.Millisecond

// Until calls ok every Every until it returns true; if Within passes
// first, it fails t with "what: not within 20s".
func Until(t testing.TB, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(Within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, Within)
		}
		time.Sleep(Every)
	}
}
