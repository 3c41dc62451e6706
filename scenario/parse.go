package scenario

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"ordo"
	"ordo/check"
	"ordo/fault"
	"ordo/sim"
)

// Scenario is a parsed scenario file, ready to run.
type Scenario struct {
	File     string // where it was read from (for errors)
	Name     string
	Doc      string
	Protocol *ordo.Protocol
	Options  ordo.Options // resolved: defaults filled in
	// Given are the options the file set, as written (for summaries).
	Given map[string]string
	// Nodes counts the servers: nodes 1..Nodes run Protocol.
	Nodes int
	// Clients are the client groups, numbered after the servers in file
	// order (see Clients).
	Clients []Clients
	// Services are the service nodes, numbered after the clients (see
	// Service): the protocol's by default.
	Services []Service
	Seed     uint64
	Duration time.Duration
	Network  sim.Network
	// PricePerGB is the transport price in USD per 10^9 bytes.
	PricePerGB float64
	Clock      sim.ClockModel
	ClockOf    map[ordo.NodeID]sim.ClockModel
	Speed      time.Duration
	SpeedOf    map[ordo.NodeID]time.Duration
	Absent     []ordo.NodeID
	Faults     []Fault // sorted by At; equal times keep file order
	Nemesis    *Nemesis
	// Wire runs the network on real bytes (sim.Config.Wire): the default
	// for scenario files, "wire: false" turns it off.
	Wire bool
	// Disk is the disk model (sim.Disk, disk.go): off unless a disk:
	// section turns it on.
	Disk sim.Disk
	// Byzantine are the nodes that lie (sim.Config.Byzantine, issue 14):
	// a byzantine: list of {node, behaviour, ...}, in file order.
	Byzantine []sim.Byzantine
	Checks    []string
	Expect    []Expectation
}

// Fault is one entry of the scripted fault schedule.
type Fault struct {
	At   time.Duration
	Kind string // crash, restart, partition, cut, bridge, heal, pause, resume, clock_jump, join, leave, link
	Desc string // "partition 1,2/3,4,5", for reports
	Line int
	// Leader is set when the entry names its node as `leader` (leader.go):
	// resolved when the fault fires, in each runtime; its Spec then names
	// node None.
	Leader bool
	// node is the node a fault aimed at one by number strikes (None for
	// leader, links and partitions).
	node ordo.NodeID
	// apply performs the fault on a running simulator; nil for a Leader
	// fault, which strike performs on the node resolved.
	apply  func(s *sim.Sim) error
	strike func(s *sim.Sim, id ordo.NodeID) error
	// follows indexes (in Scenario.Faults) the crash: leader whose node a
	// restart: leader restarts; -1 otherwise (leader.go).
	follows int
	// target and field locate the entry's node for errors found after
	// parsing (linkRestarts).
	target *yaml.Node
	field  string
	// Spec is the entry in the fault package's vocabulary, for runtimes
	// other than the simulator (live.go); nil for link, join and leave.
	Spec fault.Schedule
}

// Nemesis is the random fault mode (fault.Nemesis): crash, partition, pause,
// clock-jump and loss-burst rates per second of simulated time, drawn from
// the run's seed between Start and Stop (default: the scenario's end).
type Nemesis struct {
	Start, Stop  time.Duration
	Crash        float64
	Partition    float64
	Pause        float64
	ClockJump    float64
	Loss         float64
	MeanDowntime time.Duration
	Line         int
}

// Expectation is one `expect` entry: the named check must pass (or fail).
type Expectation struct {
	Check string
	Pass  bool
	Line  int
}

// DefaultPricePerGB is the transport price when a file sets none: a typical
// cloud egress price in USD per GB (fallacy 7, "transport cost is zero").
const DefaultPricePerGB = 0.09

// MaxFileSize bounds a scenario file.
const MaxFileSize = 1 << 20

// MaxDuration bounds a scenario's simulated duration.
const MaxDuration = 24 * time.Hour

// MaxFaults bounds the scripted fault schedule.
const MaxFaults = 10_000

// FaultKinds lists the fault kinds a `faults` entry may name.
var FaultKinds = []string{"bridge", "clock_jump", "corrupt_read", "crash", "crash_torn", "cut", "disk_full", "fail_sync", "heal", "join", "leave", "link", "partition", "pause", "restart", "resume"}

// faultExtras are the fields a fault of each kind accepts besides `at` and
// the kind itself.
var faultExtras = map[string][]string{
	"bridge":     {"via"},
	"pause":      {"for"},
	"clock_jump": {"by"},
	"link":       {"latency", "loss", "duplicate", "bandwidth", "tamper"},
}

var topFields = []string{"name", "doc", "protocol", "options", "nodes", "clients", "services", "seed", "duration", "network", "clocks", "speed", "absent", "faults", "nemesis", "checks", "expect", "wire", "disk", "byzantine"}

// Error is a mistake in a scenario file, located at a line and column.
type Error struct {
	File   string
	Line   int
	Column int
	Field  string // e.g. "network.links.1->2.loss"; may be empty
	Msg    string
}

func (e *Error) Error() string {
	loc := fmt.Sprintf("%s:%d:%d", e.File, e.Line, e.Column)
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %s", loc, e.Field, e.Msg)
	}
	return fmt.Sprintf("%s: %s", loc, e.Msg)
}

// Load reads and parses a scenario file.
func Load(path string) (*Scenario, error) {
	// "-" is stdin; at most MaxFileSize+1 bytes are read (/dev/zero fails
	// at once).
	data, err := ordo.ReadInput(path, nil, MaxFileSize)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse parses a scenario from data; name labels errors (a file name).
func Parse(name string, data []byte) (sc *Scenario, err error) {
	p := &parser{file: name}
	data = ordo.TrimBOM(data) // an editor's byte-order mark is not content
	if len(data) > MaxFileSize {
		return nil, &Error{File: name, Line: 1, Column: 1, Msg: fmt.Sprintf("file is %d bytes, the bound is %d", len(data), MaxFileSize)}
	}
	if e := p.scanText(data); e != nil {
		return nil, e
	}
	var doc yaml.Node
	func() {
		// The YAML library must not take ordo down on a hostile file.
		defer func() {
			if r := recover(); r != nil {
				err = &Error{File: name, Line: 1, Column: 1, Msg: fmt.Sprintf("YAML parser failed: %v", r)}
			}
		}()
		if e := yaml.Unmarshal(data, &doc); e != nil {
			err = p.yamlErr(e)
		}
	}()
	if err != nil {
		return nil, err
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, &Error{File: name, Line: 1, Column: 1, Msg: "empty scenario: expected a mapping with name, protocol, nodes, duration, ..."}
	}
	root := doc.Content[0]
	if root.Kind == yaml.SequenceNode {
		return nil, p.errf(root, "", "a scenario is a mapping (key: value, e.g. name: ..., protocol: ...), got a sequence (a list of - items)")
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil, p.errf(root, "", "empty scenario: expected a mapping with name, protocol, nodes, duration, ...")
	}
	if err := p.noAliases(root, 0); err != nil {
		return nil, err
	}
	return p.scenario(root)
}

type parser struct {
	file  string
	nodes int // every node: servers, then clients, then services
	// servers is the number of servers (nodes when there are no clients
	// or services); nservices the number of services.
	servers, nservices int
}

// span names the cluster's node numbers for range errors.
func (p *parser) span() string {
	if p.servers == 0 || p.servers == p.nodes {
		return fmt.Sprintf("nodes 1..%d", p.nodes)
	}
	var roles []string
	roles = append(roles, fmt.Sprintf("servers 1..%d", p.servers))
	if c := p.nodes - p.servers - p.nservices; c > 0 {
		roles = append(roles, fmt.Sprintf("clients %d..%d", p.servers+1, p.servers+c))
	}
	if p.nservices > 0 {
		roles = append(roles, fmt.Sprintf("services %d..%d", p.nodes-p.nservices+1, p.nodes))
	}
	return fmt.Sprintf("nodes 1..%d (%s)", p.nodes, strings.Join(roles, ", "))
}

func (p *parser) errf(n *yaml.Node, field, format string, args ...any) error {
	line, col := 1, 1
	if n != nil && n.Line > 0 {
		line, col = n.Line, n.Column
	}
	return &Error{File: p.file, Line: line, Column: col, Field: field, Msg: fmt.Sprintf(format, args...)}
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlErr relocates a YAML syntax error into an Error with a line.
func (p *parser) yamlErr(e error) error {
	msg := e.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: p.file, Line: max(line, 1), Column: 1, Msg: "YAML syntax: " + m[2]}
	}
	// Errors without a position (rare): the whole document is at fault.
	return &Error{File: p.file, Line: 1, Column: 1, Msg: "YAML syntax: " + strings.TrimPrefix(msg, "yaml: ")}
}

// scanText rejects bytes the YAML library reports without a position
// (invalid UTF-8, control characters), naming where they are.
func (p *parser) scanText(data []byte) error {
	line, col := 1, 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size <= 1 {
			return &Error{File: p.file, Line: line, Column: col, Msg: "invalid UTF-8"}
		}
		if r == '\n' {
			line, col = line+1, 1
			i += size
			continue
		}
		if r == '\r' && (i+1 >= len(data) || data[i+1] != '\n') {
			// YAML counts a lone CR as a line break and this scanner does
			// not: line numbers would disagree.
			return &Error{File: p.file, Line: line, Column: col, Msg: "a carriage return without a line feed (old Mac line ending) is not allowed; end lines with \\n or \\r\\n"}
		}
		if (r < 0x20 && r != '\t' && r != '\r') || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0xfeff && i > 0 || r >= 0xfffe && r <= 0xffff {
			return &Error{File: p.file, Line: line, Column: col, Msg: fmt.Sprintf("control character %U is not allowed", r)}
		}
		col++
		i += size
	}
	return nil
}

// noAliases rejects anchors and aliases: scenario files are small, and
// aliases would let a tiny file expand without bound.
func (p *parser) noAliases(n *yaml.Node, depth int) error {
	if depth > 50 {
		return p.errf(n, "", "nested too deeply")
	}
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		return p.errf(n, "", "YAML anchors and aliases (&, *) are not supported in scenario files")
	}
	if n.Tag != "" && strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		return p.errf(n, "", "custom YAML tag %q is not supported", n.Tag)
	}
	for _, c := range n.Content {
		if err := p.noAliases(c, depth+1); err != nil {
			return err
		}
	}
	return nil
}

type entry struct {
	key, val *yaml.Node
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		// Quote a little of it: a file that is not a scenario at all
		// (ordo web /etc/passwd) must not be echoed whole.
		v := n.Value
		if r := []rune(v); len(r) > 60 {
			v = string(r[:60]) + "…"
		}
		return fmt.Sprintf("%q", v)
	}
	return "something else"
}

// pairs returns a mapping's entries in file order, rejecting duplicate or
// non-scalar keys. A null value counts as an empty mapping.
func (p *parser) pairs(n *yaml.Node, field string) ([]entry, error) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, p.errf(n, field, "want a mapping (key: value, ...), got %s", kindName(n))
	}
	var out []entry
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, p.errf(k, field, "keys must be plain names, got %s", kindName(k))
		}
		if seen[k.Value] {
			return nil, p.errf(k, join(field, k.Value), "given twice")
		}
		seen[k.Value] = true
		out = append(out, entry{k, v})
	}
	return out, nil
}

// fields is pairs with the keys checked against valid.
func (p *parser) fields(n *yaml.Node, field string, valid []string) (map[string]entry, error) {
	ps, err := p.pairs(n, field)
	if err != nil {
		return nil, err
	}
	out := map[string]entry{}
	for _, e := range ps {
		if !slices.Contains(valid, e.key.Value) {
			return nil, p.errf(e.key, join(field, e.key.Value), "unknown field (valid: %s)", strings.Join(slices.Sorted(slices.Values(valid)), ", "))
		}
		out[e.key.Value] = e
	}
	return out, nil
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

func (p *parser) scalar(n *yaml.Node, field, want string) error {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return p.errf(n, field, "want %s, got %s", want, kindName(n))
	}
	return nil
}

func (p *parser) str(n *yaml.Node, field string) (string, error) {
	if err := p.scalar(n, field, "a string"); err != nil {
		return "", err
	}
	return n.Value, nil
}

func (p *parser) integer(n *yaml.Node, field string) (int64, error) {
	if err := p.scalar(n, field, "an integer"); err != nil {
		return 0, err
	}
	var v int64
	if n.Tag != "!!int" || n.Decode(&v) != nil {
		return 0, p.errf(n, field, "want an integer, got %q", n.Value)
	}
	return v, nil
}

func (p *parser) float(n *yaml.Node, field string) (float64, error) {
	if err := p.scalar(n, field, "a number"); err != nil {
		return 0, err
	}
	var v float64
	if (n.Tag != "!!int" && n.Tag != "!!float") || n.Decode(&v) != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, p.errf(n, field, "want a number, got %q", n.Value)
	}
	return v, nil
}

func (p *parser) prob(n *yaml.Node, field string) (float64, error) {
	v, err := p.float(n, field)
	if err != nil {
		return 0, err
	}
	if v < 0 || v > 1 {
		return 0, p.errf(n, field, "a probability must be in [0, 1], got %v", v)
	}
	return v, nil
}

func (p *parser) rate(n *yaml.Node, field string) (float64, error) {
	v, err := p.float(n, field)
	if err != nil {
		return 0, err
	}
	if v < 0 || v > 1000 {
		return 0, p.errf(n, field, "a rate (events per second) must be in [0, 1000], got %v", v)
	}
	return v, nil
}

func (p *parser) boolean(n *yaml.Node, field string) (bool, error) {
	if err := p.scalar(n, field, "true or false"); err != nil {
		return false, err
	}
	var v bool
	if n.Tag != "!!bool" || n.Decode(&v) != nil {
		return false, p.errf(n, field, "want true or false, got %q", n.Value)
	}
	return v, nil
}

// duration reads a Go duration ("150ms", "2s", "-2s" where signed is set).
func (p *parser) duration(n *yaml.Node, field string, signed bool) (time.Duration, error) {
	if err := p.scalar(n, field, "a duration"); err != nil {
		return 0, err
	}
	if n.Value == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(n.Value)
	if err != nil {
		return 0, p.errf(n, field, "bad duration %q (write it like 150ms, 2s or 1m30s)", n.Value)
	}
	if d < 0 && !signed {
		return 0, p.errf(n, field, "duration %q must not be negative", n.Value)
	}
	return d, nil
}

func (p *parser) nodeID(n *yaml.Node, field string) (ordo.NodeID, error) {
	v, err := p.integer(n, field)
	if err != nil {
		return 0, err
	}
	if v < 1 || v > int64(p.nodes) {
		return 0, p.errf(n, field, "node %d out of range: the cluster is %s", v, p.span())
	}
	return ordo.NodeID(v), nil
}

// nodeText reads one node ID written inside a string ("3" in "1,2/3").
func (p *parser) nodeText(n *yaml.Node, field, s string) (ordo.NodeID, error) {
	s = strings.TrimSpace(s)
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, p.errf(n, field, "%q is not a node number", s)
	}
	if v < 1 || v > p.nodes {
		return 0, p.errf(n, field, "node %d out of range: the cluster is %s", v, p.span())
	}
	return ordo.NodeID(v), nil
}

// groups reads "1,2/3,4,5".
func (p *parser) groups(n *yaml.Node, field string) ([][]ordo.NodeID, error) {
	var s string
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
		s = n.Value
	} else {
		var err error
		if s, err = p.str(n, field); err != nil {
			return nil, err
		}
	}
	gs, err := p.members().ParseGroups(s)
	if err != nil {
		return nil, p.errf(n, field, "%v", err)
	}
	return gs, nil
}

// notService refuses a crash, restart, membership or storage fault of a
// service node: the model keeps its state in memory, so a crash would
// restart its revisions and reissue fencing tokens, which a real etcd
// (state on disk, replicated) never does.
func (p *parser) notService(n *yaml.Node, field string, id ordo.NodeID) error {
	if p.nservices > 0 && int(id) > p.nodes-p.nservices {
		return p.errf(n, field, "node %d is a service, and services are never crashed, restarted or given disk faults (the model keeps its state in memory: revisions and fencing tokens would start again); a service may be paused, cut off or have its clock moved", id)
	}
	return nil
}

// members are the nodes a fault notation may name (fault.Members).
func (p *parser) members() fault.Members {
	return fault.Members{Servers: p.servers, Clients: p.nodes - p.servers}
}

// linkKey reads "1->2" (one direction) or "1<->2" (both).
func (p *parser) linkKey(n *yaml.Node, field string) ([]sim.LinkKey, error) {
	s := n.Value
	both := strings.Contains(s, "<->")
	var parts []string
	if both {
		parts = strings.SplitN(s, "<->", 2)
	} else {
		parts = strings.SplitN(s, "->", 2)
	}
	if len(parts) != 2 {
		return nil, p.errf(n, field, "%q is not a link: write \"1->2\" for one direction or \"1<->2\" for both", s)
	}
	a, err := p.nodeText(n, field, parts[0])
	if err != nil {
		return nil, err
	}
	b, err := p.nodeText(n, field, parts[1])
	if err != nil {
		return nil, err
	}
	if a == b {
		return nil, p.errf(n, field, "a link joins two different nodes, got %q", s)
	}
	if both {
		return []sim.LinkKey{{From: a, To: b}, {From: b, To: a}}, nil
	}
	return []sim.LinkKey{{From: a, To: b}}, nil
}

var bandwidthRe = regexp.MustCompile(`^\s*([0-9]+(?:\.[0-9]+)?)\s*(B|KB|MB|GB|KiB|MiB|GiB)/s\s*$`)

var bandwidthUnit = map[string]float64{"B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}

// bandwidth reads "1MB/s" (decimal units; KiB/MiB/GiB binary) or a plain
// number of bytes per second.
func (p *parser) bandwidth(n *yaml.Node, field string) (int64, error) {
	if err := p.scalar(n, field, "a bandwidth"); err != nil {
		return 0, err
	}
	var v float64
	if n.Tag == "!!int" {
		i, err := p.integer(n, field)
		if err != nil {
			return 0, err
		}
		v = float64(i)
	} else {
		m := bandwidthRe.FindStringSubmatch(n.Value)
		if m == nil {
			return 0, p.errf(n, field, "bad bandwidth %q (write it like 10KB/s, 1MB/s, 1GB/s or 500B/s)", n.Value)
		}
		x, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			return 0, p.errf(n, field, "bad bandwidth %q", n.Value)
		}
		v = x * bandwidthUnit[m[2]]
	}
	if v < 1 || v > 1e13 {
		return 0, p.errf(n, field, "bandwidth %q out of range (1 B/s .. 10 TB/s)", n.Value)
	}
	return int64(v), nil
}

// drift reads "50ppm", "-100ppm", "50us/s" or a plain number of ppm.
func (p *parser) drift(n *yaml.Node, field string) (float64, error) {
	if err := p.scalar(n, field, "a drift"); err != nil {
		return 0, err
	}
	var v float64
	if n.Tag == "!!int" || n.Tag == "!!float" {
		x, err := p.float(n, field)
		if err != nil {
			return 0, err
		}
		v = x
	} else {
		s := strings.TrimSpace(n.Value)
		num := ""
		for _, suf := range []string{"ppm", "us/s", "µs/s"} {
			if strings.HasSuffix(s, suf) {
				num = strings.TrimSpace(strings.TrimSuffix(s, suf))
				break
			}
		}
		x, err := strconv.ParseFloat(num, 64)
		if num == "" || err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, p.errf(n, field, "bad drift %q (write it like 50ppm or -100ppm; 1 ppm = 1 µs per second)", n.Value)
		}
		v = x
	}
	if v <= -1e6 || v > 1e6 {
		return 0, p.errf(n, field, "drift %v ppm out of range (-1000000, 1000000]", v)
	}
	return v, nil
}

var dists = map[string][]string{
	"constant":    {"dist", "value"},
	"uniform":     {"dist", "min", "max"},
	"normal":      {"dist", "mean", "stddev"},
	"exponential": {"dist", "min", "mean"},
}

// latency reads a preset name or {dist: ..., ...}.
func (p *parser) latency(n *yaml.Node, field string) (sim.Dist, error) {
	if n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		d, err := sim.Preset(n.Value)
		if err != nil {
			return sim.Dist{}, p.errf(n, field, "%v", err)
		}
		return d, nil
	}
	if n.Kind != yaml.MappingNode {
		return sim.Dist{}, p.errf(n, field, "want a preset (%s) or {dist: ..., ...}, got %s", strings.Join(sim.PresetNames(), ", "), kindName(n))
	}
	ps, err := p.pairs(n, field)
	if err != nil {
		return sim.Dist{}, err
	}
	var kind string
	for _, e := range ps {
		if e.key.Value == "dist" {
			if kind, err = p.str(e.val, join(field, "dist")); err != nil {
				return sim.Dist{}, err
			}
			if _, ok := dists[kind]; !ok {
				return sim.Dist{}, p.errf(e.val, join(field, "dist"), "unknown distribution %q (valid: constant, exponential, normal, uniform)", kind)
			}
		}
	}
	if kind == "" {
		return sim.Dist{}, p.errf(n, field, "missing dist (constant, uniform, normal or exponential)")
	}
	fs, err := p.fields(n, field, dists[kind])
	if err != nil {
		return sim.Dist{}, err
	}
	get := func(name string) (time.Duration, error) {
		e, ok := fs[name]
		if !ok {
			return 0, p.errf(n, field, "a %s latency needs %s", kind, strings.Join(dists[kind][1:], " and "))
		}
		return p.duration(e.val, join(field, name), false)
	}
	var a, b time.Duration
	switch kind {
	case "constant":
		a, err = get("value")
		return sim.Dist{Kind: sim.Constant, A: a}, err
	case "uniform":
		if a, err = get("min"); err != nil {
			return sim.Dist{}, err
		}
		if b, err = get("max"); err != nil {
			return sim.Dist{}, err
		}
		if b < a {
			return sim.Dist{}, p.errf(fs["max"].val, join(field, "max"), "max %v is below min %v", b, a)
		}
		return sim.Dist{Kind: sim.Uniform, A: a, B: b}, nil
	case "normal":
		if a, err = get("mean"); err != nil {
			return sim.Dist{}, err
		}
		if b, err = get("stddev"); err != nil {
			return sim.Dist{}, err
		}
		return sim.Dist{Kind: sim.Normal, A: a, B: b}, nil
	default: // exponential: min plus a tail, so that the mean is `mean`
		if a, err = get("min"); err != nil {
			return sim.Dist{}, err
		}
		if b, err = get("mean"); err != nil {
			return sim.Dist{}, err
		}
		if b < a {
			return sim.Dist{}, p.errf(fs["mean"].val, join(field, "mean"), "mean %v is below min %v", b, a)
		}
		return sim.Dist{Kind: sim.Exponential, A: a, B: b - a}, nil
	}
}

var linkFields = []string{"latency", "loss", "duplicate", "bandwidth", "tamper"}

// linkField reads one link field and returns what sets it on a link: a
// link fault's fields are read once, in file order, and applied later on
// top of the link as it stands at the fault's time.
func (p *parser) linkField(e entry, field string) (func(*sim.Link), error) {
	f := join(field, e.key.Value)
	var v sim.Link
	var set func(*sim.Link)
	var err error
	switch e.key.Value {
	case "latency":
		v.Latency, err = p.latency(e.val, f)
		set = func(l *sim.Link) { l.Latency = v.Latency }
	case "loss":
		v.Loss, err = p.prob(e.val, f)
		set = func(l *sim.Link) { l.Loss = v.Loss }
	case "duplicate":
		v.Duplicate, err = p.prob(e.val, f)
		set = func(l *sim.Link) { l.Duplicate = v.Duplicate }
	case "tamper":
		v.Tamper, err = p.prob(e.val, f)
		set = func(l *sim.Link) { l.Tamper = v.Tamper }
	case "bandwidth":
		v.Bandwidth, err = p.bandwidth(e.val, f)
		set = func(l *sim.Link) { l.Bandwidth = v.Bandwidth }
	default:
		panic("scenario: linkField called with " + e.key.Value)
	}
	return set, err
}

// setLink reads one link field into l.
func (p *parser) setLink(l *sim.Link, e entry, field string) error {
	set, err := p.linkField(e, field)
	if err == nil {
		set(l)
	}
	return err
}

var nameRe = regexp.MustCompile(`^[a-z0-9-]+$`)

func (p *parser) scenario(root *yaml.Node) (*Scenario, error) {
	fs, err := p.fields(root, "", topFields)
	if err != nil {
		return nil, err
	}
	need := func(name string) (entry, error) {
		e, ok := fs[name]
		if !ok {
			return e, p.errf(root, "", "missing required field %q", name)
		}
		return e, nil
	}
	sc := &Scenario{File: p.file, Seed: 1, PricePerGB: DefaultPricePerGB}

	e, err := need("name")
	if err != nil {
		return nil, err
	}
	if sc.Name, err = p.str(e.val, "name"); err != nil {
		return nil, err
	}
	if !nameRe.MatchString(sc.Name) || len(sc.Name) > 100 {
		return nil, p.errf(e.val, "name", "%q: use lower-case letters, digits and '-' (at most 100)", sc.Name)
	}
	if e, ok := fs["doc"]; ok {
		if sc.Doc, err = p.str(e.val, "doc"); err != nil {
			return nil, err
		}
	}

	if e, err = need("protocol"); err != nil {
		return nil, err
	}
	pname, err := p.str(e.val, "protocol")
	if err != nil {
		return nil, err
	}
	if sc.Protocol, err = ordo.Lookup(pname); err != nil {
		return nil, p.errf(e.val, "protocol", "%v", err)
	}
	if sc.Protocol.Role != ordo.Server {
		return nil, p.errf(e.val, "protocol", "%s is a %s protocol: protocol names the servers' protocol (clients go in clients:)", pname, sc.Protocol.Role)
	}
	if err := p.options(sc, fs); err != nil {
		return nil, err
	}

	if e, err = need("nodes"); err != nil {
		return nil, err
	}
	n, err := p.integer(e.val, "nodes")
	if err != nil {
		return nil, err
	}
	if n < 1 || n > sim.MaxNodes {
		return nil, p.errf(e.val, "nodes", "%d nodes out of range 1..%d", n, sim.MaxNodes)
	}
	sc.Nodes, p.nodes, p.servers = int(n), int(n), int(n)
	// The protocol judges its options as a whole (floors, orderings,
	// node numbers): build one node now so a mistake gets a line.
	if _, err := sc.Protocol.New(ordo.Config{ID: 1, N: sc.Nodes, Opts: sc.Options, Proto: sc.Protocol}); err != nil {
		at, field := e.key, "nodes"
		if o, ok := fs["options"]; ok {
			at, field = o.key, "options"
		}
		return nil, p.errf(at, field, "%v", err)
	}

	if e, ok := fs["seed"]; ok {
		if err := p.scalar(e.val, "seed", "a seed (a non-negative integer)"); err != nil {
			return nil, err
		}
		if e.val.Tag != "!!int" || e.val.Decode(&sc.Seed) != nil {
			return nil, p.errf(e.val, "seed", "want a non-negative integer, got %q", e.val.Value)
		}
	}
	if err := p.diskModel(sc, fs); err != nil {
		return nil, err
	}
	sc.Wire = true
	if e, ok := fs["wire"]; ok {
		if sc.Wire, err = p.boolean(e.val, "wire"); err != nil {
			return nil, err
		}
	}
	if e, err = need("duration"); err != nil {
		return nil, err
	}
	if sc.Duration, err = p.duration(e.val, "duration", false); err != nil {
		return nil, err
	}
	if sc.Duration <= 0 || sc.Duration > MaxDuration {
		return nil, p.errf(e.val, "duration", "%v out of range (0, %v]", sc.Duration, MaxDuration)
	}

	steps := []func(*Scenario, map[string]entry) error{p.clients, p.services, p.network, p.clocks, p.speed, p.absent, p.byzantine, p.faults, p.nemesis, p.checks, p.expect}
	for _, step := range steps {
		if err := step(sc, fs); err != nil {
			return nil, err
		}
	}
	return sc, nil
}

func (p *parser) options(sc *Scenario, fs map[string]entry) error {
	sc.Given = map[string]string{}
	var last *yaml.Node
	if e, ok := fs["options"]; ok {
		ps, err := p.pairs(e.val, "options")
		if err != nil {
			return err
		}
		for _, o := range ps {
			f := join("options", o.key.Value)
			if err := p.scalar(o.val, f, "a value"); err != nil {
				return err
			}
			// One at a time first, so that a bad option gets its own line.
			if _, err := sc.Protocol.Resolve(map[string]string{o.key.Value: o.val.Value}); err != nil {
				return p.errf(o.key, f, "%v", err)
			}
			sc.Given[o.key.Value] = o.val.Value
		}
		last = e.key
	}
	opts, err := sc.Protocol.Resolve(sc.Given)
	if err != nil {
		return p.errf(last, "options", "%v", err)
	}
	sc.Options = opts
	return nil
}

func (p *parser) network(sc *Scenario, fs map[string]entry) error {
	e, ok := fs["network"]
	if !ok {
		return nil
	}
	valid := append([]string{"fifo", "authenticated", "auth", "price_per_gb", "links"}, linkFields...)
	nf, err := p.fields(e.val, "network", valid)
	if err != nil {
		return err
	}
	for _, name := range linkFields {
		if x, ok := nf[name]; ok {
			if err := p.setLink(&sc.Network.Default, x, "network"); err != nil {
				return err
			}
		}
	}
	if x, ok := nf["fifo"]; ok {
		if sc.Network.FIFO, err = p.boolean(x.val, "network.fifo"); err != nil {
			return err
		}
	}
	if x, ok := nf["authenticated"]; ok {
		if sc.Network.Authenticated, err = p.boolean(x.val, "network.authenticated"); err != nil {
			return err
		}
	}
	if x, ok := nf["auth"]; ok {
		if sc.Network.Auth, err = p.str(x.val, "network.auth"); err != nil {
			return err
		}
		if err := sc.checkAuth(sc.Network.Auth); err != nil {
			return p.errf(x.val, "network.auth", "%v", err)
		}
	}
	if x, ok := nf["price_per_gb"]; ok {
		if sc.PricePerGB, err = p.float(x.val, "network.price_per_gb"); err != nil {
			return err
		}
		if sc.PricePerGB < 0 {
			return p.errf(x.val, "network.price_per_gb", "a price must not be negative")
		}
	}
	if x, ok := nf["links"]; ok {
		ps, err := p.pairs(x.val, "network.links")
		if err != nil {
			return err
		}
		sc.Network.Links = map[sim.LinkKey]sim.Link{}
		for _, le := range ps {
			f := "network.links." + le.key.Value
			keys, err := p.linkKey(le.key, f)
			if err != nil {
				return err
			}
			lf, err := p.pairs(le.val, f)
			if err != nil {
				return err
			}
			l := sc.Network.Default
			for _, y := range lf {
				if !slices.Contains(linkFields, y.key.Value) {
					return p.errf(y.key, join(f, y.key.Value), "unknown field (valid: %s)", strings.Join(slices.Sorted(slices.Values(linkFields)), ", "))
				}
				if err := p.setLink(&l, y, f); err != nil {
					return err
				}
			}
			for _, k := range keys {
				if _, dup := sc.Network.Links[k]; dup {
					return p.errf(le.key, f, "link %d->%d is configured twice", k.From, k.To)
				}
				sc.Network.Links[k] = l
			}
		}
	}
	return nil
}

var clockFields = []string{"offset", "drift", "ntp_every", "ntp_error"}

func (p *parser) clockModel(n *yaml.Node, field string, m sim.ClockModel) (sim.ClockModel, error) {
	cf, err := p.fields(n, field, clockFields)
	if err != nil {
		return m, err
	}
	if x, ok := cf["offset"]; ok {
		if m.Offset, err = p.duration(x.val, join(field, "offset"), true); err != nil {
			return m, err
		}
	}
	if x, ok := cf["drift"]; ok {
		if m.DriftPPM, err = p.drift(x.val, join(field, "drift")); err != nil {
			return m, err
		}
	}
	if x, ok := cf["ntp_every"]; ok {
		if m.NTPEvery, err = p.duration(x.val, join(field, "ntp_every"), false); err != nil {
			return m, err
		}
		if m.NTPEvery > 0 && m.NTPEvery < time.Millisecond {
			return m, p.errf(x.val, join(field, "ntp_every"), "NTP every %v is too often (at least 1ms)", m.NTPEvery)
		}
	}
	if x, ok := cf["ntp_error"]; ok {
		if m.NTPError, err = p.duration(x.val, join(field, "ntp_error"), false); err != nil {
			return m, err
		}
	}
	return m, nil
}

func (p *parser) clocks(sc *Scenario, fs map[string]entry) error {
	e, ok := fs["clocks"]
	if !ok {
		return nil
	}
	ps, err := p.pairs(e.val, "clocks")
	if err != nil {
		return err
	}
	// The default first: nodes' entries override it field by field.
	for _, c := range ps {
		if c.key.Value == "default" {
			if sc.Clock, err = p.clockModel(c.val, "clocks.default", sim.ClockModel{}); err != nil {
				return err
			}
		}
	}
	for _, c := range ps {
		if c.key.Value == "default" {
			continue
		}
		f := "clocks." + c.key.Value
		id, err := p.nodeKey(c.key, f)
		if err != nil {
			return err
		}
		m, err := p.clockModel(c.val, f, sc.Clock)
		if err != nil {
			return err
		}
		if sc.ClockOf == nil {
			sc.ClockOf = map[ordo.NodeID]sim.ClockModel{}
		}
		sc.ClockOf[id] = m
	}
	return nil
}

// nodeKey reads a mapping key that must be "default" or a node number.
func (p *parser) nodeKey(k *yaml.Node, field string) (ordo.NodeID, error) {
	v, err := strconv.Atoi(strings.TrimSpace(k.Value))
	if err != nil {
		return 0, p.errf(k, field, "%q is neither \"default\" nor a node number", k.Value)
	}
	if v < 1 || v > p.nodes {
		return 0, p.errf(k, field, "node %d out of range: the cluster is %s", v, p.span())
	}
	return ordo.NodeID(v), nil
}

func (p *parser) speed(sc *Scenario, fs map[string]entry) error {
	e, ok := fs["speed"]
	if !ok {
		return nil
	}
	if e.val.Kind == yaml.ScalarNode {
		var err error
		sc.Speed, err = p.speedOf(e.val, "speed")
		return err
	}
	ps, err := p.pairs(e.val, "speed")
	if err != nil {
		return err
	}
	for _, x := range ps {
		f := "speed." + x.key.Value
		d, err := p.speedOf(x.val, f)
		if err != nil {
			return err
		}
		if x.key.Value == "default" {
			sc.Speed = d
			continue
		}
		id, err := p.nodeKey(x.key, f)
		if err != nil {
			return err
		}
		if sc.SpeedOf == nil {
			sc.SpeedOf = map[ordo.NodeID]time.Duration{}
		}
		sc.SpeedOf[id] = d
	}
	return nil
}

// speedOf reads the time a node spends on each event.
func (p *parser) speedOf(n *yaml.Node, field string) (time.Duration, error) {
	d, err := p.duration(n, field, false)
	if err == nil && d > time.Minute {
		return 0, p.errf(n, field, "%v per event is too slow (at most 1m)", d)
	}
	return d, err
}

func (p *parser) absent(sc *Scenario, fs map[string]entry) error {
	e, ok := fs["absent"]
	if !ok {
		return nil
	}
	if e.val.Kind != yaml.SequenceNode {
		return p.errf(e.val, "absent", "want a list of node numbers like [6, 7], got %s", kindName(e.val))
	}
	seen := map[ordo.NodeID]bool{}
	for i, x := range e.val.Content {
		f := fmt.Sprintf("absent[%d]", i)
		id, err := p.nodeID(x, f)
		if err != nil {
			return err
		}
		if seen[id] {
			return p.errf(x, f, "node %d is listed twice", id)
		}
		seen[id] = true
		sc.Absent = append(sc.Absent, id)
	}
	return nil
}

// byzantineFields are the fields of one byzantine: entry.
var byzantineFields = []string{"node", "behaviour", "rate", "after", "as"}

// byzantine reads `byzantine: [{node: 1, behaviour: equivocate}, ...]`:
// the nodes that lie and how (sim/adversary.go).
func (p *parser) byzantine(sc *Scenario, fs map[string]entry) error {
	e, ok := fs["byzantine"]
	if !ok {
		return nil
	}
	if e.val.Kind != yaml.SequenceNode {
		return p.errf(e.val, "byzantine", "want a list like [{node: 1, behaviour: equivocate}], got %s", kindName(e.val))
	}
	seen := map[ordo.NodeID]bool{}
	for i, x := range e.val.Content {
		f := fmt.Sprintf("byzantine[%d]", i)
		bf, err := p.fields(x, f, byzantineFields)
		if err != nil {
			return err
		}
		var b sim.Byzantine
		n, ok := bf["node"]
		if !ok {
			return p.errf(x, f, "missing node (the node that lies)")
		}
		if b.Node, err = p.nodeID(n.val, join(f, "node")); err != nil {
			return err
		}
		if seen[b.Node] {
			return p.errf(n.val, join(f, "node"), "node %d is Byzantine twice (one behaviour a node)", b.Node)
		}
		seen[b.Node] = true
		be, ok := bf["behaviour"]
		if !ok {
			return p.errf(x, f, "missing behaviour (one of %s)", behaviourList())
		}
		name, err := p.str(be.val, join(f, "behaviour"))
		if err != nil {
			return err
		}
		b.Behaviour = sim.Behaviour(name)
		if !slices.Contains(sim.Behaviours, b.Behaviour) {
			return p.errf(be.val, join(f, "behaviour"), "unknown behaviour %q (valid: %s)", name, behaviourList())
		}
		if b.Behaviour == sim.Garbage && !sc.Wire {
			return p.errf(be.val, join(f, "behaviour"), "garbage needs wire mode (the network must carry bytes), and this file says wire: false")
		}
		if r, ok := bf["rate"]; ok {
			if b.Rate, err = p.prob(r.val, join(f, "rate")); err != nil {
				return err
			}
			if b.Rate == 0 {
				return p.errf(r.val, join(f, "rate"), "a rate of 0 lies about nothing: leave the node out, or give a rate in (0, 1]")
			}
		}
		if a, ok := bf["after"]; ok {
			if b.Behaviour != sim.Replay {
				return p.errf(a.key, join(f, "after"), "after is replay's (how long before a message is sent again), not %s's", b.Behaviour)
			}
			if b.After, err = p.duration(a.val, join(f, "after"), false); err != nil {
				return err
			}
			if b.After <= 0 {
				return p.errf(a.val, join(f, "after"), "after must be more than 0")
			}
		}
		if a, ok := bf["as"]; ok {
			if b.Behaviour != sim.Forge {
				return p.errf(a.key, join(f, "as"), "as is forge's (the sender it claims), not %s's", b.Behaviour)
			}
			if b.As, err = p.nodeID(a.val, join(f, "as")); err != nil {
				return err
			}
			if b.As == b.Node {
				return p.errf(a.val, join(f, "as"), "node %d would claim to be itself: name another node", b.As)
			}
		}
		sc.Byzantine = append(sc.Byzantine, b)
	}
	return nil
}

func behaviourList() string {
	var s []string
	for _, b := range sim.Behaviours {
		s = append(s, string(b))
	}
	return strings.Join(s, ", ")
}

func (p *parser) faults(sc *Scenario, fs map[string]entry) error {
	e, ok := fs["faults"]
	if !ok {
		return nil
	}
	if e.val.Kind != yaml.SequenceNode {
		return p.errf(e.val, "faults", "want a list of faults like - {at: 2s, crash: 5}, got %s", kindName(e.val))
	}
	if len(e.val.Content) > MaxFaults {
		return p.errf(e.val, "faults", "%d faults, the bound is %d", len(e.val.Content), MaxFaults)
	}
	var list []Fault
	for i, x := range e.val.Content {
		f, err := p.fault(sc, x, fmt.Sprintf("faults[%d]", i))
		if err != nil {
			return err
		}
		list = append(list, f)
	}
	sort.SliceStable(list, func(a, b int) bool { return list[a].At < list[b].At })
	if err := p.linkRestarts(list); err != nil {
		return err
	}
	sc.Faults = list
	return nil
}

func (p *parser) fault(sc *Scenario, n *yaml.Node, field string) (Fault, error) {
	ps, err := p.pairs(n, field)
	if err != nil {
		return Fault{}, err
	}
	if n.Kind != yaml.MappingNode {
		return Fault{}, p.errf(n, field, "want a fault like {at: 2s, crash: 5}, got %s", kindName(n))
	}
	f := Fault{Line: n.Line}
	var kindEntry entry
	extras := map[string]bool{}
	for _, ex := range faultExtras {
		for _, x := range ex {
			extras[x] = true
		}
	}
	for _, x := range ps {
		k := x.key.Value
		switch {
		case k == "at":
		case slices.Contains(FaultKinds, k):
			if f.Kind != "" {
				return Fault{}, p.errf(x.key, join(field, k), "one fault per entry: this one is already a %s", f.Kind)
			}
			f.Kind, kindEntry = k, x
		case extras[k]:
		default:
			return Fault{}, p.errf(x.key, join(field, k), "unknown fault kind or field (valid kinds: %s; each entry also has at)", strings.Join(FaultKinds, ", "))
		}
	}
	if f.Kind == "" {
		return Fault{}, p.errf(n, field, "fault names no kind (valid kinds: %s)", strings.Join(FaultKinds, ", "))
	}
	allowed := append([]string{"at", f.Kind}, faultExtras[f.Kind]...)
	got := map[string]entry{}
	for _, x := range ps {
		if !slices.Contains(allowed, x.key.Value) {
			return Fault{}, p.errf(x.key, join(field, x.key.Value), "a %s fault has no field %s (valid: %s)", f.Kind, x.key.Value, strings.Join(allowed, ", "))
		}
		got[x.key.Value] = x
	}
	at, ok := got["at"]
	if !ok {
		return Fault{}, p.errf(n, field, "fault needs at: the time it happens, like at: 2s")
	}
	if f.At, err = p.duration(at.val, join(field, "at"), false); err != nil {
		return Fault{}, err
	}
	if f.At > sc.Duration {
		return Fault{}, p.errf(at.val, join(field, "at"), "at %v is after the scenario's end (duration %v)", f.At, sc.Duration)
	}
	kf := join(field, f.Kind)
	kv := kindEntry.val
	f.target, f.field = kv, kf
	switch f.Kind {
	case "fail_sync", "disk_full", "corrupt_read", "crash_torn": // disk.go
		id, leader, err := p.target(kv, kf, f.Kind)
		if err == nil && !leader {
			err = p.notService(kv, kf, id)
		}
		if err != nil {
			return Fault{}, err
		}
		if !sc.Disk.On() {
			return Fault{}, p.errf(kindEntry.key, kf, "a storage fault needs the disk model: add a disk: section (e.g. disk: {sync_latency: 1ms})")
		}
		f.aim(id, leader, diskStrike(f.Kind))
	case "crash", "restart", "resume", "join", "leave":
		id, leader, err := p.target(kv, kf, f.Kind)
		if err == nil && !leader && f.Kind != "resume" {
			err = p.notService(kv, kf, id)
		}
		if err != nil {
			return Fault{}, err
		}
		var strike func(s *sim.Sim, id ordo.NodeID) error
		switch f.Kind {
		case "crash":
			strike = func(s *sim.Sim, id ordo.NodeID) error { s.Crash(id); return nil }
		case "restart":
			strike = func(s *sim.Sim, id ordo.NodeID) error { return s.Restart(id) }
		case "resume":
			strike = func(s *sim.Sim, id ordo.NodeID) error { s.Resume(id); return nil }
		case "join":
			strike = func(s *sim.Sim, id ordo.NodeID) error { return s.Join(id) }
		case "leave":
			strike = func(s *sim.Sim, id ordo.NodeID) error { s.Leave(id); return nil }
		}
		f.aim(id, leader, strike)
	case "pause":
		id, leader, err := p.target(kv, kf, f.Kind)
		if err != nil {
			return Fault{}, err
		}
		var d time.Duration
		if x, ok := got["for"]; ok {
			if d, err = p.duration(x.val, join(field, "for"), false); err != nil {
				return Fault{}, err
			}
			if d <= 0 {
				return Fault{}, p.errf(x.val, join(field, "for"), "a pause lasts more than 0s")
			}
		}
		f.aim(id, leader, func(s *sim.Sim, id ordo.NodeID) error {
			s.Pause(id)
			if d > 0 {
				s.At(s.Now()+d, func(s *sim.Sim) { s.Resume(id) })
			}
			return nil
		})
		if d > 0 {
			f.Desc += " for " + d.String()
		}
	case "clock_jump":
		id, leader, err := p.target(kv, kf, f.Kind)
		if err != nil {
			return Fault{}, err
		}
		x, ok := got["by"]
		if !ok {
			return Fault{}, p.errf(n, field, "a clock_jump needs by: how far, like by: -2s")
		}
		by, err := p.duration(x.val, join(field, "by"), true)
		if err != nil {
			return Fault{}, err
		}
		f.aim(id, leader, func(s *sim.Sim, id ordo.NodeID) error { s.JumpClock(id, by); return nil })
		f.Desc += " by " + by.String()
	case "partition":
		gs, err := p.groups(kv, kf)
		if err != nil {
			return Fault{}, err
		}
		f.Desc = "partition " + sim.FormatGroups(gs)
		f.apply = func(s *sim.Sim) error { return s.Partition(gs...) }
	case "cut":
		s, err := p.str(kv, kf)
		if err != nil {
			return Fault{}, err
		}
		from, to, err := p.members().ParseCut(s)
		if err != nil {
			return Fault{}, p.errf(kv, kf, "%v", err)
		}
		f.Desc = "cut " + s
		f.apply = func(s *sim.Sim) error { return s.CutOneWay(from, to) }
	case "bridge":
		sides, err := p.str(kv, kf)
		if err != nil {
			return Fault{}, err
		}
		x, ok := got["via"]
		if !ok {
			return Fault{}, p.errf(n, field, "a bridge needs via: the node both sides can still reach")
		}
		via, err := p.nodeID(x.val, join(field, "via"))
		if err != nil {
			return Fault{}, err
		}
		// One notation, one meaning (fault.ParseBridge): the sides and
		// the bridge name every server once.
		gs, _, err := fault.ParseBridge(fmt.Sprintf("%s via %d", sides, via), p.servers)
		if err != nil {
			return Fault{}, p.errf(kv, kf, "%v", err)
		}
		f.Desc = fmt.Sprintf("bridge %s via %d", sim.FormatGroups(gs), via)
		f.apply = func(s *sim.Sim) error { return s.Bridge(gs[0], gs[1], via) }
	case "heal":
		b, err := p.boolean(kv, kf)
		if err != nil {
			return Fault{}, err
		}
		if !b {
			return Fault{}, p.errf(kv, kf, "write heal: true (or leave the entry out)")
		}
		f.Desc = "heal"
		f.apply = func(s *sim.Sim) error { s.Heal(); return nil }
	case "link":
		if err := p.scalar(kv, kf, "a link like \"1->2\""); err != nil {
			return Fault{}, err
		}
		keys, err := p.linkKey(kv, kf)
		if err != nil {
			return Fault{}, err
		}
		ls := &linkSpec{keys: keys}
		for _, name := range linkFields {
			if x, ok := got[name]; ok {
				set, err := p.linkField(x, field)
				if err != nil {
					return Fault{}, err
				}
				ls.set = append(ls.set, set)
			}
		}
		if len(ls.set) == 0 {
			return Fault{}, p.errf(n, field, "a link fault changes at least one of: %s", strings.Join(linkFields, ", "))
		}
		f.Desc = "link " + kv.Value
		f.apply = ls.apply
	}
	f.Spec = p.spec(&f, kindEntry, got, field) // live.go
	return f, nil
}

// linkSpec is a link fault as read: the directions it changes and a setter
// per field it names.
type linkSpec struct {
	keys []sim.LinkKey
	set  []func(*sim.Link)
}

// apply changes the fields the fault names on each of its directions, on
// top of the link as it stands when the fault fires (what earlier faults,
// from the file or injected into a stepped run, left there).
func (ls *linkSpec) apply(s *sim.Sim) error {
	for _, k := range ls.keys {
		l := s.Link(k.From, k.To)
		for _, set := range ls.set {
			set(&l)
		}
		if err := s.SetLink(k.From, k.To, l); err != nil {
			return err
		}
	}
	return nil
}

var nemesisFields = []string{"start", "stop", "crash", "partition", "pause", "clock_jump", "loss", "mean_downtime"}

func (p *parser) nemesis(sc *Scenario, fs map[string]entry) error {
	e, ok := fs["nemesis"]
	if !ok {
		return nil
	}
	nf, err := p.fields(e.val, "nemesis", nemesisFields)
	if err != nil {
		return err
	}
	nm := &Nemesis{Stop: sc.Duration, MeanDowntime: time.Second, Line: e.key.Line}
	durs := map[string]*time.Duration{"start": &nm.Start, "stop": &nm.Stop, "mean_downtime": &nm.MeanDowntime}
	rates := map[string]*float64{"crash": &nm.Crash, "partition": &nm.Partition, "pause": &nm.Pause, "clock_jump": &nm.ClockJump, "loss": &nm.Loss}
	for _, name := range nemesisFields {
		x, ok := nf[name]
		if !ok {
			continue
		}
		f := "nemesis." + name
		if d, ok := durs[name]; ok {
			if *d, err = p.duration(x.val, f, false); err != nil {
				return err
			}
		} else if r, ok := rates[name]; ok {
			if *r, err = p.rate(x.val, f); err != nil {
				return err
			}
		}
	}
	if nm.Stop <= nm.Start || nm.Stop > sc.Duration {
		return p.errf(e.val, "nemesis", "want start < stop ≤ duration, got start %v, stop %v, duration %v", nm.Start, nm.Stop, sc.Duration)
	}
	if nm.MeanDowntime <= 0 {
		return p.errf(e.val, "nemesis.mean_downtime", "must be more than 0s")
	}
	sc.Nemesis = nm
	return nil
}

func (p *parser) checks(sc *Scenario, fs map[string]entry) error {
	e, ok := fs["checks"]
	if !ok {
		return nil
	}
	if e.val.Kind != yaml.SequenceNode {
		return p.errf(e.val, "checks", "want a list of check names like [single-leader], got %s", kindName(e.val))
	}
	for i, x := range e.val.Content {
		f := fmt.Sprintf("checks[%d]", i)
		name, err := p.str(x, f)
		if err != nil {
			return err
		}
		if _, err := check.Lookup(name); err != nil {
			return p.errf(x, f, "%v", err)
		}
		if slices.Contains(sc.Checks, name) {
			return p.errf(x, f, "check %q is listed twice", name)
		}
		sc.Checks = append(sc.Checks, name)
	}
	return nil
}

func (p *parser) expect(sc *Scenario, fs map[string]entry) error {
	e, ok := fs["expect"]
	if !ok {
		return nil
	}
	ps, err := p.pairs(e.val, "expect")
	if err != nil {
		return err
	}
	for _, x := range ps {
		f := "expect." + x.key.Value
		if !slices.Contains(sc.Checks, x.key.Value) {
			listed := "none"
			if len(sc.Checks) > 0 {
				listed = strings.Join(sc.Checks, ", ")
			}
			return p.errf(x.key, f, "expects check %q, which is not in checks (checks: %s)", x.key.Value, listed)
		}
		v, err := p.str(x.val, f)
		if err != nil {
			return err
		}
		if v != "pass" && v != "fail" {
			return p.errf(x.val, f, "want pass or fail, got %q", v)
		}
		sc.Expect = append(sc.Expect, Expectation{Check: x.key.Value, Pass: v == "pass", Line: x.key.Line})
	}
	return nil
}
