package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"ordo/internal/style"
)

// --color always colours `ordo sim`'s verdicts; --color never, and auto
// on output that is no terminal (a test's buffer, a pipe), print the very
// bytes of a run without colour.
func TestSimColor(t *testing.T) {
	always, err := run(t, "--color", "always", "sim", "bully-section4")
	if err != nil {
		t.Fatalf("%v\n%s", err, always)
	}
	for _, want := range []string{"  \x1b[32mPASS\x1b[0m single-leader", "\x1b[1mchecks:\x1b[0m", "\x1b[32mexpectations met (3)\x1b[0m"} {
		if !strings.Contains(always, want) {
			t.Errorf("--color always lacks %q:\n%s", want, always)
		}
	}
	never, err := run(t, "--color", "never", "sim", "bully-section4")
	if err != nil {
		t.Fatalf("%v\n%s", err, never)
	}
	if strings.Contains(never, "\x1b[") {
		t.Errorf("--color never printed an escape:\n%q", never)
	}
	auto, err := run(t, "sim", "bully-section4")
	if err != nil || auto != never {
		t.Errorf("auto on a buffer differs from never (%v):\n%s", err, auto)
	}
	// Take the colour away and the text is the same, byte for byte.
	if strip(always) != never {
		t.Errorf("--color always is not the plain report plus escapes:\n%s\nvs\n%s", strip(always), never)
	}
	// NO_COLOR does not overrule the flag (no-color.org: a command-line
	// flag wins).
	t.Setenv("NO_COLOR", "1")
	if out, _ := run(t, "--color", "always", "sim", "bully-section4"); out != always {
		t.Error("NO_COLOR overruled --color always")
	}
	if _, err := run(t, "--color", "sometimes", "version"); err == nil || !strings.Contains(err.Error(), "auto, always or never") {
		t.Errorf("--color sometimes: %v", err)
	}
}

// A failed check and its violations are red, the unmet expectations too.
func TestSimColorFail(t *testing.T) {
	f := filepath.Join(t.TempDir(), "unmet.yaml")
	// partition-bully's split brain, expected (wrongly) to pass.
	src := "name: unmet\nprotocol: bully\nnodes: 5\nduration: 7s\nnetwork: {latency: lan}\n" +
		"faults:\n  - {at: 1s, partition: \"1,2/3,4,5\"}\n  - {at: 4s, heal: true}\n" +
		"checks: [single-leader]\nexpect: {single-leader: pass}\n"
	if err := os.WriteFile(f, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "--color", "always", "sim", f)
	var ec exitCode
	if !errors.As(err, &ec) || ec != 1 {
		t.Fatalf("got %v, want exit status 1:\n%s", err, out)
	}
	for _, want := range []string{"  \x1b[31mFAIL\x1b[0m single-leader", "\x1b[31m    - ", "\x1b[31mEXPECTATIONS NOT MET:\x1b[0m\n\x1b[31m  single-leader"} {
		if !strings.Contains(out, want) {
			t.Errorf("lacks %q:\n%q", want, out)
		}
	}
}

// The tour's headings are bold and its verdicts coloured with --color
// always; without colour it prints exactly what runTour does.
func TestTourColor(t *testing.T) {
	out, err := run(t, "--color", "always", "tour", "--section", "3")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"\x1b[1m3. Logical clocks\x1b[0m\n\x1b[1m═", "\x1b[31m✗ a3 (line 10", "\x1b[2mtry: ordo clock check", "\x1b[32m4 scenes in "} {
		if !strings.Contains(out, want) {
			t.Errorf("tour lacks %q:\n%s", want, out)
		}
	}
	never, err := run(t, "--color", "never", "tour", "--section", "1")
	if err != nil {
		t.Fatal(err)
	}
	var plain bytes.Buffer
	if err := runTour(&plain, 1); err != nil {
		t.Fatal(err)
	}
	if seconds(never) != seconds(plain.String()) || strings.Contains(never, "\x1b[") {
		t.Errorf("--color never:\n%s\nrunTour:\n%s", never, plain.String())
	}
	always, err := run(t, "--color", "always", "tour", "--section", "1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(always, "check all-delivered: \x1b[32m✓ pass\x1b[0m") || !strings.Contains(always, "check all-delivered: \x1b[31m✗ fail\x1b[0m") {
		t.Errorf("section 1's verdicts are not coloured:\n%s", always)
	}
	if seconds(strip(always)) != seconds(never) {
		t.Errorf("--color always is not the plain tour plus escapes")
	}
}

// strip removes SGR escapes.
func strip(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "\x1b[")
		if i < 0 {
			return b.String() + s
		}
		b.WriteString(s[:i])
		j := strings.IndexByte(s[i:], 'm')
		s = s[i+j+1:]
	}
}

// seconds masks the tour's running time.
func seconds(s string) string {
	if i := strings.LastIndex(s, " in "); i >= 0 {
		if j := strings.Index(s[i:], "s,"); j >= 0 {
			return s[:i] + " in Xs," + s[i+j+2:]
		}
	}
	return s
}

// --pager without a terminal does nothing: the output is the command's
// own, and no pager runs.
func TestPagerNoTerminal(t *testing.T) {
	t.Setenv("ORDO_PAGER", "sed s/^/PAGED:/")
	out, err := run(t, "--pager", "version")
	if err != nil || out != "ordo "+version+"\n" || paging != nil {
		t.Fatalf("--pager on a buffer: %q, %v, pager %v", out, err, paging)
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var warn bytes.Buffer
	if p := startPager(f, style.IsTerminal(f), []string{"sed", "s/^/PAGED:/"}, &warn); p != nil || warn.Len() > 0 {
		t.Fatalf("a pager started for a file: %v, %q", p, warn.String())
	}
}

// The pager itself, given a terminal: the output goes through it, and a
// pager that is missing is one line of warning and plain output.
func TestPagerPipesAndWarns(t *testing.T) {
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "screen"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var warn bytes.Buffer
	p := startPager(f, true, []string{"sed", "s/^/PAGED:/"}, &warn)
	if p == nil {
		t.Skipf("no sed to page with: %s", warn.String())
	}
	// --color auto colours what goes through the process's pager.
	paging = p
	ok := pagesToTerminal(p.w) && !pagesToTerminal(f)
	paging = nil
	if !ok {
		t.Error("pagesToTerminal does not recognise the pager's pipe")
	}
	if _, err := p.w.WriteString("one\ntwo\n"); err != nil {
		t.Fatal(err)
	}
	if err := p.wait(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(f.Name()); string(got) != "PAGED:one\nPAGED:two\n" {
		t.Fatalf("through the pager: %q", got)
	}
	warn.Reset()
	if p := startPager(f, true, []string{"no-such-pager-ordo", "-R"}, &warn); p != nil {
		t.Fatal("a missing pager started")
	}
	if w := warn.String(); !strings.Contains(w, `pager "no-such-pager-ordo" not found`) || strings.Count(w, "\n") != 1 {
		t.Fatalf("warning %q", w)
	}
}

func TestPagerCommand(t *testing.T) {
	for _, tc := range []struct {
		ordo, pager string
		want        []string
	}{
		{"", "", []string{"less", "-FRX"}},
		{"", "more", []string{"more"}},
		{"most -s", "more", []string{"most", "-s"}},
		{"  ", "less -R", []string{"less", "-R"}},
		{"cat", "less", nil},
		{"", "cat", nil},
	} {
		env := map[string]string{"ORDO_PAGER": tc.ordo, "PAGER": tc.pager}
		if got := pagerCommand(func(k string) string { return env[k] }); !slices.Equal(got, tc.want) {
			t.Errorf("ORDO_PAGER=%q PAGER=%q: %q, want %q", tc.ordo, tc.pager, got, tc.want)
		}
	}
}
