package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ordo/trace"
)

// run executes the ordo command line args and returns its output and error.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

func TestSimReportAndExitCodes(t *testing.T) {
	out, err := run(t, "sim", "broadcast-lossy")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"scenario broadcast-lossy", "1. The network is reliable", "7. Transport cost is zero", "PASS all-delivered", "expectations met"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	// An unmet expectation is exit status 1.
	dir := t.TempDir()
	f := filepath.Join(dir, "unmet.yaml")
	src := "name: unmet\nprotocol: broadcast\nnodes: 3\nduration: 150ms\nnetwork: {latency: intercontinental}\nchecks: [all-delivered]\nexpect: {all-delivered: pass}\n"
	if err := os.WriteFile(f, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = run(t, "sim", f)
	var ec exitCode
	if !errors.As(err, &ec) || ec != 1 {
		t.Fatalf("unmet expect: got %v, want exit status 1", err)
	}
	// Bad input is an ordinary error (exit status 2) naming the line.
	if err := os.WriteFile(f, []byte("name: bad\nprotocol: nope\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = run(t, "sim", f)
	if err == nil || errors.As(err, &ec) || !strings.Contains(err.Error(), "unmet.yaml:2:11: protocol: unknown protocol") {
		t.Fatalf("bad file: got %v", err)
	}
	if _, err := run(t, "sim", "no-such-scenario"); err == nil || !strings.Contains(err.Error(), "broadcast-lossy") {
		t.Fatalf("unknown scenario: got %v", err)
	}
}

func TestSimJSONAndList(t *testing.T) {
	out, err := run(t, "sim", "broadcast-tampered", "--json", "--seed", "3")
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Seed      uint64
		OK        bool
		Fallacies []struct{ Number int }
		Messages  map[string]struct{ Sent int }
	}
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if s.Seed != 3 || s.Messages["value"].Sent == 0 || len(s.Fallacies) == 0 {
		t.Fatalf("json %+v", s)
	}
	out, err = run(t, "sim", "--list")
	if err != nil || !strings.Contains(out, "broadcast-partition") {
		t.Fatalf("%v\n%s", err, out)
	}
}

func TestTraceWhy(t *testing.T) {
	f := filepath.Join(t.TempDir(), "run.jsonl")
	if _, err := run(t, "sim", "broadcast-lossy", "--trace", f); err != nil {
		t.Fatal(err)
	}
	// e1 and e2 are two nodes' start events: concurrent.
	out, err := run(t, "trace", "why", f, "e1", "2")
	if err != nil || !strings.Contains(out, "e1 ∥ e2") || !strings.Contains(out, "≰") {
		t.Fatalf("%v\n%s", err, out)
	}
	// A node's start precedes a later event of the same node, through
	// messages or program order.
	out, err = run(t, "trace", "why", f, "e40", "e3")
	if err != nil || !strings.Contains(out, "e3 → e40") || !strings.Contains(out, "rule 1") {
		t.Fatalf("%v\n%s", err, out)
	}
	if _, err := run(t, "trace", "why", f, "x", "e3"); err == nil {
		t.Fatal("bad event id accepted")
	}
	if _, err := run(t, "trace", "why", f, "e1", "e999999"); err == nil {
		t.Fatal("event out of range accepted")
	}
}

// A trace without vector stamps is answered from its happens-before graph:
// the chain proves a → b, and a ∥ b is said without a vector argument.
func TestTraceWhyWithoutVectors(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "run.jsonl")
	if _, err := run(t, "sim", "broadcast-lossy", "--trace", f); err != nil {
		t.Fatal(err)
	}
	tr, err := trace.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	for i := range tr.Events {
		tr.Events[i].Vector = nil
	}
	nov := filepath.Join(dir, "novector.jsonl")
	if err := tr.WriteFile(nov); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "trace", "why", nov, "e1", "e2")
	if err != nil || !strings.Contains(out, "e1 ∥ e2") || strings.Contains(out, "≰") {
		t.Fatalf("%v\n%s", err, out)
	}
	out, err = run(t, "trace", "why", nov, "e40", "e3")
	if err != nil || !strings.Contains(out, "e3 → e40") || strings.Contains(out, "≤ V(") {
		t.Fatalf("%v\n%s", err, out)
	}
}

func TestTour(t *testing.T) {
	var out bytes.Buffer
	if err := runTour(&out, 0); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "1. The eight fallacies") {
		t.Fatal(out.String())
	}
	if err := runTour(&out, 9); err == nil {
		t.Fatal("section 9 has no scenes yet, and no error said so")
	}
}

func TestSimClientsFlag(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "run.jsonl")
	out, err := run(t, "sim", "register-linearizable", "--clients", "1", "--trace", f)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "5 servers + 1 client (register-client)") {
		t.Errorf("report head: %s", strings.SplitN(out, "\n", 2)[0])
	}
	tr, err := trace.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	if m := tr.Meta; m.Nodes != 6 || len(m.Servers) != 5 || len(m.Clients) != 1 || m.Clients[0] != 6 || m.ClientProtocol != "register-client" {
		t.Errorf("meta %+v", m)
	}
	for _, bad := range [][]string{{"sim", "broadcast-lossy", "--clients", "2"}, {"sim", "register-linearizable", "--clients", "-1"}} {
		if out, err := run(t, bad...); err == nil || !strings.Contains(err.Error()+out, "--clients") {
			t.Errorf("%v: %v\n%s", bad, err, out)
		}
	}
}

// --auth changes how links authenticate, not the run: pbft-4-signed (a
// forging backup) reports the same with MACs and with signatures, every
// forgery refused; a bad mode or unauthenticated links are refused.
func TestSimAuthFlag(t *testing.T) {
	var reports []string
	for _, mode := range []string{"mac", "ed25519"} {
		out, err := run(t, "sim", "pbft-4-signed", "--auth", mode)
		if err != nil {
			t.Fatalf("--auth %s: %v\n%s", mode, err, out)
		}
		if !strings.Contains(out, "refused: 0 malformed, 146 unauthenticated") {
			t.Fatalf("--auth %s: the forgeries were not refused:\n%s", mode, out)
		}
		reports = append(reports, out)
	}
	if reports[0] != reports[1] {
		t.Fatalf("the reports differ:\n%s\n---\n%s", reports[0], reports[1])
	}
	for _, c := range []struct{ args, want string }{
		{"sim pbft-4 --auth rsa", `--auth: unknown authentication "rsa" (valid: mac, ed25519)`},
		{"sim broadcast-lossy --auth ed25519", "--auth: ed25519 is how authenticated links authenticate"},
	} {
		if out, err := run(t, strings.Fields(c.args)...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v\n%s", c.args, err, out)
		}
	}
}
