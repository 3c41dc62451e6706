package viz

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"ordo/sim"
	"ordo/trace"
)

// ordo's own ShiViz export reads back into the same trace: every event
// (drops, faults, crashes and restarts too) with its node, kind, peer,
// message id and kind, name and time, and the same send → receive pairs.
func TestShiVizRoundTrip(t *testing.T) {
	dup, err := sim.New(sim.Config{Protocol: pingProto, Nodes: 4, Seed: 7, Trace: true,
		Network: sim.Network{Default: sim.Link{Latency: sim.Presets["wan"], Loss: 0.2, Duplicate: 0.3}}})
	if err != nil {
		t.Fatal(err)
	}
	dup.At(300*time.Millisecond, func(s *sim.Sim) { s.Pause(2) })
	dup.At(500*time.Millisecond, func(s *sim.Sim) { s.Resume(2) })
	if err := dup.RunFor(time.Second); err != nil {
		t.Fatal(err)
	}
	for name, tr := range map[string]*trace.Trace{"crash-restart-partition": simTrace(t), "duplicates-pause": dup.Trace()} {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := ShiViz(&b, tr); err != nil {
				t.Fatal(err)
			}
			back, rep, err := ImportShiViz(&b, ImportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !rep.Ordo || rep.Unpaired != 0 || rep.Events != len(tr.Events) {
				t.Fatalf("report %+v: want ordo's own export, %d events, none unpaired", rep, len(tr.Events))
			}
			if len(back.Events) != len(tr.Events) || back.Meta.Nodes != tr.Meta.Nodes {
				t.Fatalf("%d events of %d nodes back, want %d of %d", len(back.Events), back.Meta.Nodes, len(tr.Events), tr.Meta.Nodes)
			}
			kinds := map[trace.Kind]int{}
			for i := range tr.Events {
				a, b := tr.Events[i], back.Events[i]
				kinds[a.Kind]++
				if a.Kind != b.Kind || a.Node != b.Node || a.Peer != b.Peer || a.Msg != b.Msg || a.MsgKind != b.MsgKind || a.Name != b.Name || a.T != b.T {
					t.Fatalf("event %d: %s\nback as %s", i, DescribeShiViz(&a, &tr.Meta), DescribeShiViz(&b, &back.Meta))
				}
				if a.Kind.Stamped() && !slices.Equal(a.Vector, b.Vector) && name == "crash-restart-partition" {
					// The simulator's stamps are the causal structure's: the
					// same structure gives the same vectors.
					t.Fatalf("event %d: vector %v back as %v", i, a.Vector, b.Vector)
				}
			}
			for _, k := range []trace.Kind{trace.Send, trace.Recv, trace.Drop} {
				if kinds[k] == 0 {
					t.Fatalf("no %s event in the run: the round trip proves less than it says (%v)", k, kinds)
				}
			}
		})
	}
}

// A GoVector log, hosts one after another as `cat *-Log.txt` gives them:
// messages inferred from clock increases, a broadcast split into one send
// per receiver, a receive from two hosts at once split into two.
func TestImportGoVector(t *testing.T) {
	f, err := os.Open("testdata/govector-client-server.log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr, rep, err := ImportShiViz(f, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Ordo || rep.Regex != GoVectorRegex || !slices.Equal(rep.Hosts, []string{"client", "server", "backup"}) || rep.Events != 13 {
		t.Fatalf("report %+v", rep)
	}
	if rep.Messages != 6 || rep.SplitSends != 1 || rep.SplitReceives != 1 {
		t.Fatalf("%d messages, %d split sends, %d split receives; want 6, 1, 1", rep.Messages, rep.SplitSends, rep.SplitReceives)
	}
	if !slices.Equal(tr.Meta.Names, rep.Hosts) {
		t.Fatalf("names %v", tr.Meta.Names)
	}
	var got []string
	for _, e := range tr.Events {
		switch e.Kind {
		case trace.Send:
			got = append(got, e.Node.String()+">"+e.Peer.String())
		case trace.Recv:
			got = append(got, e.Node.String()+"<"+e.Peer.String())
		}
	}
	// client→server (get), server→client (reply), client→server and
	// client→backup (the broadcast), server→client and backup→client
	// (acks, received at once).
	want := []string{"n1>n2", "n2<n1", "n2>n1", "n1<n2", "n1>n2", "n1>n3", "n2<n1", "n2>n1", "n3<n1", "n3>n1", "n1<n2", "n1<n3"}
	if !slices.Equal(got, want) {
		t.Fatalf("messages %v\nwant     %v", got, want)
	}
	// The text of each event stays with it.
	if e := tr.Events[0]; e.Kind != trace.Note || e.Attrs[0].Value != "Initialization Complete" {
		t.Fatalf("first event %+v", e)
	}
}

// A ShiViz file: the regex on line 1, the executions delimiter (a regex)
// on line 2; each execution imports on its own.
func TestImportShiVizExecutions(t *testing.T) {
	b, err := os.ReadFile("testdata/shiviz-two-executions.log")
	if err != nil {
		t.Fatal(err)
	}
	tr, rep, err := ImportShiViz(bytes.NewReader(b), ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Executions != 2 || len(tr.Events) != 3 || rep.Messages != 1 {
		t.Fatalf("first execution: %+v, %d events", rep, len(tr.Events))
	}
	tr, _, err = ImportShiViz(bytes.NewReader(b), ImportOptions{Execution: 1})
	if err != nil || len(tr.Events) != 1 || tr.Meta.Names[0] != "a" {
		t.Fatalf("second execution: %v %v", err, tr)
	}
	if _, _, err := ImportShiViz(bytes.NewReader(b), ImportOptions{Execution: 2}); err == nil || !strings.Contains(err.Error(), "holds 2") {
		t.Fatalf("execution 2 of 2: %v", err)
	}
}

// Bad logs are refused with the line that shows why.
func TestImportRefusesBadLogs(t *testing.T) {
	good := "a {\"a\":1}\nstart\nb {\"b\":1, \"a\":1}\ngot it\n"
	for _, tc := range []struct{ name, log, want string }{
		{"unmatched text", "a {\"a\":1}\nstart\nthis is not an event\n", "line 3: text the regex does not match"},
		{"clock not json", "a {\"a\":1}\nstart\nb {\"b\":1, \"a\":}\nx\n", "line 3: clock"},
		{"negative entry", "a {\"a\":-1}\nstart\n", "line 1: clock"},
		{"huge entry", "a {\"a\":99999999999999999999}\nstart\n", "line 1: clock"},
		{"own entry missing", "a {\"b\":1}\nstart\n", "line 1: the clock of host a lacks its own entry"},
		{"own entry skips", good + "a {\"a\":3}\nlater\n", "line 5: host a's own clock entry is 3, want 2"},
		{"own entry from 0", "a {\"a\":0}\nstart\n", "line 1: the clock of host a lacks its own entry"},
		{"backwards", "a {\"a\":1}\ns\nb {\"b\":1, \"a\":1}\nx\nb {\"b\":2}\ny\n", "line 5: host b's clock entry for a goes back from 1"},
		{"knows the unlogged", "a {\"a\":1, \"b\":4}\nx\nb {\"b\":1}\ny\n", "line 1: the clock knows event 4 of host b, which logs 1"},
		{"cycle", "a {\"a\":1, \"b\":2}\nx\nb {\"b\":1}\ny\nb {\"b\":2, \"a\":1}\nz\n", "the clocks describe a cycle"},
		{"empty", "\n\n", "no event"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ImportShiViz(strings.NewReader(tc.log), ImportOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		name string
		o    ImportOptions
		want string
	}{
		{"no host group", ImportOptions{Regex: `(?<clock>{.*})\n(?<event>.*)`}, "no group named host"},
		{"lookbehind", ImportOptions{Regex: `(?<=x)(?<host>\S*) (?<clock>{.*})\n(?<event>.*)`}, "RE2"},
		{"execution without delimiter", ImportOptions{Execution: 1}, "no delimiter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ImportShiViz(strings.NewReader(good), tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
	if _, _, err := ImportShiViz(strings.NewReader(good), ImportOptions{}); err != nil {
		t.Fatalf("the good log: %v", err)
	}
}

// FuzzImportShiViz: no input panics the importer, and whatever it imports
// is a valid trace whose ShiViz export imports again to as many events.
func FuzzImportShiViz(f *testing.F) {
	for _, p := range []string{"testdata/govector-client-server.log", "testdata/shiviz-two-executions.log"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	var b bytes.Buffer
	if err := ShiViz(&b, simTrace(f)); err != nil {
		f.Fatal(err)
	}
	f.Add(b.Bytes())
	f.Add([]byte("a {\"a\":1, \"b\":2}\nx\nb {\"b\":1}\ny\nb {\"b\":2, \"a\":1}\nz\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, _, err := ImportShiViz(bytes.NewReader(data), ImportOptions{})
		if err != nil {
			return
		}
		if err := tr.Validate(); err != nil {
			t.Fatalf("imported an invalid trace: %v", err)
		}
		var out bytes.Buffer
		if err := ShiViz(&out, tr); err != nil {
			t.Fatalf("export of the import: %v", err)
		}
		back, _, err := ImportShiViz(&out, ImportOptions{})
		if err != nil {
			t.Fatalf("the export of an import does not import: %v\n%s", err, out.String())
		}
		if len(back.Events) != len(tr.Events) {
			t.Fatalf("%d events back from %d", len(back.Events), len(tr.Events))
		}
	})
}
