package live

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"gopkg.in/yaml.v3"

	"ordo"
)

// Config describes a live cluster; it is the CLUSTER.yaml that every node
// process reads. Relative paths are relative to the file's directory.
type Config struct {
	Name     string            `yaml:"name"`
	Protocol string            `yaml:"protocol"`
	Options  map[string]string `yaml:"options,omitempty"`
	// Seed seeds every node's random source (mixed with its id and boot).
	Seed uint64 `yaml:"seed"`
	// Epoch is the cluster's time zero: trace times are wall-clock
	// nanoseconds since it (RFC 3339).
	Epoch string `yaml:"epoch"`
	// TLS turns on mutual TLS between nodes with the certificates in
	// TLSDir (see transport.GenerateDevCA).
	TLS    bool   `yaml:"tls,omitempty"`
	TLSDir string `yaml:"tls_dir,omitempty"`
	// QueueLen bounds each peer's send queue (default 1024).
	QueueLen int    `yaml:"queue_len,omitempty"`
	LogLevel string `yaml:"log_level,omitempty"` // debug, info, warn, error
	// Clients sets the protocol of the nodes with role: client (see
	// roles.go); nil: the server protocol's client, default options.
	Clients *ClientsConfig `yaml:"clients,omitempty"`
	Nodes   []NodeConfig   `yaml:"nodes"`

	dir string // the config file's directory
}

// NodeConfig is one node's role, addresses and data directory.
type NodeConfig struct {
	ID    int    `yaml:"id"`
	Addr  string `yaml:"addr"`  // TCP address for peers
	Admin string `yaml:"admin"` // HTTP admin endpoint; must be loopback
	Dir   string `yaml:"dir"`   // storage and trace
	// Role is server (the default, "") or client; servers come first.
	Role string `yaml:"role,omitempty"`
	// Protocol and Options override the role's protocol for this node
	// (a client running a different workload).
	Protocol string            `yaml:"protocol,omitempty"`
	Options  map[string]string `yaml:"options,omitempty"`
}

// MaxClusterNodes bounds a live cluster.
const MaxClusterNodes = 64

// LoadConfig reads and checks a cluster file.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c, err := ParseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	abs, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	c.dir = abs
	return c, nil
}

// ParseConfig parses and checks a cluster file's contents. Errors name the
// line or the field.
func ParseConfig(data []byte) (*Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// Validate checks the fields that can be checked without the protocol.
func (c *Config) Validate() error {
	if c.Protocol == "" {
		return fmt.Errorf("protocol: missing")
	}
	if _, err := c.EpochTime(); err != nil {
		return err
	}
	n := len(c.Nodes)
	if n < 1 || n > MaxClusterNodes {
		return fmt.Errorf("nodes: %d nodes, want 1..%d", n, MaxClusterNodes)
	}
	seen := map[string]string{} // addresses and directories already used
	for i, nd := range c.Nodes {
		for _, u := range []struct{ what, v string }{{"addr", nd.Addr}, {"admin", nd.Admin}, {"dir", nd.Dir}} {
			if u.v == "" {
				continue
			}
			key := u.what + "\x00" + u.v
			if u.what != "dir" {
				key = "net\x00" + u.v // a peer and an admin port may not share either
			}
			if prev, dup := seen[key]; dup {
				return fmt.Errorf("nodes[%d].%s: %q is already %s", i, u.what, u.v, prev)
			}
			seen[key] = fmt.Sprintf("nodes[%d].%s", i, u.what)
		}
		if nd.ID != i+1 {
			return fmt.Errorf("nodes[%d]: id %d, want %d (ids are 1..N in order)", i, nd.ID, i+1)
		}
		if _, _, err := net.SplitHostPort(nd.Addr); err != nil {
			return fmt.Errorf("nodes[%d].addr: %v", i, err)
		}
		host, _, err := net.SplitHostPort(nd.Admin)
		if err != nil {
			return fmt.Errorf("nodes[%d].admin: %v", i, err)
		}
		// The admin endpoint can partition and inspect the node and has no
		// authentication: it listens on loopback only.
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return fmt.Errorf("nodes[%d].admin: %q is not a loopback address", i, nd.Admin)
		}
		if nd.Dir == "" {
			return fmt.Errorf("nodes[%d].dir: missing", i)
		}
	}
	if err := c.validateRoles(); err != nil {
		return err
	}
	if c.TLS && c.TLSDir == "" {
		return fmt.Errorf("tls_dir: missing while tls is on")
	}
	if c.QueueLen < 0 || c.QueueLen > 1<<20 {
		return fmt.Errorf("queue_len: %d out of 0..%d", c.QueueLen, 1<<20)
	}
	switch c.LogLevel {
	case "", "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log_level: %q is not debug, info, warn or error", c.LogLevel)
	}
	return nil
}

// EpochTime parses Epoch.
func (c *Config) EpochTime() (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, c.Epoch)
	if err != nil {
		return t, fmt.Errorf("epoch: %q is not an RFC 3339 time: %v", c.Epoch, err)
	}
	return t, nil
}

// Node returns node id's entry.
func (c *Config) Node(id ordo.NodeID) (NodeConfig, error) {
	if id < 1 || int(id) > len(c.Nodes) {
		return NodeConfig{}, fmt.Errorf("no node %d: the cluster has nodes 1..%d", int(id), len(c.Nodes))
	}
	return c.Nodes[id-1], nil
}

// Path resolves a path of the file against its directory.
func (c *Config) Path(p string) string {
	if filepath.IsAbs(p) || c.dir == "" {
		return p
	}
	return filepath.Join(c.dir, p)
}

// SetDir sets the directory relative paths resolve against (for configs
// built in memory).
func (c *Config) SetDir(dir string) { c.dir = dir }

// Write writes c as YAML to path.
func (c *Config) Write(path string) error {
	data, err := yaml.Marshal(c)
	if err != nil {
		return err
	}
	return writeFileAtomic(path, data)
}
