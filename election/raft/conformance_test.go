package raft_test

import (
	"maps"
	"testing"
	"time"

	"ordo/election/raft"
	"ordo/ordotest"
)

// The conformance kit (ordotest.Protocol), in wire mode, with the
// defaults (PreVote and CheckQuorum on) and with both off.
func TestConformance(t *testing.T) {
	for name, o := range map[string]map[string]string{
		"defaults": nil,
		"plain":    {"prevote": "false", "check_quorum": "false", "peer_down": "false"},
	} {
		t.Run(name, func(t *testing.T) { ordotest.Protocol(t, raft.Protocol, ordotest.Options(o)) })
	}
}

// The replica's messages pass the kit's codec checks (zero values and
// generated ones round-trip or are refused as absurd) through a protocol
// the kit can inspect; runs of the test protocol are deterministic.
func TestReplicaDeterministic(t *testing.T) {
	opts := map[string]string{"snapshot_entries": "16"}
	a1, err1 := runReplica(t, 3, opts, 5, 3*time.Second, true)
	a2, err2 := runReplica(t, 3, opts, 5, 3*time.Second, true)
	if err1 != nil || err2 != nil || a1.err != nil {
		t.Fatal(err1, err2, a1.err)
	}
	if a1.maxIndex != a2.maxIndex || a1.snapshots != a2.snapshots || !maps.Equal(a1.hash, a2.hash) {
		t.Fatalf("two runs of seed 3 differ: %d/%d entries, %d/%d snapshots", a1.maxIndex, a2.maxIndex, a1.snapshots, a2.snapshots)
	}
}
