// Package style decides whether ordo's output is in colour and styles text
// when it is: headings bold, passes green, failures and violations red,
// warnings yellow, secondary text dim.
//
// Colour is on only where a person reads it: by default (Auto) when the
// output is a terminal, NO_COLOR is unset or empty (https://no-color.org)
// and TERM is not "dumb". The --color flag (Always, Never) overrides all
// three. With colour off every function here returns its text unchanged,
// so piped output is byte for byte what it would be without this package.
package style

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"
)

// Mode is the --color setting.
type Mode int

const (
	Auto   Mode = iota // colour on a terminal, unless NO_COLOR or TERM=dumb say no
	Always             // colour, whatever the output and the environment
	Never              // no colour
)

// String returns the flag's spelling: auto, always or never.
func (m Mode) String() string {
	switch m {
	case Always:
		return "always"
	case Never:
		return "never"
	}
	return "auto"
}

// Set parses auto, always or never (pflag.Value).
func (m *Mode) Set(s string) error {
	switch s {
	case "auto":
		*m = Auto
	case "always":
		*m = Always
	case "never":
		*m = Never
	default:
		return fmt.Errorf("%q is not a colour mode: auto, always or never", s)
	}
	return nil
}

// Type names the flag's value in help (pflag.Value).
func (m *Mode) Type() string { return "when" }

// Enabled decides whether output is in colour: Always and Never decide
// alone; Auto says yes only for a terminal with NO_COLOR unset or empty and
// TERM other than "dumb". getenv is os.Getenv (a parameter for tests).
func Enabled(m Mode, terminal bool, getenv func(string) string) bool {
	switch m {
	case Always:
		return true
	case Never:
		return false
	}
	return terminal && getenv("NO_COLOR") == "" && getenv("TERM") != "dumb"
}

// IsTerminal reports whether w is a terminal (an *os.File on one; a
// character device is not enough: /dev/null is one).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// SGR sequences (ECMA-48 Select Graphic Rendition).
const (
	reset  = "\x1b[0m"
	bold   = "\x1b[1m"
	dim    = "\x1b[2m"
	red    = "\x1b[31m"
	green  = "\x1b[32m"
	yellow = "\x1b[33m"
)

// Styler styles text when colour is on and returns it unchanged when off.
// The zero Styler is off.
type Styler struct{ on bool }

// New returns a Styler that is on when on is true.
func New(on bool) Styler { return Styler{on: on} }

// For returns the Styler for output w: Enabled(m, IsTerminal(w), os.Getenv).
func For(m Mode, w io.Writer) Styler { return New(Enabled(m, IsTerminal(w), os.Getenv)) }

// On reports whether the Styler adds colour.
func (s Styler) On() bool { return s.on }

func (s Styler) wrap(code, text string) string {
	if !s.on || text == "" {
		return text
	}
	return code + text + reset
}

// Heading is bold: section headings.
func (s Styler) Heading(text string) string { return s.wrap(bold, text) }

// Pass is green: a verdict that passed, an expectation met.
func (s Styler) Pass(text string) string { return s.wrap(green, text) }

// Fail is red: a verdict that failed, a violation.
func (s Styler) Fail(text string) string { return s.wrap(red, text) }

// Warn is yellow: an unknown verdict, a deliberate bug, a caution.
func (s Styler) Warn(text string) string { return s.wrap(yellow, text) }

// Dim is faint: secondary text, such as the command that reruns a scene.
func (s Styler) Dim(text string) string { return s.wrap(dim, text) }

// LineWriter passes every complete line written to it through a function
// before writing it on, so text printed elsewhere (a report, a tour scene)
// can be styled line by line without changing how it is printed. The
// function gets a line without its newline and returns its replacement.
// Flush writes a last line that has no newline.
type LineWriter struct {
	w    io.Writer
	f    func(line string) string
	buf  []byte
	werr error
}

// NewLineWriter returns a LineWriter styling lines written to w with f.
func NewLineWriter(w io.Writer, f func(line string) string) *LineWriter {
	return &LineWriter{w: w, f: f}
}

// Write buffers p and writes on every line it completes. It reports all of
// p as written unless writing on failed.
func (l *LineWriter) Write(p []byte) (int, error) {
	if l.werr != nil {
		return 0, l.werr
	}
	l.buf = append(l.buf, p...)
	var out []byte
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		out = append(out, l.f(string(l.buf[:i]))...)
		out = append(out, '\n')
		l.buf = l.buf[i+1:]
	}
	if len(out) > 0 {
		if _, err := l.w.Write(out); err != nil {
			l.werr = err
			return 0, err
		}
	}
	if len(l.buf) == 0 {
		l.buf = nil // let a large write's array go
	}
	return len(p), nil
}

// Flush writes the last, unfinished line, if any.
func (l *LineWriter) Flush() error {
	if l.werr != nil {
		return l.werr
	}
	if len(l.buf) == 0 {
		return nil
	}
	line := l.f(string(l.buf))
	l.buf = nil
	_, err := io.WriteString(l.w, line)
	return err
}
