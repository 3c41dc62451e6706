package clientapi_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ordo/pbft/clientapi"
)

// clusterDir writes a cluster file of n replicas with options (YAML
// lines under options:, "" for none) and returns its directory.
func clusterDir(t *testing.T, n int, options string) string {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("name: local\nprotocol: pbft\n")
	if options != "" {
		b.WriteString("options:\n" + options)
	}
	b.WriteString("tls: false\nnodes:\n")
	for i := 1; i <= n; i++ {
		b.WriteString("    - id: " + string(rune('0'+i)) + "\n      client: 127.0.0.1:1" + string(rune('0'+i)) + "000\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "cluster.yaml"), []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// The client waits for f+1 matching answers with the f the replicas run
// with: a cluster run unsafely at n = 3 with f = 1 (-o f=1 -o
// unsafe_quorum=2) took one replica's word alone before (f = (n-1)/3 =
// 0): `ordo kv put` printed "OK rev 4 (replicas 1 agree)" with replica 1
// equivocating.
func TestClusterConfigUsesTheClustersF(t *testing.T) {
	for _, c := range []struct {
		name    string
		n       int
		options string
		f       int
	}{
		{"default n=4", 4, "", 1},
		{"default n=3", 3, "", 0},
		{"default n=7", 7, "    batch: \"64\"\n", 2},
		{"unsafe n=3 f=1", 3, "    f: \"1\"\n    unsafe_quorum: \"2\"\n", 1},
		{"n=7 f=1", 7, "    f: \"1\"\n", 1},
		{"f=-1", 4, "    f: \"-1\"\n", 1},
		{"unquoted, as written by hand", 3, "    f: 1\n    unsafe_quorum: 2\n", 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := clientapi.ClusterConfig(clusterDir(t, c.n, c.options))
			if err != nil {
				t.Fatal(err)
			}
			cl, err := clientapi.NewClient(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			if cl.F() != c.f {
				t.Errorf("f = %d, want %d", cl.F(), c.f)
			}
		})
	}
	for _, c := range []struct{ name, options, want string }{
		{"not a number", "    f: \"one\"\n", "is not an integer"},
		{"below 3f+1", "    f: \"1\"\n", "cannot tolerate"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := clientapi.ClusterConfig(clusterDir(t, 3, c.options))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one saying %q", err, c.want)
			}
		})
	}
}
