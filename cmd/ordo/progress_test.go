package main

import (
	"bytes"
	"strings"
	"testing"
)

// The bar counts to the total and ends its line (whether a writer is a
// terminal is style.IsTerminal's, tested there).
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
}
