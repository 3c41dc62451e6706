package lab

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"ordo"
	"ordo/sim"
	"ordo/trace"
)

// TestBFTThreeFPlusOneLine is the chapter's section 5 bound at smoke size
// (the 10 000-seed campaign is `ordo bench bft -n 3,4 -f 1 --seeds 10000
// --behaviour all`, and -n 6,7 -f 2): with f Byzantine replicas of every
// behaviour, n = 3f+1 keeps agreement and validity in every seed, and at
// n = 3 = 3f (run with unsafe_quorum = n − f) an equivocating primary
// splits the correct replicas. Every seed runs in wire mode on
// authenticated links with two clients.
func TestBFTThreeFPlusOneLine(t *testing.T) {
	rep, err := RunBFT(BFTCampaign{Ns: []int{3, 4}, Fs: []int{1}, Behaviours: sim.Behaviours, First: 1, Seeds: 20}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Cells) != 2*len(sim.Behaviours) || rep.Runs != 2*len(sim.Behaviours)*20 {
		t.Fatalf("%d cells, %d runs; want %d cells of 20 seeds", len(rep.Cells), rep.Runs, 2*len(sim.Behaviours))
	}
	if u := rep.Unexpected(); len(u) > 0 {
		t.Fatalf("n = 3f+1 = 4 did not hold:\n%s", strings.Join(u, "\n"))
	}
	for _, b := range sim.Behaviours {
		c := rep.Cell(4, 1, b)
		if !c.Held() || c.Unsafe || c.Quorum != 3 || c.Lies == 0 {
			t.Errorf("n=4 f=1 %s: %+v; want held with quorum 3 and lies told", b, c)
		}
		if u := rep.Cell(3, 1, b); !u.Unsafe || u.Quorum != 2 || u.Errors > 0 {
			t.Errorf("n=3 f=1 %s: %+v; want unsafe quorum 2, no run errors", b, u)
		}
	}
	eq := rep.Cell(3, 1, sim.Equivocate)
	if eq.Broken == 0 || eq.Failures["byzantine-agreement"] == 0 || eq.Failures["validity"] != 0 {
		t.Fatalf("n=3 f=1 equivocate: %+v; want agreement broken in some seeds, validity never (replicas prepare only requests their clients sent)", eq)
	}
	// The checks name the liar, and never count its own decisions:
	// the liar is known to the online judges too.
	b := eq.Bad[0]
	if !strings.Contains(b.Violation, "Byzantine: n1 (equivocate)") || !slices.Equal(b.Liars, []ordo.NodeID{1}) {
		t.Fatalf("first finding %+v: want the primary n1 named as the liar", b)
	}
}

// TestBFTSmokeF2: f = 2 at n = 3f+1 = 7 holds for every behaviour; n = 6
// runs unsafely (TestBFTBreaksAtThreeFForF2 shows it break).
func TestBFTSmokeF2(t *testing.T) {
	rep, err := RunBFT(BFTCampaign{Ns: []int{6, 7}, Fs: []int{2}, Behaviours: sim.Behaviours, First: 1, Seeds: 8}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if u := rep.Unexpected(); len(u) > 0 {
		t.Fatalf("%s", strings.Join(u, "\n"))
	}
	for _, b := range sim.Behaviours {
		if c := rep.Cell(7, 2, b); !c.Held() || c.Quorum != 5 {
			t.Errorf("n=7 f=2 %s: %+v; want held with quorum 5", b, c)
		}
		if c := rep.Cell(6, 2, b); !c.Unsafe || c.Quorum != 4 {
			t.Errorf("n=6 f=2 %s: %+v; want unsafe quorum 4", b, c)
		}
	}
}

// The report does not depend on the number of workers (only its wall
// time does), and a finding replays traced with the same verdicts.
func TestBFTDeterministicAndReplayable(t *testing.T) {
	c := BFTCampaign{Ns: []int{3, 5}, Fs: []int{1, 2}, Behaviours: []sim.Behaviour{sim.Equivocate, sim.Replay}, First: 100, Seeds: 12}
	var reports []string
	var last *BFTReport
	for _, w := range []int{1, 3} {
		c.Workers = w
		rep, err := RunBFT(c, nil)
		if err != nil {
			t.Fatal(err)
		}
		rep.Wall = 0
		data, err := json.Marshal(rep)
		if err != nil {
			t.Fatal(err)
		}
		reports = append(reports, string(data))
		last = rep
	}
	if reports[0] != reports[1] {
		t.Fatalf("1 worker and 3 workers disagree:\n%s\n%s", reports[0], reports[1])
	}
	var found bool
	for _, cell := range last.Cells {
		for _, b := range cell.Bad {
			found = true
			_, res, _, err := BFTTrace(cell.Config, b.Seed)
			if err != nil {
				t.Fatal(err)
			}
			var failed []string
			var first string
			for _, r := range res {
				if r.Failed() {
					failed = append(failed, r.Check)
					if first == "" {
						first = r.Check + ": " + r.Violations[0].Message
					}
				}
			}
			if !slices.Equal(failed, b.Failed) || first != b.Violation {
				t.Errorf("n=%d f=%d %s seed %d: traced replay failed %v (%q), campaign %v (%q)", cell.Config.N, cell.Config.F, cell.Config.Behaviour, b.Seed, failed, first, b.Failed, b.Violation)
			}
		}
	}
	if !found {
		t.Fatal("no finding to replay: n=3 f=1 equivocate should break")
	}
}

// Liars: f distinct replicas of 1..n; the primary of view 0 on odd
// seeds, never on even ones; the same list for the same seed.
func TestBFTLiars(t *testing.T) {
	for _, x := range []BFTConfig{{N: 3, F: 1}, {N: 4, F: 3}, {N: 10, F: 3}, {N: 7, F: 2}} {
		seen := map[string]bool{}
		for seed := uint64(0); seed < 200; seed++ {
			l := x.Liars(seed)
			if len(l) != x.F || !slices.IsSorted(l) || l[0] < 1 || int(l[len(l)-1]) > x.N || len(slices.Compact(slices.Clone(l))) != x.F {
				t.Fatalf("n=%d f=%d seed %d: liars %v", x.N, x.F, seed, l)
			}
			if (l[0] == 1) != PrimaryLies(seed) || PrimaryLies(seed) != (seed%2 == 1) {
				t.Fatalf("n=%d f=%d seed %d: liars %v, primary lies %v", x.N, x.F, seed, l, PrimaryLies(seed))
			}
			if !slices.Equal(l, x.Liars(seed)) {
				t.Fatalf("seed %d: two draws differ", seed)
			}
			seen[fmt.Sprint(l)] = true
		}
		if x.F < x.N-1 && len(seen) < 3 {
			t.Errorf("n=%d f=%d: only %d different sets of liars in 200 seeds", x.N, x.F, len(seen))
		}
	}
}

// Bad input is refused by name before anything runs.
func TestBFTRefusesBadInput(t *testing.T) {
	ok := BFTCampaign{Ns: []int{4}, Fs: []int{1}, Behaviours: []sim.Behaviour{sim.Silent}, First: 1, Seeds: 1}
	if err := ok.Check(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		mod  func(*BFTCampaign)
		want string
	}{
		{func(c *BFTCampaign) { c.Ns = []int{2} }, "-n 2"},
		{func(c *BFTCampaign) { c.Ns = []int{MaxBFTNodes + 1} }, "-n 33"},
		{func(c *BFTCampaign) { c.Fs = []int{0} }, "-f 0"},
		{func(c *BFTCampaign) { c.Fs = []int{4} }, "-f 4"},
		{func(c *BFTCampaign) { c.Ns, c.Fs = []int{3}, []int{3} }, "no pair with f below n"},
		{func(c *BFTCampaign) { c.Ns = []int{4, 4} }, "given twice"},
		{func(c *BFTCampaign) { c.Behaviours = []sim.Behaviour{"lie"} }, `--behaviour "lie"`},
		{func(c *BFTCampaign) { c.Behaviours = nil }, "at least one"},
		{func(c *BFTCampaign) { c.Seeds = 0 }, "--seeds 0"},
		{func(c *BFTCampaign) { c.Seeds = MaxBFTSeeds + 1 }, "--seeds 1000001"},
		{func(c *BFTCampaign) { c.First = 1<<64 - 1; c.Seeds = 2 }, "past the largest seed"},
		{func(c *BFTCampaign) { c.Ops = MaxBFTOps + 1 }, "--ops"},
		{func(c *BFTCampaign) { c.Clients = -1 }, "--clients"},
		{func(c *BFTCampaign) { c.Duration = 1 }, "--duration"},
		{func(c *BFTCampaign) { c.Workers = MaxWorkers + 1 }, "--workers"},
		{func(c *BFTCampaign) {
			c.Ns = []int{3, 4, 5, 6, 7, 8, 9, 10}
			c.Fs = []int{1, 2, 3}
			c.Seeds = MaxBFTSeeds
		}, "runs: at most"},
	} {
		c := ok
		tc.mod(&c)
		err := c.Check()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v; want an error with %q", c, err, tc.want)
		}
		if _, err := RunBFT(c, nil); err == nil {
			t.Errorf("%+v: RunBFT ran it", c)
		}
	}
	for _, x := range []BFTConfig{{}, {N: 3, F: 3, Behaviour: sim.Silent}, {N: 4, F: 1, Behaviour: "lie"}} {
		if r, err := BFTRun(x, 1); err == nil || r.Err == "" {
			t.Errorf("BFTRun(%+v) ran: %+v", x, r)
		}
	}
	for _, s := range []string{"", "lie", "equivocate,equivocate", "all,silent"} {
		if _, err := ParseBehaviours(s); err == nil {
			t.Errorf("ParseBehaviours(%q) accepted it", s)
		}
	}
	if b, err := ParseBehaviours("all"); err != nil || !slices.Equal(b, sim.Behaviours) {
		t.Errorf("all: %v %v", b, err)
	}
}

// observerBegin records the Meta an observer's Begin is given.
type observerBegin struct{ meta trace.Meta }

func (o *observerBegin) Begin(m trace.Meta)   { o.meta = m }
func (o *observerBegin) Observe(*trace.Event) {}

// TestSimObserverSeesLiars is a bug of the simulator left for its owner:
// An observer's Begin gets the liars named in Meta.Byzantine, so an
// online judge (a campaign's) does not take them for correct nodes (sim.New
// called Begin before it named them).
func TestSimObserverSeesLiars(t *testing.T) {
	x := BFTConfig{N: 4, F: 1, Behaviour: sim.Silent}
	cfg, err := x.SimConfig(1, false)
	if err != nil {
		t.Fatal(err)
	}
	o := &observerBegin{}
	cfg.Observer = o
	if _, err := sim.New(cfg); err != nil {
		t.Fatal(err)
	}
	if !o.meta.IsByzantine(1) {
		t.Fatalf("meta %+v: want n1 named Byzantine", o.meta.Byzantine)
	}
}

// The 3f+1 line for f = 2: at n = 3f = 6 (unsafe_quorum = n − f = 4) an
// equivocating primary and one more liar, colluding (sim.Colluder: the
// backup backs whichever order the primary told each replica), split the
// correct replicas into two quorums that execute different requests at
// one sequence number; at n = 7 the same liars break nothing.
func TestBFTBreaksAtThreeFForF2(t *testing.T) {
	rep, err := RunBFT(BFTCampaign{Ns: []int{6, 7}, Fs: []int{2}, Behaviours: []sim.Behaviour{sim.Equivocate}, First: 1, Seeds: 20}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rep.Cells {
		if c.Errors > 0 {
			t.Fatalf("%+v", c)
		}
		switch n := c.Config.N; {
		case n == 6 && c.Broken == 0:
			t.Errorf("n = 6, f = 2: 0 of 20 seeds broken; the bound allows a split there")
		case n == 7 && c.Broken > 0:
			t.Errorf("n = 7, f = 2: %d of 20 seeds broken, first %+v", c.Broken, c.Bad[0])
		}
	}
}

// Bounded cost: at n = 7, f = 3 with an equivocating primary (seed 1) two
// correct replicas that both installed a view answered each other's
// answers to a late view-change forever, and the run took 85 546 events in
// 3 s of simulated time against 4 731 for seed 2. A catch-up is not
// answered; the run is back within a few times the other seed's count
// (six: a replica changing view alone now also asks the view it left
// once a second, and seed 1 has such replicas: 9 887 events against
// 2 356 on 1 December 2026, an eighth of the ping-pong's).
func TestBFTNoViewChangePingPong(t *testing.T) {
	c := BFTConfig{N: 7, F: 3, Behaviour: sim.Equivocate}
	var events [3]uint64
	for seed := uint64(1); seed <= 2; seed++ {
		res, err := BFTRun(c, seed)
		if err != nil {
			t.Fatal(err)
		}
		events[seed] = res.Events
	}
	if events[1] > 6*events[2] {
		t.Fatalf("seed 1: %d events, seed 2: %d; replay: go run ./cmd/ordo bench bft -n 7 -f 3 --behaviour equivocate --replay 1 --trace run.jsonl", events[1], events[2])
	}
}

// Signatures or per-pair MACs: the same verdicts, seed for seed, with
// every behaviour (forgeries refused and garbage malformed under both),
// on both sides of the 3f+1 line. The variant changes the simulator's CPU
// time only.
func TestBFTAuthVariantsSameVerdicts(t *testing.T) {
	c := BFTCampaign{Ns: []int{3, 4}, Fs: []int{1}, Behaviours: sim.Behaviours, First: 1, Seeds: 3}
	var reports [2]string
	for i, mode := range sim.AuthModes {
		c.Auth = mode
		rep, err := RunBFT(c, nil)
		if err != nil {
			t.Fatal(err)
		}
		rep.Wall, rep.Campaign.Auth = 0, ""
		for j := range rep.Cells {
			if rep.Cells[j].Config.Auth != mode {
				t.Fatalf("cell %d ran with auth %q, want %s", j, rep.Cells[j].Config.Auth, mode)
			}
			rep.Cells[j].Config.Auth = ""
		}
		data, err := json.Marshal(rep)
		if err != nil {
			t.Fatal(err)
		}
		reports[i] = string(data)
		if cell := rep.Cell(3, 1, sim.Equivocate); cell.Broken == 0 {
			t.Fatalf("%s: n=3 f=1 equivocate held on seeds 1..3 (seed 1 breaks it)", mode)
		}
	}
	if reports[0] != reports[1] {
		t.Fatalf("mac and ed25519 campaigns differ:\n%s\n%s", reports[0], reports[1])
	}
	_, _, st, err := BFTTrace(BFTConfig{N: 4, F: 1, Behaviour: sim.Forge, Auth: sim.AuthEd25519}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if st.AuthFailed == 0 || st.AuthFailed != st.ByzantineBy[sim.Forge] {
		t.Fatalf("ed25519: %d forgeries, %d refused; want every one refused", st.ByzantineBy[sim.Forge], st.AuthFailed)
	}
	if err := (BFTConfig{N: 4, F: 1, Behaviour: sim.Forge, Auth: "rsa"}).Check(); err == nil || !strings.Contains(err.Error(), `--auth "rsa"`) {
		t.Fatalf("auth rsa: %v", err)
	}
}
