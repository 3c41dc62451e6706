package scene

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"ordo"
	"ordo/internal/plural"
	"ordo/partial"
	"ordo/sim"
)

// Cause is one of the four reasons a request times out (section 5, "부분
// 장애": the client sees the same silence in every case).
type Cause string

// The causes, each built deterministically in the simulator.
const (
	RequestLost Cause = "request lost" // a one-way cut client→server while the request is sent
	ServerCrash Cause = "server crashed before applying"
	ReplyLost   Cause = "reply lost"  // a one-way cut server→client while the reply is sent
	ServerSlow  Cause = "server slow" // the server takes longer than the client's timeout per event
)

// Causes lists the causes in the table's order.
var Causes = []Cause{RequestLost, ServerCrash, ReplyLost, ServerSlow}

// SceneConfig is the fixed stage of the scene: one bank server (n1), one
// client (n2), a constant one-way latency, and the timings of the faults.
type SceneConfig struct {
	Latency time.Duration // one way, every link
	Timeout time.Duration // the client's timeout per send
	// Slow is the server's time per event under ServerSlow (> Timeout).
	Slow time.Duration
	// Down is how long the server stays crashed under ServerCrash.
	Down time.Duration
	// Run is how long each run lasts: every retry and late message is
	// over by then.
	Run time.Duration
}

// DefaultScene is the stage of `ordo sim partial-failure`.
var DefaultScene = SceneConfig{
	Latency: 10 * time.Millisecond,
	Timeout: 100 * time.Millisecond,
	Slow:    150 * time.Millisecond,
	Down:    600 * time.Millisecond,
	Run:     10 * time.Second,
}

// clientStart is when the client sends its transfer (the client's "start"
// option): the faults are timed around it.
const clientStart = 10 * time.Millisecond

// Outcome is one cell row of the outcome table: what happened, and what
// the client saw of it.
type Outcome struct {
	Cause    Cause
	Strategy partial.Strategy
	Applied  int64        // transfers the server applied (the truth)
	View     partial.View // the client's evidence
	Seed     uint64
}

// Knows reports whether the client's belief matches the truth: it
// believes a reply means "applied once" and has no belief after giving up.
// A naive client that timed out and then got a reply is right only by
// luck: the same view follows a double application.
func (o Outcome) Knows() string {
	switch {
	case !o.View.OK:
		return "no: unknown"
	case o.Applied == 1 && o.Strategy == partial.NaiveRetry && o.View.Timeouts > 0:
		return "yes, by luck"
	case o.Applied == 1:
		return "yes"
	}
	return fmt.Sprintf("no: thinks 1, was %d", o.Applied)
}

// AppliedClass is 0, 1 or 2+, as the chapter counts.
func (o Outcome) AppliedClass() string {
	if o.Applied >= 2 {
		return "2+"
	}
	return fmt.Sprint(o.Applied)
}

// Errors describes the errors the client saw.
func (o Outcome) Errors() string {
	var p []string
	if o.View.Timeouts > 0 {
		p = append(p, plural.Count(o.View.Timeouts, "timeout"))
	}
	if o.View.Open > 0 {
		p = append(p, fmt.Sprintf("%d circuit-open", o.View.Open))
	}
	if len(p) == 0 {
		return "-"
	}
	return strings.Join(p, ", ")
}

// Answer is the client's final answer: "ok", "ok (replayed)" or why it gave
// up.
func (o Outcome) Answer() string {
	switch {
	case o.View.OK && o.View.Replayed:
		return "ok (replayed)"
	case o.View.OK:
		return "ok"
	case o.View.Done:
		return o.View.Err
	}
	return "none"
}

// Run plays one cell of the scene: strategy st under cause c, seeded by
// seed (the client's jitter). It returns an error only for a bad
// configuration.
func Run(cfg SceneConfig, c Cause, st partial.Strategy, seed uint64) (Outcome, error) {
	bank, client := ordo.NodeID(1), ordo.NodeID(2)
	opts, err := partial.BankClientProtocol.Resolve(map[string]string{
		"strategy": string(st),
		"timeout":  cfg.Timeout.String(),
		"start":    clientStart.String(),
	})
	if err != nil {
		return Outcome{}, err
	}
	sc := sim.Config{
		Protocol: partial.BankProtocol,
		Nodes:    1,
		Seed:     seed,
		Name:     "partial-failure",
		Network:  sim.Network{Default: sim.Link{Latency: sim.Dist{Kind: sim.Constant, A: cfg.Latency}}},
		Clients:  []sim.ClientGroup{{Protocol: partial.BankClientProtocol, Options: opts, Count: 1}},
	}
	if c == ServerSlow {
		sc.SpeedOf = map[ordo.NodeID]time.Duration{bank: cfg.Slow}
	}
	s, err := sim.New(sc)
	if err != nil {
		return Outcome{}, err
	}
	// Every fault is timed against the first send at clientStart, which
	// reaches the bank at clientStart+Latency and is answered at once.
	switch c {
	case RequestLost:
		// Cut before the send, heal right after: the first request is
		// dropped at the send, every retry passes.
		if err := s.CutOneWay([]ordo.NodeID{client}, []ordo.NodeID{bank}); err != nil {
			return Outcome{}, err
		}
		s.At(clientStart+cfg.Latency/2, func(s *sim.Sim) { s.Heal() })
	case ServerCrash:
		// The bank dies while the request is in flight: it arrives at a
		// dead node and is lost; the bank is back Down later.
		s.At(clientStart+cfg.Latency/2, func(s *sim.Sim) { s.Crash(bank) })
		s.At(clientStart+cfg.Latency/2+cfg.Down, func(s *sim.Sim) {
			if err := s.Restart(bank); err != nil {
				panic(err) // the bank is present: cannot happen
			}
		})
	case ReplyLost:
		// The bank applies the first request; its reply is dropped at
		// the send. Retries and their replies pass.
		s.At(clientStart+cfg.Latency/2, func(s *sim.Sim) {
			if err := s.CutOneWay([]ordo.NodeID{bank}, []ordo.NodeID{client}); err != nil {
				panic(err)
			}
		})
		s.At(clientStart+cfg.Latency*3/2, func(s *sim.Sim) { s.Heal() })
	case ServerSlow:
		// sc.SpeedOf above.
	default:
		return Outcome{}, fmt.Errorf("partial: unknown cause %q", c)
	}
	if err := s.RunFor(cfg.Run); err != nil {
		return Outcome{}, err
	}
	cl, ok := s.Node(client).(*partial.BankClient)
	if !ok {
		return Outcome{}, fmt.Errorf("partial: client %v is not running", client)
	}
	return Outcome{Cause: c, Strategy: st, Applied: partial.Applied(s.Store(bank)), View: cl.View(), Seed: seed}, nil
}

// Table runs every strategy under every cause, all with one seed.
func Table(cfg SceneConfig, seed uint64) ([]Outcome, error) {
	var out []Outcome
	for _, c := range Causes {
		for _, st := range partial.Strategies {
			o, err := Run(cfg, c, st, seed)
			if err != nil {
				return nil, fmt.Errorf("%s, %s: %w", c, st, err)
			}
			out = append(out, o)
		}
	}
	return out, nil
}

// WriteTable prints the outcome table.
func WriteTable(w io.Writer, rows []Outcome) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CAUSE\tSTRATEGY\tAPPLIED\tSENDS\tERRORS SEEN\tANSWER\tTIME TO ANSWER\tCLIENT KNOWS?")
	for _, o := range rows {
		took := "-"
		if o.View.Done {
			took = o.View.Took.Round(100 * time.Microsecond).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n",
			o.Cause, o.Strategy, o.AppliedClass(), o.View.Sends, o.Errors(), o.Answer(), took, o.Knows())
	}
	return tw.Flush()
}
