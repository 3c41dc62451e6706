package ordo

import "testing"

// An integer option that defaults to 0 takes any integer: "0" also parses
// as a duration, and was once read as one (rate=50 was refused).
func TestResolveIntegerDefaultZero(t *testing.T) {
	p := &Protocol{Name: "t", Options: []Option{{Name: "rate", Default: "0"}, {Name: "wait", Default: "0s"}}}
	if o, err := p.Resolve(map[string]string{"rate": "50"}); err != nil || o.Int("rate") != 50 {
		t.Fatalf("rate=50: %v, %v", o, err)
	}
	if _, err := p.Resolve(map[string]string{"rate": "50ms"}); err == nil {
		t.Fatal("rate=50ms accepted for an integer option")
	}
	if o, err := p.Resolve(map[string]string{"wait": "50ms"}); err != nil || o.Duration("wait") != 50e6 {
		t.Fatalf("wait=50ms: %v, %v", o, err)
	}
}
