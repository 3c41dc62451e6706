package election

import (
	"reflect"
	"testing"

	"ordo"
	"ordo/check"
	"ordo/trace"
)

// FuzzElectionCheckers builds a trace from arbitrary bytes (role notes,
// fence notes, crashes, pauses and fault events of any shape, clients
// included) and
// runs every election checker on it: no panic, a verdict each, and the
// same results through a Session as through each checker's Check.
func FuzzElectionCheckers(f *testing.F) {
	f.Add([]byte{0, 1, 1, 0, 0, 2, 2, 0, 3, 1, 2, 0, 1, 1, 3, 0})
	f.Add([]byte{6, 0, 1, 0, 4, 1, 0, 0, 5, 1, 0, 0, 7, 3, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 4000 {
			return
		}
		tr := &trace.Trace{Meta: trace.Meta{Nodes: 5, Servers: []int{1, 2, 3, 4}, Clients: []int{5}}}
		groups := []string{"1,2/3,4", "1/2/3/4", "", "x/9,1", "4"}
		var at int64
		for i := 0; i+3 < len(b); i += 4 {
			op, node, term, dt := b[i]%11, ordo.NodeID(b[i+1]%7), int(b[i+2]%6), int64(b[i+3])
			at += dt
			e := trace.Event{Node: node, T: at}
			switch op {
			case 0:
				e.Kind, e.Name, e.Attrs = trace.Note, NoteLeader, trace.MakeAttrs([]any{"term", term, "token", term})
			case 1:
				e.Kind, e.Name, e.Attrs = trace.Note, NoteFollower, trace.MakeAttrs([]any{"term", term, "leader", int(b[i+3] % 7)})
			case 2:
				e.Kind, e.Name, e.Attrs = trace.Note, NoteCandidate, trace.MakeAttrs([]any{"term", term})
			case 3:
				e.Kind = trace.Start
			case 4:
				e.Kind = trace.Crash
			case 5:
				e.Kind = trace.Pause
			case 6:
				e.Kind = trace.Resume
			case 7:
				e.Kind, e.Node, e.Name, e.Attrs = trace.Fault, 0, "partition", trace.MakeAttrs([]any{"groups", groups[term%len(groups)]})
			case 8:
				e.Kind, e.Node, e.Name, e.Attrs = trace.Fault, 0, "cut-one-way", trace.MakeAttrs([]any{"from", groups[term%len(groups)], "to", "[n1 n9]"})
			case 9:
				e.Kind, e.Node, e.Name, e.Attrs = trace.Fault, 0, "heal", nil
			case 10:
				// A fence note, the resource's own or a writer's on its
				// behalf, with or without the store's sequence number.
				kv := []any{"token", term, "accepted", dt%3 != 0, "writer", int(node)}
				if dt%2 == 0 {
					kv = append(kv, "resource", int(dt%7))
				}
				if dt%5 != 0 {
					kv = append(kv, "seq", int(dt%11)-1)
				}
				e.Kind, e.Name, e.Attrs = trace.Note, NoteFence, trace.MakeAttrs(kv)
			}
			tr.Append(e)
		}
		res, err := check.Run(tr, Checks)
		if err != nil {
			t.Fatal(err)
		}
		for i, name := range Checks {
			c, _ := check.Lookup(name)
			one := c.Check(tr)
			if res[i].Verdict == "" || !reflect.DeepEqual(one, res[i]) {
				t.Fatalf("%s: session %+v, Check %+v", name, res[i], one)
			}
		}
	})
}
