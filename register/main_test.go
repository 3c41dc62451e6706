package register_test

import (
	"os"
	"testing"

	"ordo/ordotest"
)

// TestMain keeps the linearizability checker's pages of the violations
// these tests provoke out of the system's temporary directory.
func TestMain(m *testing.M) { os.Exit(ordotest.RunKeepingVizDir(m)) }
