package live

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// maxPid bounds a pid read from state.json: Linux's pid_max ceiling
// (2^22). A pid from disk is signalled (kill, stop, pause), so a corrupt
// file must never turn into kill(-1) or kill(0).
const maxPid = 1 << 22

// decodeState parses state.json of a cluster of n nodes: one JSON object,
// known fields, nothing after it, pids in 0..maxPid and node ids in 1..n.
// Errors name the file.
func decodeState(b []byte, n int) (State, error) {
	var s State
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return State{}, fmt.Errorf("%s: %v", StateFileName, err)
	}
	if dec.More() {
		return State{}, fmt.Errorf("%s: data after the state", StateFileName)
	}
	for id, pid := range s.Pids {
		if id < 1 || id > n {
			return State{}, fmt.Errorf("%s: pid of node %d in a cluster of %d", StateFileName, id, n)
		}
		if pid < 0 || pid > maxPid {
			return State{}, fmt.Errorf("%s: node %d has pid %d, out of 0..%d", StateFileName, id, pid, maxPid)
		}
	}
	for id := range s.Faults {
		if id < 1 || id > n {
			return State{}, fmt.Errorf("%s: faults of node %d in a cluster of %d", StateFileName, id, n)
		}
	}
	if s.Pids == nil {
		s.Pids = map[int]int{}
	}
	return s, nil
}
