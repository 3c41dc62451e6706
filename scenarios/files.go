package scenarios

import (
	"embed"
	"fmt"
	"sort"
	"strings"
)

// files are the scenario files, built into the binary so that `ordo sim
// NAME` and `ordo tour` work from any directory.
//
//go:embed *.yaml
var files embed.FS

// Names lists the built-in scenarios by name (the file name without
// .yaml), sorted.
func Names() []string {
	ents, err := files.ReadDir(".")
	if err != nil {
		panic("scenarios: embedded files unreadable: " + err.Error())
	}
	var out []string
	for _, e := range ents {
		if n, ok := strings.CutSuffix(e.Name(), ".yaml"); ok {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// Read returns the built-in scenario file called name (with or without
// .yaml); the error lists the valid names.
func Read(name string) ([]byte, error) {
	name = strings.TrimSuffix(name, ".yaml")
	b, err := files.ReadFile(name + ".yaml")
	if err != nil || strings.ContainsAny(name, "/\\") {
		return nil, fmt.Errorf("no scenario %q (built in: %s)", name, strings.Join(Names(), ", "))
	}
	return b, nil
}
