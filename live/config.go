package live

import (
	"bytes"
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
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
	// AdminToken names the file holding the admin endpoint's bearer token
	// (mode 0600; see admin.go). Empty: the endpoint takes no token.
	AdminToken string `yaml:"admin_token,omitempty"`
	// ClientToken names the file holding the client API's bearer token
	// (mode 0600; see gateway.go). Empty: the client API takes no token,
	// and then listens on loopback only.
	ClientToken string `yaml:"client_token,omitempty"`
	// Secret names the file holding the cluster's secret (mode 0600, see
	// SecretFileName): the keys of the protocols' Secret options left
	// empty (a dynamo store's context_secret) are derived from it. Empty:
	// such a protocol's node refuses to start unless the options give
	// the key.
	Secret string `yaml:"secret,omitempty"`
	// KeepMessages makes every node put each message it sends to a peer,
	// as JSON (the codec's bytes decoded, so a liar's lie as it left), in
	// the send's trace event (trace.Event.Body), as the simulator's
	// KeepMessages does: the equivocation checker reads them. At most
	// trace.MaxBody bytes a message and MaxKeptMessageBytes a boot of a
	// node; later messages are not kept. Off by default: it costs a
	// decoding and an encoding per send, and trace space.
	KeepMessages bool `yaml:"keep_messages,omitempty"`
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
	// Client is the server's client API address (HTTP/JSON, gateway.go),
	// for protocols that serve one (kv); "" for none. Loopback unless the
	// cluster has TLS and a client token.
	Client string `yaml:"client,omitempty"`
	// Role is server (the default, ""), client or service; servers come
	// first, then clients, then services. A service node (service.go)
	// is no process: it has only id, role, protocol and options.
	Role string `yaml:"role,omitempty"`
	// Protocol and Options override the role's protocol for this node
	// (a client running a different workload).
	Protocol string            `yaml:"protocol,omitempty"`
	Options  map[string]string `yaml:"options,omitempty"`
}

// MaxClusterNodes bounds a live cluster.
const MaxClusterNodes = 64

// LoadConfig reads and checks a cluster file, read through the bound
// ordo.MaxSourceBytes ("-" is standard input). Errors are "FILE:LINE:COL:
// what" (a *ConfigError for what the file says).
func LoadConfig(path string) (*Config, error) {
	data, err := ordo.ReadInput(path, nil, ordo.MaxSourceBytes)
	if err != nil {
		return nil, err
	}
	c, err := ParseConfig(data)
	if err != nil {
		if ce, ok := err.(*ConfigError); ok {
			ce.File = path
			return nil, ce
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	abs, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	c.dir = abs
	if err := c.checkDirs(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// ConfigError is a cluster file's mistake, at a line and column (1-based;
// column 1 when the YAML parser names only the line).
type ConfigError struct {
	File         string // empty from ParseConfig
	Line, Column int
	Msg          string
}

func (e *ConfigError) Error() string {
	if e.File == "" {
		return fmt.Sprintf("%d:%d: %s", e.Line, e.Column, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
}

// ParseConfig parses and checks a cluster file's contents (a UTF-8
// byte-order mark is skipped). Errors are *ConfigError, at the line and
// column of the value at fault.
func ParseConfig(data []byte) (*Config, error) {
	data = ordo.TrimBOM(data)
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, yamlError(&doc, err)
	}
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, yamlError(&doc, err)
	}
	if err := c.Validate(); err != nil {
		return nil, fieldError(&doc, err)
	}
	return &c, nil
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): `)

// yamlError places a YAML parser's error: it names a line ("line 3: ..."),
// and the column is that of the line's first node, when there is one.
func yamlError(doc *yaml.Node, err error) *ConfigError {
	msg := err.Error()
	if te, ok := err.(*yaml.TypeError); ok && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	msg = strings.TrimPrefix(msg, "yaml: unmarshal errors:\n  ")
	ce := &ConfigError{Line: 1, Column: 1, Msg: strings.TrimPrefix(msg, "yaml: ")}
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		ce.Line, _ = strconv.Atoi(m[1])
		ce.Msg = msg[len(m[0]):]
		ce.Column = firstColumn(doc, ce.Line)
	}
	return ce
}

// firstColumn is the column of the first node on line, or 1.
func firstColumn(n *yaml.Node, line int) int {
	best := 0
	var walk func(*yaml.Node, int)
	walk = func(n *yaml.Node, depth int) {
		if n == nil || depth > 64 {
			return
		}
		if n.Line == line && (best == 0 || n.Column < best) {
			best = n.Column
		}
		for _, k := range n.Content {
			walk(k, depth+1)
		}
	}
	walk(n, 0)
	return max(best, 1)
}

// validField matches the field path that starts Validate's errors:
// "protocol: ...", "nodes[2].dir: ...", "nodes[1]: ...".
var validField = regexp.MustCompile(`^([a-z_]+)(?:\[(\d+)\])?(?:\.([a-z_]+))?: `)

// fieldError places a Validate error at the value it names.
func fieldError(doc *yaml.Node, err error) *ConfigError {
	ce := &ConfigError{Line: 1, Column: 1, Msg: err.Error()}
	m := validField.FindStringSubmatch(ce.Msg)
	if m == nil || len(doc.Content) == 0 {
		return ce
	}
	n := mapValue(doc.Content[0], m[1])
	if n != nil && m[2] != "" {
		i, _ := strconv.Atoi(m[2])
		if n.Kind == yaml.SequenceNode && i < len(n.Content) {
			n = n.Content[i]
			if m[3] != "" {
				if v := mapValue(n, m[3]); v != nil {
					n = v
				}
			}
		}
	}
	if n != nil {
		ce.Line, ce.Column = n.Line, n.Column
	}
	return ce
}

// mapValue is the value of key in mapping n, or nil.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// checkDirs refuses two nodes on one directory once relative paths can be
// resolved: directories are compared cleaned, absolute and with the
// symbolic links of their existing prefix resolved, so "shared",
// "./shared", "shared/" and a link to it are one directory. (Each node
// also locks its directory, lock.go: this catches the mistake before any
// process starts.)
func (c *Config) checkDirs() error {
	seen := map[string]int{}
	for i, nd := range c.Nodes {
		if nd.Dir == "" {
			continue // a service node (Validate): no directory
		}
		p := ResolveDir(c.Path(nd.Dir))
		if j, dup := seen[p]; dup {
			return fmt.Errorf("nodes[%d].dir: %q is the directory of nodes[%d] (%s): each node needs its own", i, nd.Dir, j, p)
		}
		seen[p] = i
	}
	return nil
}

// ResolveDir returns dir cleaned, absolute, and with the symbolic links
// of its longest existing prefix resolved: the name to compare two node
// directories by.
func ResolveDir(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return filepath.Clean(dir)
	}
	// Resolve the longest prefix that exists; append the rest.
	rest := ""
	for p := abs; ; {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Join(r, rest)
		}
		parent := filepath.Dir(p)
		if parent == p {
			return abs
		}
		rest = filepath.Join(filepath.Base(p), rest)
		p = parent
	}
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
		for _, u := range []struct{ what, v string }{{"addr", nd.Addr}, {"admin", nd.Admin}, {"client", nd.Client}, {"dir", nd.Dir}} {
			if u.v == "" {
				continue
			}
			key := u.what + "\x00" + filepath.Clean(u.v) // shared, ./shared and shared/ are one
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
		if role, err := ordo.ParseRole(nd.Role); err == nil && role == ordo.Service {
			if err := validateService(i, nd); err != nil {
				return err
			}
			continue
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
		if nd.Client != "" {
			if err := c.validateClient(i, nd); err != nil {
				return err
			}
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

// validateService checks service node i (service.go): no process, so
// no address, admin endpoint, directory or client API; a protocol.
func validateService(i int, nd NodeConfig) error {
	for _, f := range []struct{ name, v string }{{"addr", nd.Addr}, {"admin", nd.Admin}, {"dir", nd.Dir}, {"client", nd.Client}} {
		if f.v != "" {
			return fmt.Errorf("nodes[%d].%s: a service node has no %s: it is no process but a real system (etcd) each node reaches through its runtime's adapter; give it only id, role, protocol and options", i, f.name, f.name)
		}
	}
	if nd.Protocol == "" {
		return fmt.Errorf("nodes[%d].protocol: missing: a service node names its service protocol (the server protocol's services, e.g. coord)", i)
	}
	return nil
}

// validateClient checks node i's client API address: host:port, loopback
// unless the API is protected by TLS and a token, and only on a server.
func (c *Config) validateClient(i int, nd NodeConfig) error {
	host, port, err := net.SplitHostPort(nd.Client)
	if err != nil {
		return fmt.Errorf("nodes[%d].client: %v", i, err)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("nodes[%d].client: port %q is not a number 0..65535", i, port)
	}
	if r, _ := ordo.ParseRole(nd.Role); r != ordo.Server {
		return fmt.Errorf("nodes[%d].client: only a server serves the client API (this node is a %s)", i, nd.Role)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) && (!c.TLS || c.ClientToken == "") {
		return fmt.Errorf("nodes[%d].client: %q is not a loopback address, and the client API has no TLS and client_token to protect it", i, nd.Client)
	}
	return nil
}

// EpochTime parses Epoch.
func (c *Config) EpochTime() (time.Time, error) {
	if c.Epoch == "" {
		return time.Time{}, fmt.Errorf("epoch: missing: the cluster's time origin, an RFC 3339 time such as %q, the same in every node's file (ordo cluster up writes it)", "2026-01-01T00:00:00Z")
	}
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
	return WriteFileAtomic(path, data)
}
