package main

import (
	"errors"
	"runtime"
	"strings"
	"testing"

	"ordo"
	"ordo/diagram"
)

// zeros is an endless input that counts the bytes read from it.
type zeros struct{ n int64 }

func (z *zeros) Read(p []byte) (int, error) {
	clear(p)
	z.n += int64(len(p))
	return len(p), nil
}

// `ordo clock lamport /dev/zero` used to grow until the kernel killed it:
// the size bound was checked after reading the whole file. Now at most the
// bound plus one byte is read, memory stays within a few bounds, and the
// error says what the bound is.
func TestClockReadsThroughABound(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	out, err := run(t, "clock", "lamport", "/dev/zero")
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ordo.ErrInputTooLarge) || !strings.Contains(err.Error(), "/dev/zero") {
		t.Fatalf("ordo clock lamport /dev/zero: error %v (output %q), want a size error naming the file", err, out)
	}
	// io.ReadAll doubles its buffer: about 2 bounds in all for bound+1 bytes.
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("/dev/zero: %v; %d bytes allocated (input bound %d)", err, alloc, diagram.MaxSize)
	if alloc > 8*diagram.MaxSize {
		t.Errorf("reading /dev/zero allocated %d bytes, bound %d (8× the %d-byte input bound)", alloc, 8*diagram.MaxSize, diagram.MaxSize)
	}

	// The same through standard input ("-"), counting what is read.
	z := &zeros{}
	root := newRoot()
	root.SetIn(z)
	var buf strings.Builder
	root.SetOut(&buf)
	root.SetErr(&buf)
	root.SetArgs([]string{"clock", "lamport", "-"})
	err = root.Execute()
	if !errors.Is(err, ordo.ErrInputTooLarge) {
		t.Fatalf("ordo clock lamport - < endless zeros: error %v, want a size error", err)
	}
	t.Logf("stdin: read %d bytes of an endless input", z.n)
	if z.n > diagram.MaxSize+1 {
		t.Errorf("read %d bytes of an endless input, want at most the bound plus one (%d)", z.n, diagram.MaxSize+1)
	}
}

// "-" reads the diagram from standard input, and a byte-order mark is
// not content.
func TestClockReadsStdin(t *testing.T) {
	root := newRoot()
	root.SetIn(strings.NewReader("\ufeffP1: a b\nP2: c\na -> c\n"))
	var buf strings.Builder
	root.SetOut(&buf)
	root.SetErr(&buf)
	root.SetArgs([]string{"clock", "lamport", "-"})
	if err := root.Execute(); err != nil {
		t.Fatalf("diagram on stdin: %v\n%s", err, buf.String())
	}
	if !strings.Contains(buf.String(), "c") {
		t.Errorf("no stamps in %q", buf.String())
	}
}
