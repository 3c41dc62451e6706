package pbft_test

import (
	"os"
	"strings"
	"testing"
)

// Liveness wedges a fresh user's trial found (2 December 2026), each a
// run where every correct replica was up and connected and a request
// still never completed, for good. Each case is one of a kind; the
// siblings are other seeds and sizes of the same story.

// A restarted replica comes back in the view it installed, not changing
// to it again: restarted with an empty log (a stable checkpoint had
// emptied it), it came back changing to the view whose view-change it had
// sent last, and waited for a new-view (its primary, restarted too, had
// none to resend) or for 2f+1 view-changes of a view the others had
// left. Restart the primary of view 1 (replica 1 is silent), then the two
// other correct replicas together: before the fix every seed stalled.
func TestPBFTRestartedReplicaComesBackInItsInstalledView(t *testing.T) {
	src := `name: restarted-into-installed-view
protocol: pbft
nodes: 4
options: {checkpoint: 4, window: 8}
clients:
  - {count: 2, options: {ops: 8, think: 20ms}}
  - {count: 1, options: {ops: 8, start: 3s}}
duration: 8s
network: {latency: lan, authenticated: true}
byzantine:
  - {node: 1, behaviour: silent}
faults:
  - {at: 1500ms, crash: 2}
  - {at: 1600ms, restart: 2}
  - {at: 2000ms, crash: 3}
  - {at: 2000ms, crash: 4}
  - {at: 2100ms, restart: 3}
  - {at: 2100ms, restart: 4}
checks: [byzantine-agreement, validity, bft-liveness]
`
	// A sibling: every correct replica restarted in turn, one at a time.
	inTurn := strings.Replace(src, `  - {at: 2000ms, crash: 4}
  - {at: 2100ms, restart: 3}
  - {at: 2100ms, restart: 4}`, `  - {at: 2100ms, restart: 3}
  - {at: 2500ms, crash: 4}
  - {at: 2600ms, restart: 4}`, 1)
	if inTurn == src {
		t.Fatal("the sibling's faults did not apply")
	}
	for _, s := range []string{src, inTurn} {
		for seed := uint64(1); seed <= 8; seed++ {
			wantChecks(t, runScenario(t, s, seed, false), s, nil)
		}
	}
}

// A slot executed in view v and re-proposed by view v+1 gets its quorum
// again from the replicas that executed it: pbft-4-loss (15% loss, the
// primary silent) with seed 16 left two replicas one commit short, the
// one that had executed the slot having lost the other backup's prepare
// and, with nothing of its own pending, never asking for it again; with
// seed 25 a replica that joined the new view by vouchers refused the
// new primary's pre-prepares of the slots it had executed as conflicting.
// Siblings: more seeds, and 5% loss over a longer run.
func TestPBFTReproposedSlotsGetTheirQuorumAgain(t *testing.T) {
	b, err := os.ReadFile("../scenarios/pbft-4-loss.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	for _, seed := range []uint64{16, 25, 2, 3, 4, 5, 6, 7} {
		wantChecks(t, runScenario(t, src, seed, false), src, nil)
	}
	long := strings.NewReplacer("loss: 0.15", "loss: 0.05", "duration: 10s", "duration: 30s", "{count: 2, options: {ops: 10}}", "{count: 2, options: {ops: 30}}").Replace(src)
	if !strings.Contains(long, "loss: 0.05") || !strings.Contains(long, "ops: 30") {
		t.Fatal("the 5% sibling did not apply")
	}
	for _, seed := range []uint64{5, 6, 7} {
		wantChecks(t, runScenario(t, long, seed, false), long, nil)
	}
}
