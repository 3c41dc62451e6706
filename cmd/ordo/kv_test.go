package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"ordo/kv"
	"ordo/live"
)

// `ordo kv` against `ordo cluster up --protocol kv`: real processes, TLS
// and the client token by default; each command's output and exit status
// (0 done, 1 a definite no, 2 an error), a snapshot saved and restored
// into the stopped cluster, which comes back with the snapshot's data.
func TestKVCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("builds ordo and runs real processes; skipped with -short")
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "ordo")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := filepath.Join(tmp, "db")
	ordo := func(args ...string) (string, int) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		var ee *exec.ExitError
		switch {
		case err == nil:
			return out.String(), 0
		case errors.As(err, &ee):
			return out.String(), ee.ExitCode()
		}
		t.Fatalf("ordo %v: %v", args, err)
		return "", -1
	}
	if out, code := ordo("cluster", "up", "--protocol", "kv", "-n", "3", "--detach", "--dir", dir); code != 0 {
		t.Fatalf("cluster up: %d\n%s", code, out)
	}
	defer ordo("cluster", "down", "--dir", dir)
	if _, err := os.Stat(filepath.Join(dir, "client.token")); err != nil {
		t.Fatalf("no client token: %v", err)
	}
	if out, _ := ordo("cluster", "status", "--dir", dir); !strings.Contains(out, "client API: n1 127.0.0.1:") {
		t.Errorf("cluster status does not show the client addresses:\n%s", out)
	}
	k := []string{"--cluster", dir}
	for _, c := range []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"kv", "put", "x", "1"}, 0, "OK rev"},
		{[]string{"kv", "get", "x"}, 0, "1\n"},
		{[]string{"kv", "get", "nope"}, 1, "not found"},
		{[]string{"kv", "cas", "x", "2", "--expect", "1"}, 0, "OK rev"},
		{[]string{"kv", "cas", "x", "3", "--expect", "1"}, 1, `mismatch: x is "2"`},
		{[]string{"kv", "cas", "y", "a", "--absent"}, 0, "OK rev"},
		{[]string{"kv", "cas", "y", "b"}, 2, "exactly one of --expect"},
		{[]string{"kv", "range"}, 0, "x\t2\ny\ta\n"},
		{[]string{"kv", "range", "--prefix", "y"}, 0, "y\ta\n"},
		{[]string{"kv", "del", "y"}, 0, "deleted rev"},
		{[]string{"kv", "del", "y"}, 1, "not found"},
		{[]string{"kv", "get", "x", "--read", "serializable"}, 0, "2\n"},
		{[]string{"kv", "get", "x", "--read", "sometimes"}, 2, "--read"},
		{[]string{"kv", "status"}, 0, "leader"},
		{[]string{"kv", "put", "x"}, 2, "kv put needs KEY VALUE (2 arguments, got 1: \"x\")"},
		{[]string{"kv", "watch", "x", "--after", "1", "--count", "1"}, 0, " x 2\n"},
	} {
		out, code := ordo(append(c.args, k...)...)
		if code != c.code || !strings.Contains(out, c.out) {
			t.Errorf("ordo %s: exit %d, output %q; want exit %d and %q", strings.Join(c.args, " "), code, out, c.code, c.out)
		}
	}
	// A wrong token is refused: exit 2, saying 401.
	tok := filepath.Join(dir, "client.token")
	good, _ := os.ReadFile(tok)
	os.WriteFile(tok, []byte(strings.Repeat("0", 64)+"\n"), 0o600)
	if out, code := ordo("kv", "get", "x", "--cluster", dir); code != 2 || !strings.Contains(out, "401") {
		t.Errorf("a wrong token: exit %d, %q; want 2 and 401", code, out)
	}
	os.WriteFile(tok, good, 0o600)

	snap := filepath.Join(tmp, "x.snap")
	if out, code := ordo("kv", "snapshot", "save", snap, "--cluster", dir); code != 0 {
		t.Fatalf("snapshot save: %d\n%s", code, out)
	}
	// Several writes after the backup: the restored cluster's own
	// entries (a new leader's no-op) must not reach their revisions by
	// themselves.
	var laterOut string
	for i := range 6 {
		var code int
		if laterOut, code = ordo("kv", "put", "later", fmt.Sprint(i), "--cluster", dir); code != 0 {
			t.Fatalf("put: %d\n%s", code, laterOut)
		}
	}
	var laterRev uint64
	fmt.Sscanf(strings.TrimSpace(laterOut), "OK rev %d", &laterRev)
	if out, code := ordo("kv", "snapshot", "restore", snap, "--cluster", dir); code != 2 || !strings.Contains(out, "stop it first") {
		t.Errorf("restore into a running cluster: exit %d, %q; want 2 and a refusal", code, out)
	}
	ordo("cluster", "down", "--dir", dir)
	if out, code := ordo("kv", "snapshot", "restore", snap, "--cluster", dir); code != 0 {
		t.Fatalf("snapshot restore: %d\n%s", code, out)
	} else if !strings.Contains(out, "the database answered a read") {
		t.Errorf("snapshot restore does not say the database serves:\n%s", out)
	} else if !regexp.MustCompile(`\d+ client sessions? of the backup dropped`).MatchString(out) {
		// The backup holds the sessions of the puts before it; the
		// rebase past "later" drops them, and a retry is not deduplicated.
		t.Errorf("a rebased restore does not say the backup's client sessions were dropped:\n%s", out)
	}
	if out, code := ordo("kv", "get", "x", "--cluster", dir); code != 0 || out != "2\n" {
		t.Errorf("after the restore: get x: exit %d, %q; want 2", code, out)
	}
	if out, code := ordo("kv", "get", "later", "--cluster", dir); code != 1 {
		t.Errorf("after the restore: a key written after the snapshot: exit %d, %q; want 1 (not found)", code, out)
	}
	// No revision is handed out twice: the cluster had gone past the
	// backup, so the first write after the restore is above "later"'s.
	if out, code := ordo("kv", "put", "again", "1", "--cluster", dir); code != 0 {
		t.Errorf("put after the restore: %d\n%s", code, out)
	} else {
		var rev uint64
		fmt.Sscanf(strings.TrimSpace(out), "OK rev %d", &rev)
		if laterRev == 0 || rev <= laterRev {
			t.Errorf("after the restore a put got rev %d (%q); the cluster had given out rev %d (%q) before", rev, out, laterRev, laterOut)
		}
	}
	// A stopped cluster starts again from its data, the database's
	// included (ordo cluster start).
	ordo("cluster", "down", "--dir", dir)
	if out, code := ordo("cluster", "start", "--dir", dir); code != 0 {
		t.Fatalf("cluster start: %d\n%s", code, out)
	}
	if out, code := ordo("kv", "get", "x", "--cluster", dir); code != 0 || out != "2\n" {
		t.Errorf("after cluster start: get x: exit %d, %q; want 2", code, out)
	}
	// A kv snapshot does not go into a cluster of another protocol.
	rdir := filepath.Join(tmp, "raft")
	if out, code := ordo("cluster", "up", "-n", "1", "--detach", "--dir", rdir); code != 0 {
		t.Fatalf("cluster up raft: %d\n%s", code, out)
	}
	ordo("cluster", "down", "--dir", rdir)
	if out, code := ordo("kv", "snapshot", "restore", snap, "--cluster", rdir); code != 2 || !strings.Contains(out, "not the kv database") {
		t.Errorf("restore into a raft cluster: exit %d, %q; want 2 and a refusal", code, out)
	}
	// A rebase of a backup without sessions drops none and says none.
	ordo("cluster", "down", "--dir", dir)
	m := kv.NewMachine(kv.DefaultMachineConfig)
	m.Apply(1, nil)
	m.Apply(2, nil)
	bare := filepath.Join(tmp, "bare.snap")
	writeSnapshotFile(t, bare, 2, m.Snapshot())
	if out, code := ordo("kv", "snapshot", "restore", bare, "--no-start", "--cluster", dir); code != 0 || !strings.Contains(out, "the backup was taken at rev 2") || strings.Contains(out, "session") {
		t.Errorf("restore of a backup without sessions past its revision: exit %d, %q; want 0, a rebase and no word of sessions", code, out)
	}
	// A damaged snapshot file is refused.
	b, _ := os.ReadFile(snap)
	b[len(b)-1] ^= 1
	os.WriteFile(snap, b, 0o600)
	ordo("cluster", "down", "--dir", dir)
	if out, code := ordo("kv", "snapshot", "restore", snap, "--cluster", dir); code != 2 || !strings.Contains(out, "checksum") {
		t.Errorf("a damaged snapshot: exit %d, %q; want 2 and a checksum error", code, out)
	}
}

// writeSnapshotFile writes data, a kv snapshot at rev, as ordo kv snapshot
// save does.
func writeSnapshotFile(t *testing.T, path string, rev uint64, data []byte) {
	t.Helper()
	h, _ := json.Marshal(snapHeader{Format: snapFormat, Rev: rev, Bytes: int64(len(data)), CRC32C: crc32.Checksum(data, castagnoli)})
	if err := os.WriteFile(path, append(append(h, '\n'), data...), 0o600); err != nil {
		t.Fatal(err)
	}
}

// A restore that starts the cluster waits until the database serves: it
// used to print "3 nodes running again" and exit 0 as soon as every
// node's admin endpoint answered. Here no node campaigns within the wait
// (a 30 s election timeout) and node 3 fail-stops after it answered:
// exit 2, naming node 3 and its log.
func TestKVRestoreWaitsUntilTheDatabaseServes(t *testing.T) {
	bin := leaseOrdo(t)
	dir := filepath.Join(t.TempDir(), "db")
	run := func(args ...string) (string, int) {
		t.Helper()
		out, err := exec.Command(bin, args...).CombinedOutput()
		var ee *exec.ExitError
		switch {
		case err == nil:
			return string(out), 0
		case errors.As(err, &ee):
			return string(out), ee.ExitCode()
		}
		t.Fatalf("ordo %v: %v", args, err)
		return "", -1
	}
	if out, code := run("cluster", "up", "--protocol", "kv", "-n", "3", "--detach", "--dir", dir, "--election-timeout", "30s-31s"); code != 0 {
		t.Fatalf("cluster up: %d\n%s", code, out)
	}
	defer run("cluster", "down", "--dir", dir)
	run("cluster", "down", "--dir", dir)
	m := kv.NewMachine(kv.DefaultMachineConfig)
	m.Apply(1, nil)
	snap := filepath.Join(t.TempDir(), "x.snap")
	writeSnapshotFile(t, snap, 1, m.Snapshot())

	type result struct {
		out  string
		code int
	}
	done := make(chan result, 1)
	go func() {
		out, err := exec.Command(bin, "kv", "snapshot", "restore", snap, "--cluster", dir, "--timeout", "4s").CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			code = -1
		}
		done <- result{string(out), code}
	}()
	// Node 3 fail-stops once it has answered on its admin endpoint (as a
	// node that panics on its store right after its start would).
	var c *live.Cluster
	deadline := time.Now().Add(15 * time.Second)
	for {
		var err error
		if c, err = live.Open(dir); err == nil {
			if s, err := c.Status(3); err == nil && s.Pid > 0 {
				time.Sleep(300 * time.Millisecond) // after the restore's own check of it
				syscall.Kill(s.Pid, syscall.SIGKILL)
				break
			}
		}
		select {
		case r := <-done:
			t.Fatalf("the restore ended before node 3 answered: exit %d\n%s", r.code, r.out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("node 3 never answered on its admin endpoint")
		}
		time.Sleep(20 * time.Millisecond)
	}
	r := <-done
	for _, want := range []string{"not up and serving within 4s", "node 3 stopped after it started", c.LogPath(3)} {
		if r.code != 2 || !strings.Contains(r.out, want) {
			t.Errorf("restore with node 3 down and no leader: exit %d, want 2 and %q in:\n%s", r.code, want, r.out)
		}
	}
}
