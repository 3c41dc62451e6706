package main

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"ordo/live"
	"ordo/pbft/clientapi"
)

// `ordo kv` against `ordo cluster up --protocol pbft -n 4`, real
// processes with mutual TLS, while `ordo cluster byzantine` makes the
// primary and then backups lie at run time: every put and get still
// returns what f+1 = 2 replicas agree on, forged and garbage messages
// are rejected and counted by the receivers, and two liars of four (more
// than f) leave no f+1 agreement, which the command says.
func TestPBFTLiveByzantine(t *testing.T) {
	if testing.Short() {
		t.Skip("builds ordo and runs real processes; skipped with -short")
	}
	tmp, run := ordoProcs(t)
	dir := filepath.Join(tmp, "bft")
	if out, errs, code := run("cluster", "up", "--protocol", "pbft", "-n", "4", "--detach", "--dir", dir); code != 0 {
		t.Fatalf("cluster up: %d\n%s%s", code, out, errs)
	}
	t.Cleanup(func() { run("cluster", "down", "--dir", dir) })
	kv := func(want int, args ...string) (string, string) {
		t.Helper()
		out, errs, code := run(append([]string{"kv"}, append(args, "--cluster", dir, "--timeout", "10s")...)...)
		if code != want {
			t.Fatalf("ordo kv %v: exit %d, want %d\n%s%s", args, code, want, out, errs)
		}
		return out, errs
	}
	// Until the replicas have connected, f+1 may not answer alike.
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, errs, code := run("kv", "get", "warm-up", "--cluster", dir, "--timeout", "2s")
		if code == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the replicas never agreed on a get: exit %d, %s", code, errs)
		}
		time.Sleep(200 * time.Millisecond)
	}
	byz := func(node, behaviour string) {
		t.Helper()
		if out, errs, code := run("cluster", "byzantine", node, behaviour, "--dir", dir); code != 0 {
			t.Fatalf("cluster byzantine %s %s: %d\n%s%s", node, behaviour, code, out, errs)
		}
	}
	putGet := func(step, key, value string) {
		t.Helper()
		if out, _ := kv(0, "put", key, value); !strings.HasPrefix(out, "OK rev ") {
			t.Fatalf("%s: put printed %q", step, out)
		}
		if out, _ := kv(0, "get", key); strings.TrimSpace(out) != value {
			t.Fatalf("%s: get %s printed %q, want %q", step, key, out, value)
		}
	}
	putGet("honest", "x", "1")

	// The primary of view 0 (replica 1) equivocates: it pre-prepares
	// another request to odd-numbered replicas and lies to odd gateway
	// calls. Then a backup goes silent, then the primary.
	byz("1", "equivocate")
	for _, v := range []string{"e1", "e2", "e3"} {
		putGet("primary equivocates", "x", v)
	}
	byz("1", "honest")
	byz("3", "silent")
	putGet("backup silent", "y", "s1")
	byz("3", "honest")
	byz("1", "silent")
	putGet("primary silent", "y", "s2") // the backups change view
	byz("1", "honest")

	// Forged and garbage messages never reach a replica's protocol: the
	// receivers refuse them, and count them.
	byz("2", "forge")
	putGet("backup forges", "z", "f1")
	byz("2", "garbage")
	putGet("backup sends garbage", "z", "g1")
	// A replay is authentically the liar's: the protocol refuses it
	// (a message again, a stale view), counted in the replicas' state.
	byz("2", "replay")
	putGet("backup replays", "z", "r1")
	time.Sleep(1500 * time.Millisecond) // the replays come a second later
	byz("2", "honest")
	var view []live.NodeView
	out, _, _ := run("cluster", "status", "--json", "--dir", dir)
	if err := json.Unmarshal([]byte(out), &view); err != nil {
		t.Fatalf("cluster status --json: %v\n%s", err, out)
	}
	forged, malformed, replays := uint64(0), uint64(0), uint64(0)
	for _, nv := range view {
		if nv.Status == nil {
			t.Fatalf("n%d has no status: %s", nv.ID, nv.Err)
		}
		for reason, n := range nv.Status.Rejected {
			switch {
			case reason == "connection: tls identity":
				forged += n
			case strings.HasPrefix(reason, "rejected: "):
				malformed += n
			}
		}
		if nv.ID == 2 && (nv.Status.Byzantine == nil || nv.Status.Byzantine.Lies == 0) {
			t.Errorf("n2 lied, yet its status says %+v", nv.Status.Byzantine)
		}
		var st struct {
			Duplicates uint64 `json:"duplicates"`
		}
		if nv.ID != 2 {
			if err := json.Unmarshal(nv.Status.State, &st); err != nil {
				t.Fatalf("n%d's protocol state %s: %v", nv.ID, nv.Status.State, err)
			}
			replays += st.Duplicates
		}
	}
	if forged == 0 || malformed == 0 || replays == 0 {
		t.Errorf("rejected: %d forged connections, %d malformed messages, %d duplicates; want each counted", forged, malformed, replays)
	}
	if out, _, _ := run("cluster", "status", "--dir", dir); !strings.Contains(out, "rejected: connection: tls identity") {
		t.Errorf("cluster status does not show the rejects:\n%s", out)
	}

	// Two liars of four are more than f = 1: no answer has f+1 voices.
	byz("3", "silent")
	if _, errs, _ := run("cluster", "byzantine", "4", "silent", "--dir", dir); !strings.Contains(errs, "warning: 2 replicas lie (n3, n4), more than f = 1") {
		t.Errorf("a second liar of four: no warning in %q", errs)
	}
	_, errs, code := run("kv", "put", "w", "1", "--cluster", dir, "--timeout", "2s")
	if code != 2 || !strings.Contains(errs, "fewer than f+1 replicas agree") {
		t.Fatalf("two silent replicas: exit %d, %s; want exit 2 and fewer than f+1", code, errs)
	}
	// Other commands are the Raft database's.
	if _, errs := kv(2, "cas", "x", "2", "--expect", "1"); !strings.Contains(errs, "not for a PBFT cluster") {
		t.Errorf("cas on pbft: %s", errs)
	}

	// The merged trace names every replica a liar, for each lied at some
	// point: the checkers judge no one and say so, failing none
	// (TestPBFTLiveStatus, with two replicas honest throughout, has
	// byzantine-agreement and validity pass).
	byz("3", "honest")
	byz("4", "honest")
	if out, errs, code := run("cluster", "down", "--dir", dir); code != 0 {
		t.Fatalf("cluster down: %d %s%s", code, out, errs)
	}
	merged := filepath.Join(tmp, "run.jsonl")
	if out, errs, code := run("trace", "merge", dir, "--output", merged); code != 0 {
		t.Fatalf("trace merge: %d %s%s", code, out, errs)
	}
	out, errs, _ = run("trace", "check", merged)
	for _, c := range []string{"byzantine-agreement", "validity"} {
		if !regexp.MustCompile(c + `\s+not-applicable`).MatchString(out) {
			t.Errorf("%s judged a run where every replica lied:\n%s%s", c, out, errs)
		}
	}
	if !strings.Contains(out, "Byzantine: n1 (equivocate, silent), n2 (forge, garbage, replay), n3 (silent), n4 (silent)") {
		t.Errorf("the checkers do not name the four liars:\n%s%s", out, errs)
	}
}

// A replica that answered otherwise is named as a Byzantine-fault
// symptom beside the replicas that agree, its answer as the client
// described it (a malformed reply, not "500 unavailable").
func TestPBFTDisagreeLines(t *testing.T) {
	r := clientapi.Result{Agree: []int{1, 3}, Disagree: map[int]string{
		4: "malformed reply: its result is not a kv answer (codec: truncated)",
		2: `200 ok value "x" rev 3`,
	}}
	got := strings.Join(disagreeLines(r), "\n")
	want := `replica 2 disagreed, a Byzantine-fault symptom (it lies or is broken; replicas 1,3 agree on the result): 200 ok value "x" rev 3
replica 4 disagreed, a Byzantine-fault symptom (it lies or is broken; replicas 1,3 agree on the result): malformed reply: its result is not a kv answer (codec: truncated)`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
