package bully_test

import (
	"testing"

	"ordo/election/bully"
	"ordo/ordotest"
)

// The conformance kit (ordotest.Protocol), in wire mode, as in section 4
// and with section 5's quorum gate.
func TestConformance(t *testing.T) {
	for _, quorum := range []string{"false", "true"} {
		t.Run("quorum="+quorum, func(t *testing.T) {
			ordotest.Protocol(t, bully.Protocol, ordotest.Options(map[string]string{"quorum": quorum}))
		})
	}
}
