package pbft_test

import (
	"os"
	"strings"
	"testing"
)

// A Byzantine client is outside what PBFT here defends against in time,
// not in safety (docs/byzantine.md, "What this PBFT leaves out"): its
// requests reach half the replicas as garbage, the backups that heard
// one the primary did not suspect the primary, and the views change again
// and again; agreement, validity and every request of the honest client
// hold in every seed. Found by a fresh user's trial (finding "a Byzantine
// client deposes honest primaries"); kept so that a change that makes a
// lying client cost safety, or that stops it costing views (client
// signatures and the backup's relay), shows here.
func TestPBFTByzantineClientCostsViewsNotSafety(t *testing.T) {
	src, err := os.ReadFile("../scenarios/pbft-4-client-liar.yaml")
	if err != nil {
		t.Fatal(err)
	}
	honest := strings.Replace(string(src), "byzantine:\n  - {node: 5, behaviour: equivocate}\n", "", 1)
	if honest == string(src) {
		t.Fatal("the scenario's liar line moved: update this test")
	}
	newViews := func(t *testing.T, src string, seed uint64) int {
		t.Helper()
		res := runScenario(t, src, seed, false)
		wantChecks(t, res, src, nil)
		if ks := res.Stats.Kinds["new-view"]; ks != nil {
			return ks.Sent
		}
		return 0
	}
	for seed := uint64(1); seed <= 12; seed++ {
		if n := newViews(t, honest, seed); n != 0 {
			t.Errorf("seed %d: %d new-views with no liar, want 0", seed, n)
		}
		if n := newViews(t, string(src), seed); n == 0 {
			t.Errorf("seed %d: the lying client caused no view change: did backups start relaying requests? update docs/byzantine.md and this test", seed)
		}
	}
}
