package kv

import (
	"testing"
	"time"

	"ordo"
	"ordo/ordotest"
	"ordo/workload"
)

// The workload client after its leader's crash. A follower that has not
// yet noticed the crash still names the dead leader in its not-leader
// answers; a client told the leader's process is gone (a peer-down hint)
// must not follow such a hint back to it, or the write waits out its
// whole timeout there (the write failover of `ordo cluster chaos` sat at
// the 500 ms timeout). It asks the live servers again instead.
func TestClientDoesNotFollowAHintToAServerReportedDown(t *testing.T) {
	roster := ordo.NewRoster(3, 1, 0) // servers 1..3, client 4
	env := ordotest.ForProtocol(ClientProtocol, 4, roster, 1)
	n := env.NewNode(t, ClientProtocol, map[string]string{
		"concurrency": "1", "reads": "0", "cas": "0", "deletes": "0", "start": "0s", "ops": "1",
	})
	env.Start(n)
	env.Fire(n, ordo.Timer{Name: workload.TimerNext, Arg: 0})
	first := onlyRequest(t, env)
	// Not the leader: server 1 is.
	if first.to != 1 {
		env.Receive(n, first.to, Response{ID: first.req.ID, Status: StatusNotLeader, Leader: 1})
		first = onlyRequest(t, env)
	}
	if first.to != 1 {
		t.Fatalf("the write went to %v, not to the leader 1 it was told of", first.to)
	}
	// Server 1's process is gone: the attempt is retried elsewhere at once.
	env.Receive(n, 1, ordo.PeerDown{})
	retry := onlyRequest(t, env)
	if retry.to == 1 {
		t.Fatal("the write was retried at the server reported down")
	}
	if retry.req.Session != first.req.Session || retry.req.Seq != first.req.Seq {
		t.Fatalf("the retry is session %d seq %d, the first attempt %d/%d: a write retried must keep them", retry.req.Session, retry.req.Seq, first.req.Session, first.req.Seq)
	}
	// That follower still names 1 as its leader.
	env.Receive(n, retry.to, Response{ID: retry.req.ID, Status: StatusNotLeader, Leader: 1})
	for _, s := range env.Sent {
		if s.To == 1 {
			t.Fatalf("followed a not-leader hint to server 1, reported down: sent %v", env.SentSummary())
		}
	}
	resend := env.TimersNamed(timerResend)
	if len(resend) != 1 || resend[0].After > 50*time.Millisecond {
		t.Fatalf("after a hint to a dead leader: timers %v, want one resend within timeout/10", env.Timers)
	}
	env.Fire(n, resend[0].Timer)
	again := onlyRequest(t, env)
	if again.to == 1 {
		t.Fatal("the resend went to the server reported down")
	}
	// A new leader answers: the write is acknowledged.
	env.Receive(n, again.to, Response{ID: again.req.ID, Status: StatusOK, Rev: 7})
	if len(env.Sent) != 0 {
		t.Fatalf("after the acknowledgement: sent %v", env.SentSummary())
	}
}

type sentRequest struct {
	to  ordo.NodeID
	req Request
}

// onlyRequest is the one Request the last step sent.
func onlyRequest(t *testing.T, env *ordotest.Env) sentRequest {
	t.Helper()
	var got []sentRequest
	for _, s := range env.Sent {
		if r, ok := s.Msg.(Request); ok {
			got = append(got, sentRequest{s.To, r})
		}
	}
	if len(got) != 1 {
		t.Fatalf("sent %v, want one request", env.SentSummary())
	}
	return got[0]
}
