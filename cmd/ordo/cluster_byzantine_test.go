package main

import (
	"strings"
	"testing"
)

// ordo cluster byzantine refuses a flag its behaviour ignores, saying
// which behaviours take which flag, and an unknown behaviour first; a
// flag a behaviour takes is let through.
func TestClusterByzantineFlags(t *testing.T) {
	for _, c := range []struct {
		behaviour string
		flags     []string
		want      string // "" accepted
	}{
		{"silent", []string{"--after", "1s"}, "--after means nothing with silent: --rate is for every behaviour but honest, --after for replay only, --as for forge only"},
		{"silent", []string{"--after", "0s"}, "--after means nothing with silent"},
		{"honest", []string{"--rate", "0.5"}, "--rate means nothing with honest"},
		{"equivocate", []string{"--as", "2"}, "--as means nothing with equivocate"},
		{"bogus", []string{"--as", "2"}, `unknown behaviour "bogus"`},
		{"replay", []string{"--after", "2s", "--rate", "0.5"}, ""},
		{"forge", []string{"--as", "3"}, ""},
		{"silent", []string{"--rate", "0.3"}, ""},
		{"honest", nil, ""},
	} {
		cmd := newClusterByzantineCmd()
		if err := cmd.ParseFlags(c.flags); err != nil {
			t.Fatal(err)
		}
		err := byzantineFlags(cmd, c.behaviour)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s %v: %v, want it accepted", c.behaviour, c.flags, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s %v: %v, want %q", c.behaviour, c.flags, err, c.want)
		}
	}
}
