package live

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A node started by spawn (cluster up, start, restart, kv snapshot
// restore) does not inherit a descriptor the launcher got without
// close-on-exec: `flock LOCK ordo cluster up --detach` kept LOCK held for
// as long as the nodes ran. A shell script stands in for the ordo binary.
func TestSpawnedNodeInheritsNoStrayDescriptor(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "fake-ordo")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nexec sleep 30\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	// As flock(1) hands it on: opened without O_CLOEXEC (os.Open would
	// set it).
	stray, err := syscall.Open(filepath.Join(dir, "lock"), syscall.O_CREAT|syscall.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(stray)
	c := newCluster(dir, testConfig(t, dir, "raft", 1, nil))
	c.State = State{Binary: script, Pids: map[int]int{}}
	if err := c.spawn(1); err != nil {
		t.Fatal(err)
	}
	pid := c.State.Pids[1]
	defer func() {
		syscall.Kill(pid, syscall.SIGKILL)
		<-c.waited[1]
	}()
	// cmd.Start returns once the shell runs; the shell holds its script
	// open (dash: on fd 10) until it execs sleep, whose table is final.
	deadline := time.Now().Add(10 * time.Second)
	for {
		exe, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
		if strings.HasSuffix(exe, "/sleep") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the stand-in node never exec'd sleep (exe %q)", exe)
		}
		time.Sleep(5 * time.Millisecond)
	}
	fds, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		t.Fatal(err)
	}
	// By what they point at, not by count: sleep may hold a file of its
	// own for a moment (its locale).
	lock := filepath.Join(dir, "lock")
	for _, e := range fds {
		target, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/fd/" + e.Name())
		if target == lock {
			t.Errorf("the node inherited the launcher's descriptor %d on %s as its %s (opened without close-on-exec)", stray, lock, e.Name())
		}
	}
}
