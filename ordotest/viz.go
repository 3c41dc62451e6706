package ordotest

import (
	"os"
	"testing"
)

// RunKeepingVizDir runs a package's tests (from its TestMain) with
// ORDO_VIZ_DIR set to a fresh temporary directory, removed when they end,
// and returns m.Run's exit code. The linearizability checker writes an
// HTML page for every violation it finds (consistency.Linearizable), and
// the tests of deliberately broken variants find many: without this they
// pile up in the system's temporary directory. Processes the tests start
// inherit the variable.
func RunKeepingVizDir(m *testing.M) int {
	dir, err := os.MkdirTemp("", "ordo-test-viz-")
	if err != nil {
		return m.Run()
	}
	defer os.RemoveAll(dir)
	os.Setenv("ORDO_VIZ_DIR", dir)
	return m.Run()
}
