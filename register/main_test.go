package register

import (
	"os"
	"testing"
)

// TestMain points the linearizability checker's pages (written for every
// violation the broken variants are expected to produce) at a directory
// removed after the run, so the tests leave nothing in the system's
// temporary directory.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ordo-register-test-viz-")
	if err == nil {
		os.Setenv("ORDO_VIZ_DIR", dir)
	}
	code := m.Run()
	if err == nil {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}
