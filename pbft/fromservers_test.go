package pbft_test

import (
	"testing"

	"ordo/scenario"
)

// The simulated client takes the replicas' f when its own options do not
// give it (Option.FromServers): at n = 3 with f = 1 run unsafely, it
// waits for f+1 = 2 matching replies, not the one that n = 3 would allow
// (a trial found a client that accepted one); a client that gives its own
// f keeps it, and servers that give none leave the client's default.
func TestPBFTClientTakesTheReplicasF(t *testing.T) {
	for _, c := range []struct{ servers, client, want string }{
		{"{f: 1, unsafe_quorum: 2}", "{ops: 1}", "1"},
		{"{f: 1, unsafe_quorum: 2}", "{ops: 1, f: 0}", "0"},
		{"{}", "{ops: 1}", "-1"},
	} {
		src := "name: x\nprotocol: pbft\nnodes: 3\noptions: " + c.servers + "\nclients:\n  - {count: 1, options: " + c.client + "}\nduration: 1s\n"
		sc, err := scenario.Parse("x.yaml", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		cfg := sc.Config(1, false)
		if len(cfg.Clients) != 1 {
			t.Fatalf("%d client groups", len(cfg.Clients))
		}
		if got := cfg.Clients[0].Options["f"]; got != c.want {
			t.Errorf("servers %s, client %s: the client's f is %q, want %q", c.servers, c.client, got, c.want)
		}
	}
}
