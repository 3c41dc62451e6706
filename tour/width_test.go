package tour

import (
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// MaxColumns is the widest line the tour may print: it must read in an
// ordinary terminal without wrapping.
const maxColumns = 100

// columns is the width of s in a terminal: Hangul and other East Asian
// wide characters take two columns, the rest (box drawing, arrows) one.
func columns(s string) int {
	n := 0
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Hangul, r), unicode.Is(unicode.Han, r),
			r >= 0xFF00 && r <= 0xFF60, r >= 0x3000 && r <= 0x303F:
			n += 2
		default:
			n++
		}
	}
	return n
}

func TestColumns(t *testing.T) {
	for s, want := range map[string]int{"abc": 3, "─►●": 3, "네트워크": 8, "a ∥ b": 5} {
		if got := columns(s); got != want {
			t.Errorf("columns(%q) = %d, want %d", s, got, want)
		}
	}
}

// The whole tour, as `ordo tour` prints it: no line wider than 100
// columns, and no internal scene number ("scene 304") shown to the reader.
func TestTourFitsAndShowsNoSceneNumbers(t *testing.T) {
	var b strings.Builder
	for _, r := range Run(&b, Scenes()) {
		if r.Err != nil {
			t.Errorf("%s: %v", r.Scene.Section, r.Err)
		}
	}
	internal := regexp.MustCompile(`(?i)\bscenes? [1-9][0-9]{2}\b`)
	for i, line := range strings.Split(b.String(), "\n") {
		if c := columns(line); c > maxColumns {
			t.Errorf("line %d is %d columns wide (at most %d): %s", i+1, c, maxColumns, line)
		}
		if internal.MatchString(line) {
			t.Errorf("line %d shows an internal scene number: %s", i+1, line)
		}
	}
}
