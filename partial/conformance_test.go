package partial_test

import (
	"testing"

	"ordo/ordotest"
	"ordo/partial"
)

// The conformance kit on every protocol of the package: registration,
// codecs, options, fresh nodes, determinism under a nemesis, imports.
func TestConformance(t *testing.T) {
	t.Run("bank", func(t *testing.T) { ordotest.Protocol(t, partial.BankProtocol, ordotest.Nodes(1)) })
	t.Run("bank-client", func(t *testing.T) {
		for _, st := range partial.Strategies {
			ordotest.Protocol(t, partial.BankClientProtocol, ordotest.ServedBy(partial.BankProtocol), ordotest.Nodes(1),
				ordotest.Options(map[string]string{"strategy": string(st)}))
		}
	})
	t.Run("occ-resource", func(t *testing.T) { ordotest.Protocol(t, partial.ResourceProtocol, ordotest.Nodes(1)) })
	t.Run("occ-client", func(t *testing.T) {
		ordotest.Protocol(t, partial.ContenderProtocol, ordotest.ServedBy(partial.ResourceProtocol), ordotest.Nodes(1))
	})
	t.Run("rtt-probe", func(t *testing.T) {
		ordotest.Protocol(t, partial.ProbeProtocol, ordotest.Nodes(2), ordotest.Options(map[string]string{"count": "100"}))
	})
}
