package scenarios

import (
	"bytes"
	"path/filepath"
	"testing"

	"ordo/scenario"

	// Every protocol package registers itself (and its checkers); each
	// protocol's author adds a line here.
	_ "ordo/agreement/naive"
	_ "ordo/broadcast"
	_ "ordo/detect"
	_ "ordo/dynamo"
	_ "ordo/election/bully"
	_ "ordo/election/lease"
	_ "ordo/election/raft"
	_ "ordo/election/ring"
	_ "ordo/kv"
	_ "ordo/pbft"
	_ "ordo/register"
)

func yamlFiles(t *testing.T) []string {
	t.Helper()
	fs, err := filepath.Glob("*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) == 0 {
		t.Fatal("no scenario files")
	}
	return fs
}

// TestScenarios runs every scenario file with its own seed and fails if one
// of its expectations is unmet. Replay one with: go run ./cmd/ordo sim scenarios/FILE.
func TestScenarios(t *testing.T) {
	t.Setenv("ORDO_VIZ_DIR", t.TempDir()) // where failing linearizable checks draw
	for _, f := range yamlFiles(t) {
		t.Run(f, func(t *testing.T) {
			sc, err := scenario.Load(f)
			if err != nil {
				t.Fatal(err)
			}
			if want := sc.Name + ".yaml"; want != f {
				t.Errorf("%s: name %q does not match the file name (want %s)", f, sc.Name, want)
			}
			res, err := sc.Run(scenario.RunOptions{Trace: true})
			if err != nil {
				t.Fatal(err)
			}
			// The trace obeys the chapter's clock rules on every event and
			// links every receive to its send.
			if err := res.Trace.Validate(); err != nil {
				t.Errorf("seed %d: the run's trace is not sound: %v", res.Seed, err)
			}
			if len(res.Unmet) > 0 {
				var out bytes.Buffer
				_ = res.WriteText(&out)
				t.Fatalf("seed %d: expectations not met: %v\n%s\nreplay: go run ./cmd/ordo sim scenarios/%s", res.Seed, res.Unmet, out.String(), f)
			}
		})
	}
}

// TestScenariosDeterministic runs every file twice with its seed: the
// traces must be byte-identical (the simulator's promise).
func TestScenariosDeterministic(t *testing.T) {
	for _, f := range yamlFiles(t) {
		t.Run(f, func(t *testing.T) {
			sc, err := scenario.Load(f)
			if err != nil {
				t.Fatal(err)
			}
			var out [2]bytes.Buffer
			for i := range out {
				res, err := sc.Run(scenario.RunOptions{Trace: true})
				if err != nil {
					t.Fatal(err)
				}
				if err := res.Trace.Write(&out[i]); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(out[0].Bytes(), out[1].Bytes()) {
				t.Fatalf("two runs with seed %d gave different traces", sc.Seed)
			}
		})
	}
}

// The binary carries every file of the directory.
func TestEmbedded(t *testing.T) {
	fs := yamlFiles(t)
	names := Names()
	if len(names) != len(fs) {
		t.Fatalf("embedded %v, directory %v", names, fs)
	}
	files := map[string]bool{}
	for _, f := range fs {
		files[f] = true
	}
	for _, n := range names {
		if !files[n+".yaml"] {
			t.Fatalf("embedded %v, directory %v", names, fs)
		}
	}
	if _, err := Read("no-such"); err == nil {
		t.Fatal("Read of an unknown name succeeded")
	}
	if _, err := Read("../go.mod"); err == nil {
		t.Fatal("Read escaped the directory")
	}
}
