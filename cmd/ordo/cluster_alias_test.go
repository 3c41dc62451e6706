package main

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// Every ordo cluster command that takes --dir takes --cluster as ordo kv
// calls it, and says so in its help; ordo kv takes --dir as ordo cluster
// calls it, and says so.
func TestClusterDirFlagAliases(t *testing.T) {
	var seen int
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		f := c.Flags().Lookup("dir")
		if f == nil {
			return
		}
		seen++
		if err := c.ParseFlags([]string{"--cluster", "/some/where"}); err != nil {
			t.Errorf("%s --cluster: %v", c.CommandPath(), err)
			return
		}
		if got := c.Flags().Lookup("dir").Value.String(); got != "/some/where" {
			t.Errorf("%s --cluster /some/where: --dir is %q", c.CommandPath(), got)
		}
		if !c.Flags().Changed("dir") {
			t.Errorf("%s --cluster: --dir not marked as given", c.CommandPath())
		}
		if !strings.Contains(f.Usage, "--cluster is the same flag") {
			t.Errorf("%s: --dir's help %q does not name --cluster", c.CommandPath(), f.Usage)
		}
	}
	walk(newClusterCmd())
	if seen < 10 {
		t.Fatalf("only %d cluster commands with --dir", seen)
	}

	kv := newKVCmd()
	get, _, err := kv.Find([]string{"get"})
	if err != nil {
		t.Fatal(err)
	}
	if err := get.ParseFlags([]string{"--dir", "/else/where"}); err != nil {
		t.Fatal(err)
	}
	if got := get.Flags().Lookup("cluster").Value.String(); got != "/else/where" {
		t.Errorf("kv get --dir /else/where: --cluster is %q", got)
	}
	if u := kv.PersistentFlags().Lookup("cluster").Usage; !strings.Contains(u, "--dir is the same flag") {
		t.Errorf("kv --cluster's help %q does not name --dir", u)
	}
}
