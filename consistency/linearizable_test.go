package consistency

import (
	"os"
	"strings"
	"testing"
	"time"

	"ordo"
	"ordo/check"
	"ordo/history"
)

// op builds a history operation of client 10 + proc for the checker tests;
// ret = history.Open with outcome info.
func op(id int64, proc int, f history.Func, key, value, result string, out history.Outcome, call, ret int64) history.Operation {
	return history.Operation{
		Op:     history.Op{ID: id, Process: proc, F: f, Key: key, Value: value},
		Client: ordo.NodeID(10 + proc), Outcome: out, Result: result,
		Call: call, Return: ret, CallEvent: int(2 * id), ReturnEvent: int(2*id + 1),
	}
}

const (
	ok   = history.OutcomeOK
	fail = history.OutcomeFail
	info = history.OutcomeInfo
	open = history.Open
)

func TestLinearizableVerdicts(t *testing.T) {
	cases := []struct {
		name string
		ops  []history.Operation
		pass bool
	}{
		{"sequential put then get", []history.Operation{
			op(1, 0, history.Put, "x", "a", "", ok, 0, 10),
			op(2, 1, history.Get, "x", "", "a", ok, 20, 30),
		}, true},
		{"stale read after an acknowledged put", []history.Operation{
			op(1, 0, history.Put, "x", "a", "", ok, 0, 10),
			op(2, 1, history.Get, "x", "", "", ok, 20, 30),
		}, false},
		// Herlihy and Wing's figure: once a read saw the new value, a
		// later read may not see the old one, even while the write runs.
		{"new then old during a write", []history.Operation{
			op(1, 0, history.Put, "x", "a", "", ok, 0, 100),
			op(2, 1, history.Get, "x", "", "a", ok, 10, 20),
			op(3, 2, history.Get, "x", "", "", ok, 30, 40),
		}, false},
		{"old then new during a write", []history.Operation{
			op(1, 0, history.Put, "x", "a", "", ok, 0, 100),
			op(2, 1, history.Get, "x", "", "", ok, 10, 20),
			op(3, 2, history.Get, "x", "", "a", ok, 30, 40),
		}, true},
		{"an info put may take effect late", []history.Operation{
			op(1, 0, history.Put, "x", "a", "", info, 0, open),
			op(2, 1, history.Get, "x", "", "", ok, 20, 30),
			op(3, 1, history.Get, "x", "", "a", ok, 1000, 1010),
		}, true},
		{"an info put cannot be undone", []history.Operation{
			op(1, 0, history.Put, "x", "a", "", info, 0, open),
			op(2, 1, history.Get, "x", "", "a", ok, 20, 30),
			op(3, 1, history.Get, "x", "", "", ok, 1000, 1010),
		}, false},
		{"an unobserved info put changes nothing", []history.Operation{
			op(1, 0, history.Put, "x", "a", "", ok, 0, 10),
			op(2, 2, history.Put, "x", "b", "", info, 5, open),
			op(3, 1, history.Get, "x", "", "a", ok, 20, 30),
		}, true},
		{"an unobserved info put explains no stale read", []history.Operation{
			op(1, 0, history.Put, "x", "a", "", ok, 0, 10),
			op(2, 2, history.Put, "x", "b", "", info, 5, open),
			op(3, 1, history.Get, "x", "", "", ok, 20, 30),
		}, false},
		{"a failed put took no effect", []history.Operation{
			op(1, 0, history.Put, "x", "a", "", fail, 0, 5),
			op(2, 1, history.Get, "x", "", "a", ok, 20, 30),
		}, false},
		{"keys are independent", []history.Operation{
			op(1, 0, history.Put, "x", "a", "", ok, 0, 10),
			op(2, 1, history.Get, "y", "", "", ok, 20, 30),
			op(3, 1, history.Get, "x", "", "a", ok, 40, 50),
		}, true},
	}
	dir := t.TempDir()
	l := &Linearizable{Dir: dir}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := l.CheckHistory(c.ops, "unit")
			if r.OK != c.pass || r.Unknown {
				t.Fatalf("OK=%v Unknown=%v, want OK=%v: %s %v", r.OK, r.Unknown, c.pass, r.Summary, r.Violations)
			}
			if c.pass {
				return
			}
			m := LinearizableVizFile.FindStringSubmatch(r.Violations[0].Message)
			if m == nil || r.Violations[0].File != m[1] {
				t.Fatalf("violation names no visualization, or not as its File (%q): %s", r.Violations[0].File, r.Violations[0].Message)
			}
			b, err := os.ReadFile(m[1])
			if err != nil || !strings.HasPrefix(m[1], dir) || !strings.Contains(string(b), "<html") {
				t.Fatalf("visualization %s: %v (%d bytes)", m[1], err, len(b))
			}
		})
	}
}

func TestLinearizableCAS(t *testing.T) {
	cas := func(id int64, proc int, expect, value string, out history.Outcome, call, ret int64) history.Operation {
		o := op(id, proc, history.CAS, "x", value, "", out, call, ret)
		o.Expect = expect
		return o
	}
	l := &Linearizable{Dir: t.TempDir()}
	for _, c := range []struct {
		name string
		ops  []history.Operation
		pass bool
	}{
		{"ok cas", []history.Operation{op(1, 0, history.Put, "x", "a", "", ok, 0, 10), cas(2, 0, "a", "b", ok, 20, 30), op(3, 1, history.Get, "x", "", "b", ok, 40, 50)}, true},
		{"ok cas needs its expected value", []history.Operation{op(1, 0, history.Put, "x", "a", "", ok, 0, 10), cas(2, 0, "z", "b", ok, 20, 30)}, false},
		{"info cas that took effect", []history.Operation{op(1, 0, history.Put, "x", "a", "", ok, 0, 10), cas(2, 0, "a", "b", info, 20, open), op(3, 1, history.Get, "x", "", "b", ok, 40, 50)}, true},
		{"info cas that did not", []history.Operation{op(1, 0, history.Put, "x", "a", "", ok, 0, 10), cas(2, 0, "a", "b", info, 20, open), op(3, 1, history.Get, "x", "", "a", ok, 40, 50), op(4, 1, history.Put, "x", "c", "", ok, 60, 70)}, true},
	} {
		if r := l.CheckHistory(c.ops, "cas"); r.OK != c.pass {
			t.Errorf("%s: OK=%v, want %v: %s", c.name, r.OK, c.pass, r.Summary)
		}
	}
}

// A check without a verdict is never a pass: no operations, or a search
// out of time.
func TestLinearizableUnknownIsNotAPass(t *testing.T) {
	l := &Linearizable{Dir: t.TempDir()}
	if r := l.CheckHistory(nil, "empty"); r.OK || r.Verdict != check.NotApplicable {
		t.Errorf("empty history: %+v", r)
	}
	l.Timeout = time.Nanosecond
	ops := []history.Operation{op(1, 0, history.Put, "x", "a", "", ok, 0, 10), op(2, 1, history.Get, "x", "", "a", ok, 20, 30)}
	if r := l.CheckHistory(ops, "timeout"); r.OK || !r.Unknown || r.Verdict != check.Unknown || !strings.Contains(r.Summary, "exceeded") {
		t.Errorf("timed-out check: %+v", r)
	}
}

// With pages off (a campaign: ordo explore) a violation is found and
// described as before, and no file is written.
func TestLinearizableNoPages(t *testing.T) {
	t.Setenv("ORDO_VIZ_DIR", NoPages)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // where a page would go if the sentinel were ignored
	stale := []history.Operation{
		op(1, 0, history.Put, "x", "a", "", ok, 0, 10),
		op(2, 0, history.Put, "x", "b", "", ok, 20, 30),
		op(3, 1, history.Get, "x", "", "a", ok, 40, 50),
	}
	r := (&Linearizable{}).CheckHistory(stale, "nopages")
	if r.OK || len(r.Violations) == 0 || r.Violations[0].File != "" || !strings.Contains(r.Summary, "pages are off") {
		t.Fatalf("OK=%v, violations %v: %s", r.OK, r.Violations, r.Summary)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Fatalf("pages off, yet %d files were written", len(left))
	}
}
