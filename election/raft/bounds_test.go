package raft

import (
	"encoding/binary"
	"errors"
	"math"
	"testing"
	"time"

	"ordo"
	"ordo/ordotest"
)

// A term of 2^64−1 once wedged a live cluster: term+1 wraps, and every
// node that adopted it could never elect again. The codec refuses any
// message carrying a term above ordo.MaxTerm (Validate), and accepts one
// at the bound.
func TestCodecRefusesAbsurdTerms(t *testing.T) {
	const huge = math.MaxUint64
	for _, tc := range []struct {
		bad, good ordo.Message
	}{
		{RequestVote{Term: huge, Candidate: 2}, RequestVote{Term: ordo.MaxTerm, Candidate: 2}},
		{RequestVote{Term: 5, Candidate: 2, LastLogTerm: huge}, RequestVote{Term: 5, Candidate: 2}},
		{RequestVote{Term: 5, Candidate: -1}, RequestVote{Term: 5, Candidate: 1}},
		{RequestVoteResp{Term: huge}, RequestVoteResp{Term: ordo.MaxTerm}},
		{PreVote{Term: ordo.MaxTerm + 1, Candidate: 1}, PreVote{Term: ordo.MaxTerm, Candidate: 1}},
		{PreVoteResp{Term: huge}, PreVoteResp{Term: 1}},
		{Heartbeat{Term: huge, Leader: 1}, Heartbeat{Term: 1, Leader: 1}},
		{Heartbeat{Term: 1, Leader: 1, Round: huge}, Heartbeat{Term: 1, Leader: 1, Round: ordo.MaxIndex}},
		{HeartbeatResp{Term: huge}, HeartbeatResp{Term: 1}},
	} {
		b, err := Protocol.Codec.Encode(tc.bad)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Protocol.Codec.Decode(tc.bad.Kind(), b)
		var de *ordo.DecodeError
		if !errors.As(err, &de) || de.Reason != ordo.ReasonAbsurd {
			t.Errorf("%+v decoded with error %v, want reason %q", tc.bad, err, ordo.ReasonAbsurd)
		}
		b, _ = Protocol.Codec.Encode(tc.good)
		if _, err := Protocol.Codec.Decode(tc.good.Kind(), b); err != nil {
			t.Errorf("%+v refused: %v", tc.good, err)
		}
	}
}

func hardState(term, vote uint64) []byte {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:], term)
	binary.BigEndian.PutUint64(b[8:], vote)
	return b[:]
}

// A hard state that cannot be believed (a term above MaxTerm, a vote that
// is no node, the wrong length) stops the node with ordo.Corrupt naming
// the key, which the runtimes turn into a clean stop naming the file.
func TestStartRefusesAbsurdHardState(t *testing.T) {
	for _, b := range [][]byte{hardState(math.MaxUint64, 1), hardState(ordo.MaxTerm+1, 0), hardState(3, math.MaxUint64), hardState(3, 1)[:15]} {
		env := ordotest.ForProtocol(Protocol, 1, nil, 1)
		env.Store().Put(storeKey, b)
		n := env.NewNode(t, Protocol, nil)
		func() {
			defer func() {
				c, ok := recover().(ordo.Corrupt)
				if !ok || c.Key != storeKey {
					t.Errorf("hard state %x: recovered %v, want ordo.Corrupt{Key: %q}", b, c, storeKey)
				}
			}()
			env.Start(n)
		}()
	}
}

// At ordo.MaxTerm a node refuses to campaign rather than wrap its term
// (raft §5.1: terms only increase); it notes why.
func TestNoCampaignAtMaxTerm(t *testing.T) {
	for _, prevote := range []string{"true", "false"} {
		env := ordotest.ForProtocol(Protocol, 1, nil, 1)
		env.Store().Put(storeKey, hardState(ordo.MaxTerm, 0))
		n := env.NewNode(t, Protocol, map[string]string{"prevote": prevote})
		env.Start(n)
		var election ordo.Timer
		for _, a := range env.Timers {
			if a.Timer.Name == timerElection {
				election = a.Timer
			}
		}
		env.Advance(300 * time.Millisecond) // the election deadline passes
		env.Fire(n, election)
		if len(env.Sent) != 0 {
			t.Errorf("prevote=%s: at MaxTerm the node sent %v", prevote, env.Sent)
		}
		if got := n.(*Node).Term(); got != ordo.MaxTerm {
			t.Errorf("prevote=%s: term %d, want it to stay at MaxTerm", prevote, got)
		}
		noted := false
		for _, nt := range env.Notes {
			noted = noted || nt.Kind == "term-exhausted"
		}
		if !noted {
			t.Errorf("prevote=%s: no term-exhausted note in %v", prevote, env.Notes)
		}
	}
}
