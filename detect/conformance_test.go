package detect_test

import (
	"testing"

	"ordo/detect"
	"ordo/ordotest"
)

// The conformance kit (ordotest.Protocol), in wire mode, with each
// detector.
func TestConformance(t *testing.T) {
	for _, det := range []string{"timeout", "phi"} {
		t.Run(det, func(t *testing.T) {
			ordotest.Protocol(t, detect.Protocol, ordotest.Options(map[string]string{"detector": det}))
		})
	}
}
