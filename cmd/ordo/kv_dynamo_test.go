package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"ordo/dynamo"
	dynclient "ordo/dynamo/client"
)

// `ordo kv` against `ordo cluster up --protocol dynamo`: real processes,
// TLS and the client token; siblings from two writes with one stale
// context, a put with the merged context superseding them, delete, carts,
// and the refusals (a forged context, a wrong token, oversize keys and
// values, the Raft database's commands).
func TestKVDynamoCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("builds ordo and runs real processes; skipped with -short")
	}
	tmp, run := ordoProcs(t) // run returns stdout, stderr and the exit status
	up := func(dir string, n string, opts ...string) []string {
		t.Helper()
		args := append([]string{"cluster", "up", "--protocol", "dynamo", "-n", n, "--detach", "--dir", dir}, opts...)
		if out, errs, code := run(args...); code != 0 {
			t.Fatalf("cluster up: %d\n%s%s", code, out, errs)
		}
		t.Cleanup(func() { run("cluster", "down", "--dir", dir) })
		k := []string{"--cluster", dir}
		// Until the servers have connected, a get may miss its R.
		deadline := time.Now().Add(20 * time.Second)
		for {
			_, errs, code := run(append([]string{"kv", "get", "warm-up"}, k...)...)
			if code == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the store never answered a get: exit %d, %s", code, errs)
			}
			time.Sleep(200 * time.Millisecond)
		}
		return k
	}
	dir := filepath.Join(tmp, "dyn")
	k := up(dir, "3")
	if out, _, _ := run("cluster", "status", "--dir", dir); !strings.Contains(out, "client API: n1 127.0.0.1:") {
		t.Errorf("cluster status does not show the client addresses:\n%s", out)
	}
	kv := func(want int, args ...string) (string, string) {
		t.Helper()
		out, errs, code := run(append(append([]string{"kv"}, args...), k...)...)
		if code != want {
			t.Fatalf("ordo kv %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, want, out, errs)
		}
		return out, errs
	}
	context := func(out string) string {
		t.Helper()
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		c, ok := strings.CutPrefix(lines[len(lines)-1], "context: ")
		if !ok {
			t.Fatalf("no context line last: %q", out)
		}
		return c
	}
	values := func(out string) []string {
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		v := lines[:len(lines)-1]
		slices.Sort(v)
		return v
	}

	if out, _ := kv(0, "put", "x", "A"); !strings.HasPrefix(out, "OK [") {
		t.Errorf("put: %q", out)
	}
	out, _ := kv(0, "get", "x")
	if v := values(out); !slices.Equal(v, []string{"A"}) {
		t.Fatalf("get x: %q, want A", out)
	}
	stale := context(out)
	// Two writes from the same stale context: siblings.
	kv(0, "put", "x", "B", "--context", stale)
	kv(0, "put", "x", "C", "--context", stale)
	out, _ = kv(0, "get", "x")
	if v := values(out); !slices.Equal(v, []string{"B", "C"}) {
		t.Fatalf("get x after two puts from one context: %q, want siblings B and C", out)
	}
	js, _ := kv(0, "get", "x", "--json")
	var g struct {
		Found    bool `json:"found"`
		Siblings []struct {
			Value   string `json:"value"`
			Deleted bool   `json:"deleted"`
			Vec     string `json:"vec"`
		} `json:"siblings"`
		Context string `json:"context"`
	}
	if err := json.Unmarshal([]byte(js), &g); err != nil || !g.Found || len(g.Siblings) != 2 || g.Context != context(out) || g.Siblings[0].Vec == "" {
		t.Fatalf("get --json: %q (%v)", js, err)
	}
	// A put with the merged context supersedes both.
	kv(0, "put", "x", "B+C", "--context", context(out))
	out, _ = kv(0, "get", "x")
	if v := values(out); !slices.Equal(v, []string{"B+C"}) {
		t.Fatalf("after the resolving put: %q, want B+C alone", out)
	}
	// A forged context is refused: change one byte of the tag.
	forged := []byte(context(out))
	forged[len(forged)-4] ^= 'A' ^ 'B'
	if forged[len(forged)-4] == '=' || forged[len(forged)-4] == context(out)[len(forged)-4] {
		forged[len(forged)-4] = 'Q'
	}
	if _, errs := kv(2, "put", "x", "Z", "--context", string(forged)); !strings.Contains(errs, "context") {
		t.Errorf("forged context: %q", errs)
	}
	// Nor can anyone who knows the code sign one: the key is derived from
	// the cluster's secret (cluster.secret, 0600), not a public default
	// (it was "ordo-dynamo", and a context claiming counters the servers
	// never issued was accepted). The scheme byte is the real context's.
	real, err := base64.StdEncoding.DecodeString(context(out))
	if err != nil || len(real) < 2 {
		t.Fatalf("context %q: %v", context(out), err)
	}
	for _, key := range []string{"ordo-dynamo", ""} {
		fake := dynamo.EncodeContext([]byte(key), "x", real[1], dynamo.Ctx{1: 1000, 2: 1000, 3: 1000})
		if _, errs := kv(2, "put", "x", "evil", "--context", base64.StdEncoding.EncodeToString(fake)); !strings.Contains(errs, "forged") {
			t.Errorf("context signed with %q: %q, want it refused as forged", key, errs)
		}
	}
	if _, errs := kv(2, "del", "x", "--context", "not base64!"); !strings.Contains(errs, "base64") {
		t.Errorf("garbage context: %q", errs)
	}
	// Delete: reads the context itself; then not found.
	if out, _ := kv(0, "del", "x"); !strings.HasPrefix(out, "deleted [") {
		t.Errorf("del: %q", out)
	}
	out, errs := kv(1, "get", "x")
	if !strings.Contains(errs, "not found") || !strings.HasPrefix(out, "context: ") {
		t.Errorf("get after del: %q %q, want not found and a context", out, errs)
	}
	kv(1, "del", "x")
	// A delete with a stale context beside a concurrent put: the put
	// survives beside the tombstone.
	kv(0, "put", "y", "1")
	out, _ = kv(0, "get", "y")
	c1 := context(out)
	kv(0, "put", "y", "2", "--context", c1)
	kv(0, "del", "y", "--context", c1)
	out, errs = kv(0, "get", "y")
	if v := values(out); !slices.Equal(v, []string{"2"}) || !strings.Contains(errs, "tombstone") {
		t.Errorf("get after a concurrent put and delete: %q %q, want 2 beside a tombstone", out, errs)
	}
	// Bounds.
	if _, errs := kv(2, "put", strings.Repeat("k", 129), "v"); !strings.Contains(errs, "key of 129 bytes") {
		t.Errorf("oversize key: %q", errs)
	}
	if _, errs := kv(2, "put", "x", strings.Repeat("v", 1025)); !strings.Contains(errs, "value of 1025 bytes") {
		t.Errorf("oversize value: %q", errs)
	}
	// The Raft database's commands and flags say so.
	for _, args := range [][]string{{"cas", "x", "1", "--absent"}, {"range"}, {"watch", "x"}, {"snapshot", "save", filepath.Join(tmp, "s")}, {"member", "add", "4"}, {"status"}, {"get", "x", "--read", "lease"}} {
		if _, errs := kv(2, args...); !strings.Contains(errs, "kv database") {
			t.Errorf("ordo kv %v on dynamo: %q", args, errs)
		}
	}
	if _, errs := kv(2, "cart", "add", "c", "apple"); !strings.Contains(errs, "resolution=merge") {
		t.Errorf("cart on a client-resolution bucket: %q", errs)
	}
	// A wrong token: 401, exit 2.
	tok := filepath.Join(dir, "client.token")
	good, _ := os.ReadFile(tok)
	os.WriteFile(tok, []byte(strings.Repeat("0", 64)+"\n"), 0o600)
	if _, errs := kv(2, "get", "x"); !strings.Contains(errs, "401") {
		t.Errorf("a wrong token: %q", errs)
	}
	os.WriteFile(tok, good, 0o600)

	// Carts, observed-remove, on five servers with N=3: a server
	// outside a cart's preference list forwards and relays.
	dir = filepath.Join(tmp, "cart")
	k = up(dir, "5", "-o", "resolution=merge", "-o", "merge=orset", "-o", "n_replicas=3")
	kv(0, "cart", "add", "c", "apple")
	kv(0, "cart", "add", "c", "pear")
	if out, _ := kv(0, "cart", "remove", "c", "apple"); !strings.Contains(out, "holds pear") {
		t.Errorf("cart remove: %q", out)
	}
	if _, errs := kv(1, "cart", "remove", "c", "plum"); !strings.Contains(errs, "not in cart") {
		t.Errorf("cart remove of an absent item: %q", errs)
	}
	if out, _ := kv(0, "cart", "show", "c"); out != "pear\n" {
		t.Errorf("cart show: %q, want pear", out)
	}
	kv(1, "cart", "show", "nothing")
	// Every server answers for every key: two of five are outside a
	// key's preference list and relay.
	cfg, err := dynclient.ClusterConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i, ep := range cfg.Endpoints {
		one := cfg
		one.Endpoints = []string{ep}
		c, err := dynclient.New(one)
		if err != nil {
			t.Fatal(err)
		}
		item := fmt.Sprintf("item%d", i+1)
		if items, err := c.CartAdd(t.Context(), "relay", item); err != nil || !slices.Contains(items, item) {
			t.Errorf("cart add at %s (n%d): %v %v", ep, i+1, items, err)
		}
		c.Close()
	}
	if out, _ := kv(0, "cart", "show", "relay"); out != "item1\nitem2\nitem3\nitem4\nitem5\n" {
		t.Errorf("cart relay: %q, want the five items added at the five servers", out)
	}
	if _, errs := kv(2, "cart", "add", "c", "Apple!"); !strings.Contains(errs, "item") {
		t.Errorf("a bad item: %q", errs)
	}
}
