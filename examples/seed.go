package examples

import (
	"embed"
	"fmt"
)

//go:embed seed/*.txt
var seed embed.FS

// Seed returns the text of examples/seed/NAME.
func Seed(name string) ([]byte, error) {
	b, err := seed.ReadFile("seed/" + name)
	if err != nil {
		return nil, fmt.Errorf("no figure %q in examples/seed: %w", name, err)
	}
	return b, nil
}
