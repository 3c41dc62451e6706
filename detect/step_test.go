package detect_test

import (
	"testing"
	"time"

	"ordo"
	"ordo/detect"
	"ordo/sim"
)

// Reference: section 2, "물리 시계의 문제" (an NTP step moves the wall clock)
// meets section 5, health checks: a failure detector measures silences on
// the monotonic clock, so node 1's clock stepping forward by 10s just
// before node 3 crashes neither makes node 1 suspect its live peers nor
// blinds its φ detector. Measured on Now, the step enters φ's window as a
// 10s inter-arrival sample, and node 1 does not suspect the crash for
// seconds (and suspects everyone else at the step).
func TestPhiDetectsCrashThroughClockStep(t *testing.T) {
	const seed = 3
	crashAt := 1200 * time.Millisecond
	for _, step := range []time.Duration{0, 10 * time.Second} {
		s := heartbeatSim(t, seed, map[string]string{"detector": "phi"})
		if step != 0 {
			s.At(time.Second, func(s *sim.Sim) { s.JumpClock(1, step) })
		}
		s.At(crashAt, func(s *sim.Sim) { s.Crash(3) })
		if err := s.RunFor(3 * time.Second); err != nil {
			t.Fatal(err)
		}
		var by1 time.Duration = -1
		for _, v := range notes(s.Trace(), "suspect") {
			switch {
			case v.node == 1 && v.peer == 3 && v.at >= crashAt && by1 < 0:
				by1 = v.at - crashAt
			case v.peer != 3:
				t.Errorf("step %v, seed %d: %v suspected live node %v at %v", step, seed, v.node, v.peer, v.at)
			}
		}
		if by1 < 0 || by1 > time.Second {
			t.Fatalf("step %v, seed %d: node 1 suspected the crash of node 3 after %v, want within 1s (-1: never)\nreplay: go test ./detect -run TestPhiDetectsCrashThroughClockStep", step, seed, by1)
		}
		res := detect.CrashDetected{Bound: time.Second}.Check(s.Trace())
		if !res.OK {
			t.Errorf("step %v, seed %d: crash-detected: %v", step, seed, res.Violations)
		}
		t.Logf("step %v: node 1 suspects the crash after %v; %s", step, by1, res.Summary)
	}
}

// The crash-detected checker fails a trace in which an observer never
// suspects a crashed node (it must be able to fail).
func TestCrashDetectedFailsWithoutSuspicion(t *testing.T) {
	s := heartbeatSim(t, 1, map[string]string{"timeout": "5s"}) // slower than the bound
	s.At(time.Second, func(s *sim.Sim) { s.Crash(3) })
	if err := s.RunFor(3 * time.Second); err != nil {
		t.Fatal(err)
	}
	res := detect.CrashDetected{Bound: time.Second}.Check(s.Trace())
	if res.OK || len(res.Violations) != 4 {
		t.Fatalf("crash-detected = %v with %d violations, want a failure for each of the 4 observers: %s", res.OK, len(res.Violations), res.Summary)
	}
	// A restart within the bound ends the obligation.
	s = heartbeatSim(t, 1, map[string]string{"timeout": "5s"})
	s.At(time.Second, func(s *sim.Sim) { s.Crash(3) })
	s.At(1500*time.Millisecond, func(s *sim.Sim) { _ = s.Restart(ordo.NodeID(3)) })
	if err := s.RunFor(3 * time.Second); err != nil {
		t.Fatal(err)
	}
	if res := (detect.CrashDetected{Bound: time.Second}).Check(s.Trace()); !res.OK {
		t.Fatalf("a node back within the bound counted as undetected: %v", res.Violations)
	}
}
