package ordo

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Protocol describes a protocol that scenario files, the CLI, the simulator
// and the live runtime can name. Protocol packages register themselves in an
// init function; cmd/ordo imports them all.
type Protocol struct {
	Name string
	// Doc is one line for help texts.
	Doc string
	// Options lists every option the protocol accepts, with its default.
	Options []Option
	// New builds one node. It is called again for a restart, so it must
	// return a fresh value holding no state of a previous incarnation.
	New func(cfg Config) (Node, error)
	// Messages lists one zero value of every message type the protocol
	// sends. Register builds Codec from it and refuses the protocol if a
	// type cannot travel (see NewCodec).
	Messages []Message
	// Role is the role this protocol's nodes play: Server (the default)
	// for replicas, Client for workload generators, Service for a
	// coordination service.
	Role Role
	// Client names the client protocol a scenario uses when it asks for
	// clients without naming one ("" if the protocol serves no clients).
	Client string
	// Services names the service protocols a cluster of this protocol
	// needs, in roster order ("coord", "fenced-store"): the simulator,
	// scenario files and live clusters add one service node running each,
	// numbered after the clients (issue 15). A node finds them as
	// Env.Roster().Services[i].
	Services []string
	// SimOnly, when set, says why the protocol runs in the simulator only
	// (a live cluster refuses it with these words); empty: it runs live.
	SimOnly string
	// Codec encodes and decodes Messages; set by Register.
	Codec *Codec
}

// Option is one protocol option: a name, a default and a line of help.
type Option struct {
	Name    string
	Default string
	Help    string
	// Secret marks a key: traces and reports show it as SecretShown
	// (Protocol.Redact), and left empty it is filled by the runtime from
	// the cluster's secret (Protocol.FillSecrets): the simulator derives
	// that from its seed, a live cluster reads it from the file ordo
	// cluster up writes (mode 0600). A protocol must not ship a usable
	// default for it: a default is public.
	Secret bool
	// FromServers marks a client protocol's option that, when a client's
	// options do not give it, takes the value the servers' options give
	// an option of the same name (WithServers): PBFT's f, so that a
	// client accepts a result from f+1 matching replies of the f the
	// replicas run with, not the f its n would allow.
	FromServers bool
}

// WithServers returns given with each FromServers option of client p
// that given lacks taken from servers (the servers' options as written:
// a value they leave to its default stays the client's default). given
// is not modified.
func (p *Protocol) WithServers(given, servers map[string]string) map[string]string {
	out := maps.Clone(given)
	for _, o := range p.Options {
		_, mine := given[o.Name]
		if v, ok := servers[o.Name]; o.FromServers && ok && !mine {
			if out == nil {
				out = map[string]string{}
			}
			out[o.Name] = v
		}
	}
	return out
}

// SecretShown is what traces and reports print for a Secret option.
const SecretShown = "(secret)"

// FillSecrets returns opts with every empty Secret option of p set to a
// key derived from clusterSecret: hex of HMAC-SHA256(clusterSecret,
// protocol name, option name), 32 characters. Options not secret, or
// given, are kept; opts itself is not changed.
func (p *Protocol) FillSecrets(opts Options, clusterSecret []byte) Options {
	out := opts
	cloned := false
	for _, o := range p.Options {
		if !o.Secret || opts[o.Name] != "" {
			continue
		}
		if !cloned {
			out, cloned = maps.Clone(opts), true
			if out == nil {
				out = Options{}
			}
		}
		m := hmac.New(sha256.New, clusterSecret)
		m.Write([]byte(p.Name + "\x00" + o.Name))
		out[o.Name] = hex.EncodeToString(m.Sum(nil))[:32]
	}
	return out
}

// NeedsSecret names p's first Secret option that opts leaves empty ("" if
// none): a runtime without a cluster secret refuses to start it.
func (p *Protocol) NeedsSecret(opts Options) string {
	for _, o := range p.Options {
		if o.Secret && opts[o.Name] == "" {
			return o.Name
		}
	}
	return ""
}

// Redact returns opts with the values of p's Secret options replaced by
// SecretShown, for a trace or a report (opts is not changed).
func (p *Protocol) Redact(opts map[string]string) map[string]string {
	out := opts
	cloned := false
	for _, o := range p.Options {
		if v, ok := opts[o.Name]; o.Secret && ok && v != "" {
			if !cloned {
				out, cloned = maps.Clone(opts), true
			}
			out[o.Name] = SecretShown
		}
	}
	return out
}

// Config is what a protocol's New receives.
type Config struct {
	ID    NodeID
	N     int     // the number of servers at boot
	Opts  Options // already checked against Protocol.Options, defaults filled
	Proto *Protocol
	Role  Role
	// Roster is who is in the cluster at boot (nil: servers 1..N, no
	// clients). Env.Roster has the current one.
	Roster *Roster
}

// Servers returns the roster at boot (servers 1..N when none was given).
func (c Config) Servers() *Roster {
	if c.Roster == nil {
		return NewRoster(c.N, 0, 0)
	}
	return c.Roster
}

// Options are a protocol's options as strings (from YAML or flags), read with
// typed accessors. Every key has passed validation by Protocol.Resolve.
type Options map[string]string

// Duration reads an option as a time.Duration ("150ms").
func (o Options) Duration(name string) time.Duration {
	d, err := time.ParseDuration(o[name])
	if err != nil {
		panic(fmt.Sprintf("ordo: option %s=%q was validated but does not parse: %v", name, o[name], err))
	}
	return d
}

// Int reads an option as an int.
func (o Options) Int(name string) int {
	v, err := strconv.Atoi(o[name])
	if err != nil {
		panic(fmt.Sprintf("ordo: option %s=%q was validated but does not parse: %v", name, o[name], err))
	}
	return v
}

// Bool reads an option as a bool.
func (o Options) Bool(name string) bool {
	v, err := strconv.ParseBool(o[name])
	if err != nil {
		panic(fmt.Sprintf("ordo: option %s=%q was validated but does not parse: %v", name, o[name], err))
	}
	return v
}

// String reads an option as it is.
func (o Options) String(name string) string { return o[name] }

// Resolve checks user-given options against the protocol's declared ones and
// fills in defaults. Values are checked to parse as the type of their
// default (duration, int, bool), so accessors cannot fail later.
func (p *Protocol) Resolve(given map[string]string) (Options, error) {
	out := Options{}
	known := map[string]Option{}
	for _, o := range p.Options {
		known[o.Name] = o
		out[o.Name] = o.Default
	}
	for k, v := range given {
		o, ok := known[k]
		if !ok {
			return nil, fmt.Errorf("protocol %s has no option %q (valid: %s)", p.Name, k, strings.Join(p.OptionNames(), ", "))
		}
		if err := sameKind(o.Default, v); err != nil {
			return nil, fmt.Errorf("option %s of protocol %s: %v", k, p.Name, err)
		}
		out[k] = v
	}
	return out, nil
}

// OptionNames lists the protocol's option names, sorted.
func (p *Protocol) OptionNames() []string {
	var names []string
	for _, o := range p.Options {
		names = append(names, o.Name)
	}
	sort.Strings(names)
	return names
}

func sameKind(def, v string) error {
	// An integer first: "0" also parses as a duration, and an integer
	// option defaulting to 0 ("rate") must take "50".
	if _, err := strconv.Atoi(def); err == nil {
		if _, err := strconv.Atoi(v); err != nil {
			return fmt.Errorf("%q is not an integer", v)
		}
		return nil
	}
	if _, err := time.ParseDuration(def); err == nil {
		if d, err := time.ParseDuration(v); err != nil || d < 0 {
			return fmt.Errorf("%q is not a non-negative duration like %q", v, def)
		}
		return nil
	}
	if _, err := strconv.Atoi(def); err == nil {
		if _, err := strconv.Atoi(v); err != nil {
			return fmt.Errorf("%q is not an integer", v)
		}
		return nil
	}
	if _, err := strconv.ParseBool(def); err == nil {
		if _, err := strconv.ParseBool(v); err != nil {
			return fmt.Errorf("%q is not true or false", v)
		}
	}
	return nil
}

var protocols = map[string]*Protocol{}

// Register makes a protocol known by name. It panics on a duplicate name:
// that is a programming error caught at init.
func Register(p *Protocol) {
	if p.Name == "" || p.New == nil {
		panic("ordo: Register needs a name and New")
	}
	if _, dup := protocols[p.Name]; dup {
		panic("ordo: protocol registered twice: " + p.Name)
	}
	c, err := NewCodec(p.Messages)
	if err != nil {
		panic(fmt.Sprintf("ordo: protocol %s: %v", p.Name, err))
	}
	p.Codec = c
	protocols[p.Name] = p
}

// Lookup finds a registered protocol; the error lists the valid names.
func Lookup(name string) (*Protocol, error) {
	if p, ok := protocols[name]; ok {
		return p, nil
	}
	return nil, fmt.Errorf("unknown protocol %q (valid: %s)", name, strings.Join(ProtocolNames(), ", "))
}

// ProtocolNames lists registered protocols, sorted.
func ProtocolNames() []string {
	var names []string
	for n := range protocols {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
