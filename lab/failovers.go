package lab

import (
	"fmt"
	"time"
)

// Failovers crashes the leader of a 5-node LAN cluster once for each seed
// 1..seeds (RunFailover) and returns the times from each crash to the new
// leader's election and until every node follows it, and how many seeds
// elected no new leader. seeds is at most MaxFailoverSeeds.
func Failovers(protocol string, opts map[string]string, seeds int) (elected, agreed []time.Duration, noLeader int, err error) {
	if seeds < 0 || seeds > MaxFailoverSeeds {
		return nil, nil, 0, fmt.Errorf("failover: %d seeds: at most %d", seeds, MaxFailoverSeeds)
	}
	for seed := 1; seed <= seeds; seed++ {
		f, err := RunFailover(FailoverConfig{Protocol: protocol, Options: opts, Nodes: 5}, uint64(seed))
		if err != nil {
			return nil, nil, 0, err
		}
		if f.Elected < 0 {
			noLeader++
			continue
		}
		elected = append(elected, f.Elected)
		if f.Agreed >= 0 {
			agreed = append(agreed, f.Agreed)
		}
	}
	return elected, agreed, noLeader, nil
}

// MaxFailoverSeeds bounds Failovers.
const MaxFailoverSeeds = 100000

// BenchCase is one protocol (and variant) of `ordo bench elect`.
type BenchCase struct{ Protocol, Variant string }

// BenchCases are the protocols `ordo bench elect` compares (section 4's
// Bully, Ring collecting IDs and Chang–Roberts, and Raft).
var BenchCases = []BenchCase{{"bully", ""}, {"ring", "collect"}, {"ring", "chang-roberts"}, {"raft", ""}}

// BenchTable runs Bench for every case of BenchCases at every size of ns,
// best case then worst, calling row with each row as it is measured (so
// a caller can print as it goes). It stops at the first error.
func BenchTable(ns []int, row func(*BenchRow)) error {
	for _, c := range BenchCases {
		for _, n := range ns {
			for _, worst := range []bool{false, true} {
				r, err := Bench(c.Protocol, c.Variant, n, worst)
				if err != nil {
					return err
				}
				row(r)
			}
		}
	}
	return nil
}
