package live

import (
	"testing"
	"time"
)

// waitFor polls done every 10 ms until it holds, and fails the test with
// failure() if it does not within the given time.
func waitFor(t *testing.T, within time.Duration, done func() bool, failure func() string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !done() {
		if time.Now().After(deadline) {
			t.Fatal(failure())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
