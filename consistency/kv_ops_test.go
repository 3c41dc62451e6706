package consistency

import (
	"testing"

	"ordo/check"
	"ordo/history"
)

// A delete returns a key to "" (the kv database's delete): a get of ""
// after an acknowledged delete is linearizable and loses nothing; a get
// of the deleted value after the delete's ack is neither.
func TestDeleteIsAWriteOfNothing(t *testing.T) {
	l, n := &Linearizable{Dir: t.TempDir()}, &NoLostWrite{}
	del := op(2, 0, history.Delete, "x", "", "", ok, 20, 30)
	good := []history.Operation{op(1, 0, history.Put, "x", "a", "", ok, 0, 10), del, op(3, 1, history.Get, "x", "", "", ok, 40, 50)}
	if r := l.CheckHistory(good, "delete"); r.Verdict != check.Pass {
		t.Errorf("put, delete, get \"\": %s %s", r.Verdict, r.Summary)
	}
	if r := n.CheckHistory(good, nil); !r.OK {
		t.Errorf("put, delete, get \"\": no-lost-write %s", r.Summary)
	}
	bad := []history.Operation{op(1, 0, history.Put, "x", "a", "", ok, 0, 10), del, op(3, 1, history.Get, "x", "", "a", ok, 40, 50)}
	if r := l.CheckHistory(bad, "delete"); r.Verdict != check.Fail {
		t.Errorf("put, delete, get \"a\": %s %s", r.Verdict, r.Summary)
	}
	if r := n.CheckHistory(bad, nil); r.OK {
		t.Errorf("put, delete, get \"a\": no-lost-write passed: %s", r.Summary)
	}
}

// A stale (serializable) get is not held to real time: the same stale
// answer fails when the get is not labelled stale.
func TestStaleGetsAreNotJudged(t *testing.T) {
	l, n := &Linearizable{Dir: t.TempDir()}, &NoLostWrite{}
	get := op(3, 1, history.Get, "x", "", "", ok, 40, 50)
	ops := []history.Operation{op(1, 0, history.Put, "x", "a", "", ok, 0, 10), op(2, 1, history.Get, "x", "", "a", ok, 20, 30), get}
	if r := l.CheckHistory(ops, "stale"); r.Verdict != check.Fail {
		t.Fatalf("an unlabelled stale get: %s %s", r.Verdict, r.Summary)
	}
	ops[2].Stale = true
	if r := l.CheckHistory(ops, "stale"); r.Verdict != check.Pass {
		t.Errorf("a labelled stale get: %s %s", r.Verdict, r.Summary)
	}
	if r := n.CheckHistory(ops, nil); !r.OK {
		t.Errorf("a labelled stale get: no-lost-write %s", r.Summary)
	}
}
