package lab

import (
	"fmt"
	"sort"
	"strings"

	"ordo"
	"ordo/election"
)

// ElectionProtocols lists the registered protocols whose nodes implement
// election.Elector: the only ones the election checkers can judge.
func ElectionProtocols() []string {
	var out []string
	for _, name := range ordo.ProtocolNames() {
		p, err := ordo.Lookup(name)
		if err != nil {
			continue
		}
		opts, err := p.Resolve(nil)
		if err != nil {
			continue
		}
		nd, err := p.New(ordo.Config{ID: 1, N: 3, Opts: opts, Proto: p})
		if err != nil {
			continue
		}
		if _, ok := nd.(election.Elector); ok {
			out = append(out, name)
		}
	}
	return out
}

// Validate checks, before anything runs, that protocol is a registered
// leader election, that its options resolve and that a node of an n-node
// cluster accepts them (floors, orderings): the protocol's own error,
// without the simulator's "starting n1" around it.
func Validate(protocol string, options map[string]string, n int) (*ordo.Protocol, ordo.Options, error) {
	p, err := ordo.Lookup(serverProtocol(protocol))
	if err != nil {
		return nil, nil, fmt.Errorf("unknown protocol %q (leader elections: %s); leaderless stores: dynamo, dynamo-lww", protocol, strings.Join(ElectionProtocols(), ", "))
	}
	if n < 1 || n > MaxNodes {
		return nil, nil, fmt.Errorf("-n %d: need 1..%d nodes", n, MaxNodes)
	}
	opts, err := p.Resolve(options)
	if err != nil {
		return nil, nil, err
	}
	nd, err := p.New(ordo.Config{ID: 1, N: n, Opts: opts, Proto: p})
	if err != nil {
		return nil, nil, err
	}
	if _, ok := nd.(election.Elector); !ok && !Workloads[protocol].Leaderless {
		return nil, nil, fmt.Errorf("protocol %s is not a leader election, so the election checkers cannot judge it (leader elections: %s)", protocol, strings.Join(ElectionProtocols(), ", "))
	}
	return p, opts, nil
}

// FormatOptions prints protocol options as "k=v k=v", sorted by key, and
// nothing when there are none (a map's %v would print "map[k:v]").
func FormatOptions(o map[string]string) string {
	keys := make([]string, 0, len(o))
	for k := range o {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + o[k]
	}
	return strings.Join(parts, " ")
}
