package lease_test

import (
	"testing"

	"ordo/election/lease"
	"ordo/ordotest"
)

// The conformance kit (ordotest.Protocol) in wire mode: the simulator adds
// the coordination service and the fenced store (Protocol.Services).
func TestConformance(t *testing.T) {
	ordotest.Protocol(t, lease.Protocol)
}
