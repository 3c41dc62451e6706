package lab

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"ordo/dynamo"
	"ordo/history"
	"ordo/sim"
)

// DynamoQuorum is one configuration of the Dynamo-style store: N replicas
// per key, R replicas answering a get, W storing a put.
type DynamoQuorum struct{ N, R, W int }

func (q DynamoQuorum) String() string { return fmt.Sprintf("N=%d R=%d W=%d", q.N, q.R, q.W) }

// ParseDynamoQuorums parses a list of quorums, "N:R:W" comma-separated
// ("3:2:2,3:1:1"). Errors: a malformed item, 1 ≤ R, W ≤ N ≤ 64 broken,
// more than 16 items.
func ParseDynamoQuorums(s string) ([]DynamoQuorum, error) {
	const maxQuorums = 16
	items := strings.Split(s, ",")
	if len(items) > maxQuorums {
		return nil, fmt.Errorf("%d quorums: at most %d", len(items), maxQuorums)
	}
	var out []DynamoQuorum
	for _, it := range items {
		f := strings.Split(strings.TrimSpace(it), ":")
		if len(f) != 3 {
			return nil, fmt.Errorf("quorum %q: want N:R:W, as 3:2:2", it)
		}
		var v [3]int
		for i, x := range f {
			n, err := strconv.Atoi(x)
			if err != nil {
				return nil, fmt.Errorf("quorum %q: %q is not a number", it, x)
			}
			v[i] = n
		}
		q := DynamoQuorum{v[0], v[1], v[2]}
		if q.N < 1 || q.N > 64 || q.R < 1 || q.R > q.N || q.W < 1 || q.W > q.N {
			return nil, fmt.Errorf("quorum %q: want 1 ≤ R, W ≤ N ≤ 64", it)
		}
		out = append(out, q)
	}
	return out, nil
}

// DynamoLoadConfig is one measurement of the store (issue 12: throughput
// and latency at N=3, R=W=2 against R=W=1): Clients client nodes, each
// running the seeded get/put workload in a closed loop with Outstanding
// operations in flight and no pause, over Keys keys, Reads percent gets;
// the servers resolve concurrent writes as siblings (the default
// resolution), with anti-entropy and read repair on.
type DynamoLoadConfig struct {
	Quorum      DynamoQuorum
	Servers     int // 0: Quorum.N
	Clients     int
	Outstanding int
	Keys        int
	Reads       int
	Duration    time.Duration
	Seed        uint64
}

// Replication is c as the generic load (ReplicationLoad, and live
// liveload.Run). Errors: sizes out of bounds.
func (c DynamoLoadConfig) Replication() (ReplicationLoadConfig, error) {
	q := c.Quorum
	servers := c.Servers
	if servers == 0 {
		servers = q.N
	}
	switch {
	case q.N < 1 || q.R < 1 || q.R > q.N || q.W < 1 || q.W > q.N:
		return ReplicationLoadConfig{}, fmt.Errorf("%v: want 1 ≤ R, W ≤ N", q)
	case servers < q.N || servers > sim.MaxNodes:
		return ReplicationLoadConfig{}, fmt.Errorf("%d servers with N=%d: want N..%d", servers, q.N, sim.MaxNodes)
	case c.Outstanding < 1 || c.Outstanding > 64:
		return ReplicationLoadConfig{}, fmt.Errorf("%d operations outstanding per client: want 1..64", c.Outstanding)
	case c.Keys < 1 || c.Keys > dynamo.MaxKeys:
		return ReplicationLoadConfig{}, fmt.Errorf("%d keys: want 1..%d", c.Keys, dynamo.MaxKeys)
	case c.Reads < 0 || c.Reads > 100:
		return ReplicationLoadConfig{}, fmt.Errorf("%d%% reads: want 0..100", c.Reads)
	}
	return ReplicationLoadConfig{Protocol: "dynamo", Nodes: servers, Clients: c.Clients, Duration: c.Duration, Seed: c.Seed,
		Options: map[string]string{"n_replicas": strconv.Itoa(q.N), "r": strconv.Itoa(q.R), "w": strconv.Itoa(q.W)},
		ClientOptions: map[string]string{"concurrency": strconv.Itoa(c.Outstanding), "keys": strconv.Itoa(c.Keys),
			"reads": strconv.Itoa(c.Reads)}}, nil
}

// DynamoLoad runs one measurement in the simulator. Errors:
// Replication's and ReplicationLoad's.
func DynamoLoad(c DynamoLoadConfig) (*ReplicationLoadResult, error) {
	rc, err := c.Replication()
	if err != nil {
		return nil, err
	}
	return ReplicationLoad(rc)
}

// dynamoLoadClient is dynamo-client under load: the seeded workload with
// no limit and no pause, one operation in flight (concurrency), gets and
// puts timed apart (the history's f). A get ends at its answer's
// dynamo-get note (a get of siblings is recorded op-info in the history:
// no single value, yet answered); a put at op-ok.
func dynamoLoadClient() LoadClient {
	return LoadClient{Options: map[string]string{"ops": "0", "think": "0s", "concurrency": "1", "keys": "100", "reads": "50", "timeout": "500ms"},
		Start: history.NoteInvoke, End: []string{dynamo.NoteGet, history.NoteOK}, Fail: []string{history.NoteFail, history.NoteInfo}, Kind: "f"}
}

// DynamoQuorumOf is the quorum a dynamo load ran with (zero if c is not
// one made by Replication).
func DynamoQuorumOf(c ReplicationLoadConfig) DynamoQuorum {
	n, _ := strconv.Atoi(c.Options["n_replicas"])
	r, _ := strconv.Atoi(c.Options["r"])
	w, _ := strconv.Atoi(c.Options["w"])
	return DynamoQuorum{n, r, w}
}

// DynamoRatio compares the store at R=W=1 with a larger quorum at the same
// N and servers: each figure is R=W=1's divided by the larger quorum's
// (0 where the larger one's is 0).
type DynamoRatio struct {
	One, Larger   DynamoQuorum
	OpsPerS       float64
	MessagesPerOp float64
	// By kind: get, put.
	P50, P99 map[string]float64
}

// DynamoRatios pairs every R=W=1 row with each row of a larger quorum at
// the same N, servers and load, in the order of rows.
func DynamoRatios(rows []*ReplicationLoadResult) []DynamoRatio {
	var out []DynamoRatio
	for _, a := range rows {
		qa := DynamoQuorumOf(a.Config)
		if qa.R != 1 || qa.W != 1 {
			continue
		}
		for _, b := range rows {
			qb := DynamoQuorumOf(b.Config)
			if qb.N != qa.N || qb == qa || b.Config.Nodes != a.Config.Nodes || b.Config.Clients != a.Config.Clients || b.Live != a.Live {
				continue
			}
			d := DynamoRatio{One: qa, Larger: qb, OpsPerS: ratio(a.SimOpsPerS, b.SimOpsPerS), MessagesPerOp: ratio(a.MessagesPerOp, b.MessagesPerOp),
				P50: map[string]float64{}, P99: map[string]float64{}}
			for _, ka := range a.Kinds {
				for _, kb := range b.Kinds {
					if ka.Kind == kb.Kind {
						d.P50[ka.Kind] = ratio(ka.P50Ms, kb.P50Ms)
						d.P99[ka.Kind] = ratio(ka.P99Ms, kb.P99Ms)
					}
				}
			}
			out = append(out, d)
		}
	}
	return out
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
