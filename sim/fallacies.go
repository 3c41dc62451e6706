package sim

// Fallacy is one of the eight fallacies of distributed computing (the
// chapter's section 1).
type Fallacy uint8

const (
	FallacyReliable      Fallacy = iota + 1 // 1. the network is reliable
	FallacyLatency                          // 2. latency is zero
	FallacyBandwidth                        // 3. bandwidth is infinite
	FallacySecure                           // 4. the network is secure
	FallacyTopology                         // 5. topology doesn't change
	FallacyAdministrator                    // 6. there is one administrator
	FallacyTransportCost                    // 7. transport cost is zero
	FallacyHomogeneous                      // 8. the network is homogeneous
)

var fallacyNames = [...]string{
	"",
	"the network is reliable",
	"latency is zero",
	"bandwidth is infinite",
	"the network is secure",
	"topology doesn't change",
	"there is one administrator",
	"transport cost is zero",
	"the network is homogeneous",
}

func (f Fallacy) String() string {
	if int(f) < len(fallacyNames) && f > 0 {
		return fallacyNames[f]
	}
	return "unknown fallacy"
}

// Fallacies is a set of fallacies a run exercised.
type Fallacies uint16

func (fs *Fallacies) add(f Fallacy)     { *fs |= 1 << f }
func (fs Fallacies) Has(f Fallacy) bool { return fs&(1<<f) != 0 }

// List returns the fallacies in the chapter's order.
func (fs Fallacies) List() []Fallacy {
	var out []Fallacy
	for f := FallacyReliable; f <= FallacyHomogeneous; f++ {
		if fs.Has(f) {
			out = append(out, f)
		}
	}
	return out
}

// Fallacies returns the fallacies this run has exercised so far. Transport
// cost counts once any byte crossed the network; heterogeneity once links
// or node speeds differ; several administrators once nodes run with
// different configurations (see Config).
func (s *Sim) Fallacies() Fallacies {
	fs := s.fallacy
	if s.stats.Bytes > 0 {
		fs.add(FallacyTransportCost)
	}
	if len(s.cfg.Network.Links) > 0 || len(s.cfg.SpeedOf) > 0 {
		fs.add(FallacyHomogeneous)
	}
	if len(s.cfg.ClockOf) > 0 {
		fs.add(FallacyAdministrator)
	}
	return fs
}
