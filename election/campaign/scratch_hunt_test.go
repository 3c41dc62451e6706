package campaign

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestHunt lists failing seeds per check (scratch; driven by env vars).
func TestHunt(t *testing.T) {
	proto := os.Getenv("HUNT_PROTO")
	if proto == "" {
		t.Skip("HUNT_PROTO unset")
	}
	n, _ := strconv.Atoi(os.Getenv("HUNT_SEEDS"))
	opts := map[string]string{}
	for _, kv := range strings.Fields(os.Getenv("HUNT_OPTS")) {
		k, v, _ := strings.Cut(kv, "=")
		opts[k] = v
	}
	kinds := AllFaultKinds
	if f := os.Getenv("HUNT_FAULTS"); f != "" {
		kinds = strings.Split(f, ",")
	}
	rep, err := Explore(ExploreConfig{Protocol: proto, Options: opts, Nodes: 5, Seeds: n, First: 1, Kinds: kinds, Duration: 10 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%v", rep.Failures)
	want := os.Getenv("HUNT_CHECK")
	k := 0
	for _, b := range rep.Bad {
		for i, f := range b.Failed {
			_ = i
			if f == want && k < 15 {
				k++
				for _, v := range b.Violations {
					if strings.HasPrefix(v, want) {
						t.Logf("seed %d: %s", b.Seed, v)
					}
				}
			}
		}
	}
}

func TestDump(t *testing.T) {
	proto := os.Getenv("DUMP_PROTO")
	if proto == "" {
		t.Skip()
	}
	seed, _ := strconv.Atoi(os.Getenv("DUMP_SEED"))
	from, _ := time.ParseDuration(os.Getenv("DUMP_FROM"))
	opts := map[string]string{}
	for _, kv := range strings.Fields(os.Getenv("HUNT_OPTS")) {
		k, v, _ := strings.Cut(kv, "=")
		opts[k] = v
	}
	kinds := AllFaultKinds
	if f := os.Getenv("HUNT_FAULTS"); f != "" {
		kinds = strings.Split(f, ",")
	}
	c := ExploreConfig{Protocol: proto, Options: opts, Nodes: 5, Kinds: kinds, Duration: 10 * time.Second}
	o, err := Run(c.SpecFor(uint64(seed)))
	if err != nil {
		t.Fatal(err)
	}
	skip := strings.Split(os.Getenv("DUMP_SKIP"), ",")
	for _, e := range o.Trace.Events {
		if e.T < int64(from) || (e.Kind == "send" || e.Kind == "recv" || e.Kind == "timer") && slicesContains(skip, e.MsgKind+e.Name) {
			continue
		}
		if e.Kind == "recv" || e.Kind == "timer" {
			continue
		}
		t.Logf("%s", e.Describe())
	}
	for _, r := range o.Checks {
		t.Logf("%s %v %s", r.Check, r.OK, r.Summary)
	}
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
