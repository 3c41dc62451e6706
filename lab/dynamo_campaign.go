package lab

// The Dynamo-style store under a campaign (issue 12): `ordo explore
// dynamo` and `ordo explore dynamo-lww`. Three clients get and put three
// keys (each put with the context of the client's last get of its key, a
// get of siblings followed by a write-back), as scenarios/dynamo-workload
// does, on five servers with N=3, R=W=2, under the fault profile's
// crashes, partitions, loss, pauses and clock steps. With dotted version
// vectors and client resolution no acknowledged write may be lost
// (no-lost-write, no-lost-sibling) and every replica must converge once
// the faults stop (convergence); with last-write-wins the lost writes are
// the finding, expected, while the replicas still converge.

var dynamoClients = []WorkloadClients{{Protocol: "dynamo-client", Count: 3,
	Options: map[string]string{"keys": "3", "concurrency": "2", "ops": "0", "reads": "50", "think": "40ms", "timeout": "400ms"}}}

// dynamoCounted are the store's notes a campaign counts: concurrent
// siblings kept, writes last-write-wins discarded (an overwrite included),
// requests refused.
var dynamoCounted = []string{"dynamo-concurrent", "lost-write", "dynamo-refused"}

var dynamoWorkload = Workload{
	Leaderless: true,
	Options:    map[string]string{"n_replicas": "3", "r": "2", "w": "2", "resolution": "client", "versions": "dvv"},
	Clients:    dynamoClients,
	Checks:     []string{"no-lost-write", "no-lost-sibling", "convergence"},
	Counted:    dynamoCounted,
}

var dynamoLWWWorkload = Workload{
	Server:     "dynamo",
	Leaderless: true,
	Options:    map[string]string{"n_replicas": "3", "r": "2", "w": "2", "resolution": "lww"},
	Clients:    dynamoClients,
	Checks:     []string{"no-lost-write", "no-lost-sibling", "convergence"},
	Findings:   []string{"no-lost-write", "no-lost-sibling"},
	Counted:    dynamoCounted,
}
