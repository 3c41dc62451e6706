package main

import (
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ordo/kv"
)

// A snapshot file is believed only as far as it agrees with itself: the
// checksum covers the snapshot, so the header's revision is checked
// against the index the snapshot records, and the body must decode. An
// edited revision used to pass, and every server then refused its store
// at boot (a fresh user's trial).
func TestSnapshotFileHeaderMustAgreeWithTheSnapshot(t *testing.T) {
	m := kv.NewMachine(kv.DefaultMachineConfig)
	m.Apply(1, nil)
	m.Apply(2, nil)
	good := m.Snapshot()
	garbled := binary.AppendUvarint([]byte("ordokv1"), 2)
	garbled = append(garbled, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)
	write := func(name string, rev uint64, data []byte) string {
		h, _ := json.Marshal(snapHeader{Format: snapFormat, Rev: rev, Bytes: int64(len(data)), CRC32C: crc32.Checksum(data, castagnoli)})
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, append(append(h, '\n'), data...), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if h, data, err := readSnapshotFile(write("good.snap", 2, good), kv.DefaultMachineConfig); err != nil || h.Rev != 2 || len(data) != len(good) {
		t.Fatalf("a good snapshot: %v (rev %d, %d bytes)", err, h.Rev, len(data))
	}
	// Checked against the target cluster's session bounds, not the
	// largest: a snapshot of two sessions does not fit sessions=1, and
	// every server would refuse it at boot.
	two := kv.NewMachine(kv.DefaultMachineConfig)
	two.Apply(1, kv.EncodeCommand(kv.Request{Session: 1, Seq: 1, Op: kv.OpPut, Key: "a", Value: "1"}))
	two.Apply(2, kv.EncodeCommand(kv.Request{Session: 2, Seq: 1, Op: kv.OpPut, Key: "b", Value: "2"}))
	small := kv.MachineConfig{SessionWindow: kv.DefaultMachineConfig.SessionWindow, Sessions: 1}
	if _, _, err := readSnapshotFile(write("two.snap", 2, two.Snapshot()), small); err == nil || !strings.Contains(err.Error(), "session count 2 exceeds 1") {
		t.Errorf("two sessions into sessions=1: %v", err)
	}
	// The header in any form but the one save writes is refused: names
	// in another case, a name twice, text after the object.
	goodHeader, _ := json.Marshal(snapHeader{Format: snapFormat, Rev: 2, Bytes: int64(len(good)), CRC32C: crc32.Checksum(good, castagnoli)})
	for _, edit := range []func(string) string{
		func(h string) string { return strings.Replace(h, `"rev"`, `"REV"`, 1) },
		func(h string) string { return strings.Replace(h, `"rev":2`, `"rev":7,"rev":2`, 1) },
		func(h string) string { return h + ` junk` },
		func(h string) string { return h + ` {}` },
		func(h string) string { return " " + h },
	} {
		line := edit(string(goodHeader))
		p := filepath.Join(t.TempDir(), "edited.snap")
		os.WriteFile(p, append([]byte(line+"\n"), good...), 0o600)
		if _, _, err := readSnapshotFile(p, kv.DefaultMachineConfig); err == nil || !strings.Contains(err.Error(), "header") {
			t.Errorf("header %s: %v, want refused", line, err)
		}
	}
	for _, c := range []struct {
		name string
		rev  uint64
		data []byte
		want string
	}{
		{"rev-edited-up", 999999, good, "the header says rev 999999, the snapshot was taken at rev 2"},
		{"rev-edited-down", 1, good, "the header says rev 1, the snapshot was taken at rev 2"},
		{"body-does-not-decode", 2, garbled, "does not decode"},
		{"not-a-kv-snapshot", 2, []byte("hello, world"), "ordokv1"},
	} {
		_, _, err := readSnapshotFile(write(c.name+".snap", c.rev, c.data), kv.DefaultMachineConfig)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", c.name, err, c.want)
		}
	}
}

// A header of another format version is told apart from a file that is
// no snapshot at all: both used to get "not an ordo kv snapshot (want a
// ordo-kv-snapshot/1 header)".
func TestSnapshotFileOfAnotherVersion(t *testing.T) {
	m := kv.NewMachine(kv.DefaultMachineConfig)
	m.Apply(1, nil)
	good := m.Snapshot()
	for _, c := range []struct {
		name, header, want string
	}{
		{"newer", `{"format":"ordo-kv-snapshot/2","rev":1,"bytes":3,"crc32c":0,"compression":"zstd"}`, "unsupported snapshot format version 2 (this ordo reads 1)"},
		{"older", `{"format":"ordo-kv-snapshot/0"}`, "unsupported snapshot format version 0 (this ordo reads 1)"},
		{"other-tool", `{"format":"etcd-snapshot/3","rev":1}`, "not an ordo kv snapshot (want an ordo-kv-snapshot/1 header line"},
		{"no-format", `{"rev":1}`, "not an ordo kv snapshot (want an ordo-kv-snapshot/1 header line"},
		{"not-json", `hello, world`, "not an ordo kv snapshot (want an ordo-kv-snapshot/1 header line"},
	} {
		p := filepath.Join(t.TempDir(), c.name+".snap")
		if err := os.WriteFile(p, append([]byte(c.header+"\n"), good...), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, _, err := readSnapshotFile(p, kv.DefaultMachineConfig); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", c.name, err, c.want)
		}
	}
}

// Any file: readSnapshotFile refuses it or returns a snapshot that agrees
// with its header in size and revision and restores; it never panics.
func FuzzSnapshotFile(f *testing.F) {
	m := kv.NewMachine(kv.DefaultMachineConfig)
	m.Apply(1, nil)
	good := m.Snapshot()
	h, _ := json.Marshal(snapHeader{Format: snapFormat, Rev: 1, Bytes: int64(len(good)), CRC32C: crc32.Checksum(good, castagnoli)})
	f.Add(append(append(h, '\n'), good...))
	f.Add([]byte(`{"format":"ordo-kv-snapshot/1","rev":9,"bytes":3,"crc32c":0}` + "\nabc"))
	f.Add([]byte("\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(dir, "f.snap")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		h, data, err := readSnapshotFile(p, kv.DefaultMachineConfig)
		if err != nil {
			return
		}
		// The size and revision agree with the file (the restore itself
		// is readSnapshotFile's own check).
		at, ierr := kv.SnapshotIndex(data)
		if int64(len(data)) != h.Bytes || ierr != nil || at != h.Rev || h.Rev == 0 {
			t.Fatalf("accepted: header %+v, %d bytes, index %d (%v)", h, len(data), at, ierr)
		}
	})
}

// A save whose rename fails (the path is a directory) leaves no temporary
// file behind (it left an 8 MB one; the save now uses live.WriteFileAtomic,
// which also fsyncs the directory).
func TestSnapshotSaveLeavesNoTemporaryFile(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "adir")
	if err := os.Mkdir(target, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(target, "x"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, cdir := fakeCluster(t)
	if _, err := kvRun("snapshot", "save", target, "--cluster", cdir); err == nil {
		t.Fatal("saved over a directory")
	}
	if left, _ := os.ReadDir(dir); len(left) != 1 {
		t.Fatalf("%d entries beside the directory, want none: a temporary file is left", len(left)-1)
	}
}

// "-" is not taken as a file named "-" (nor as standard output).
func TestSnapshotSaveRefusesDash(t *testing.T) {
	_, dir := fakeCluster(t)
	if _, err := kvRun("snapshot", "save", "-", "--cluster", dir); err == nil || !strings.Contains(err.Error(), "give a file name") {
		t.Fatalf("snapshot save -: %v", err)
	}
	if _, err := os.Stat("-"); err == nil {
		t.Fatal("a file named - was written")
	}
}
