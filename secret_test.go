package ordo

import "testing"

// A Secret option left empty gets a key derived from the cluster's
// secret: the same for every node of one cluster, another for another
// cluster; given, it is kept; traces see it redacted.
func TestSecretOptions(t *testing.T) {
	p := &Protocol{Name: "p", Options: []Option{{Name: "key", Secret: true}, {Name: "n", Default: "3"}}}
	opts, err := p.Resolve(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.NeedsSecret(opts); got != "key" {
		t.Fatalf("NeedsSecret %q, want key", got)
	}
	a, b := p.FillSecrets(opts, []byte("cluster A")), p.FillSecrets(opts, []byte("cluster B"))
	if opts["key"] != "" {
		t.Fatal("FillSecrets changed its argument")
	}
	if a["key"] == "" || len(a["key"]) != 32 || a["key"] == b["key"] || a["n"] != "3" {
		t.Fatalf("filled %v and %v", a, b)
	}
	if again := p.FillSecrets(opts, []byte("cluster A")); again["key"] != a["key"] {
		t.Fatal("not deterministic")
	}
	if p.NeedsSecret(a) != "" {
		t.Fatal("still needs a secret once filled")
	}
	given := Options{"key": "mine", "n": "3"}
	if p.FillSecrets(given, []byte("x"))["key"] != "mine" {
		t.Fatal("a given key was replaced")
	}
	if r := p.Redact(map[string]string(a)); r["key"] != SecretShown || r["n"] != "3" || a["key"] == SecretShown {
		t.Fatalf("redacted %v (from %v)", r, a)
	}
}
