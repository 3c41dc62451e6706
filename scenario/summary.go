package scenario

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"ordo/check"
	"ordo/internal/style"
	"ordo/sim"
)

// fallacyKo are the fallacies' names as the chapter's section 1 gives them.
var fallacyKo = map[sim.Fallacy]string{
	sim.FallacyReliable:      "네트워크는 신뢰할 수 있다",
	sim.FallacyLatency:       "지연 시간은 0이다",
	sim.FallacyBandwidth:     "대역폭은 무한하다",
	sim.FallacySecure:        "네트워크는 안전하다",
	sim.FallacyTopology:      "토폴로지는 변하지 않는다",
	sim.FallacyAdministrator: "관리자는 한 명이다",
	sim.FallacyTransportCost: "전송 비용은 0이다",
	sim.FallacyHomogeneous:   "네트워크는 균질적이다",
}

// FallacyName is "1. The network is reliable (네트워크는 신뢰할 수 있다)".
func FallacyName(f sim.Fallacy) string {
	en := f.String()
	if en != "" {
		en = strings.ToUpper(en[:1]) + en[1:]
	}
	return fmt.Sprintf("%d. %s (%s)", int(f), en, fallacyKo[f])
}

// Summary is the machine-readable form of a run's report (`ordo sim --json`).
type Summary struct {
	Scenario string `json:"scenario"`
	File     string `json:"file"`
	Protocol string `json:"protocol"`
	Nodes    int    `json:"nodes"` // servers
	// Clients counts the client nodes (numbered after the servers) and
	// names their protocols; both are absent in a run without clients.
	Clients        int    `json:"clients,omitempty"`
	ClientProtocol string `json:"client_protocol,omitempty"`
	// Services counts the service nodes (numbered after the clients) and
	// names their protocols; both are absent in a run without services.
	Services        int                 `json:"services,omitempty"`
	ServiceProtocol string              `json:"service_protocol,omitempty"`
	Seed            uint64              `json:"seed"`
	SimTimeNs       int64               `json:"sim_time_ns"`
	Events          uint64              `json:"events"`
	Messages        map[string]KindJSON `json:"messages"`
	Sent            int                 `json:"sent"`
	Delivered       int                 `json:"delivered"`
	Dropped         int                 `json:"dropped"`
	Duplicated      int                 `json:"duplicated"`
	InFlight        int                 `json:"in_flight"` // sent + duplicated = delivered + dropped + in_flight
	Tampered        int                 `json:"tampered"`
	// Byzantine names the lying nodes and Lies counts their lies by
	// behaviour (sim/adversary.go); both absent in a run without liars.
	Byzantine  []ByzantineJSON `json:"byzantine,omitempty"`
	Lies       map[string]int  `json:"lies,omitempty"`
	Bytes      int64           `json:"bytes"`
	PricePerGB float64         `json:"price_per_gb_usd"`
	CostUSD    float64         `json:"cost_usd"`
	Fallacies  []FallacyJSON   `json:"fallacies"`
	Checks     []check.Result  `json:"checks"`
	Unmet      []string        `json:"unmet,omitempty"`
	// Struck names the node each fault aimed at `leader` struck (node 0:
	// skipped, no server led).
	Struck []Struck `json:"struck,omitempty"`
	OK     bool     `json:"ok"` // every expectation met
}

// ByzantineJSON is one lying node of a run.
type ByzantineJSON struct {
	Node      int    `json:"node"`
	Behaviour string `json:"behaviour"`
}

// KindJSON counts one message kind.
type KindJSON struct {
	Sent       int   `json:"sent"`
	Delivered  int   `json:"delivered"`
	Dropped    int   `json:"dropped"`
	Duplicated int   `json:"duplicated"`
	InFlight   int   `json:"in_flight"`
	Bytes      int64 `json:"bytes"`
}

// FallacyJSON is one exercised fallacy.
type FallacyJSON struct {
	Number int    `json:"number"`
	Name   string `json:"name"`
	Ko     string `json:"ko"`
}

// Summary returns the report of r as a value.
func (r *Result) Summary() Summary {
	sc := r.Scenario
	s := Summary{
		Scenario:   sc.Name,
		File:       sc.File,
		Protocol:   sc.Protocol.Name,
		Nodes:      sc.Nodes,
		Clients:    sc.ClientCount(),
		Seed:       r.Seed,
		SimTimeNs:  int64(r.SimTime),
		Events:     r.Events,
		Messages:   map[string]KindJSON{},
		Sent:       r.Stats.Sent,
		Delivered:  r.Stats.Delivered,
		Dropped:    r.Stats.Dropped,
		Duplicated: r.Stats.Duplicated,
		InFlight:   r.Stats.InFlight(),
		Tampered:   r.Stats.Tampered,
		Bytes:      r.Stats.Bytes,
		PricePerGB: sc.PricePerGB,
		CostUSD:    r.CostUSD,
		Fallacies:  []FallacyJSON{},
		Checks:     r.Checks,
		Unmet:      r.Unmet,
		Struck:     r.Struck,
		OK:         len(r.Unmet) == 0,
	}
	s.ClientProtocol = sc.clientProtocols()
	for _, b := range sc.Byzantine {
		s.Byzantine = append(s.Byzantine, ByzantineJSON{int(b.Node), string(b.Behaviour)})
	}
	for b, n := range r.Stats.ByzantineBy {
		if s.Lies == nil {
			s.Lies = map[string]int{}
		}
		s.Lies[string(b)] = n
	}
	s.Services, s.ServiceProtocol = len(sc.Services), sc.serviceProtocols()
	for k, ks := range r.Stats.Kinds {
		s.Messages[k] = KindJSON{ks.Sent, ks.Delivered, ks.Dropped, ks.Duplicated, ks.InFlight(), ks.Bytes}
	}
	if s.Checks == nil {
		s.Checks = []check.Result{}
	}
	for _, f := range r.Fallacies.List() {
		s.Fallacies = append(s.Fallacies, FallacyJSON{int(f), f.String(), fallacyKo[f]})
	}
	return s
}

// WriteJSON writes the summary as one indented JSON document.
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r.Summary())
}

// WriteText writes the human report of a run: messages and bytes by kind,
// losses, transport cost, the fallacies exercised and the checks' verdicts.
func (r *Result) WriteText(w io.Writer) error { return r.WriteStyled(w, style.Styler{}) }

// WriteStyled is WriteText with colour from s where it prints them:
// headings bold, PASS green, FAIL, its violations and unmet expectations
// red, UNKNOWN and a deliberately broken protocol yellow, NOT-APPLICABLE
// dim. With s off the bytes are WriteText's.
func (r *Result) WriteStyled(w io.Writer, s style.Styler) error {
	sc := r.Scenario
	st := r.Stats
	fmt.Fprintln(w, s.Heading(fmt.Sprintf("scenario %s: protocol %s, %s, seed %d, %v simulated, %d simulator steps",
		sc.Name, sc.Protocol.Name, sc.describeNodes(), r.Seed, r.SimTime, r.Events)))
	// An option named unsafe_ turns on a deliberate bug (a broken variant
	// the checkers must catch): say so before any verdict reads as the
	// protocol's own.
	var unsafe []string
	for k, v := range sc.Options {
		if strings.HasPrefix(k, "unsafe_") && v == "true" {
			unsafe = append(unsafe, k)
		}
	}
	if len(unsafe) > 0 {
		sort.Strings(unsafe)
		fmt.Fprintln(w, s.Warn(fmt.Sprintf("DELIBERATELY BROKEN: %s (a bug the checks below must catch)", strings.Join(unsafe, ", "))))
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	// Every copy the network made is delivered, dropped or still in
	// flight: sent + duplicated = delivered + dropped + in flight.
	fmt.Fprintln(tw, "message\tsent\t+ duplicated\t= delivered\t+ dropped\t+ in flight\tbytes\t")
	for _, k := range st.KindNames() {
		ks := st.Kinds[k]
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t\n", k, ks.Sent, ks.Duplicated, ks.Delivered, ks.Dropped, ks.InFlight(), ks.Bytes)
	}
	fmt.Fprintf(tw, "total\t%d\t%d\t%d\t%d\t%d\t%d\t\n", st.Sent, st.Duplicated, st.Delivered, st.Dropped, st.InFlight(), st.Bytes)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "tampered %d\n", st.Tampered)
	if len(sc.Byzantine) > 0 {
		var liars []string
		for _, b := range sc.Byzantine {
			liars = append(liars, fmt.Sprintf("%v %s", b.Node, b.Behaviour))
		}
		fmt.Fprintf(w, "byzantine: %s; %d lies told; refused: %d malformed, %d unauthenticated\n", strings.Join(liars, ", "), st.Byzantine, st.Malformed, st.AuthFailed)
	}
	fmt.Fprintf(w, "transport cost: %d bytes × $%g/GB ≈ $%.9f\n", st.Bytes, sc.PricePerGB, r.CostUSD)
	fmt.Fprintln(w)
	if len(r.Struck) > 0 {
		fmt.Fprintln(w, s.Heading("faults aimed at the leader:"))
		for _, x := range r.Struck {
			fmt.Fprintf(w, "  %v\n", x)
		}
		fmt.Fprintln(w)
	}
	fs := r.Fallacies.List()
	if len(fs) == 0 {
		fmt.Fprintln(w, s.Heading("fallacies exercised: none"))
	} else {
		fmt.Fprintln(w, s.Heading("fallacies exercised (chapter section 1):"))
		for _, f := range fs {
			fmt.Fprintf(w, "  %s%s\n", FallacyName(f), r.evidence(f))
		}
	}
	if len(r.Checks) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, s.Heading("checks:"))
		for _, c := range r.Checks {
			v := s.Pass("PASS")
			if !c.OK {
				word := strings.ToUpper(string(c.Verdict)) // FAIL, UNKNOWN, NOT-APPLICABLE
				switch c.Verdict {
				case check.Fail:
					v = s.Fail(word)
				case check.Unknown:
					v = s.Warn(word)
				default:
					v = s.Dim(word)
				}
			}
			line := fmt.Sprintf("  %s %s", v, c.Check)
			if c.Summary != "" {
				line += ": " + c.Summary
			}
			fmt.Fprintln(w, line)
			for i, vi := range c.Violations {
				if i == 10 {
					fmt.Fprintln(w, s.Fail(fmt.Sprintf("    ... and %d more violations", len(c.Violations)-10)))
					break
				}
				fmt.Fprintln(w, s.Fail(fmt.Sprintf("    - %s%s", vi.Message, eventList(vi.Events))))
			}
		}
	}
	if len(sc.Expect) > 0 {
		fmt.Fprintln(w)
		if len(r.Unmet) == 0 {
			fmt.Fprintln(w, s.Pass(fmt.Sprintf("expectations met (%d)", len(sc.Expect))))
		} else {
			fmt.Fprintln(w, s.Fail("EXPECTATIONS NOT MET:"))
			for _, u := range r.Unmet {
				fmt.Fprintln(w, s.Fail("  "+u))
			}
		}
	}
	return nil
}

// evidence says briefly what in the run exercised fallacy f.
func (r *Result) evidence(f sim.Fallacy) string {
	st := r.Stats
	switch f {
	case sim.FallacyReliable:
		// A silent liar's withheld messages are counted as drops too:
		// not the network's (a fresh user's try: 1378 "lost" in
		// pbft-4-loss, 996 of them withheld).
		if held := st.ByzantineBy[sim.Silent]; held > 0 {
			return fmt.Sprintf(": %d messages lost (and %d withheld by silent liars)", st.Dropped-held, held)
		}
		return fmt.Sprintf(": %d messages lost", st.Dropped)
	case sim.FallacySecure:
		return fmt.Sprintf(": %d messages tampered with", st.Tampered)
	case sim.FallacyTransportCost:
		return fmt.Sprintf(": %d bytes", st.Bytes)
	}
	return ""
}

func eventList(ids []int) string {
	if len(ids) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(" [")
	for i, id := range ids {
		if i == 8 {
			b.WriteString(" ...")
			break
		}
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "e%d", id)
	}
	b.WriteString("]")
	return b.String()
}
