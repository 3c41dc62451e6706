package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// The bar counts to the total and ends its line; a pipe, a buffer and
// /dev/null are no terminal, so commands draw no bar there.
func TestTerminalProgress(t *testing.T) {
	var b bytes.Buffer
	p := terminalProgress(&b, "runs")
	for i := 1; i <= 50; i++ {
		p(i, 50)
	}
	out := b.String()
	if !strings.Contains(out, "runs") || !strings.Contains(out, "50/50") || !strings.HasSuffix(out, "\n") {
		t.Errorf("bar output %q: want the description, 50/50 and a final newline", out)
	}
	if _, ok := terminal(&b); ok {
		t.Error("a buffer counted as a terminal")
	}
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	if _, ok := terminal(null); ok {
		t.Error("/dev/null counted as a terminal")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if _, ok := terminal(w); ok {
		t.Error("a pipe counted as a terminal")
	}
}
