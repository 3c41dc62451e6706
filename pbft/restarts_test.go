package pbft_test

import (
	"fmt"
	"strings"
	"testing"

	"ordo/check"
	"ordo/scenario"
	"ordo/trace"
)

// Restarted replicas are correct ones (durable.go). Found by a fresh
// user's trial (2 December 2026): a replica's state was volatile, so one
// restarted had forgotten what it prepared and committed, and restarting
// every replica in turn, never two down at once, with 5% message loss,
// made correct replicas disagree with no liar (seeds 2, 13, 22, 33 and
// 34 of 40), and a restarted replica sent a second, different
// view-change for a view it had voted in (equivocation named a correct
// node). With the replicas' votes durable, a second fault showed under
// the same runs: a new view dropped the certificate of a batch it
// re-proposed before the replica prepared it again, and a restarted
// replica, having heard no client, could not prepare it again; after a
// few view changes no replica claimed it, and it was re-ordered as a null
// request. Every check passes now, in every seed, with a liar too.
func TestPBFTRestartsInTurnKeepAgreement(t *testing.T) {
	run := func(t *testing.T, src string, seed uint64, want map[string]check.Verdict) {
		t.Helper()
		wantChecks(t, runScenario(t, src, seed, false), src, want)
	}
	pass := func(names ...string) map[string]check.Verdict {
		m := map[string]check.Verdict{}
		for _, n := range names {
			m[n] = check.Pass
		}
		return m
	}
	restarts := func(nodes ...int) string {
		s, at := "faults: [", 150
		for i, n := range nodes {
			if i > 0 {
				s += ", "
			}
			s += fmt.Sprintf("{at: %dms, crash: %d}, {at: %dms, restart: %d}", at, n, at+300, n)
			at += 650
		}
		return s + "]\n"
	}
	base := "name: pbft-restarts\nprotocol: pbft\nnodes: 4\nclients: [{count: 3, options: {ops: 40}}]\nduration: 6s\n"
	every := base + "network: {latency: lan, authenticated: true, loss: 0.05}\n" + restarts(1, 2, 3, 4) +
		"checks: [byzantine-agreement, validity, bft-liveness]\n"
	for seed := uint64(1); seed <= 40; seed++ {
		run(t, every, seed, pass("byzantine-agreement", "validity", "bft-liveness"))
	}
	// No second, different view-change from a restarted replica.
	two := "name: pbft-restart-equivocation\nprotocol: pbft\nnodes: 4\nclients: [{count: 2, options: {ops: 30}}]\nduration: 4s\n" +
		"network: {latency: lan, authenticated: true}\nfaults: [{at: 200ms, crash: 1}, {at: 700ms, restart: 1}, {at: 1200ms, crash: 2}, {at: 1500ms, restart: 2}]\n" +
		"checks: [byzantine-agreement, equivocation]\n"
	run(t, two, 1, pass("byzantine-agreement", "equivocation"))
	// One liar (f = 1) and the three correct replicas restarted in turn:
	// a restarted replica counts as correct, so agreement holds.
	liar := base + "network: {latency: lan, authenticated: true, loss: 0.02}\nbyzantine: [{node: 2, behaviour: equivocate}]\n" + restarts(1, 3, 4) +
		"checks: [byzantine-agreement, validity]\n"
	for seed := uint64(1); seed <= 20; seed++ {
		run(t, liar, seed, pass("byzantine-agreement", "validity"))
	}
}

// Two replicas down at a time (a trial of durable votes, 2 December
// 2026; no liar). A replica that joined a view f+1 others said they
// installed (saysInstalled) dropped every entry above what it executed,
// from its store too — a restarted replica has executed nothing above its
// checkpoint — so a decided slot's certificate was forgotten by enough
// replicas that a later new view re-ordered it as a null request (seed 5
// of the first file: byzantine-agreement failed), and a primary restarted
// after so joining pre-prepared another batch at a sequence number it had
// assigned (seed 4 of the second: equivocation named a correct node). A
// primary restarted right after its new-view pre-prepared, in the same
// view, another batch at the new-view's first slot (the third file: the
// backups refused it as conflicting, and the view changed), and one that
// decided a slot from the others' commits answered a status with an
// unsigned pre-prepare (seed 5 of the fourth).
func TestPBFTRestartsTwoAtATimeKeepAgreement(t *testing.T) {
	head := "protocol: pbft\nnodes: 4\nchecks: [byzantine-agreement, validity, equivocation]\n"
	runs := []struct {
		src  string
		seed uint64
	}{
		{"name: two-down\nclients: [{count: 3, options: {ops: 40}}]\nduration: 10s\nnetwork: {latency: lan, authenticated: true, loss: 0.1}\n" +
			"faults: [{at: 296ms, crash: 4}, {at: 546ms, crash: 1}, {at: 1496ms, restart: 4}, {at: 1696ms, crash: 4}, {at: 1746ms, restart: 1}, {at: 2096ms, crash: 3}, {at: 2296ms, restart: 4}, {at: 2456ms, crash: 2}, {at: 3296ms, restart: 3}, {at: 3386ms, crash: 1}, {at: 3656ms, restart: 2}, {at: 3876ms, crash: 4}, {at: 3986ms, crash: 2}, {at: 3986ms, restart: 1}, {at: 4026ms, restart: 4}, {at: 5186ms, restart: 2}]\n", 5},
		{"name: two-down-primary\nclients: [{count: 3, options: {ops: 20}}]\nduration: 10s\nnetwork: {latency: lan, authenticated: true, loss: 0.05}\n" +
			"faults: [{at: 395ms, crash: 2}, {at: 545ms, crash: 3}, {at: 545ms, restart: 2}, {at: 695ms, crash: 1}, {at: 845ms, restart: 3}, {at: 875ms, crash: 2}, {at: 1475ms, restart: 2}, {at: 1525ms, crash: 4}, {at: 1825ms, restart: 4}, {at: 1895ms, restart: 1}, {at: 2075ms, crash: 1}, {at: 2725ms, crash: 3}, {at: 3275ms, restart: 1}, {at: 3665ms, crash: 1}, {at: 3925ms, restart: 3}, {at: 4865ms, restart: 1}]\n", 4},
		{"name: new-primary-restarts\nclients: [{count: 3, options: {ops: 40, think: 20ms}}]\nduration: 6s\nnetwork: {latency: lan, authenticated: true}\n" +
			"faults: [{at: 0ms, cut: \"1->2\"}, {at: 300ms, crash: 1}, {at: 310ms, heal: true}, {at: 606600us, crash: 2}, {at: 620ms, restart: 2}, {at: 1500ms, restart: 1}]\n", 1},
		{"name: unsigned-resend\nclients: [{count: 3, options: {ops: 20}}]\nduration: 10s\nnetwork: {latency: lan, authenticated: true, loss: 0.02}\n" +
			"faults: [{at: 398ms, crash: 1}, {at: 798ms, crash: 3}, {at: 998ms, restart: 1}, {at: 1128ms, crash: 2}, {at: 1398ms, restart: 3}, {at: 1468ms, crash: 3}, {at: 1618ms, crash: 1}, {at: 1618ms, restart: 3}, {at: 1728ms, restart: 2}, {at: 2018ms, crash: 2}, {at: 2168ms, restart: 2}, {at: 2218ms, restart: 1}, {at: 2448ms, crash: 2}, {at: 2528ms, crash: 3}, {at: 2748ms, restart: 2}, {at: 2758ms, crash: 2}, {at: 2808ms, restart: 2}, {at: 3008ms, crash: 2}, {at: 3128ms, restart: 3}, {at: 3198ms, crash: 3}, {at: 3308ms, restart: 2}, {at: 3498ms, restart: 3}, {at: 3598ms, crash: 1}, {at: 3678ms, crash: 3}, {at: 3828ms, crash: 2}, {at: 3828ms, restart: 3}, {at: 4198ms, restart: 1}, {at: 5028ms, restart: 2}]\n", 5},
	}
	for _, r := range runs {
		src := r.src + head
		res := runScenario(t, src, r.seed, true)
		wantChecks(t, res, src, nil)
		sc, seed := res.Scenario, res.Seed
		// A correct primary's pre-prepare that conflicts with its new-view
		// (which the equivocation check, comparing messages of one kind,
		// does not see): refused by a correct backup as conflicting.
		for _, e := range res.Trace.Events {
			if e.Kind == trace.Note && e.Name == "refused" && e.Attrs.Get("reason") == "conflicting" && e.Attrs.Get("kind") == "pre-prepare" {
				t.Errorf("%s seed %d: n%d refused a pre-prepare of n%v as conflicting (e%d); no replica lies", sc.Name, seed, e.Node, e.Attrs.Get("from"), e.ID)
				break
			}
		}
	}
}

// A send held for its fsync and dropped when the fsync failed never left:
// equivocation does not count it, so a correct replica that fail-stops
// and restarts is not named (a trial: disk faults beside an equivocating
// replica named n3, a correct one, at seeds 8 and 11).
func TestPBFTHeldSendsDroppedAtFailStopAreNoEvidence(t *testing.T) {
	src := "name: disk\nprotocol: pbft\nnodes: 4\nclients: [{count: 3, options: {ops: 30}}]\nduration: 8s\n" +
		"network: {latency: lan, authenticated: true, loss: 0.05}\ndisk: {sync_latency: 1ms, fail_sync: 0.001, tear: 0.5, corrupt_read: 0.2}\n" +
		"faults: [{at: 200ms, crash_torn: 1}, {at: 400ms, restart: 1}, {at: 700ms, crash_torn: 2}, {at: 900ms, restart: 2}, {at: 1200ms, fail_sync: 3}, {at: 1500ms, restart: 3}, " +
		"{at: 1800ms, corrupt_read: 4}, {at: 2000ms, crash: 4}, {at: 2200ms, restart: 4}, {at: 2500ms, disk_full: 1}, {at: 2800ms, restart: 1}]\n" +
		"byzantine: [{node: 2, behaviour: equivocate}]\nchecks: [byzantine-agreement, validity, equivocation]\n"
	sc, err := scenario.Parse("disk.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	for _, seed := range []uint64{8, 11} {
		res, err := sc.Run(scenario.RunOptions{Seed: &seed})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range res.Checks {
			switch {
			case c.Check == "equivocation" && strings.Contains(c.Summary, "correct node"):
				t.Errorf("seed %d: %s", seed, c.Summary)
			case c.Check != "equivocation" && c.Verdict != check.Pass:
				t.Errorf("seed %d: %s %s (%s)", seed, c.Check, c.Verdict, c.Summary)
			}
		}
	}
}
