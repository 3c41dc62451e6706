package lab

import (
	"fmt"
	"strings"
	"testing"
	"time"

	_ "ordo/kv"
)

// replay is the command that replays one seed of a campaign (the CLI's
// replayCommand, shortened: no run memory, no wire).
func replay(c ExploreConfig, seed uint64) string {
	s := fmt.Sprintf("ordo explore --protocol %s -n %d --profile %s --duration %v", c.Protocol, c.Nodes, c.Profile, c.Duration)
	for k, v := range c.Options {
		s += fmt.Sprintf(" -o %s=%s", k, v)
	}
	for k, v := range c.ClientOptions {
		s += fmt.Sprintf(" --client-option %s=%s", k, v)
	}
	return s + fmt.Sprintf(" --replay %d", seed)
}

// Exercise 3's database under the hostile profile, smoke size: servers
// crash and restart (some for ever), the network splits, cuts one way,
// loses messages, clocks step and drift, disks tear, fail and corrupt;
// three clients read, write, cas and delete, one also transfers
// leadership and removes and re-adds servers. Every verdict passes —
// linearizable, no-lost-write, agreement and the election checkers — and
// the campaign took snapshots, installed some, transferred leadership and
// changed the membership. Randomized: seeds 1..30; a failure prints the
// replay command of every bad seed.
func TestExploreKVHostileSmoke(t *testing.T) {
	t.Setenv("ORDO_VIZ_DIR", t.TempDir())
	c := ExploreConfig{Protocol: "kv", Nodes: 5, Seeds: 30, First: 1, Profile: "hostile", Duration: 10 * time.Second}
	rep, err := Explore(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range rep.Bad {
		t.Errorf("seed %d: %v %s\n  replay: %s", b.Seed, b.Failed, strings.Join(b.Violations, "; "), replay(c, b.Seed))
	}
	if u := rep.Unexpected(nil); len(u) > 0 {
		t.Errorf("not as expected: %v", u)
	}
	for _, k := range Workloads["kv"].Counted {
		if rep.Notes[k] == 0 {
			t.Errorf("no %q over %d seeds (notes %v): the campaign did not exercise it", k, rep.Runs, rep.Notes)
		}
	}
	t.Logf("kv hostile, %d seeds: %d steps, notes %v, failures %v", rep.Runs, rep.Events, rep.Notes, rep.Failures)
}

// kv-stale (reads from any server's own state) is caught: the
// linearizable checker fails within the first 10 seeds of the same
// campaign, and the report names the seeds to replay.
func TestExploreKVStaleFound(t *testing.T) {
	t.Setenv("ORDO_VIZ_DIR", t.TempDir())
	c := ExploreConfig{Protocol: "kv-stale", Nodes: 5, Seeds: 10, First: 1, Profile: "hostile", Duration: 10 * time.Second,
		ClientOptions: map[string]string{"read_any": "50"}}
	rep, err := Explore(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failures["linearizable"] == 0 {
		t.Fatalf("10 seeds of kv-stale: no stale read found (failures %v)", rep.Failures)
	}
	if rep.Failures["agreement"] != 0 {
		t.Errorf("kv-stale's log is Raft's: the replicas must still agree (failures %v)", rep.Failures)
	}
	for _, b := range rep.Bad {
		for _, f := range b.Failed {
			if f == "linearizable" {
				t.Logf("kv-stale: %d of %d seeds not linearizable; first: seed %d\n  replay: %s", rep.Failures["linearizable"], rep.Runs, b.Seed, replay(c, b.Seed))
				return
			}
		}
	}
}
