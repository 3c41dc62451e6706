package fault

import (
	"reflect"
	"testing"
)

// Each parser: never panics, and what it accepts is written back by the
// formatter into a string it reads to the same value.

func FuzzParseGroups(f *testing.F) {
	for _, s := range []string{"1,2/3,4,5", "1/2/3/4/5", "1,2/3", "", "/", "1,,2/3", "5/1,2,3,4", "0/1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		g, err := ParseGroups(s, 5)
		if err != nil {
			return
		}
		again, err := ParseGroups(FormatGroups(g), 5)
		if err != nil || !reflect.DeepEqual(g, again) {
			t.Fatalf("%q: %v does not re-parse: %v %v", s, g, again, err)
		}
	})
}

func FuzzParseCut(f *testing.F) {
	for _, s := range []string{"1,2->3", "1->2,3,4,5", "->", "1->1", "1-->2", "2->3->4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		from, to, err := ParseCut(s, 5)
		if err != nil {
			return
		}
		a, b, err := ParseCut(FormatCut(from, to), 5)
		if err != nil || !reflect.DeepEqual(from, a) || !reflect.DeepEqual(to, b) {
			t.Fatalf("%q does not re-parse: %v", s, err)
		}
	})
}

func FuzzParseBridge(f *testing.F) {
	for _, s := range []string{"1/3 via 2", "1,4/3,5 via 2", "1/3", " via ", "1/2 via 2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sides, via, err := ParseBridge(s, 5)
		if err != nil {
			return
		}
		fl := Fault{Kind: Bridge, Groups: sides, Via: via}
		g, v, err := ParseBridge(fl.Spec(), 5)
		if err != nil || v != via || !reflect.DeepEqual(g, sides) {
			t.Fatalf("%q does not re-parse: %v", s, err)
		}
	})
}

func FuzzParseStar(f *testing.F) {
	for _, s := range []string{"hub 1", "hub", "hub 9", "1", "hub  2 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		hub, err := ParseStar(s, 5)
		if err != nil {
			return
		}
		if h, err := ParseStar(Fault{Kind: Star, Node: hub}.Spec(), 5); err != nil || h != hub {
			t.Fatalf("%q does not re-parse: %v", s, err)
		}
	})
}

// FuzzParse covers the "SPEC@TIME" form of every kind.
func FuzzParse(f *testing.F) {
	for _, c := range []struct{ k, s string }{
		{"crash", "5@1s"}, {"partition", "1,2/3,4,5@1s"}, {"heal", "@3s"}, {"clock-step", "2 by -1s@1s"},
		{"clock-drift", "2 by 200ppm@0s"}, {"loss", "0.2 on 1->2,3@1s"}, {"star", "hub 1@2s"}, {"bridge", "1,2/4,5 via 3@1s"},
	} {
		f.Add(c.k, c.s)
	}
	f.Fuzz(func(t *testing.T, k, s string) {
		fl, err := Parse(Kind(k), s, 5)
		if err != nil {
			return
		}
		if err := fl.Validate(5); err != nil {
			t.Fatalf("Parse(%q, %q) accepted an invalid fault: %v", k, s, err)
		}
		g, err := Parse(fl.Kind, fl.Spec()+"@"+fl.At.String(), 5)
		if err != nil || !reflect.DeepEqual(fl, g) {
			t.Fatalf("Parse(%q, %q) = %+v does not re-parse from %q: %+v %v", k, s, fl, fl.Spec()+"@"+fl.At.String(), g, err)
		}
	})
}
