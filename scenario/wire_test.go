package scenario

import (
	"strings"
	"testing"
)

// TestWireDefaultsOn: scenario files run on real bytes unless they say
// "wire: false", and the field takes a bool only.
func TestWireDefaultsOn(t *testing.T) {
	const base = "name: w\nprotocol: broadcast\nnodes: 3\nduration: 1s\n"
	for _, tc := range []struct {
		extra string
		want  bool
	}{{"", true}, {"wire: true\n", true}, {"wire: false\n", false}} {
		sc, err := Parse("w.yaml", []byte(base+tc.extra))
		if err != nil {
			t.Fatal(err)
		}
		if sc.Wire != tc.want || sc.Config(1, false).Wire != tc.want {
			t.Fatalf("%q: wire %v, want %v", tc.extra, sc.Wire, tc.want)
		}
	}
	if _, err := Parse("w.yaml", []byte(base+"wire: maybe\n")); err == nil || !strings.Contains(err.Error(), "wire") {
		t.Fatalf("wire: maybe: %v", err)
	}
}
