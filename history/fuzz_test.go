package history

import (
	"bytes"
	"testing"

	"ordo/trace"
)

// FuzzHistory feeds trace files (JSON Lines) to the history reader: no
// input may panic it, and an accepted history keeps the reader's
// invariants (unique ids per client, Call <= Return, bounded sizes).
func FuzzHistory(f *testing.F) {
	head := `{"ordo_trace":"1","runtime":"sim","nodes":2}` + "\n"
	f.Add([]byte(head +
		`{"id":0,"kind":"note","node":2,"t":5,"lamport":1,"vc":[0,1],"name":"op-invoke","attrs":[{"k":"id","v":1},{"k":"proc","v":0},{"k":"f","v":"put"},{"k":"key","v":"x"},{"k":"value","v":"a"}]}` + "\n" +
		`{"id":1,"kind":"note","node":2,"t":9,"lamport":2,"vc":[0,2],"name":"op-ok","attrs":[{"k":"id","v":1}]}` + "\n"))
	f.Add([]byte(head +
		`{"id":0,"kind":"note","node":2,"t":5,"lamport":1,"vc":[0,1],"name":"op-invoke","attrs":[{"k":"id","v":1},{"k":"proc","v":0},{"k":"f","v":"get"},{"k":"key","v":"x"}]}` + "\n" +
		`{"id":1,"kind":"crash","node":2,"t":7,"lamport":2,"vc":[0,2]}` + "\n" +
		`{"id":2,"kind":"note","node":2,"t":9,"lamport":3,"vc":[0,3],"name":"op-info","attrs":[{"k":"id","v":1e300}]}` + "\n"))
	f.Add([]byte(head + `{"id":0,"kind":"note","node":1,"t":1,"lamport":1,"vc":[1,0],"name":"op-ok","attrs":[{"k":"id","v":-3}]}` + "\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		tr, err := trace.Read(bytes.NewReader(b))
		if err != nil {
			return
		}
		ops, err := FromTrace(tr)
		if err != nil {
			return
		}
		seen := map[opKey]bool{}
		for _, o := range ops {
			k := opKey{o.Client, o.ID}
			if seen[k] {
				t.Fatalf("duplicate op %v accepted", k)
			}
			seen[k] = true
			if o.Return < o.Call || !o.F.Valid() || len(o.Key) > MaxKeyLen || len(o.Value) > MaxValueLen {
				t.Fatalf("bad op accepted: %+v", o)
			}
			if (o.Return == Open) != (o.Outcome == OutcomeInfo) {
				t.Fatalf("outcome %v with return %d", o.Outcome, o.Return)
			}
		}
	})
}
