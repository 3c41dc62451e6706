package live

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"

	"ordo"
)

// Columns are a protocol's own columns in the status table (FormatView:
// ordo cluster status, the view of ordo cluster up), between PID and BOOT.
// By default they are an election's ROLE, TERM and LEADER, read from the
// notes every election makes; a protocol that elects nobody registers its
// own (RegisterColumns), read from the state its nodes report
// (Status.State, ordo.StateReporter), or none at all.
type Columns struct {
	// Head names the columns; none: the table has no protocol column.
	Head []string
	// Width is each column's least width (optional, by index); a column
	// is as wide as its widest cell otherwise.
	Width []int
	// Cells is one running node's cells, one for each Head ("-" where the
	// node says nothing).
	Cells func(s *Status) []string
	// Summary is the line above the table ("" or nil: none), from the
	// nodes that answered.
	Summary func(v []NodeView) string
}

var (
	columnsMu sync.Mutex
	columns   = map[string]Columns{}
)

// RegisterColumns makes c the status columns of a cluster whose servers
// run protocol (ordo cluster registers PBFT's and Dynamo's: a protocol
// package may not import live). A later registration replaces an earlier.
func RegisterColumns(protocol string, c Columns) {
	columnsMu.Lock()
	defer columnsMu.Unlock()
	columns[protocol] = c
}

// viewProtocol is the protocol the servers of a view run ("" when none
// answered).
func viewProtocol(v []NodeView) string {
	for _, nv := range v {
		if nv.Up && nv.Status != nil && nv.Kind == ordo.Server.String() {
			return nv.Status.Protocol
		}
	}
	return ""
}

// columnsOf is the columns of a view: its servers' protocol's, or the
// election's.
func columnsOf(v []NodeView) Columns {
	columnsMu.Lock()
	c, ok := columns[viewProtocol(v)]
	columnsMu.Unlock()
	if ok {
		return c
	}
	return electionColumns
}

// electionColumns are ROLE, TERM and LEADER, from the election notes
// (Status.Role, Term, Leader), and the line naming the leader.
var electionColumns = Columns{
	Head:  []string{"ROLE", "TERM", "LEADER"},
	Width: []int{10, 5, 7},
	Cells: func(s *Status) []string {
		leader := "-"
		if s.Leader != 0 {
			leader = "n" + strconv.Itoa(int(s.Leader))
		}
		role := s.Role
		if role == "" {
			role = "running" // the protocol notes no role
		}
		return []string{role, strconv.FormatInt(s.Term, 10), leader}
	},
	Summary: leaderLine,
}

// leaderLine names the node(s) that believe they lead ("" for a protocol
// whose nodes note no role: a register, a broadcast).
func leaderLine(v []NodeView) string {
	leaders := map[ordo.NodeID]int64{}
	elects := false // some node notes a role: the protocol elects a leader
	for _, nv := range v {
		if nv.Up && nv.Status.Role != "" {
			elects = true
		}
		if nv.Up && nv.Status.Role == "leader" {
			leaders[nv.ID] = nv.Status.Term
		}
	}
	switch {
	case !elects:
		return ""
	case len(leaders) == 0:
		return "leader: none"
	case len(leaders) == 1:
		for id, t := range leaders {
			return fmt.Sprintf("leader: n%d (term %d)", int(id), t)
		}
	}
	var s []string
	for id, t := range leaders {
		s = append(s, fmt.Sprintf("n%d (term %d)", int(id), t))
	}
	sort.Strings(s)
	return fmt.Sprintf("leaders: %s — more than one node believes it leads", strings.Join(s, ", "))
}

// table is the status table's rows as cells, printed with each column as
// wide as its widest cell (and its least width), the last column unpadded.
type table struct {
	rows  [][]string
	width []int
}

func (t *table) add(cells ...string) {
	for i, c := range cells {
		if i >= len(t.width) {
			t.width = append(t.width, 0)
		}
		t.width[i] = max(t.width[i], len([]rune(c)))
	}
	t.rows = append(t.rows, cells)
}

func (t *table) least(col, w int) {
	for col >= len(t.width) {
		t.width = append(t.width, 0)
	}
	t.width[col] = max(t.width[col], w)
}

func (t *table) write(w io.Writer) {
	for _, r := range t.rows {
		var b strings.Builder
		for i, c := range r {
			if i == len(r)-1 {
				b.WriteString(c)
				break
			}
			b.WriteString(c)
			b.WriteString(strings.Repeat(" ", t.width[i]-len([]rune(c))+1))
		}
		fmt.Fprintln(w, b.String())
	}
}
