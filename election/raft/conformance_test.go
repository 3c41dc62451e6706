package raft_test

import (
	"testing"

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
