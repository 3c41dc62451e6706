package live

import (
	"strings"
	"testing"
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
		{`s/dir: n2/dir: n1/`, `nodes[1].dir: "n1" is already nodes[0].dir`},
		{`s/admin: "127.0.0.1:8002"/admin: "10.0.0.1:8002"/`, "not a loopback address"},
		{`s/id: 2/id: 3/`, "nodes[1]: id 3, want 2"},
		{`s/protocol: raft/protocl: raft/`, "line 2"},
		{`s/seed: 1/seed: one/`, "line 3"},
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
		}
	})
}
