package viz

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"ordo/diagram"
	"ordo/trace"
)

func TestSVGIsXML(t *testing.T) {
	tr := simTrace(t)
	for _, st := range []string{"lamport", "vector", "both", "none"} {
		var b bytes.Buffer
		if err := SVG(&b, tr, Options{Stamps: st, MaxEvents: 200}); err != nil {
			t.Fatal(err)
		}
		dec := xml.NewDecoder(&b)
		root, circles, lines, texts := "", 0, 0, 0
		for {
			tok, err := dec.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: not well-formed XML: %v", st, err)
			}
			if se, ok := tok.(xml.StartElement); ok {
				if root == "" {
					root = se.Name.Local
				}
				switch se.Name.Local {
				case "circle":
					circles++
				case "line":
					lines++
				case "text":
					texts++
				}
			}
		}
		if root != "svg" || circles < 20 || lines < 20 || texts < 20 {
			t.Fatalf("%s: root %q, %d circles, %d lines, %d texts", st, root, circles, lines, texts)
		}
	}
	var b bytes.Buffer
	_ = SVG(&b, tr, Options{MaxEvents: 1000})
	for _, want := range []string{"✖", "partition", "heal", "marker-end", "peer-down←3"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
}

// validateShiViz checks a log against the rules ShiViz enforces when it
// loads one: the first line is the parser regex with the three named
// groups, the second the (empty) execution delimiter; each event is a
// description line and a "host {clock}" line; the clock is a JSON object of
// non-negative integers that includes the host; each host's own entry
// starts at 1 and rises by one per event; a host's clock never goes
// backwards; and no clock knows of an event of another host that has not
// been logged yet (consistency with the causal order). Messages are
// checked separately by the caller against the trace.
func validateShiViz(log string) (map[string][]map[string]uint64, error) {
	sc := bufio.NewScanner(strings.NewReader(log))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	if !sc.Scan() {
		return nil, fmt.Errorf("empty log")
	}
	header := sc.Text()
	for _, g := range []string{"(?<event>", "(?<host>", "(?<clock>"} {
		if !strings.Contains(header, g) {
			return nil, fmt.Errorf("header %q lacks %s", header, g)
		}
	}
	// ShiViz uses JS named groups; Go spells them (?P<name>).
	re, err := regexp.Compile(strings.ReplaceAll(header, "(?<", "(?P<"))
	if err != nil {
		return nil, fmt.Errorf("header regex: %v", err)
	}
	if !sc.Scan() || sc.Text() != "" {
		return nil, fmt.Errorf("second line must be the empty delimiter, got %q", sc.Text())
	}
	var rest []string
	for sc.Scan() {
		rest = append(rest, sc.Text())
	}
	body := strings.Join(rest, "\n")
	ms := re.FindAllStringSubmatch(body, -1)
	if len(ms)*2 != len(rest) {
		return nil, fmt.Errorf("regex matched %d events in %d lines", len(ms), len(rest))
	}
	hi, ci := re.SubexpIndex("host"), re.SubexpIndex("clock")
	count := map[string]uint64{}
	byHost := map[string][]map[string]uint64{}
	for k, m := range ms {
		host := m[hi]
		var clk map[string]uint64
		if err := json.Unmarshal([]byte(m[ci]), &clk); err != nil {
			return nil, fmt.Errorf("event %d: clock %q: %v", k, m[ci], err)
		}
		count[host]++
		if clk[host] != count[host] {
			return nil, fmt.Errorf("event %d: host %s's own entry is %d, want %d (starts at 1, +1 per event)", k, host, clk[host], count[host])
		}
		if prev := byHost[host]; len(prev) > 0 {
			for h, x := range prev[len(prev)-1] {
				if clk[h] < x {
					return nil, fmt.Errorf("event %d: host %s's clock went back on %s: %d < %d", k, host, h, clk[h], x)
				}
			}
		}
		for h, x := range clk {
			if h != host && x > count[h] {
				return nil, fmt.Errorf("event %d: %s's clock knows %s's event %d, which is not logged yet", k, host, h, x)
			}
		}
		byHost[host] = append(byHost[host], clk)
	}
	return byHost, nil
}

func TestShiVizValid(t *testing.T) {
	tr := simTrace(t) // seed 1, with a crash, a restart and a partition
	var b bytes.Buffer
	if err := ShiViz(&b, tr); err != nil {
		t.Fatal(err)
	}
	byHost, err := validateShiViz(b.String())
	if err != nil {
		t.Fatalf("seed 1 log rejected: %v", err)
	}
	// Causal consistency of messages: a receive's clock covers its send's.
	// Every event is on a host: its node's (a drop: its sender's), a
	// fault on FaultHost.
	idx := map[int]int{}
	seen := map[int]int{}
	drops, faults := 0, 0
	for i, e := range tr.Events {
		h := int(e.Node)
		switch e.Kind {
		case trace.Fault:
			h = 0
			faults++
		case trace.Drop:
			drops++
		}
		idx[i] = seen[h]
		seen[h]++
	}
	if len(byHost[FaultHost]) != faults || faults == 0 || drops == 0 {
		t.Fatalf("%d events on host %s for %d faults (%d drops): want every fault and drop in the log", len(byHost[FaultHost]), FaultHost, faults, drops)
	}
	if !strings.Contains(b.String(), "dropped (partition)") || strings.Contains(b.String(), " L=") {
		t.Fatal("drops are not described in words, or raw stamps are in the descriptions")
	}
	sendAt := map[uint64]int{}
	msgs := 0
	for i, e := range tr.Events {
		switch e.Kind {
		case trace.Send:
			sendAt[e.Msg] = i
		case trace.Recv:
			s, ok := sendAt[e.Msg]
			if !ok {
				continue
			}
			sc := byHost["n"+strconv.Itoa(int(tr.Events[s].Node))][idx[s]]
			rc := byHost["n"+strconv.Itoa(int(e.Node))][idx[i]]
			for h, x := range sc {
				if rc[h] < x {
					t.Fatalf("recv e%d's clock %v does not cover send e%d's %v", i, rc, s, sc)
				}
			}
			msgs++
		}
	}
	if msgs < 20 {
		t.Fatalf("only %d messages checked", msgs)
	}
	// The validator rejects a broken log.
	bad := strings.Replace(b.String(), `n1 {"n1":2`, `n1 {"n1":3`, 1)
	if bad == b.String() {
		t.Fatal("could not corrupt the log for the negative check")
	}
	if _, err := validateShiViz(bad); err == nil {
		t.Fatal("validator accepted a log whose own entry skips a number")
	}
}

func TestDiagramPicture(t *testing.T) {
	d, err := diagram.Parse([]byte("A: a1 a2 a3\nB: b1 b2 b3\na2 -> b1\nb3 -> a3\n"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := FromDiagram(d, "lamport")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := p.Render(&b, 80); err != nil {
		t.Fatal(err)
	}
	want := `A:   ●───●───────●───►
     a1  a2      a3
(C)  1   2       6
         │       ▲
         ▼       │
B:   ────●───●───●───►
         b1  b2  b3
(C)      3   4   5
`
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
	var s bytes.Buffer
	if err := p.SVG(&s); err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(s.Bytes(), new(struct{})); err != nil {
		t.Fatal(err)
	}
}
