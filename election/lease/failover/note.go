package failover

import (
	"bufio"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"

	"ordo"
	"ordo/election"
	"ordo/live"
	"ordo/trace"
)

// The per-round line shows what the report's failover column measures:
// the first "leader" note of a higher term by a node other than the
// killed one. It is read from the servers' own trace files while the
// cluster runs (each event is one write, flushed at the end of its turn),
// from where each file ended before the kill, so a round reads only its
// own events; the merged trace at the end gives the table the same
// figure.

// noteWait bounds how long a round waits for the new leader's note to be
// in its file after the nodes' status showed it.
const noteWait = 2 * time.Second

// maxRoundRead bounds what one round reads of one trace file.
const maxRoundRead = 64 << 20

// traceEnds is where each server's trace file ends now (before a kill).
func (s *ordoCluster) traceEnds() map[ordo.NodeID]int64 {
	ends := map[ordo.NodeID]int64{}
	for _, id := range s.c.Servers() {
		if st, err := os.Stat(s.tracePath(id)); err == nil {
			ends[id] = st.Size()
		}
	}
	return ends
}

func (s *ordoCluster) tracePath(id ordo.NodeID) string {
	return filepath.Join(s.c.Cfg.Path(s.c.Cfg.Nodes[id-1].Dir), live.TraceFileName)
}

// leaderNote is the ms from m.at to the first "leader" note of a term
// above m.term by a server other than m.killed, in the servers' trace
// files from ends on, waiting up to noteWait for it; -1 when none is
// there.
func (s *ordoCluster) leaderNote(m mark, ends map[ordo.NodeID]int64) float64 {
	deadline := time.Now().Add(noteWait)
	for {
		first := int64(-1)
		for _, id := range s.c.Servers() {
			if id == m.killed {
				continue
			}
			if t, ok := firstLeaderNote(s.tracePath(id), ends[id], m.at, m.term); ok && (first < 0 || t < first) {
				first = t
			}
		}
		if first >= 0 {
			return math.Round(float64(first-m.at)/1e5) / 10
		}
		if time.Now().After(deadline) {
			return -1
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// firstLeaderNote is the T of the first "leader" note of a term above
// term at or after from in the trace file path, read from offset on; a
// line that does not parse (the file's torn tail) is skipped.
func firstLeaderNote(path string, offset, from, term int64) (int64, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return 0, false
	}
	sc := bufio.NewScanner(io.LimitReader(f, maxRoundRead))
	sc.Buffer(make([]byte, 64<<10), trace.MaxLine)
	for sc.Scan() {
		var e trace.Event
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			continue
		}
		if e.T < from || e.Kind != trace.Note || e.Name != election.NoteLeader {
			continue
		}
		if tm, ok := e.Attrs.Int("term"); ok && tm > term {
			return e.T, true
		}
	}
	return 0, false
}
