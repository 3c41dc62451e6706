package election

import (
	"strings"
	"testing"
	"time"

	"ordo"
	"ordo/trace"
)

// An election granted by a service (issue 15, chapter section 4
// "외부 서비스 활용"): a stand-in for package lease, which this package
// cannot import.
type byService struct{}

func (byService) Start(ordo.Env)                              {}
func (byService) Receive(ordo.Env, ordo.NodeID, ordo.Message) {}
func (byService) Fire(ordo.Env, ordo.Timer)                   {}
func (byService) View() View                                  { return View{} }
func (byService) Authority() (int, time.Duration)             { return 0, 2 * time.Second }

func init() {
	ordo.Register(&ordo.Protocol{Name: "test-by-service", Doc: "test", Services: []string{"coord"},
		New: func(ordo.Config) (ordo.Node, error) { return byService{}, nil }})
}

// servers 1..3, the granting service n4.
func serviceRun() *tb {
	b := &tb{t: trace.Trace{Meta: trace.Meta{Protocol: "test-by-service", Options: map[string]string{"leader_bound": "8s"}, Nodes: 4, Servers: []int{1, 2, 3}, Services: []int{4}}}}
	return b.start(0, 1, 2, 3)
}

// The servers of a service's election never talk to each other: a leader
// cut off from the other servers but reaching the service still leads,
// and the others, reaching the service, follow it. Judged by majorities
// of servers, nobody would owe a leader and the leader would be isolated.
func TestServiceElection_ServersPartitionedAmongThemselves(t *testing.T) {
	b := serviceRun().leader(10, 1, 5).follower(20, 2, 5, 1).follower(20, 3, 5, 1).
		ev(100, 0, trace.Fault, "partition", "groups", "1/2,3").
		ev(9000, 2, trace.Note, "noise")
	if r := run(t, "eventual-leader", &b.t); !r.OK {
		t.Fatalf("eventual-leader: %+v", r)
	}
	r := run(t, "isolated-leader", &b.t)
	if !r.OK || !strings.Contains(r.Summary, "n4") {
		t.Fatalf("isolated-leader: %+v", r)
	}
	// The same trace of a majority's election (no authority) fails both.
	b.t.Meta.Protocol, b.t.Meta.Services = "", nil
	if r := run(t, "eventual-leader", &b.t); r.OK {
		t.Fatalf("without a service, eventual-leader passed: %+v", r)
	}
}

// A leader cut off from the service must stop leading within the bound
// the protocol gives (its lease): one that goes on is isolated; servers
// cut off from the service owe no agreement.
func TestServiceElection_LeaderCutFromTheService(t *testing.T) {
	b := serviceRun().leader(10, 1, 5).follower(20, 2, 5, 1).follower(20, 3, 5, 1).
		ev(100, 0, trace.Fault, "cut-one-way", "from", "[n1]", "to", "[n4]").
		ev(100, 0, trace.Fault, "cut-one-way", "from", "[n4]", "to", "[n1]")
	stepped := *b
	stepped.t.Events = append([]trace.Event(nil), b.t.Events...)
	stepped.ev(1900, 1, trace.Note, "candidate", "term", 5).leader(2000, 2, 6).follower(2100, 3, 6, 2).ev(9000, 3, trace.Note, "noise")
	if r := run(t, "isolated-leader", &stepped.t); !r.OK {
		t.Fatalf("stepped down within the lease: %+v", r)
	}
	if r := run(t, "eventual-leader", &stepped.t); !r.OK {
		t.Fatalf("n2 and n3 reach the service and agree: %+v", r)
	}
	b.leader(2000, 2, 6).follower(2100, 3, 6, 2).ev(9000, 3, trace.Note, "noise")
	r := run(t, "isolated-leader", &b.t)
	if r.OK || len(r.Violations) != 1 || !strings.Contains(r.Violations[0].Message, "n4, the service") || !strings.Contains(r.Violations[0].Message, "2s") {
		t.Fatalf("a leader cut from the service for 9s: %+v", r)
	}
}

// A pause of the granting service is a fault: agreement is owed only a
// bound after it ends. Here nobody leads while the service is frozen
// (2s–9s) and the servers agree 1ms after it resumes: no failure, with
// time_to_leader measured from the resume. A client's pause would not
// count (it concerns no election).
func TestServiceElection_ServicePauseIsAFault(t *testing.T) {
	b := serviceRun().leader(10, 1, 5).follower(20, 2, 5, 1).follower(20, 3, 5, 1).
		pause(2000, 4).
		ev(2500, 1, trace.Note, "candidate", "term", 5).
		ev(2500, 2, trace.Note, "candidate", "term", 5).
		ev(2500, 3, trace.Note, "candidate", "term", 5).
		resume(9000, 4).
		leader(9001, 1, 6).follower(9001, 2, 6, 1).follower(9001, 3, 6, 1).
		ev(12000, 2, trace.Note, "noise")
	r := run(t, "eventual-leader", &b.t)
	if !r.OK || !strings.Contains(r.Summary, "time_to_leader 1ms") {
		t.Fatalf("a service paused 2s–9s, a leader 1ms after: %+v", r)
	}
}
