package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// protocolDir is a cluster directory whose cluster.yaml names protocol
// and nothing else: enough for the kv commands to choose their side, and
// no server to reach.
func protocolDir(t *testing.T, protocol string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cluster.yaml"), []byte("protocol: "+protocol+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// kvLeaves are every runnable ordo kv command with arguments it accepts.
var kvLeaves = [][]string{
	{"put", "x", "1"}, {"get", "x"}, {"del", "x"}, {"cas", "x", "2", "--expect", "1"}, {"range"}, {"watch", "x"},
	{"member", "add", "4"}, {"transfer", "2"}, {"status"}, {"snapshot", "save", "f.snap"}, {"snapshot", "restore", "f.snap"},
	{"cart", "add", "c", "apple"},
}

// ordo kv --timeout refuses a non-positive duration in every command,
// whatever the cluster's protocol (kv, dynamo, pbft), before it reaches a
// server.
func TestKVRefusesNonPositiveTimeout(t *testing.T) {
	for _, proto := range []string{"kv", "dynamo", "pbft"} {
		dir := protocolDir(t, proto)
		for _, leaf := range kvLeaves {
			for _, timeout := range []string{"-1s", "0s", "0"} {
				args := append(append([]string{}, leaf...), "--timeout", timeout, "--cluster", dir)
				out, err := kvRun(args...)
				if err == nil || !strings.Contains(err.Error(), "--timeout") || !strings.Contains(err.Error(), "want a positive duration") {
					t.Errorf("%s: ordo kv %s: %q, %v; want --timeout refused", proto, strings.Join(args, " "), out, err)
				}
			}
		}
	}
}

// On a PBFT cluster a command that is not PBFT's says so before it
// counts its arguments (ordo kv cas x without a value); on a Dynamo
// cluster likewise.
func TestKVRefusesTheProtocolFirst(t *testing.T) {
	for proto, want := range map[string]string{"pbft": "cas is not for a PBFT cluster", "dynamo": "cas is for the kv database (Raft)"} {
		dir := protocolDir(t, proto)
		for _, args := range [][]string{{"cas", "x"}, {"cas"}, {"cas", "x", "2", "3", "4"}} {
			_, err := kvRun(append(args, "--cluster", dir)...)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: ordo kv %v: %v; want %q", proto, args, err, want)
			}
		}
	}
	// The kv database's cas still counts its arguments.
	if _, err := kvRun("cas", "x", "--cluster", protocolDir(t, "kv")); err == nil || !strings.Contains(err.Error(), "arg") {
		t.Errorf("kv: cas x: %v; want the count of arguments refused", err)
	}
}
