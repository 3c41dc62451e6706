package live

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ordo"
)

const goodConfig = `name: t
protocol: raft
seed: 1
epoch: "2026-11-26T12:00:00Z"
nodes:
  - {id: 1, addr: "127.0.0.1:7001", admin: "127.0.0.1:8001", dir: n1}
  - {id: 2, addr: "127.0.0.1:7002", admin: "127.0.0.1:8002", dir: n2}
`

func TestParseConfigErrors(t *testing.T) {
	if _, err := ParseConfig([]byte(goodConfig)); err != nil {
		t.Fatalf("good config: %v", err)
	}
	for _, tc := range []struct{ edit, want string }{
		{`s/7002"/7001"/`, `nodes[1].addr: "127.0.0.1:7001" is already nodes[0].addr`},
		{`s/8002"/7001"/`, `nodes[1].admin: "127.0.0.1:7001" is already nodes[0].addr`},
		{`s/dir: n2/dir: n1/`, `7:67: nodes[1].dir: "n1" is already nodes[0].dir`},
		{`s/admin: "127.0.0.1:8002"/admin: "10.0.0.1:8002"/`, "not a loopback address"},
		{`s/id: 2/id: 3/`, "nodes[1]: id 3, want 2"},
		{`s/protocol: raft/protocl: raft/`, "2:1: field protocl not found"},
		{`s/seed: 1/seed: one/`, "3:1: cannot unmarshal"},
		{`s/id: 2/id: 2, id: 2/`, "7:"},
		{`s/epoch: "2026-11-26T12:00:00Z"/epoch: yesterday/`, `epoch: "yesterday" is not an RFC 3339 time`},
	} {
		parts := strings.Split(tc.edit, "/")
		in := strings.Replace(goodConfig, parts[1], parts[2], 1)
		_, err := ParseConfig([]byte(in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to mention %q", tc.edit, err, tc.want)
		}
	}
}

// FuzzParseConfig: no cluster file makes the parser panic, and what it
// accepts satisfies Validate's bounds.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(goodConfig))
	f.Add([]byte("nodes: [{id: 1}]"))
	f.Add([]byte("protocol: raft\nnodes: *a"))
	f.Add([]byte("protocol: lease\nepoch: 2026-01-01T00:00:00Z\nnodes:\n  - {id: 1, addr: 127.0.0.1:7001, admin: 127.0.0.1:8001, dir: n1}\n  - {id: 2, role: service, protocol: coord, options: {endpoints: \"127.0.0.1:2379\"}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(data)
		if err != nil {
			return
		}
		if len(c.Nodes) < 1 || len(c.Nodes) > MaxClusterNodes {
			t.Fatalf("accepted %d nodes", len(c.Nodes))
		}
		for i, n := range c.Nodes {
			if n.ID != i+1 {
				t.Fatalf("accepted node %d with id %d", i, n.ID)
			}
			// A service node is no process: nothing to listen on or lock.
			if r, _ := ordo.ParseRole(n.Role); r == ordo.Service && (n.Addr != "" || n.Admin != "" || n.Dir != "" || n.Protocol == "") {
				t.Fatalf("accepted service node %+v", n)
			}
		}
	})
}

// A cluster file may start with a UTF-8 byte-order mark.
func TestParseConfigBOM(t *testing.T) {
	if _, err := ParseConfig(append([]byte("\xef\xbb\xbf"), goodConfig...)); err != nil {
		t.Fatalf("config with a byte-order mark: %v", err)
	}
}

// Directories that name one place are refused once resolved: a cleaned
// alias, and a symbolic link to another node's directory.
func TestLoadConfigAliasedDirs(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "real"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	for _, dirs := range [][2]string{{"shared", "./shared/"}, {"shared", "x/../shared"}, {"real", "link"}, {"real/n", "link/n"}} {
		in := strings.Replace(strings.Replace(goodConfig, "dir: n1", "dir: "+dirs[0], 1), "dir: n2", "dir: "+dirs[1], 1)
		path := filepath.Join(dir, "cluster.yaml")
		if err := os.WriteFile(path, []byte(in), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadConfig(path)
		if err == nil || !strings.Contains(err.Error(), "nodes[1].dir") || !strings.Contains(err.Error(), path) {
			t.Errorf("dirs %q and %q: error %v, want nodes[1].dir refused, naming %s", dirs[0], dirs[1], err, path)
		}
	}
}
