package poll

import (
	"testing"
)

func TestUntilReturnsOnceTrue(t *testing.T) {
	n := 0
	Until(t, "the third call", func() bool { n++; return n == 3 })
	if n != 3 {
		t.Fatalf("asked %d times, want 3", n)
	}
}
