package ordo_test

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ordo"
)

// counting is an endless input that counts what is read from it.
type counting struct{ n int64 }

func (c *counting) Read(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// An input is read through its bound: exactly the bound is fine, one byte
// more is an *InputTooLargeError, and never more than bound+1 bytes are
// taken from the source.
func TestLimitInput(t *testing.T) {
	const limit = 1000
	for _, size := range []int{0, 1, limit - 1, limit} {
		b, err := io.ReadAll(ordo.LimitInput(bytes.NewReader(make([]byte, size)), "x", limit))
		if err != nil || len(b) != size {
			t.Errorf("%d bytes under a bound of %d: %d bytes, %v", size, limit, len(b), err)
		}
	}
	for _, size := range []int{limit + 1, 10 * limit} {
		b, err := io.ReadAll(ordo.LimitInput(bytes.NewReader(make([]byte, size)), "x", limit))
		var tl *ordo.InputTooLargeError
		if !errors.As(err, &tl) || tl.Name != "x" || tl.Limit != limit || !errors.Is(err, ordo.ErrInputTooLarge) || len(b) > limit {
			t.Errorf("%d bytes under a bound of %d: %d bytes, %v", size, limit, len(b), err)
		}
	}
	src := &counting{}
	if _, err := io.ReadAll(ordo.LimitInput(src, "zeros", limit)); !errors.Is(err, ordo.ErrInputTooLarge) || src.n > limit+1 {
		t.Errorf("endless input: read %d bytes (bound %d), error %v", src.n, limit, err)
	}
}

// ReadInput: "-" is stdin; a regular file over the bound is refused by its
// size; a missing file is the OS's error.
func TestReadInput(t *testing.T) {
	b, err := ordo.ReadInput("-", strings.NewReader("hello"), 10)
	if err != nil || string(b) != "hello" {
		t.Fatalf("stdin: %q %v", b, err)
	}
	if _, err := ordo.ReadInput("-", strings.NewReader("hello, world"), 10); !errors.Is(err, ordo.ErrInputTooLarge) || !strings.Contains(err.Error(), "standard input") {
		t.Fatalf("long stdin: %v", err)
	}
	path := filepath.Join(t.TempDir(), "f")
	os.WriteFile(path, make([]byte, 11), 0o644)
	if _, err := ordo.ReadInput(path, nil, 10); !errors.Is(err, ordo.ErrInputTooLarge) || !strings.Contains(err.Error(), path) {
		t.Fatalf("long file: %v", err)
	}
	if _, err := ordo.ReadInput(path+".missing", nil, 10); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	if b, err := ordo.ReadInput("/dev/zero", nil, 1<<16); !errors.Is(err, ordo.ErrInputTooLarge) || len(b) > 1<<16 {
		t.Fatalf("/dev/zero: %d bytes, %v", len(b), err)
	}
}

func TestTrimBOM(t *testing.T) {
	for in, want := range map[string]string{"\ufeffa: 1": "a: 1", "a: 1": "a: 1", "": "", "\xef\xbb": "\xef\xbb"} {
		if got := string(ordo.TrimBOM([]byte(in))); got != want {
			t.Errorf("TrimBOM(%q) = %q, want %q", in, got, want)
		}
	}
}

// termMsg is a message with a Validate: the codec refuses what it refuses.
type termMsg struct{ Term uint64 }

func (termMsg) Kind() string      { return "term" }
func (m termMsg) Validate() error { return ordo.CheckTerm("term", m.Term) }

func TestDecodeValidates(t *testing.T) {
	c, err := ordo.NewCodec([]ordo.Message{termMsg{}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		term uint64
		ok   bool
	}{{0, true}, {ordo.MaxTerm, true}, {ordo.MaxTerm + 1, false}, {math.MaxUint64, false}} {
		b, err := c.Encode(termMsg{tc.term})
		if err != nil {
			t.Fatal(err)
		}
		m, err := c.Decode("term", b)
		var de *ordo.DecodeError
		switch {
		case tc.ok && (err != nil || m.(termMsg).Term != tc.term):
			t.Errorf("term %d: %v %v", tc.term, m, err)
		case !tc.ok && (!errors.As(err, &de) || de.Reason != ordo.ReasonAbsurd || m != nil):
			t.Errorf("term %d: decoded %v, error %v, want reason %q", tc.term, m, err, ordo.ReasonAbsurd)
		}
	}
	// A layered message is validated through its inner message.
	lc, err := ordo.NewCodec(ordo.LayerMessages("l", []ordo.Message{termMsg{}}))
	if err != nil {
		t.Fatal(err)
	}
	k := lc.Kinds()[0]
	b, _ := c.Encode(termMsg{math.MaxUint64})
	if _, err := lc.Decode(k, b); err == nil {
		t.Errorf("layered %s with term 2^64-1 decoded", k)
	}
}
