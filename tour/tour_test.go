package tour

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// Every scene of the tour runs and finds what the chapter says (each
// scene's own check); the scenes are in order and each belongs to the
// section its Order names.
func TestEveryScenePlays(t *testing.T) {
	all := Scenes()
	for i, s := range all {
		if i > 0 && all[i-1].Order >= s.Order {
			t.Errorf("scene %d after %d: out of order", s.Order, all[i-1].Order)
		}
		if want := string(rune('0' + s.Order/100)); !strings.HasPrefix(s.Section, want+".") {
			t.Errorf("scene %d under section %q", s.Order, s.Section)
		}
		text, err := s.Text()
		if err != nil {
			t.Errorf("scene %d (%s): %v\n%s", s.Order, s.Section, err, text)
		}
		if strings.TrimSpace(text) == "" {
			t.Errorf("scene %d printed nothing", s.Order)
		}
	}
}

func TestSelect(t *testing.T) {
	s, err := Select(4)
	if err != nil || len(s) != 3 || s[0].Order != 401 || s[1].Order != 402 || s[2].Order != 403 {
		t.Fatalf("section 4: %v, %v", s, err)
	}
	if _, err := Select(9); err == nil || !strings.Contains(err.Error(), "sections with scenes: 1, 2, 3, 4, 5") {
		t.Errorf("section 9: %v", err)
	}
	if _, err := Select(-1); err == nil {
		t.Error("section -1 accepted")
	}
}

// Run writes each section's heading once and reports a failed scene's
// error without stopping the tour.
func TestRunHeadingsAndFailures(t *testing.T) {
	var b strings.Builder
	fail := Scene{Order: 998, Section: "9. Nowhere", Play: failing}
	res := Run(&b, []Scene{fail, fail})
	if strings.Count(b.String(), "9. Nowhere") != 1 || strings.Count(b.String(), "✗ SCENE FAILED: boom") != 2 {
		t.Errorf("output:\n%s", b.String())
	}
	if len(res) != 2 || res[0].Err == nil || res[1].Err == nil {
		t.Errorf("results %v", res)
	}
}

func failing(w io.Writer) error { return errors.New("boom") }
