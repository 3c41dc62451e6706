package fault

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"ordo"
)

// Families are the kinds of trouble the generator draws from, each
// selectable on its own (ordo explore --faults): one draw of a family
// yields one fault and, unless it is to last for ever, what undoes it.
//
//	crash      crash a server; restart it later
//	partition  split the servers in two groups; heal later
//	cut        one-way cut between two sets of servers; heal later
//	bridge     two sides that reach only a bridge server; heal later
//	star       every server but a hub reaches only the hub; heal later
//	loss       message loss on every link or on one server's links; end later
//	pause      freeze a server (a GC pause); resume later
//	clock      step a server's wall clock by up to ±MaxClockStep
//	drift      from the start, some servers' clocks run fast or slow
//	disk       a storage fault: a torn write at a crash or a corrupt read
//	           (the server stops; restart it later), or a failing fsync or
//	           a full disk (the server stops at its next write: for ever,
//	           within the budget of Profile.Forever)
var Families = []string{"crash", "partition", "cut", "bridge", "star", "loss", "pause", "clock", "drift", "disk"}

// Profile is how hostile the generated faults are.
type Profile struct {
	Name     string
	Families []string // drawn from with equal weight
	// Forever is the probability that a crash, pause, network fault or
	// loss is never undone. Crashes and pauses for ever are held to a
	// minority of the servers, so that a majority can run at the end and
	// liveness can be judged; loss for ever counts as one more server
	// down in that budget (a bare majority that must also beat loss on
	// every exchange elects, but not within a bound).
	Forever   float64
	MeanGap   time.Duration // mean time between two faults (exponential)
	MaxLength time.Duration // a fault that ends lasts 50 ms + uniform [0, MaxLength)
	MaxPause  time.Duration // a pause that ends lasts at most this
	MaxLoss   float64       // loss probability uniform in [0.01, MaxLoss)
	// MaxLossForever bounds the loss of a loss fault that is never undone:
	// a run must stay able to elect within a bound, and the leader changes
	// it causes at that loss are what the defaults are chosen by
	// (docs/election.md).
	MaxLossForever float64
	MaxClockStep   time.Duration
	MaxDriftPPM    float64 // drift magnitude uniform in [MaxDriftPPM/10, MaxDriftPPM)
	// Partial: a loss fault hits one server's links (in or out) rather
	// than every link half of the time.
	Partial bool
	// Weights, if set, are the relative rates of Families (one each);
	// nil draws them alike.
	Weights []float64
	// MeanLength, if set, makes the length of a fault that ends (pauses
	// included) exponential with this mean instead of uniform.
	MeanLength time.Duration
	// From and Until, if set, are the window of faults (default: Start
	// and duration − Settle).
	From, Until time.Duration
	// Services: in a run with service nodes (GenerateFor with
	// Members.Services; issue 15), the families also strike them, never
	// by a crash: a cut or a partition may separate servers from a
	// service (both ways or one way), a clock step or drift may hit a
	// service (a service whose clock runs fast expires leases early), a
	// pause may freeze one. A run without services draws exactly what it
	// drew before services existed.
	Services bool
	// Timeout is the protocol's longest election timeout (for the lease
	// election, its TTL plus a keepalive period; lab fills it in). In a
	// run with services, half the pauses of servers last uniform
	// [Timeout/2, 2·Timeout]: a leader frozen for about its lease, some
	// waking while it still holds it, some after it is gone — what
	// fencing is for. 0: pauses as without services.
	Timeout time.Duration
}

// Friendly is the mix ordo explore drew before issue 9: crashes that
// restart, partitions that heal, short pauses, loss bursts and clock steps
// of up to ±2 s, every fault undone before the quiet tail.
var Friendly = Profile{
	Name:     "friendly",
	Families: []string{"crash", "partition", "loss", "pause", "clock"},
	MeanGap:  400 * time.Millisecond, MaxLength: 1500 * time.Millisecond, MaxPause: 800 * time.Millisecond,
	MaxLoss: 0.21, MaxClockStep: 2 * time.Second,
}

// Hostile adds what friendly never does: crashes that never restart,
// partitions that never heal, one-way cuts, bridges and stars (partial
// connectivity), loss on one server's links, long pauses, clock steps of up
// to ±10 s and drift, storage faults (the simulator's disk model), and any
// of these overlapping; in a run with services (Profile.Services), cuts
// and partitions between servers and a service, a service's clock stepped
// or drifting, a service paused, and servers paused for about a lease.
var Hostile = Profile{
	Name:     "hostile",
	Families: []string{"crash", "partition", "cut", "bridge", "star", "loss", "pause", "clock", "drift", "disk"},
	Forever:  0.3,
	MeanGap:  400 * time.Millisecond, MaxLength: 3 * time.Second, MaxPause: 2 * time.Second,
	MaxLoss: 0.4, MaxLossForever: 0.1, MaxClockStep: 10 * time.Second, MaxDriftPPM: 5000, Partial: true,
	Services: true,
}

// Profiles are the named profiles.
var Profiles = []Profile{Friendly, Hostile}

// ProfileNamed returns the profile called name.
func ProfileNamed(name string) (Profile, error) {
	for _, p := range Profiles {
		if p.Name == name {
			return p, nil
		}
	}
	var names []string
	for _, p := range Profiles {
		names = append(names, p.Name)
	}
	return Profile{}, fmt.Errorf("unknown fault profile %q (valid: %s)", name, strings.Join(names, ", "))
}

// ParseFamilies reads "crash,partition,...": known families, no repeats
// kept, at least one.
func ParseFamilies(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("no fault kinds (valid: %s)", strings.Join(Families, ","))
	}
	var out []string
	for _, k := range strings.Split(s, ",") {
		k = strings.TrimSpace(k)
		if !slices.Contains(Families, k) {
			return nil, fmt.Errorf("unknown fault kind %q (valid: %s)", k, strings.Join(Families, ","))
		}
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out, nil
}

// Validate checks p's families and bounds.
func (p Profile) Validate() error {
	for _, k := range p.Families {
		if !slices.Contains(Families, k) {
			return fmt.Errorf("profile %s: unknown fault kind %q (valid: %s)", p.Name, k, strings.Join(Families, ","))
		}
	}
	switch {
	case !(p.Forever >= 0 && p.Forever <= 1):
		return fmt.Errorf("profile %s: forever %v out of 0..1", p.Name, p.Forever)
	case p.MeanGap <= 0:
		return fmt.Errorf("profile %s: mean gap %v must be positive", p.Name, p.MeanGap)
	case p.MaxLength < 0 || p.MaxPause < 0 || p.MaxClockStep < 0 || p.MaxClockStep > MaxClockStep:
		return fmt.Errorf("profile %s: a negative length or a clock step past %v", p.Name, MaxClockStep)
	case !(p.MaxLoss >= 0 && p.MaxLoss <= 1) || !(p.MaxLossForever >= 0 && p.MaxLossForever <= 1):
		return fmt.Errorf("profile %s: max loss %v (for ever %v) out of 0..1", p.Name, p.MaxLoss, p.MaxLossForever)
	case !(p.MaxDriftPPM >= 0 && p.MaxDriftPPM <= MaxDriftPPM):
		return fmt.Errorf("profile %s: max drift %v ppm out of 0..%d", p.Name, p.MaxDriftPPM, MaxDriftPPM)
	case p.Weights != nil && len(p.Weights) != len(p.Families):
		return fmt.Errorf("profile %s: %d weights for %d fault kinds", p.Name, len(p.Weights), len(p.Families))
	case p.MeanLength < 0 || p.From < 0 || p.Until < 0 || (p.Until > 0 && p.Until <= p.From):
		return fmt.Errorf("profile %s: want 0 ≤ from < until and a mean length ≥ 0", p.Name)
	case p.Timeout < 0 || p.Timeout > MaxAt:
		return fmt.Errorf("profile %s: timeout %v out of 0..%v", p.Name, p.Timeout, MaxAt)
	}
	for _, w := range p.Weights {
		if !(w >= 0 && w <= MaxRate) {
			return fmt.Errorf("profile %s: weight %v out of 0..%d", p.Name, w, MaxRate)
		}
	}
	return nil
}

// The window of generated faults: from Start until duration − Settle; the
// Settle tail is quiet, so that liveness can be judged.
const (
	Start  = 500 * time.Millisecond
	Settle = 3 * time.Second
)

// never is the end of a fault that lasts for ever.
const never = time.Duration(1<<63 - 1)

// Generate draws a schedule from seed for servers 1..servers over
// duration: faults of p's families from Start until duration − Settle,
// each undone by then unless p made it last for ever; nothing in the
// quiet tail. Same arguments, same schedule. Only servers are ever picked
// (clients are the observers). Network faults (partition, cut, bridge,
// star) do not overlap each other (a heal removes every cut), so each is
// seen whole; nor do loss faults; faults of different families overlap
// freely. The schedule is sorted and passes Validate(servers).
func Generate(seed uint64, p Profile, servers int, duration time.Duration) Schedule {
	return GenerateFor(seed, p, Members{Servers: servers}, duration)
}

// GenerateFor draws a schedule as Generate does for the servers of m and,
// if p.Services is set and m has services, for its service nodes too (see
// Profile.Services and Profile.Timeout): cuts and partitions between
// servers and a service, clock steps and drift and pauses of a service,
// long pauses of servers; never a crash, a restart or a storage fault of
// a service, nor any fault of a client. Without services (or with
// p.Services off) it is Generate for m.Servers, draw for draw. The
// schedule is sorted and passes Check(m).
func GenerateFor(seed uint64, p Profile, m Members, duration time.Duration) Schedule {
	servers := m.Servers
	if servers < 1 || len(p.Families) == 0 || p.MeanGap <= 0 || m.check() != nil {
		return nil
	}
	// Every draw for a service is behind svc, so that a run without
	// services draws what it drew before services existed.
	svc := p.Services && len(m.Services) > 0
	svcIDs := m.ServiceIDs()
	r := rand.New(rand.NewPCG(seed, 0x6661756c74)) // "fault"
	stop := duration - Settle
	if p.Until > 0 {
		stop = min(p.Until, duration)
	}
	var total float64
	for _, w := range p.Weights {
		total += w
	}
	family := func() string {
		if p.Weights == nil {
			return p.Families[r.IntN(len(p.Families))]
		}
		x := r.Float64() * total
		for i, w := range p.Weights {
			if x < w {
				return p.Families[i]
			}
			x -= w
		}
		return p.Families[len(p.Families)-1]
	}
	length := func(t, most time.Duration) time.Duration {
		if p.MeanLength > 0 {
			return min(stop, t+time.Duration(r.ExpFloat64()*float64(p.MeanLength)))
		}
		return min(stop, t+50*time.Millisecond+time.Duration(r.Int64N(int64(most)+1)))
	}
	var out Schedule
	if slices.Contains(p.Families, "drift") && p.MaxDriftPPM > 0 && r.IntN(2) == 0 {
		// The simulator sets a clock's rate from the start: drift is a
		// property of the crystal, not an event.
		for _, i := range r.Perm(servers)[:1+r.IntN(max(1, servers/2))] {
			ppm := p.MaxDriftPPM/10 + r.Float64()*p.MaxDriftPPM*0.9
			if r.IntN(2) == 0 {
				ppm = -ppm
			}
			out = append(out, Fault{At: 0, Kind: ClockDrift, Node: ordo.NodeID(i + 1), PPM: float64(int64(ppm))})
		}
		if svc {
			// A service's crystal drifts too: fast, it expires leases
			// early; slow, late.
			for _, id := range svcIDs {
				if r.IntN(2) == 0 {
					continue
				}
				ppm := p.MaxDriftPPM/10 + r.Float64()*p.MaxDriftPPM*0.9
				if r.IntN(2) == 0 {
					ppm = -ppm
				}
				out = append(out, Fault{At: 0, Kind: ClockDrift, Node: id, PPM: float64(int64(ppm))})
			}
		}
	}
	busy := make([]time.Duration, m.N()+1) // crashed or paused until (by ID)
	foreverBudget := (servers - 1) / 2     // servers that may stay down for ever
	var netUntil, lossUntil time.Duration
	free := func(t time.Duration) []ordo.NodeID {
		var ids []ordo.NodeID
		for i := 1; i <= servers; i++ {
			if busy[i] <= t {
				ids = append(ids, ordo.NodeID(i))
			}
		}
		return ids
	}
	t := Start
	if p.From > 0 {
		t = p.From
	}
	for {
		t += time.Duration(r.ExpFloat64() * float64(p.MeanGap))
		if t >= stop || t < 0 {
			break
		}
		fam := family()
		end := length(t, p.MaxLength)
		forever := p.Forever > 0 && r.Float64() < p.Forever
		switch fam {
		case "crash", "pause":
			if svc && fam == "pause" && r.IntN(4) == 0 {
				// A frozen service (a GC pause of etcd): its leases
				// run on when it wakes. Never for ever: that is a
				// service lost, which no recipe survives.
				id := svcIDs[r.IntN(len(svcIDs))]
				if busy[id] > t {
					continue
				}
				if p.MeanLength == 0 {
					end = length(t, p.MaxPause)
				}
				busy[id] = end
				out = append(out, Fault{At: t, Kind: Pause, Node: id}, Fault{At: end, Kind: Resume, Node: id})
				continue
			}
			ids := free(t)
			if len(ids) == 0 {
				continue
			}
			id := ids[r.IntN(len(ids))]
			if fam == "pause" && p.MeanLength == 0 {
				end = length(t, p.MaxPause)
				if svc && p.Timeout > 0 && r.IntN(2) == 0 {
					// About a lease: from half the election timeout to
					// twice it.
					lo := p.Timeout / 2
					end = min(stop, t+lo+time.Duration(r.Int64N(int64(2*p.Timeout-lo)+1)))
				}
			}
			if forever && foreverBudget > 0 {
				foreverBudget--
				end = never
			}
			busy[id] = end
			do, undo := Crash, Restart
			if fam == "pause" {
				do, undo = Pause, Resume
			}
			out = append(out, Fault{At: t, Kind: do, Node: id})
			if end != never {
				out = append(out, Fault{At: end, Kind: undo, Node: id})
			}
		case "partition", "cut", "bridge", "star":
			if svc && t >= netUntil && (fam == "cut" || fam == "partition") && (servers < 2 || r.IntN(2) == 0) {
				// Servers cut off from a service, the other servers and
				// services untouched: a candidate that cannot reach
				// etcd, a leader that cannot reach its store.
				out = append(out, serviceCut(r, servers, svcIDs, t)...)
			} else {
				if t < netUntil || servers < 2 || (servers < 3 && (fam == "bridge" || fam == "star")) {
					continue
				}
				f := network(r, fam, servers, t)
				if svc && fam == "partition" {
					// Each service on one side, or on none (it reaches
					// both).
					for _, id := range svcIDs {
						if g := r.IntN(3); g < 2 {
							f.Groups[g] = append(f.Groups[g], id)
						}
					}
				}
				out = append(out, f)
			}
			netUntil = end
			if forever {
				netUntil = never
			} else {
				out = append(out, Fault{At: end, Kind: Heal})
			}
		case "loss":
			if t < lossUntil {
				continue
			}
			top := p.MaxLoss
			if forever && foreverBudget > 0 {
				foreverBudget--
				top = p.MaxLossForever
			} else {
				forever = false
			}
			f := Fault{At: t, Kind: Loss, Rate: 0.01 + r.Float64()*max(0, top-0.01)}
			f.Rate = float64(int64(f.Rate*1000)) / 1000 // three digits, for the replay's printout
			if p.Partial && servers > 1 && r.IntN(2) == 0 {
				perm := r.Perm(servers)
				one := []ordo.NodeID{ordo.NodeID(perm[0] + 1)}
				var rest []ordo.NodeID
				for _, i := range perm[1:] {
					rest = append(rest, ordo.NodeID(i+1))
				}
				slices.Sort(rest)
				f.From, f.To = one, rest
				if r.IntN(2) == 0 {
					f.From, f.To = rest, one
				}
			}
			out = append(out, f)
			lossUntil = end
			if forever {
				lossUntil = never
			} else {
				out = append(out, Fault{At: end, Kind: Loss, Rate: 0, From: f.From, To: f.To})
			}
		case "disk":
			ids := free(t)
			if len(ids) == 0 {
				continue
			}
			id := ids[r.IntN(len(ids))]
			kinds := []Kind{TornWrite, CorruptRead}
			if forever && foreverBudget > 0 {
				// A failing fsync or a full disk stops the server at its
				// next write, whenever that is: a server lost for good.
				kinds = append(kinds, FsyncFail, DiskFull)
				foreverBudget--
				end = never
			}
			busy[id] = end
			out = append(out, Fault{At: t, Kind: kinds[r.IntN(len(kinds))], Node: id})
			if end != never {
				out = append(out, Fault{At: end, Kind: Restart, Node: id})
			}
		case "clock":
			by := time.Duration(r.Int64N(int64(2*p.MaxClockStep)+1)) - p.MaxClockStep
			n := servers
			if svc {
				n += len(svcIDs)
			}
			id := ordo.NodeID(1 + r.IntN(n))
			if int(id) > servers {
				// A service's wall clock: its leases run on its
				// monotonic clock, so a step must change nothing.
				id = svcIDs[int(id)-servers-1]
			}
			out = append(out, Fault{At: t, Kind: ClockStep, Node: id, By: by.Round(time.Millisecond)})
		}
	}
	out.Sort()
	return out
}

// serviceCut draws a cut between some servers and one service at t: both
// ways (two cuts at once), servers to service, or service to servers.
func serviceCut(r *rand.Rand, servers int, svcIDs []ordo.NodeID, t time.Duration) []Fault {
	svc := []ordo.NodeID{svcIDs[r.IntN(len(svcIDs))]}
	perm := r.Perm(servers)[:1+r.IntN(servers)]
	from := make([]ordo.NodeID, len(perm))
	for i, x := range perm {
		from[i] = ordo.NodeID(x + 1)
	}
	slices.Sort(from)
	switch r.IntN(3) {
	case 0:
		return []Fault{{At: t, Kind: Cut, From: from, To: svc}, {At: t, Kind: Cut, From: svc, To: from}}
	case 1:
		return []Fault{{At: t, Kind: Cut, From: from, To: svc}}
	}
	return []Fault{{At: t, Kind: Cut, From: svc, To: from}}
}

// network draws one network fault of family fam at t.
func network(r *rand.Rand, fam string, servers int, t time.Duration) Fault {
	perm := r.Perm(servers)
	ids := func(ix []int) []ordo.NodeID {
		out := make([]ordo.NodeID, len(ix))
		for i, x := range ix {
			out[i] = ordo.NodeID(x + 1)
		}
		slices.Sort(out)
		return out
	}
	switch fam {
	case "partition":
		k := 1 + r.IntN(servers-1)
		return Fault{At: t, Kind: Partition, Groups: [][]ordo.NodeID{ids(perm[:k]), ids(perm[k:])}}
	case "cut":
		// From a set to a disjoint set: with one server on a side it is a
		// node that cannot send (or cannot hear), the asymmetric failures
		// that confuse failure detectors.
		k := 1 + r.IntN(servers-1)
		m := 1 + r.IntN(servers-k)
		return Fault{At: t, Kind: Cut, From: ids(perm[:k]), To: ids(perm[k : k+m])}
	case "bridge":
		k := 1 + r.IntN(servers-2)
		return Fault{At: t, Kind: Bridge, Via: ordo.NodeID(perm[0] + 1), Groups: [][]ordo.NodeID{ids(perm[1 : 1+k]), ids(perm[1+k:])}}
	default: // star
		return Fault{At: t, Kind: Star, Node: ordo.NodeID(perm[0] + 1)}
	}
}

// MaxRate bounds a rate of Nemesis (faults per second): more than a
// thousand a second is a typo, not a test.
const MaxRate = 1000

// Nemesis is a random schedule written as rates (a scenario file's
// nemesis: section, Jepsen's nemesis): between From and Until, faults of
// each kind arrive as Poisson processes with the given rates per second,
// each lasting an exponential time of mean MeanDowntime, every one undone
// by Until. It draws through Generate, so it is the same generator.
type Nemesis struct {
	From, Until                              time.Duration
	Crash, Partition, Pause, ClockStep, Loss float64 // per second
	MeanDowntime                             time.Duration
}

// Profile is the generator profile of n: the families with a non-zero
// rate, weighted by it; mean gap 1/(sum of rates); loss 1–90 %; clock
// steps up to ±3 mean downtimes.
func (n Nemesis) Profile() (Profile, error) {
	p := Profile{Name: "nemesis", From: n.From, Until: n.Until, MeanLength: n.MeanDowntime, MaxLoss: 0.9,
		MaxClockStep: min(MaxClockStep, 3*n.MeanDowntime)}
	var total float64
	for _, f := range []struct {
		fam  string
		rate float64
	}{{"crash", n.Crash}, {"partition", n.Partition}, {"pause", n.Pause}, {"clock", n.ClockStep}, {"loss", n.Loss}} {
		if !(f.rate >= 0 && f.rate <= MaxRate) {
			return Profile{}, fmt.Errorf("nemesis: %s rate %v out of range [0, %d] per second", f.fam, f.rate, MaxRate)
		}
		if f.rate > 0 {
			p.Families = append(p.Families, f.fam)
			p.Weights = append(p.Weights, f.rate)
			total += f.rate
		}
	}
	if total == 0 {
		return Profile{}, fmt.Errorf("nemesis: every rate is 0 (no faults to draw)")
	}
	if n.MeanDowntime <= 0 {
		return Profile{}, fmt.Errorf("nemesis: mean downtime %v must be positive", n.MeanDowntime)
	}
	p.MeanGap = time.Duration(float64(time.Second) / total)
	if p.MeanGap <= 0 {
		p.MeanGap = 1
	}
	if err := p.Validate(); err != nil {
		return Profile{}, err
	}
	return p, nil
}

// Generate draws n's schedule for servers 1..servers in a run of duration
// (none when every rate is 0).
func (n Nemesis) Generate(seed uint64, servers int, duration time.Duration) (Schedule, error) {
	if n.Crash == 0 && n.Partition == 0 && n.Pause == 0 && n.ClockStep == 0 && n.Loss == 0 {
		return nil, nil
	}
	p, err := n.Profile()
	if err != nil {
		return nil, err
	}
	if n.Until <= n.From || n.Until > duration {
		return nil, fmt.Errorf("nemesis: want from < until ≤ duration, got %v, %v, %v", n.From, n.Until, duration)
	}
	return Generate(seed, p, servers, duration), nil
}
