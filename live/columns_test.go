package live

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// fields is the row of node name (its first field) split into fields.
func fields(out, name string) []string {
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == name {
			return f
		}
	}
	return nil
}

// The status table's protocol columns: an election's ROLE, TERM and
// LEADER by default; those a protocol registered in their place, read
// from the state its nodes report; none at all.
func TestFormatViewProtocolColumns(t *testing.T) {
	view := func(proto string) []NodeView {
		return []NodeView{
			{ID: 1, Kind: "server", Up: true, Status: &Status{ID: 1, Pid: 11, Protocol: proto, Boot: 1, Role: "leader", Term: 3, Leader: 1, State: json.RawMessage(`{"round":7}`)}},
			{ID: 2, Kind: "server", Up: true, Status: &Status{ID: 2, Pid: 12, Protocol: proto, Boot: 2, Role: "follower", Term: 3, Leader: 1}},
			{ID: 3, Kind: "server", Err: "down"},
		}
	}
	var b bytes.Buffer
	FormatView(&b, view("live-test-elect"), "")
	out := b.String()
	if !strings.HasPrefix(out, "leader: n1 (term 3)\n") || !strings.Contains(out, "NODE  PID     ROLE       TERM  LEADER  BOOT   CONNECTED-TO   CUT-OFF        FAULTS") {
		t.Fatalf("an election's table:\n%s", out)
	}
	if f := fields(out, "n2"); strings.Join(f, " ") != "n2 12 follower 3 n1 2 - - -" {
		t.Fatalf("n2's row %q:\n%s", f, out)
	}
	if f := fields(out, "n3"); strings.Join(f, " ") != "n3 - DOWN" {
		t.Fatalf("n3's row %q:\n%s", f, out)
	}

	RegisterColumns("live-test-rounds", Columns{
		Head: []string{"ROUND"},
		Cells: func(s *Status) []string {
			var st struct{ Round int }
			if json.Unmarshal(s.State, &st) != nil {
				return nil
			}
			return []string{strings.Repeat("r", st.Round)}
		},
		Summary: func(v []NodeView) string { return "rounds, not terms" },
	})
	b.Reset()
	FormatView(&b, view("live-test-rounds"), "")
	out = b.String()
	if !strings.HasPrefix(out, "rounds, not terms\n") || strings.Contains(out, "ROLE") || strings.Contains(out, "leader") {
		t.Fatalf("registered columns:\n%s", out)
	}
	if f := fields(out, "NODE"); strings.Join(f, " ") != "NODE PID ROUND BOOT CONNECTED-TO CUT-OFF FAULTS" {
		t.Fatalf("head %q:\n%s", f, out)
	}
	// A cell as wide as it gets: the columns after it still line up.
	if f := fields(out, "n1"); strings.Join(f, " ") != "n1 11 rrrrrrr 1 - - -" {
		t.Fatalf("n1's row %q:\n%s", f, out)
	}
	if f := fields(out, "n2"); strings.Join(f, " ") != "n2 12 - 2 - - -" {
		t.Fatalf("n2 reports no state: row %q:\n%s", f, out)
	}
	lines := strings.Split(out, "\n")
	if strings.Index(lines[1], "BOOT") != strings.Index(lines[2], "1      -") {
		t.Fatalf("BOOT is not aligned:\n%s", out)
	}

	RegisterColumns("live-test-none", Columns{})
	b.Reset()
	FormatView(&b, view("live-test-none"), "")
	if f := fields(b.String(), "NODE"); strings.Join(f, " ") != "NODE PID BOOT CONNECTED-TO CUT-OFF FAULTS" {
		t.Fatalf("no protocol columns: head %q:\n%s", f, b.String())
	}
}
