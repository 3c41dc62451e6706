package scenario

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzParse: no input makes the parser panic, and every error it returns is
// a *Error placed on a line of the document.
func FuzzParse(f *testing.F) {
	f.Add([]byte(full))
	f.Add([]byte("name: x\nprotocol: broadcast\nnodes: 3\nduration: 1s\n"))
	f.Add([]byte("name: x\nprotocol: broadcast\nnodes: 5\nduration: 10s\nfaults:\n  - {at: 1s, partition: \"1,2/3\"}\n"))
	f.Add([]byte("name: x\n  protocol: [\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("\xff\xfe"))
	f.Add([]byte(withClients))
	f.Add([]byte(withServices))
	f.Add([]byte("name: x\nprotocol: scenario-test-svc-user\nnodes: 3\nduration: 1s\nservices:\n  - {options: {tag: y}}\n  - {protocol: scenario-test-echo}\n"))
	f.Add([]byte("name: x\nprotocol: scenario-test-server\nnodes: 3\nduration: 1s\nclients:\n  - {count: 2, protocol: scenario-test-client, options: {interval: 5ms}}\n  - {count: -1}\n"))
	f.Add([]byte("name: x\nprotocol: broadcast\nnodes: 3\nduration: 1s\nclients: {count: 1, protocol: broadcast}\n"))
	f.Add([]byte(leaderBase + "disk: {sync_latency: 1ms}\nfaults:\n  - {at: 3s, pause: leader, for: 1s}\n  - {at: 1s, crash: leader}\n  - {at: 2s, clock_jump: leader, by: -2s}\n  - {at: 2s, crash_torn: leader}\n"))
	f.Add([]byte(leaderBase + "faults:\n  - {at: 2s, restart: leader}\n"))
	f.Add([]byte(leaderBase + "faults:\n  - {at: 2s, pause: LEADER}\n"))
	f.Add([]byte(naiveBase + "byzantine:\n  - {node: 1, behaviour: replay, after: 1s, rate: 0.5}\n  - {node: 2, behaviour: forge, as: 3}\n  - {node: 3, behaviour: garbage}\n"))
	files, _ := filepath.Glob("../scenarios/*.yaml")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		type out struct {
			sc  *Scenario
			err error
		}
		done := make(chan out, 1)
		go func() {
			sc, err := Parse("fuzz.yaml", data)
			done <- out{sc, err}
		}()
		var o out
		select {
		case o = <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("Parse hangs on %q", data)
		}
		sc, err := o.sc, o.err
		if err == nil {
			if sc == nil || sc.Protocol == nil || sc.Nodes < 1 || sc.Duration <= 0 {
				t.Fatalf("accepted an incomplete scenario: %+v", sc)
			}
			return
		}
		var pe *Error
		if !errors.As(err, &pe) {
			t.Fatalf("error without a position: %v", err)
		}
		lines := bytes.Count(data, []byte("\n")) + 1
		if pe.Line < 1 || pe.Line > lines+1 || pe.Column < 1 {
			t.Fatalf("error at line %d col %d of a %d-line document: %v", pe.Line, pe.Column, lines, err)
		}
	})
}
