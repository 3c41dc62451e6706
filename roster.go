package ordo

import (
	"fmt"
	"slices"
)

// Role is what a node is in a cluster.
type Role uint8

// The roles. Servers are the replicas that count toward quorums and that
// the election checkers judge; clients issue requests and record a history;
// services stand for a coordination service (etcd) a protocol relies on.
const (
	Server Role = iota
	Client
	Service
)

func (r Role) String() string {
	switch r {
	case Server:
		return "server"
	case Client:
		return "client"
	case Service:
		return "service"
	}
	return fmt.Sprintf("role(%d)", int(r))
}

// ParseRole reads "server", "client" or "service".
func ParseRole(s string) (Role, error) {
	switch s {
	case "server", "":
		return Server, nil
	case "client":
		return Client, nil
	case "service":
		return Service, nil
	}
	return 0, fmt.Errorf("unknown role %q (valid: server, client, service)", s)
}

// Roster is who is in a cluster, by role, each list in ascending order.
// Node IDs are unique across roles. By convention servers are 1..N and
// clients and services follow, but a membership change may add or remove
// servers.
type Roster struct {
	Servers  []NodeID
	Clients  []NodeID
	Services []NodeID
}

// NewRoster is the conventional roster: servers 1..servers, then clients,
// then services.
func NewRoster(servers, clients, services int) *Roster {
	r := &Roster{}
	id := NodeID(1)
	for range servers {
		r.Servers = append(r.Servers, id)
		id++
	}
	for range clients {
		r.Clients = append(r.Clients, id)
		id++
	}
	for range services {
		r.Services = append(r.Services, id)
		id++
	}
	return r
}

// Size is the number of nodes of every role.
func (r *Roster) Size() int { return len(r.Servers) + len(r.Clients) + len(r.Services) }

// MaxID is the largest node ID of any role (0 for an empty roster).
func (r *Roster) MaxID() NodeID {
	var m NodeID
	for _, l := range [][]NodeID{r.Servers, r.Clients, r.Services} {
		for _, id := range l {
			m = max(m, id)
		}
	}
	return m
}

// RoleOf returns id's role; ok is false for a node not in the roster.
func (r *Roster) RoleOf(id NodeID) (role Role, ok bool) {
	switch {
	case slices.Contains(r.Servers, id):
		return Server, true
	case slices.Contains(r.Clients, id):
		return Client, true
	case slices.Contains(r.Services, id):
		return Service, true
	}
	return 0, false
}

// IsServer reports whether id is a server.
func (r *Roster) IsServer(id NodeID) bool { return slices.Contains(r.Servers, id) }

// Quorum is a majority of the servers: ⌊n/2⌋+1.
func (r *Roster) Quorum() int { return len(r.Servers)/2 + 1 }

// Validate checks that IDs are positive, sorted and unique across roles.
func (r *Roster) Validate() error {
	seen := map[NodeID]Role{}
	for role, l := range [][]NodeID{r.Servers, r.Clients, r.Services} {
		for i, id := range l {
			if id <= 0 {
				return fmt.Errorf("roster: %s id %d is not positive", Role(role), id)
			}
			if i > 0 && l[i-1] >= id {
				return fmt.Errorf("roster: %s ids are not in ascending order at %v", Role(role), id)
			}
			if prev, dup := seen[id]; dup {
				return fmt.Errorf("roster: %v is both a %s and a %s", id, prev, Role(role))
			}
			seen[id] = Role(role)
		}
	}
	if len(r.Servers) == 0 {
		return fmt.Errorf("roster: no servers")
	}
	return nil
}

// PeersOf returns the servers other than id, a fresh slice: Env.Peers of
// node id (a client or service, being no server, gets every server).
func (r *Roster) PeersOf(id NodeID) []NodeID {
	out := make([]NodeID, 0, len(r.Servers))
	for _, s := range r.Servers {
		if s != id {
			out = append(out, s)
		}
	}
	return out
}
