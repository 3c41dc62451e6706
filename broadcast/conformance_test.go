package broadcast_test

import (
	"testing"

	"ordo"
	_ "ordo/broadcast"
	"ordo/ordotest"
)

// The conformance kit (ordotest.Protocol), in wire mode.
func TestConformance(t *testing.T) {
	p, err := ordo.Lookup("broadcast")
	if err != nil {
		t.Fatal(err)
	}
	ordotest.Protocol(t, p)
}
