package live

import (
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
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
	// cmd.Start returned after the exec: the child's table is final.
	fds, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		t.Fatal(err)
	}
	var have []string
	for _, e := range fds {
		have = append(have, e.Name())
		if e.Name() == strconv.Itoa(stray) {
			t.Errorf("the node inherited the launcher's descriptor %d (opened without close-on-exec)", stray)
		}
	}
	if len(have) != 3 {
		t.Errorf("the node has descriptors %v, want only 0, 1, 2", have)
	}
}
