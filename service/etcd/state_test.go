package etcd

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A detached etcd outlives nothing in a test, but its state file lets
// another process (here: StopDir) find and stop its members, which is what
// `ordo cluster down` does for the etcd of `ordo cluster up --protocol lease
// --detach`, and start them again from their data (RestartDir: `ordo
// cluster start`).
func TestStopDirStopsDetachedMembers(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real etcd member processes; skipped with -short")
	}
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := Start(ctx, Options{N: 1, Dir: dir, Binary: bin, Detach: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop() })
	st, err := ReadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(st.Endpoints, ",") != strings.Join(c.Endpoints(), ",") {
		t.Fatalf("state endpoints %v, cluster %v", st.Endpoints, c.Endpoints())
	}
	if got := RunningIn(dir); len(got) != 1 {
		t.Fatalf("RunningIn = %v, want the one member", got)
	}
	cli, err := c.Client(c.Endpoints()...)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	if _, err := cli.Put(ctx, "/kept", "yes"); err != nil {
		t.Fatal(err)
	}
	ran, err := StopDir(dir)
	if err != nil || !ran {
		t.Fatalf("StopDir = %v, %v", ran, err)
	}
	select {
	case <-c.done[0]:
	case <-time.After(10 * time.Second):
		t.Fatal("the member still runs after StopDir")
	}
	if got := RunningIn(dir); len(got) != 0 {
		t.Fatalf("RunningIn after StopDir = %v", got)
	}
	if ran, err := StopDir(dir); ran || err != nil {
		t.Fatalf("second StopDir = %v, %v; want nothing to stop", ran, err)
	}
	// `ordo cluster start`: the member comes back on its ports, from its
	// own data.
	n, err := RestartDir(ctx, dir)
	t.Cleanup(func() { StopDir(dir) })
	if err != nil || n != 1 {
		t.Fatalf("RestartDir = %d, %v; want 1 member started", n, err)
	}
	if got := RunningIn(dir); len(got) != 1 {
		t.Fatalf("RunningIn after RestartDir = %v", got)
	}
	cli2, err := c.Client(st.Endpoints...)
	if err != nil {
		t.Fatal(err)
	}
	defer cli2.Close()
	if r, err := cli2.Get(ctx, "/kept"); err != nil || len(r.Kvs) != 1 || string(r.Kvs[0].Value) != "yes" {
		t.Fatalf("after RestartDir, get /kept: %v, %v", r, err)
	}
	if n, err := RestartDir(ctx, dir); n != 0 || err != nil {
		t.Fatalf("RestartDir of a running member = %d, %v; want nothing started", n, err)
	}
	if ran, err := StopDir(dir); !ran || err != nil {
		t.Fatalf("StopDir after RestartDir = %v, %v", ran, err)
	}
	if ran, err := StopDir(t.TempDir()); ran || err != nil {
		t.Fatalf("StopDir of an empty directory = %v, %v", ran, err)
	}
}

func TestReadStateRefusesBadFiles(t *testing.T) {
	for _, body := range []string{
		"not json",
		`{"endpoints":[],"members":[]}`,
		`{"endpoints":["http://127.0.0.1:1"],"members":[]}`,
		`{"endpoints":["ftp://x:1"],"members":[{"name":"e","dir":"/d","pid":1}]}`,
		strings.Repeat(" ", maxStateBytes+1),
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, StateFileName), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadState(dir); err == nil {
			t.Errorf("ReadState accepted %.40q", body)
		}
	}
}

func FuzzReadState(f *testing.F) {
	f.Add([]byte(`{"endpoints":["http://127.0.0.1:2379"],"members":[{"name":"etcd1","dir":"/d/etcd1","pid":0,"args":["--name","etcd1"]}]}`))
	f.Add([]byte(`{"endpoints":["https://h:1","http://x:2"],"tls":true,"members":[{},{}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, StateFileName), b, 0o644); err != nil {
			t.Fatal(err)
		}
		st, err := ReadState(dir)
		if err != nil {
			return
		}
		// What is accepted is within the bounds StopDir and RestartDir rely on.
		if len(st.Members) < 1 || len(st.Members) > MaxMembers || len(st.Endpoints) != len(st.Members) {
			t.Fatalf("accepted %d members, %d endpoints", len(st.Members), len(st.Endpoints))
		}
		for _, e := range st.Endpoints {
			if CheckEndpoint(e) != nil {
				t.Fatalf("accepted endpoint %q", e)
			}
		}
	})
}
