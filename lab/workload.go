package lab

import (
	"fmt"
	"slices"

	"ordo"
	"ordo/sim"
	"ordo/trace"
)

// Workload is what a campaign of a protocol that serves clients adds to
// every run: client groups (by client protocol name and options, so lab
// need not import the protocol's package, which registers them), the
// checks of its histories and replicas beside the election ones, and the
// note kinds counted over the campaign.
type Workload struct {
	// Server is the registered protocol the servers run when it is not
	// the workload's own name (dynamo-lww runs dynamo).
	Server string
	// Leaderless: the servers elect no leader (the Dynamo-style store),
	// so the election checkers do not apply and only Checks run.
	Leaderless bool
	// Findings are checks whose failures are what the workload shows, not
	// bugs (last-write-wins loses writes): a campaign expects them to
	// fail in some seed (ordo explore --expect CHECK=fail) unless told
	// otherwise.
	Findings []string
	// Options are server options the campaign sets unless given.
	Options map[string]string
	Clients []WorkloadClients
	Checks  []string // run after DefaultChecks
	Counted []string // note kinds counted over the campaign (ExploreReport.Notes)
}

// WorkloadClients is one group of client nodes.
type WorkloadClients struct {
	Protocol string
	Options  map[string]string
	Count    int
	// Admin clients change the cluster (leadership transfers, membership):
	// they stop when the faults do, so the quiet tail judges liveness
	// undisturbed, as it does after every other fault.
	Admin bool
}

// kvWorkload is exercise 3's database under a campaign: two clients
// reading, writing, cas-ing and deleting three keys, and one that also
// transfers leadership and removes and re-adds servers every second;
// judged by the linearizable, no-lost-write and replica-agreement checks.
var kvWorkload = Workload{
	// Snapshots every 100 entries, so a 10s run compacts its log a few
	// times and lagging servers catch up by InstallSnapshot.
	Options: map[string]string{"snapshot_entries": "100", "note_every": "1"},
	Clients: []WorkloadClients{
		{Protocol: "kv-client", Count: 2, Options: map[string]string{"keys": "3", "concurrency": "2", "ops": "0", "think": "20ms", "timeout": "300ms"}},
		{Protocol: "kv-client", Count: 1, Options: map[string]string{"keys": "3", "concurrency": "1", "ops": "0", "think": "20ms", "timeout": "300ms", "admin_every": "1s"}, Admin: true},
	},
	Checks:  []string{"linearizable", "no-lost-write", "agreement"},
	Counted: []string{"snapshot", "install-snapshot", "transfer", "conf-change"},
}

// leaseWorkload runs no clients; it counts how often a waiting candidate
// revoked its dead predecessor's lease itself ("pred-revoked", the path
// of the even seeds, see lessorFor) and how often a session was given up.
var leaseWorkload = Workload{Counted: []string{"pred-revoked", "session-lost"}}

// Workloads are the campaign workloads by name: a server protocol's, or
// (with Server) a variant of one. The dynamo workloads are in
// dynamo_campaign.go.
var Workloads = map[string]Workload{"kv": kvWorkload, "kv-stale": kvWorkload, "lease": leaseWorkload,
	"dynamo": dynamoWorkload, "dynamo-lww": dynamoLWWWorkload}

// serverProtocol is the registered protocol the servers of a campaign
// of name run.
func serverProtocol(name string) string {
	if w, ok := Workloads[name]; ok && w.Server != "" {
		return w.Server
	}
	return name
}

// withWorkloadOptions is options over the workload's defaults.
func withWorkloadOptions(protocol string, options map[string]string) map[string]string {
	w, ok := Workloads[protocol]
	if !ok || len(w.Options) == 0 {
		return options
	}
	out := map[string]string{}
	for k, v := range w.Options {
		out[k] = v
	}
	for k, v := range options {
		out[k] = v
	}
	return out
}

// ChecksFor is the checks a run of protocol gets by default: the
// election checkers, and its workload's.
func ChecksFor(protocol string) []string {
	w, ok := Workloads[protocol]
	if !ok {
		return DefaultChecks
	}
	if w.Leaderless {
		return slices.Clone(w.Checks)
	}
	return append(slices.Clone(DefaultChecks), w.Checks...)
}

// clientGroups resolves protocol's workload for sim.Config.Clients; the
// clients stop issuing operations at stop (the quiet tail lets the last
// ones finish).
func clientGroups(protocol string, override map[string]string, stop, adminStop int64) ([]sim.ClientGroup, error) {
	w, ok := Workloads[protocol]
	if !ok || len(w.Clients) == 0 {
		if len(override) > 0 {
			return nil, fmt.Errorf("--client-option: protocol %s runs no clients in a campaign", protocol)
		}
		return nil, nil
	}
	var out []sim.ClientGroup
	for _, g := range w.Clients {
		p, err := ordo.Lookup(g.Protocol)
		if err != nil {
			return nil, fmt.Errorf("the workload of %s: %w (import its package)", protocol, err)
		}
		given := map[string]string{}
		for k, v := range g.Options {
			given[k] = v
		}
		if _, ok := given["for"]; !ok && stop > 0 {
			end := stop
			if g.Admin && adminStop > 0 {
				end = min(end, adminStop)
			}
			given["for"] = fmt.Sprintf("%dns", end)
		}
		for k, v := range override {
			given[k] = v
		}
		opts, err := p.Resolve(given)
		if err != nil {
			return nil, fmt.Errorf("--client-option: %w", err)
		}
		if _, err := p.New(ordo.Config{ID: 2, N: 1, Opts: opts, Proto: p, Role: ordo.Client}); err != nil {
			return nil, fmt.Errorf("--client-option: %w", err)
		}
		out = append(out, sim.ClientGroup{Protocol: p, Options: opts, Count: g.Count})
	}
	return out, nil
}

// checkClientOptions reports client options the workload's clients
// refuse.
func checkClientOptions(protocol string, override map[string]string) error {
	_, err := clientGroups(protocol, override, 0, 0)
	return err
}

// noteCounter counts a workload's note kinds over one run.
type noteCounter struct {
	kinds  []string
	counts map[string]int
}

func newNoteCounter(protocol string) *noteCounter {
	w, ok := Workloads[protocol]
	if !ok || len(w.Counted) == 0 {
		return nil
	}
	return &noteCounter{kinds: w.Counted, counts: map[string]int{}}
}

func (c *noteCounter) observe(e *trace.Event) {
	if c == nil || e.Kind != trace.Note {
		return
	}
	for _, k := range c.kinds {
		if e.Name == k {
			c.counts[k]++
			return
		}
	}
}
