package ordotest

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os/exec"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"ordo"
	"ordo/sim"
)

// Option tunes Protocol.
type Option func(*kit)

type kit struct {
	opts     map[string]string
	nodes    int
	seed     uint64
	duration time.Duration
	nemesis  *sim.Nemesis
	wire     bool
	server   *ordo.Protocol // for a client protocol: the servers it talks to
	samples  int
}

// Options are the protocol options of the determinism runs (default: the
// protocol's defaults).
func Options(o map[string]string) Option { return func(k *kit) { k.opts = o } }

// Nodes is the number of servers of the determinism runs (default 5).
func Nodes(n int) Option { return func(k *kit) { k.nodes = n } }

// Seed is the seed of the determinism runs and of the generated messages
// (default 1).
func Seed(s uint64) Option { return func(k *kit) { k.seed = s } }

// RunFor is the simulated length of each determinism run (default 5s).
func RunFor(d time.Duration) Option { return func(k *kit) { k.duration = d } }

// Faults replaces the determinism runs' nemesis (default: crashes,
// partitions, pauses, clock jumps and loss bursts from 500ms to 4s, so
// that recovery paths run too).
func Faults(n sim.Nemesis) Option { return func(k *kit) { k.nemesis = &n } }

// NoWire runs the determinism runs without wire mode (the default is wire
// mode: every message encoded at send and decoded at delivery).
func NoWire() Option { return func(k *kit) { k.wire = false } }

// ServedBy names the server protocol a client or service protocol's
// determinism runs use (required when p.Role is ordo.Client or
// ordo.Service; a service runs as the server's services, or alone).
func ServedBy(server *ordo.Protocol) Option { return func(k *kit) { k.server = server } }

// Samples is how many generated values of each message type round-trip
// (default 200).
func Samples(n int) Option { return func(k *kit) { k.samples = n } }

// reporter is what the checks need of a *testing.T (the kit's own tests
// hand them a recorder, to show that each check can fail).
type reporter interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Fatal(args ...any)
}

// Protocol is the conformance kit: it checks, as subtests of t, that p
//
//   - is registered under its name with a codec, and declares each message
//     kind once ("registration");
//   - encodes and decodes every Messages type back to an equal value on
//     generated values, with Codec.Size, Append and the message's own
//     Size (if any) agreeing with the encoding's length and the bytes
//     canonical, and refuses every truncation of an encoding and a
//     trailing byte after one ("messages");
//   - resolves its own defaults, refuses unknown options, and builds nodes
//     for 1, 3 and 5 servers ("options");
//   - gets a fresh node from every New: two nodes built one after the
//     other, one of them already used, behave alike ("fresh");
//   - runs the same seeded simulation twice, in wire mode, with a nemesis,
//     to byte-identical, valid traces ("determinism");
//   - lives in a package that imports no runtime: neither sim nor live nor
//     anything under live ("imports").
//
// A failure names the check, the message type or the seed; a determinism
// failure prints its replay settings.
func Protocol(t *testing.T, p *ordo.Protocol, options ...Option) {
	t.Helper()
	k := kit{nodes: 5, seed: 1, duration: 5 * time.Second, wire: true, samples: 200}
	for _, o := range options {
		o(&k)
	}
	if p == nil {
		t.Fatal("ordotest.Protocol: nil protocol")
	}
	t.Run("registration", func(t *testing.T) { checkRegistration(t, p) })
	t.Run("messages", func(t *testing.T) { checkMessages(t, p, k) })
	t.Run("options", func(t *testing.T) { checkOptions(t, p) })
	t.Run("fresh", func(t *testing.T) { checkFresh(t, p, k) })
	t.Run("determinism", func(t *testing.T) { checkDeterminism(t, p, k) })
	t.Run("imports", func(t *testing.T) { checkImports(t, p) })
}

func checkRegistration(t reporter, p *ordo.Protocol) {
	got, err := ordo.Lookup(p.Name)
	if err != nil {
		t.Fatalf("%s is not registered: %v (call ordo.Register in the package's init)", p.Name, err)
	}
	if got != p {
		t.Fatalf("the protocol registered as %q is another value than the one under test", p.Name)
	}
	if p.Codec == nil {
		t.Fatalf("%s has no codec: Register builds it", p.Name)
	}
	if p.Doc == "" {
		t.Errorf("%s has no Doc line", p.Name)
	}
	if len(p.Messages) == 0 {
		t.Errorf("%s declares no Messages", p.Name)
	}
	seen := map[string]bool{}
	for _, m := range p.Messages {
		if seen[m.Kind()] {
			t.Errorf("%s lists kind %q twice in Messages", p.Name, m.Kind())
		}
		seen[m.Kind()] = true
	}
	if kinds := p.Codec.Kinds(); !slices.Equal(kinds, sortedKeys(seen)) {
		t.Errorf("%s: codec kinds %v, Messages kinds %v", p.Name, kinds, sortedKeys(seen))
	}
	if p.Client != "" {
		c, err := ordo.Lookup(p.Client)
		if err != nil {
			t.Errorf("%s names client protocol %q: %v", p.Name, p.Client, err)
		} else if c.Role != ordo.Client {
			t.Errorf("%s names client protocol %q, whose role is %v", p.Name, p.Client, c.Role)
		}
	}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func checkMessages(t reporter, p *ordo.Protocol, k kit) {
	if p.Codec == nil {
		t.Fatal("no codec")
	}
	rng := rand.New(rand.NewPCG(k.seed, 0x6f72646f))
	for _, proto := range p.Messages {
		typ := reflect.TypeOf(proto)
		for i := 0; i < k.samples; i++ {
			m := proto
			if i > 0 { // the zero value first, then generated ones
				v := reflect.New(typ).Elem()
				fill(v, rng, 0)
				gm, ok := v.Interface().(ordo.Message)
				if !ok {
					t.Fatalf("%v is not an ordo.Message", typ)
				}
				m = gm
				if v, ok := m.(ordo.Validator); ok && v.Validate() != nil {
					// A random value the type calls absurd (a term above
					// ordo.MaxTerm): the codec must refuse it as such.
					refusesAbsurd(t, p.Codec, m, i)
					continue
				}
			}
			if !roundTrip(t, p.Codec, m, i) {
				break // one failing sample per type says enough
			}
		}
	}
}

// refusesAbsurd checks that a value its Validate refuses encodes but does
// not decode, with reason ordo.ReasonAbsurd.
func refusesAbsurd(t reporter, c *ordo.Codec, m ordo.Message, sample int) {
	t.Helper()
	b, err := c.Encode(m)
	if err != nil {
		t.Errorf("%s (sample %d, %+v): encode: %v", m.Kind(), sample, m, err)
		return
	}
	_, err = c.Decode(m.Kind(), b)
	if de, ok := err.(*ordo.DecodeError); !ok || de.Reason != ordo.ReasonAbsurd {
		t.Errorf("%s (sample %d, %+v): Validate refuses it but decoding gave %v, want reason %q", m.Kind(), sample, m, err, ordo.ReasonAbsurd)
	}
}

// roundTrip checks one value; false when it failed.
func roundTrip(t reporter, c *ordo.Codec, m ordo.Message, sample int) bool {
	t.Helper()
	kind := m.Kind()
	b, err := c.Encode(m)
	if err != nil {
		t.Errorf("%s (sample %d, %+v): encode: %v", kind, sample, m, err)
		return false
	}
	if len(b) > ordo.MaxMessageSize {
		t.Errorf("%s (sample %d): %d bytes, bound %d", kind, sample, len(b), ordo.MaxMessageSize)
		return false
	}
	got, err := c.Decode(kind, b)
	if err != nil {
		t.Errorf("%s (sample %d, %+v): decode of its own encoding: %v", kind, sample, m, err)
		return false
	}
	if reflect.TypeOf(got) != reflect.TypeOf(m) || !wireEqual(reflect.ValueOf(got), reflect.ValueOf(m)) {
		t.Errorf("%s (sample %d): sent %#v, decoded %#v", kind, sample, m, got)
		return false
	}
	// The size the runtimes account for is the encoding's, whichever way
	// it is asked for; the bytes are canonical.
	if n, err := c.Size(m); err != nil || n != len(b) {
		t.Errorf("%s (sample %d, %+v): Codec.Size = %d, %v; the encoding has %d bytes", kind, sample, m, n, err, len(b))
		return false
	}
	if s, ok := m.(ordo.Sizer); ok && s.Size() != len(b) {
		t.Errorf("%s (sample %d, %+v): Size() = %d, the encoding has %d bytes", kind, sample, m, s.Size(), len(b))
		return false
	}
	prefix := []byte("ordo")
	if a, err := c.Append(slices.Clone(prefix), m); err != nil || !bytes.Equal(a, append(prefix, b...)) {
		t.Errorf("%s (sample %d): Append gives %x, %v; Encode gave %x", kind, sample, a, err, b)
		return false
	}
	if again, _ := c.Encode(got); !bytes.Equal(again, b) {
		t.Errorf("%s (sample %d): the decoded value encodes to %x, the original to %x (not canonical)", kind, sample, again, b)
		return false
	}
	// A malformed payload is refused, never decoded into a half-filled
	// value: every truncation (up to 64 of them) and one trailing byte.
	for cut := len(b) - 1; cut >= 0 && cut >= len(b)-64; cut-- {
		if d, err := c.Decode(kind, b[:cut]); err == nil {
			t.Errorf("%s (sample %d): the first %d of its %d bytes decode without error, to %#v", kind, sample, cut, len(b), d)
			return false
		}
	}
	if d, err := c.Decode(kind, append(slices.Clip(b), 0x7b)); err == nil {
		t.Errorf("%s (sample %d): its encoding plus a trailing byte decodes without error, to %#v", kind, sample, d)
		return false
	}
	return true
}

// fill sets v to a random value: integers across their range (small ones
// often), valid UTF-8 strings, slices and maps of 0..4 elements, nested
// structs. Unexported fields are left alone (a codec should refuse their
// type at registration); interfaces and channels stay nil.
func fill(v reflect.Value, rng *rand.Rand, depth int) {
	if depth > 4 {
		return
	}
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(rng.IntN(2) == 1)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		bits := v.Type().Bits()
		x := int64(rng.Uint64())
		if rng.IntN(2) == 0 {
			x = rng.Int64N(100) - 10
		}
		x = x << (64 - bits) >> (64 - bits) // keep it in range, sign-extended
		v.SetInt(x)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		bits := v.Type().Bits()
		x := rng.Uint64()
		if rng.IntN(2) == 0 {
			x = rng.Uint64N(100)
		}
		v.SetUint(x << (64 - bits) >> (64 - bits))
	case reflect.Float32, reflect.Float64:
		f := rng.NormFloat64() * math.Pow(10, float64(rng.IntN(12)-6))
		if v.Kind() == reflect.Float32 {
			f = float64(float32(f))
		}
		v.SetFloat(f)
	case reflect.String:
		v.SetString(randString(rng))
	case reflect.Slice:
		n := rng.IntN(5)
		if n == 0 {
			return // nil: the codec may give nil or empty back
		}
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			fill(s.Index(i), rng, depth+1)
		}
		v.Set(s)
	case reflect.Array:
		for i := range v.Len() {
			fill(v.Index(i), rng, depth+1)
		}
	case reflect.Map:
		n := rng.IntN(5)
		if n == 0 {
			return
		}
		m := reflect.MakeMapWithSize(v.Type(), n)
		for range n {
			key, val := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			fill(key, rng, depth+1)
			fill(val, rng, depth+1)
			m.SetMapIndex(key, val)
		}
		v.Set(m)
	case reflect.Pointer:
		if rng.IntN(4) == 0 {
			return
		}
		p := reflect.New(v.Type().Elem())
		fill(p.Elem(), rng, depth+1)
		v.Set(p)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), rng, depth+1)
			}
		}
	}
}

func randString(rng *rand.Rand) string {
	const alphabet = "abcxyz019 -_/\"\\é한글"
	r := []rune(alphabet)
	n := rng.IntN(12)
	var b strings.Builder
	for range n {
		b.WriteRune(r[rng.IntN(len(r))])
	}
	s := b.String()
	if !utf8.ValidString(s) {
		panic("ordotest: invalid generated string")
	}
	return s
}

// wireEqual is reflect.DeepEqual except that a nil and an empty slice or
// map are equal (an encoding need not tell them apart).
func wireEqual(a, b reflect.Value) bool {
	if a.Kind() != b.Kind() || a.Type() != b.Type() {
		return false
	}
	switch a.Kind() {
	case reflect.Slice:
		if a.Len() != b.Len() {
			return false
		}
		for i := range a.Len() {
			if !wireEqual(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Array:
		for i := range a.Len() {
			if !wireEqual(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Map:
		if a.Len() != b.Len() {
			return false
		}
		for _, k := range a.MapKeys() {
			bv := b.MapIndex(k)
			if !bv.IsValid() || !wireEqual(a.MapIndex(k), bv) {
				return false
			}
		}
		return true
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return wireEqual(a.Elem(), b.Elem())
	case reflect.Struct:
		for i := range a.NumField() {
			if !a.Type().Field(i).IsExported() {
				continue
			}
			if !wireEqual(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return wireEqual(a.Elem(), b.Elem())
	}
	if !a.CanInterface() {
		return true
	}
	return reflect.DeepEqual(a.Interface(), b.Interface())
}

func checkOptions(t reporter, p *ordo.Protocol) {
	seen := map[string]bool{}
	for _, o := range p.Options {
		if o.Name == "" || seen[o.Name] {
			t.Errorf("%s: option name %q empty or repeated", p.Name, o.Name)
		}
		seen[o.Name] = true
		if o.Help == "" {
			t.Errorf("%s: option %s has no help", p.Name, o.Name)
		}
	}
	o, err := p.Resolve(nil)
	if err != nil {
		t.Fatalf("%s: its own defaults do not resolve: %v", p.Name, err)
	}
	if _, err := p.Resolve(map[string]string{"no-such-option": "1"}); err == nil {
		t.Errorf("%s: an unknown option was accepted", p.Name)
	}
	for _, n := range []int{1, 3, 5} {
		r := ordo.NewRoster(n, 0, 0)
		id := r.Servers[0]
		switch p.Role {
		case ordo.Client:
			r = ordo.NewRoster(n, 1, 0)
			id = r.Clients[0]
		case ordo.Service:
			r = ordo.NewRoster(n, 0, 1)
			id = r.Services[0]
		}
		if _, err := p.New(ordo.Config{ID: id, N: n, Opts: o, Proto: p, Role: p.Role, Roster: r}); err != nil {
			t.Errorf("%s: New with default options for %d servers: %v", p.Name, n, err)
		}
	}
}

// checkFresh builds two nodes, uses the first for a few steps, then
// starts the second on a fresh Env with the same seed: its first step
// must be exactly the first node's first step. State shared between the
// nodes (a package variable, a shared slice) shows up as a difference.
func checkFresh(t reporter, p *ordo.Protocol, k kit) {
	o, err := p.Resolve(nil)
	if err != nil {
		t.Fatal(err)
	}
	r := ordo.NewRoster(3, 0, 0)
	id := ordo.NodeID(1)
	switch p.Role {
	case ordo.Client:
		r = ordo.NewRoster(3, 1, 0)
		id = r.Clients[0]
	case ordo.Service:
		r = ordo.NewRoster(3, 0, 1)
		id = r.Services[0]
	}
	cfg := ordo.Config{ID: id, N: len(r.Servers), Opts: o, Proto: p, Role: p.Role, Roster: r}
	a, err := p.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if va, vb := reflect.ValueOf(a), reflect.ValueOf(b); va.Kind() == reflect.Pointer && va.Pointer() == vb.Pointer() {
		t.Fatalf("%s: New returned the same node twice", p.Name)
	}
	ea := ForProtocol(p, id, r, k.seed)
	ea.Start(a)
	first := snapshot(ea)
	// Use a: fire what it armed, three rounds deep (what it does is not
	// judged here, only that b does not feel it).
	timers := slices.Clone(ea.Timers)
	for range 3 {
		var next []Armed
		for _, tm := range timers {
			ea.Advance(tm.After)
			ea.Fire(a, tm.Timer)
			next = append(next, ea.Timers...)
			if len(next) > 1000 {
				break
			}
		}
		timers = next
	}
	eb := ForProtocol(p, id, r, k.seed)
	eb.Start(b)
	if got := snapshot(eb); got != first {
		t.Errorf("%s: a second node's first step differs from the first node's (shared state between nodes?)\nfirst:  %s\nsecond: %s", p.Name, first, got)
	}
}

func snapshot(e *Env) string {
	return fmt.Sprintf("sent %v timers %v notes %v writes %v", e.Sent, e.Timers, e.Notes, e.Writes)
}

func checkDeterminism(t reporter, p *ordo.Protocol, k kit) {
	var out [2]bytes.Buffer
	for i := range out {
		s, err := newSim(p, k)
		if err != nil {
			t.Fatal(err)
		}
		runErr := s.RunFor(k.duration)
		if runErr != nil {
			t.Fatalf("seed %d: %v", k.seed, runErr)
		}
		tr := s.Trace()
		if err := tr.Validate(); err != nil {
			t.Fatalf("seed %d: the trace is not sound: %v", k.seed, err)
		}
		if err := tr.Write(&out[i]); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(out[0].Bytes(), out[1].Bytes()) {
		a, b := out[0].String(), out[1].String()
		line := 1
		for i := 0; i < min(len(a), len(b)); i++ {
			if a[i] != b[i] {
				break
			}
			if a[i] == '\n' {
				line++
			}
		}
		t.Fatalf("%s: two runs with seed %d (wire %v, %d nodes, %v) differ from trace line %d: the protocol reads something besides its Env (a map's order, the wall clock, a global random source)",
			p.Name, k.seed, k.wire, k.nodes, k.duration, line)
	}
	if out[0].Len() == 0 {
		t.Fatalf("%s: empty trace", p.Name)
	}
}

func newSim(p *ordo.Protocol, k kit) (*sim.Sim, error) {
	cfg := sim.Config{Nodes: k.nodes, Seed: k.seed, Trace: true, Wire: k.wire, Name: "ordotest-" + p.Name,
		Network: sim.Network{Default: sim.Link{Latency: sim.Presets["lan"]}}}
	proto, opts := p, k.opts
	if p.Role == ordo.Client {
		if k.server == nil {
			return nil, fmt.Errorf("%s is a client protocol: pass ordotest.ServedBy(server)", p.Name)
		}
		o, err := p.Resolve(k.opts)
		if err != nil {
			return nil, err
		}
		cfg.Clients = []sim.ClientGroup{{Protocol: p, Options: o, Count: 2}}
		proto, opts = k.server, nil
	} else if p.Role == ordo.Service {
		if k.server == nil {
			return nil, fmt.Errorf("%s is a service protocol: pass ordotest.ServedBy(server)", p.Name)
		}
		o, err := p.Resolve(k.opts)
		if err != nil {
			return nil, err
		}
		// The server's own services, p's with the kit's options; p alone
		// when the server declares none of it.
		sv, err := sim.DefaultServices(k.server)
		if err != nil {
			return nil, err
		}
		found := false
		for i := range sv {
			if sv[i].Protocol == p {
				sv[i].Options, found = o, true
			}
		}
		if !found {
			sv = []sim.ServiceGroup{{Protocol: p, Options: o}}
		}
		cfg.Services = sv
		proto, opts = k.server, nil
	} else if p.Client != "" {
		c, err := ordo.Lookup(p.Client)
		if err != nil {
			return nil, err
		}
		cfg.Clients = []sim.ClientGroup{{Protocol: c, Count: 2}}
	}
	o, err := proto.Resolve(opts)
	if err != nil {
		return nil, err
	}
	cfg.Protocol, cfg.Options = proto, o
	s, err := sim.New(cfg)
	if err != nil {
		return nil, err
	}
	n := sim.Nemesis{Start: 500 * time.Millisecond, Stop: 4 * time.Second, Crash: 0.5, Partition: 0.5, Pause: 0.5, ClockJump: 0.5, Loss: 0.5, MeanDowntime: 500 * time.Millisecond}
	if k.nemesis != nil {
		n = *k.nemesis
	}
	if n.Stop > n.Start {
		if err := s.StartNemesis(n); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// checkImports runs `go list -deps` on the packages that define p (its New
// function's and its message types') and fails on a runtime among their
// dependencies: a protocol is written against ordo.Env alone, so that both
// runtimes can drive it.
func checkImports(t reporter, p *ordo.Protocol) {
	pkgs := ProtocolPackages(p)
	if len(pkgs) == 0 {
		t.Fatalf("%s: cannot tell which package defines it", p.Name)
	}
	for _, pkg := range pkgs {
		bad, err := RuntimeImports(pkg)
		if err != nil {
			t.Fatal(err)
		}
		if len(bad) > 0 {
			t.Errorf("protocol package %s imports a runtime: %v (protocol packages never import sim or live)", pkg, bad)
		}
	}
}

// ProtocolPackages returns the import paths of the packages that define
// p: its New function's and its message types', sorted.
func ProtocolPackages(p *ordo.Protocol) []string {
	set := map[string]bool{}
	if p.New != nil {
		if f := runtime.FuncForPC(reflect.ValueOf(p.New).Pointer()); f != nil {
			if pkg := funcPackage(f.Name()); pkg != "" {
				set[pkg] = true
			}
		}
	}
	for _, m := range p.Messages {
		typ := reflect.TypeOf(m)
		for typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		if pkg := typ.PkgPath(); pkg != "" {
			set[pkg] = true
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// funcPackage is the import path in a function's full name
// ("ordo/election/raft.New", "ordo/broadcast.init.0.func1").
func funcPackage(name string) string {
	slash := strings.LastIndexByte(name, '/')
	dot := strings.IndexByte(name[slash+1:], '.')
	if dot < 0 {
		return ""
	}
	return name[:slash+1+dot]
}

// Runtimes are the packages a protocol package must never depend on,
// relative to the module root: the simulator and the live runtime with
// everything under it.
var Runtimes = []string{"sim", "live", "live/..."}

// RuntimeImports lists the runtime packages among pkg's dependencies
// (`go list -deps`, the go command on PATH; pkg's tests are not counted).
func RuntimeImports(pkg string) ([]string, error) {
	module := strings.TrimSuffix(reflect.TypeOf(Env{}).PkgPath(), "/ordotest")
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", pkg).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return nil, fmt.Errorf("go list -deps %s: %v\n%s", pkg, err, ee.Stderr)
		}
		return nil, fmt.Errorf("go list -deps %s: %v", pkg, err)
	}
	var bad []string
	for _, dep := range strings.Fields(string(out)) {
		rel, ok := strings.CutPrefix(dep, module+"/")
		if !ok {
			continue
		}
		for _, r := range Runtimes {
			if rel == r || (strings.HasSuffix(r, "/...") && strings.HasPrefix(rel, strings.TrimSuffix(r, "..."))) {
				bad = append(bad, dep)
				break
			}
		}
	}
	return bad, nil
}
