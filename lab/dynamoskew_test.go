package lab

import (
	"maps"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The three scenario files are the grid's cells at SkewOfFiles and
// WritersOfFiles: the tables and `ordo sim lww-vs-vector-lww` run the
// same configuration.
func TestSkewFilesAreCells(t *testing.T) {
	base, err := LoadSkewBase()
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range DynamoStrategies {
		file, err := loadBuiltin("lww-vs-vector-" + st.Name)
		if err != nil {
			t.Fatal(err)
		}
		cell, err := SkewScenario(base, st, SkewOfFiles, WritersOfFiles)
		if err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(file.Options, cell.Options) {
			t.Errorf("%s: options %v, the cell's %v", st.Name, file.Options, cell.Options)
		}
		if file.Clock != cell.Clock || !reflect.DeepEqual(file.ClockOf, cell.ClockOf) {
			t.Errorf("%s: clocks %+v %+v, the cell's %+v %+v", st.Name, file.Clock, file.ClockOf, cell.Clock, cell.ClockOf)
		}
		if len(file.Clients) != 1 || file.Clients[0].Count != cell.Clients[0].Count || !maps.Equal(file.Clients[0].Options, cell.Clients[0].Options) {
			t.Errorf("%s: clients differ from the cell's", st.Name)
		}
		var got, want []string
		for _, f := range file.Faults {
			got = append(got, f.At.String()+" "+f.Desc)
		}
		for _, f := range base.Faults {
			want = append(want, f.At.String()+" "+f.Desc)
		}
		if !reflect.DeepEqual(got, want) || file.Duration != base.Duration || file.Nodes != base.Nodes {
			t.Errorf("%s: faults %v, duration %v, nodes %d; the base file's %v, %v, %d", st.Name, got, file.Duration, file.Nodes, want, base.Duration, base.Nodes)
		}
	}
}

// The acceptance of issue 12 over the tables' runs, with real clients on
// the simulated store (not the unit test of dynamo's version vectors):
// with dotted version vectors no sibling set ever holds more acknowledged
// writes than there are concurrent writers, and nothing acknowledged is
// lost; with one vector clock per object the sets grow past the writers;
// last-write-wins loses acknowledged writes at every skew.
func TestLWWVsVectorSiblingBound(t *testing.T) {
	t.Logf("seed %d; replay: ordo sim lww-vs-vector --seed %d", SkewSeed, SkewSeed)
	base, err := LoadSkewBase()
	if err != nil {
		t.Fatal(err)
	}
	st := map[string]DynamoStrategy{}
	for _, s := range DynamoStrategies {
		st[s.Name] = s
	}
	run := func(name string, s time.Duration, w int) SkewCell {
		sc, err := SkewScenario(base, st[name], s, w)
		if err != nil {
			t.Fatal(err)
		}
		c, err := RunSkew(sc, SkewSeed)
		if err != nil {
			t.Fatal(err)
		}
		if v := c.Verdict("convergence"); v != "pass" {
			t.Errorf("%s skew %v, %d writers: convergence %s", name, s, w, v)
		}
		return c
	}
	for _, s := range SkewSteps {
		for _, w := range WriterSteps {
			c := run("dvv", s, w)
			if c.MaxAcked > w || c.Lost != 0 || c.Acked == 0 {
				t.Errorf("dvv skew %v, %d writers: %d acknowledged writes in one sibling set, %d of %d lost", s, w, c.MaxAcked, c.Lost, c.Acked)
			}
			if w >= 8 && c.MaxAcked < w/2 {
				t.Errorf("dvv skew %v, %d writers: at most %d siblings: the writers hardly overlap, the bound says nothing", s, w, c.MaxAcked)
			}
		}
		c := run("lww", s, 8)
		if c.Lost == 0 || c.Siblings != 0 {
			t.Errorf("lww skew %v: %d of %d acknowledged writes lost, %d siblings", s, c.Lost, c.Acked, c.Siblings)
		}
	}
	writers := []int{8}
	if !testing.Short() {
		writers = append(writers, 32)
	}
	prev := 0
	for _, w := range writers {
		c := run("vv", 0, w)
		if c.MaxAcked <= w || c.Lost != 0 {
			t.Errorf("vv, %d writers: at most %d acknowledged writes in one sibling set (want more than %d), %d lost", w, c.MaxAcked, w, c.Lost)
		}
		if c.MaxAcked <= prev {
			t.Errorf("vv, %d writers: largest set %d, not above %d of fewer writers", w, c.MaxAcked, prev)
		}
		prev = c.MaxAcked
	}
}

// The printers lay out the grid: one row per strategy and skew, one
// column per writer count, marks where a set passes the writers.
func TestSkewTablesLayout(t *testing.T) {
	var cells []SkewCell
	for _, st := range DynamoStrategies {
		for _, s := range SkewSteps {
			for _, w := range WriterSteps {
				c := SkewCell{Strategy: st.Name, Skew: s, Writers: w, Acked: 100, MaxSiblings: w, MaxAcked: w}
				if st.Name == "vv" {
					c.MaxAcked, c.MaxSiblings = w+1, w+1
				}
				if st.Name == "lww" {
					c.Lost = 40
				}
				cells = append(cells, c)
			}
		}
	}
	var lost, sib strings.Builder
	if err := WriteLostTable(&lost, cells); err != nil {
		t.Fatal(err)
	}
	if err := WriteSiblingTable(&sib, cells); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(lost.String(), "\n"); n != 1+len(DynamoStrategies)*len(SkewSteps) {
		t.Errorf("lost table of %d lines:\n%s", n, lost.String())
	}
	if !strings.Contains(lost.String(), "40/100 (40%)") || !strings.Contains(lost.String(), "32 writers") {
		t.Errorf("lost table:\n%s", lost.String())
	}
	if strings.Contains(sib.String(), "last-write-wins") || strings.Count(sib.String(), "!") != len(SkewSteps)*len(WriterSteps) {
		t.Errorf("sibling table (no lww rows, a mark in every vv cell):\n%s", sib.String())
	}
}
