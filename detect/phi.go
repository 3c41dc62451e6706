package detect

import (
	"fmt"
	"math"
	"time"

	"ordo"
)

// PhiConfig tunes a Phi detector.
type PhiConfig struct {
	// Threshold: suspect when φ exceeds it. φ = 8 means the detector
	// would be wrong about once in 10^8 heartbeat gaps if they really were
	// distributed as observed.
	Threshold float64
	// Window is how many inter-arrival samples are kept per peer (0: 100).
	Window int
	// Expected is the heartbeat interval assumed until samples arrive.
	Expected time.Duration
	// MinStdDev floors the estimated deviation, so that perfectly regular
	// heartbeats (as in a simulator with constant latency) do not make
	// the detector suspect after the smallest delay (0: Expected/10).
	MinStdDev time.Duration
	// AcceptablePause is added to the mean: a margin for pauses the
	// samples have not shown (GC, a dropped heartbeat).
	AcceptablePause time.Duration
}

// Phi is the φ accrual failure detector (Hayashibara et al., "The φ
// Accrual Failure Detector", SRDS 2004). For each peer it keeps a sliding
// window of heartbeat inter-arrival times, models them as a normal
// distribution, and reports φ(t) = −log10(P(the next heartbeat arrives
// later than t since the last)). Suspicion grows continuously with
// silence; the application picks the threshold.
type Phi struct {
	cfg   PhiConfig
	peers []ordo.NodeID
	st    []phiPeer // by NodeID
}

type phiPeer struct {
	last      time.Duration // monotonic
	heard     bool
	samples   []float64 // ring buffer of intervals, in seconds
	next, n   int
	sum, sum2 float64
}

// NewPhi monitors peers from now (a monotonic reading) on.
func NewPhi(peers []ordo.NodeID, cfg PhiConfig, now time.Duration) *Phi {
	if cfg.Threshold <= 0 || math.IsNaN(cfg.Threshold) {
		panic(fmt.Sprintf("detect: φ threshold %v must be positive", cfg.Threshold))
	}
	if cfg.Expected <= 0 {
		panic(fmt.Sprintf("detect: expected interval %v must be positive", cfg.Expected))
	}
	if cfg.Window <= 0 {
		cfg.Window = 100
	}
	if cfg.MinStdDev <= 0 {
		cfg.MinStdDev = cfg.Expected / 10
	}
	p := &Phi{cfg: cfg, peers: peers, st: make([]phiPeer, maxID(peers)+1)}
	for _, id := range peers {
		p.st[id] = phiPeer{last: now, samples: make([]float64, cfg.Window)}
	}
	return p
}

// Heard records a heartbeat from id at now. The first heartbeat only
// starts the clock; every later one adds an inter-arrival sample. A
// reading no later than the last adds no sample. now is monotonic: a
// wall-clock step would enter the window as one huge inter-arrival sample
// and blunt the detector for a whole window (the test
// TestPhiDetectsCrashThroughClockStep shows it).
func (p *Phi) Heard(id ordo.NodeID, now time.Duration) {
	s := &p.st[id]
	if !s.heard {
		s.heard, s.last = true, now
		return
	}
	if now <= s.last {
		return
	}
	x := (now - s.last).Seconds()
	s.last = now
	if s.n == len(s.samples) {
		old := s.samples[s.next]
		s.sum -= old
		s.sum2 -= old * old
	} else {
		s.n++
	}
	s.samples[s.next] = x
	s.next = (s.next + 1) % len(s.samples)
	s.sum += x
	s.sum2 += x * x
}

// Phi returns the suspicion level of id at now: 0 right after a
// heartbeat, growing without bound as silence lengthens.
func (p *Phi) Phi(id ordo.NodeID, now time.Duration) float64 {
	s := &p.st[id]
	mean, sd := p.cfg.Expected.Seconds(), p.cfg.Expected.Seconds()/4
	if s.n > 0 {
		mean = s.sum / float64(s.n)
		v := s.sum2/float64(s.n) - mean*mean
		sd = math.Sqrt(math.Max(v, 0))
	}
	sd = math.Max(sd, p.cfg.MinStdDev.Seconds())
	mean += p.cfg.AcceptablePause.Seconds()
	t := (now - s.last).Seconds()
	return phiOf(t, mean, sd)
}

// phiOf is −log10 of the normal upper tail P(X > t), X ~ N(mean, sd²),
// computed without underflow far in the tail.
func phiOf(t, mean, sd float64) float64 {
	z := (t - mean) / (sd * math.Sqrt2)
	if z < 5 {
		q := 0.5 * math.Erfc(z)
		return math.Max(0, -math.Log10(q))
	}
	// erfc(z) ~ exp(−z²) / (z·√π) for large z.
	lnq := math.Log(0.5) - z*z - math.Log(z*math.SqrtPi)
	return -lnq / math.Ln10
}

// Suspect reports whether φ(id) exceeds the threshold at now.
func (p *Phi) Suspect(id ordo.NodeID, now time.Duration) bool {
	return p.Phi(id, now) > p.cfg.Threshold
}

// Suspected lists the suspected peers at now, ascending.
func (p *Phi) Suspected(now time.Duration) []ordo.NodeID {
	return appendSuspected(nil, p, p.peers, now)
}
