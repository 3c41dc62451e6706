package etcd

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// etcd's own recipe, as the failover bench runs it: three candidate
// processes campaign; exactly one reports leadership; a SIGKILL of it
// makes another one lead once the dead one's lease has expired (section 4:
// the leader's ephemeral key disappears and the others re-elect). The
// time is logged, never asserted.
func TestCampaignKillLeaderElectsAnother(t *testing.T) {
	c := startCluster(t, 1)
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var ks []*Candidate
	for i, name := range []string{"a", "b", "c"} {
		k, err := StartCandidate(bin, Campaign{Name: name, Endpoints: c.Endpoints(), TTL: 2, Prefix: "/test-election/"}, filepath.Join(dir, name+".log"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { k.Stop() })
		if _, err := k.Wait(ctx, "ready"); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			// The first to campaign leads: its key is the oldest.
			if _, err := k.Wait(ctx, "leader"); err != nil {
				t.Fatal(err)
			}
		}
		ks = append(ks, k)
	}
	// Only the first leads: the others wait on their predecessors.
	time.Sleep(500 * time.Millisecond)
	for _, k := range ks[1:] {
		select {
		case ev := <-k.Events():
			t.Fatalf("candidate %s reported %s while a leads", k.Campaign.Name, ev.Kind)
		default:
		}
	}
	at, err := ks[0].Kill()
	if err != nil {
		t.Fatal(err)
	}
	ev, err := ks[1].Wait(ctx, "leader")
	if err != nil {
		t.Fatal(err)
	}
	if !ev.At.After(at) {
		t.Fatalf("b reported leadership at %v, before a was killed at %v", ev.At, at)
	}
	t.Logf("failover after kill -9 at TTL 2s: %v", ev.At.Sub(at))
	select {
	case ev := <-ks[2].Events():
		t.Fatalf("c reported %s while b leads", ev.Kind)
	default:
	}
	for _, k := range ks {
		if err := k.Err(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCampaignArgsRoundTrip(t *testing.T) {
	c := Campaign{Name: "c1", Endpoints: []string{"http://127.0.0.1:2379", "https://10.0.0.1:2379"}, TTL: 5, Prefix: "/e/", TLS: true}
	got, err := ParseCampaign(c.Args())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, c) {
		t.Fatalf("round trip: got %+v, want %+v", got, c)
	}
	for _, bad := range [][]string{
		{"--name", "x"}, // no endpoints
		{"--name", "x", "--endpoints", "127.0.0.1:2379"},                         // no scheme
		{"--name", "x", "--endpoints", "http://127.0.0.1:2379", "--ttl", "1"},    // below etcd's minimum
		{"--name", "x y", "--endpoints", "http://127.0.0.1:2379"},                // a space would break the report
		{"--name", "x", "--endpoints", "http://127.0.0.1:2379", "--prefix", "e"}, // not a key prefix
		{"--name", "x", "--endpoints", "http://127.0.0.1:2379", "extra"},
	} {
		if _, err := ParseCampaign(bad); err == nil {
			t.Errorf("ParseCampaign(%q) accepted", bad)
		}
	}
}

func TestParseReport(t *testing.T) {
	ev, err := parseReport("leader c2 1700000000000000001")
	if err != nil || ev.Kind != "leader" || ev.Name != "c2" || ev.At.UnixNano() != 1700000000000000001 {
		t.Fatalf("parseReport: %+v, %v", ev, err)
	}
	for _, bad := range []string{"", "leader c2", "boss c2 1", "leader c2 -5", "leader c2 x", "leader c2 1 2"} {
		if _, err := parseReport(bad); err == nil {
			t.Errorf("parseReport(%q) accepted", bad)
		}
	}
}

func FuzzParseReport(f *testing.F) {
	f.Add("ready c1 1700000000000000000")
	f.Add("lost  x 9")
	f.Fuzz(func(t *testing.T, line string) {
		ev, err := parseReport(line)
		if err != nil {
			return
		}
		if ev.At.UnixNano() <= 0 || ev.Name == "" || strings.ContainsAny(ev.Name, " \t") {
			t.Fatalf("parseReport(%q) = %+v", line, ev)
		}
	})
}

func FuzzParseCampaign(f *testing.F) {
	f.Add("--name c1 --endpoints http://127.0.0.1:2379 --ttl 2 --prefix /e/")
	f.Add("--name c1 --endpoints http://127.0.0.1:2379,https://h:1 --tls")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCampaign(strings.Fields(s))
		if err != nil {
			return
		}
		// What parses is valid and survives a round trip.
		back, err := ParseCampaign(c.Args())
		if err != nil || !reflect.DeepEqual(back, c) {
			t.Fatalf("%q → %+v → %+v, %v", s, c, back, err)
		}
	})
}
