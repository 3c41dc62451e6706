package plural

import "testing"

func TestCount(t *testing.T) {
	for _, c := range []struct {
		n    int
		word string
		alt  []string
		want string
	}{
		{1, "replica", nil, "1 replica"},
		{0, "replica", nil, "0 replicas"},
		{2, "replica", nil, "2 replicas"},
		{-1, "second", nil, "-1 second"},
		{3, "entry", nil, "3 entries"},
		{3, "key", nil, "3 keys"},
		{2, "batch", nil, "2 batches"},
		{2, "process", nil, "2 processes"},
		{1, "replica lies", []string{"replicas lie"}, "1 replica lies"},
		{2, "replica lies", []string{"replicas lie"}, "2 replicas lie"},
		{2, "client API", nil, "2 client APIs"},
	} {
		if got := Count(c.n, c.word, c.alt...); got != c.want {
			t.Errorf("Count(%d, %q, %q) = %q, want %q", c.n, c.word, c.alt, got, c.want)
		}
	}
}
