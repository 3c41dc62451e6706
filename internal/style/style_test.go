package style

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The decision table: the flag decides alone when given; auto needs a
// terminal, NO_COLOR unset or empty (https://no-color.org) and TERM other
// than dumb.
func TestEnabledTable(t *testing.T) {
	for _, tc := range []struct {
		mode     Mode
		terminal bool
		noColor  string // "" = unset or empty
		term     string
		want     bool
	}{
		{Auto, true, "", "xterm-256color", true},
		{Auto, true, "", "", true},
		{Auto, false, "", "xterm-256color", false},
		{Auto, true, "1", "xterm-256color", false},
		{Auto, true, "0", "xterm", false}, // any non-empty value disables
		{Auto, true, "", "dumb", false},
		{Auto, false, "1", "dumb", false},
		{Always, false, "", "xterm", true},
		{Always, true, "1", "dumb", true},
		{Always, false, "1", "dumb", true},
		{Never, true, "", "xterm", false},
		{Never, false, "", "xterm", false},
		{Never, true, "1", "dumb", false},
	} {
		env := map[string]string{"NO_COLOR": tc.noColor, "TERM": tc.term}
		got := Enabled(tc.mode, tc.terminal, func(k string) string { return env[k] })
		if got != tc.want {
			t.Errorf("Enabled(%v, terminal=%v, NO_COLOR=%q, TERM=%q) = %v, want %v", tc.mode, tc.terminal, tc.noColor, tc.term, got, tc.want)
		}
	}
}

func TestModeFlag(t *testing.T) {
	var m Mode
	if m.String() != "auto" || m.Type() != "when" {
		t.Fatalf("zero Mode is %q (%s)", m.String(), m.Type())
	}
	for _, s := range []string{"always", "never", "auto"} {
		if err := m.Set(s); err != nil || m.String() != s {
			t.Errorf("Set(%q): %v, now %q", s, err, m.String())
		}
	}
	if err := m.Set("yes"); err == nil || !strings.Contains(err.Error(), "auto, always or never") {
		t.Errorf("Set(yes) = %v", err)
	}
}

func TestStylerAddsCodesOnlyWhenOn(t *testing.T) {
	off, on := New(false), New(true)
	for name, f := range map[string][2]func(string) string{
		"Heading": {off.Heading, on.Heading},
		"Pass":    {off.Pass, on.Pass},
		"Fail":    {off.Fail, on.Fail},
		"Warn":    {off.Warn, on.Warn},
		"Dim":     {off.Dim, on.Dim},
	} {
		if got := f[0]("PASS x"); got != "PASS x" {
			t.Errorf("%s off = %q, want the text unchanged", name, got)
		}
		got := f[1]("PASS x")
		if !strings.HasPrefix(got, "\x1b[") || !strings.HasSuffix(got, "PASS x\x1b[0m") {
			t.Errorf("%s on = %q, want an SGR code, the text and a reset", name, got)
		}
		if got := f[1](""); got != "" {
			t.Errorf("%s on empty text = %q", name, got)
		}
	}
	if on.Pass("x") != "\x1b[32mx\x1b[0m" || on.Fail("x") != "\x1b[31mx\x1b[0m" || on.Heading("x") != "\x1b[1mx\x1b[0m" {
		t.Errorf("pass %q, fail %q, heading %q", on.Pass("x"), on.Fail("x"), on.Heading("x"))
	}
	var zero Styler
	if zero.On() || zero.Fail("x") != "x" {
		t.Error("the zero Styler must be off")
	}
}

// A file, a pipe, a buffer and /dev/null (a character device, but no
// terminal) are no terminals: auto colours none of them.
func TestNoTerminalNoColour(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	for _, out := range []io.Writer{f, w, null, &bytes.Buffer{}} {
		if IsTerminal(out) || For(Auto, out).On() || !For(Always, out).On() || For(Never, out).On() {
			t.Errorf("%T: terminal %v, auto %v", out, IsTerminal(out), For(Auto, out).On())
		}
	}
}

func TestLineWriter(t *testing.T) {
	var b bytes.Buffer
	lw := NewLineWriter(&b, func(l string) string { return "<" + l + ">" })
	for _, p := range []string{"one\ntw", "o\n", "\nthree", " and"} {
		if n, err := lw.Write([]byte(p)); n != len(p) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", p, n, err)
		}
	}
	if got := b.String(); got != "<one>\n<two>\n<>\n" {
		t.Fatalf("before Flush: %q", got)
	}
	if err := lw.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != "<one>\n<two>\n<>\n<three and>" {
		t.Fatalf("after Flush: %q", got)
	}
	if err := lw.Flush(); err != nil || b.Len() != len("<one>\n<two>\n<>\n<three and>") {
		t.Fatalf("a second Flush wrote again: %q, %v", b.String(), err)
	}
	// A failed write is reported, and again on every later call.
	bad := NewLineWriter(failing{}, func(l string) string { return l })
	if _, err := bad.Write([]byte("x\n")); err == nil {
		t.Fatal("write error lost")
	}
	if _, err := bad.Write([]byte("y")); err == nil {
		t.Fatal("write error forgotten")
	}
	if err := bad.Flush(); err == nil {
		t.Fatal("write error forgotten by Flush")
	}
}

type failing struct{}

func (failing) Write([]byte) (int, error) { return 0, errors.New("disk full") }
