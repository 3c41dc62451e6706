package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"ordo/clock"
)

// compareVec is one argument of `ordo clock compare` in the form every
// argument is compared in: sparse, keyed by process id.
type compareVec struct {
	s    clock.Sparse
	text string // as printed: the argument's own notation, normalized
}

// parseCompareArgs reads the vectors of `ordo clock compare`. Each is
// dense ([2,1,0]: process i+1 has entry i), sparse with numeric ids
// ({1:2,3:1}, clock.ParseSparse), or named ({a:2,b:1}). Missing entries
// count as zero in every form. Named vectors name their processes, so
// they compare only with named vectors; dense and numeric-sparse mix
// (entry i of a dense vector is id i+1, clock.SparseOf). Errors name the
// argument (V1, V2, ...) and what is wrong with it.
func parseCompareArgs(args []string) ([]compareVec, error) {
	type named struct {
		names []string
		ns    []uint64
	}
	nameds := make([]*named, len(args))
	vs := make([]compareVec, len(args))
	firstNamed, firstNumeric := -1, -1
	for i, a := range args {
		p := strings.TrimSpace(a)
		switch {
		case strings.HasPrefix(p, "{") && isNamedSparse(p):
			names, ns, err := parseNamedSparse(p)
			if err != nil {
				return nil, fmt.Errorf("V%d %s: %w", i+1, a, err)
			}
			nameds[i] = &named{names, ns}
			if firstNamed < 0 {
				firstNamed = i
			}
		case strings.HasPrefix(p, "{"):
			s, err := clock.ParseSparse(a)
			if err != nil {
				return nil, fmt.Errorf("V%d: %w", i+1, err)
			}
			vs[i] = compareVec{s, s.String()}
			if firstNumeric < 0 {
				firstNumeric = i
			}
		default:
			v, err := clock.ParseVector(a)
			if err != nil {
				return nil, fmt.Errorf("V%d: %w (or write {id:n,...} or {name:n,...})", i+1, err)
			}
			vs[i] = compareVec{clock.SparseOf(v), v.String()}
			if firstNumeric < 0 {
				firstNumeric = i
			}
		}
	}
	if firstNamed >= 0 && firstNumeric >= 0 {
		return nil, fmt.Errorf("V%d %s names its processes but V%d %s numbers them: write every vector as {name:n,...}",
			firstNamed+1, args[firstNamed], firstNumeric+1, args[firstNumeric])
	}
	if firstNamed < 0 {
		return vs, nil
	}
	// Every name gets an id, in alphabetical order, so equal names are
	// equal entries whichever vector they come from.
	ids := map[string]uint64{}
	var all []string
	for _, n := range nameds {
		for _, name := range n.names {
			if _, ok := ids[name]; !ok {
				ids[name] = 0
				all = append(all, name)
			}
		}
	}
	sort.Strings(all)
	for k, name := range all {
		ids[name] = uint64(k + 1)
	}
	for i, n := range nameds {
		var s clock.Sparse
		idx := make([]int, len(n.names))
		for k := range idx {
			idx[k] = k
		}
		sort.Slice(idx, func(x, y int) bool { return n.names[idx[x]] < n.names[idx[y]] })
		var b strings.Builder
		b.WriteByte('{')
		for k, j := range idx {
			s.Set(ids[n.names[j]], n.ns[j])
			if k > 0 {
				b.WriteByte(',')
			}
			b.WriteString(n.names[j] + ":" + strconv.FormatUint(n.ns[j], 10))
		}
		b.WriteByte('}')
		vs[i] = compareVec{s, b.String()}
	}
	return vs, nil
}

// isNamedSparse reports whether a {...} vector has a key that is not a
// number (then it is named, else clock.ParseSparse reads it).
func isNamedSparse(p string) bool {
	body := strings.TrimSuffix(strings.TrimPrefix(p, "{"), "}")
	for _, f := range strings.Split(body, ",") {
		k, _, _ := strings.Cut(f, ":")
		k = strings.TrimSpace(k)
		if _, err := strconv.ParseUint(k, 10, 64); err != nil && k != "" {
			return true
		}
	}
	return false
}

// parseNamedSparse reads {name:n,...}: names are letters, digits, '_',
// '-' or '.', starting with a letter or '_'; counts are non-negative
// integers; a name may not appear twice; at most clock.MaxEntries entries.
func parseNamedSparse(p string) ([]string, []uint64, error) {
	if len(p) < 2 || p[len(p)-1] != '}' {
		return nil, nil, fmt.Errorf("a named vector is written {name:n,...}, closed by '}'")
	}
	body := strings.TrimSpace(p[1 : len(p)-1])
	if body == "" {
		return nil, nil, nil
	}
	var names []string
	var ns []uint64
	seen := map[string]bool{}
	for _, f := range strings.Split(body, ",") {
		k, v, ok := strings.Cut(f, ":")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok {
			return nil, nil, fmt.Errorf("entry %q is not name:n", strings.TrimSpace(f))
		}
		if !validProcessName(k) {
			return nil, nil, fmt.Errorf("entry %q: a process name is letters, digits, '_', '-' or '.', starting with a letter or '_'", strings.TrimSpace(f))
		}
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return nil, nil, fmt.Errorf("entry %q: the count %q is not a non-negative integer", strings.TrimSpace(f), v)
		}
		if seen[k] {
			return nil, nil, fmt.Errorf("process %q appears twice", k)
		}
		if len(names) == clock.MaxEntries {
			return nil, nil, fmt.Errorf("more than %d entries", clock.MaxEntries)
		}
		seen[k] = true
		names = append(names, k)
		ns = append(ns, n)
	}
	return names, ns, nil
}

func validProcessName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		letter := r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		if i == 0 && !letter {
			return false
		}
		if !letter && !(r >= '0' && r <= '9') && r != '-' && r != '.' {
			return false
		}
	}
	return true
}
