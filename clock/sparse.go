package clock

import (
	"sort"
	"strconv"
	"strings"
)

// Entry is one process's count in a Sparse vector.
type Entry struct {
	ID uint64 // process id; any numbering, need not be dense
	N  uint64 // events of that process known
}

// Sparse is a vector clock for changing membership: only non-zero entries
// are stored, sorted by ID, so processes can join (their entry appears
// when first counted) and absent processes cost nothing. A missing entry
// counts as zero, the same rule as the dense Vector. The zero value is the
// all-zero clock.
type Sparse struct {
	e []Entry
}

// Get returns the entry of id, zero when absent. It copies nothing.
func (s *Sparse) Get(id uint64) uint64 {
	if i, ok := s.find(id); ok {
		return s.e[i].N
	}
	return 0
}

// Len is the number of non-zero entries.
func (s *Sparse) Len() int { return len(s.e) }

// Entries returns the entries sorted by ID; the slice is s's own storage
// (a copy-free read): do not modify it.
func (s *Sparse) Entries() []Entry { return s.e }

func (s *Sparse) find(id uint64) (int, bool) {
	lo, hi := 0, len(s.e)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s.e[m].ID < id {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(s.e) && s.e[lo].ID == id
}

// Set sets the entry of id to n (n = 0 removes it).
func (s *Sparse) Set(id, n uint64) {
	i, ok := s.find(id)
	switch {
	case ok && n == 0:
		s.e = append(s.e[:i], s.e[i+1:]...)
	case ok:
		s.e[i].N = n
	case n != 0:
		s.e = append(s.e, Entry{})
		copy(s.e[i+1:], s.e[i:])
		s.e[i] = Entry{id, n}
	}
}

// Tick records an event of process id: V[id]++.
func (s *Sparse) Tick(id uint64) {
	if i, ok := s.find(id); ok {
		s.e[i].N++
		return
	}
	s.Set(id, 1)
}

// Receive applies the receive rule for process id: merge, then V[id]++.
func (s *Sparse) Receive(msg *Sparse, id uint64) {
	s.Merge(msg)
	s.Tick(id)
}

// Clone returns an independent copy.
func (s *Sparse) Clone() Sparse {
	return Sparse{e: append([]Entry(nil), s.e...)}
}

// Merge sets s to the entry-wise maximum of s and o. When s already has an
// entry for every id of o (steady membership) it allocates nothing; new ids
// are merged in place from the back, growing s's storage once.
func (s *Sparse) Merge(o *Sparse) {
	missing := 0
	i := 0
	for _, x := range o.e {
		for i < len(s.e) && s.e[i].ID < x.ID {
			i++
		}
		if i < len(s.e) && s.e[i].ID == x.ID {
			if x.N > s.e[i].N {
				s.e[i].N = x.N
			}
			continue
		}
		if x.N != 0 {
			missing++
		}
	}
	if missing == 0 {
		return
	}
	// Merge from the back so no entry is overwritten before it is moved.
	n := len(s.e)
	for k := 0; k < missing; k++ {
		s.e = append(s.e, Entry{})
	}
	w := len(s.e) - 1
	a, b := n-1, len(o.e)-1
	for b >= 0 {
		x := o.e[b]
		if x.N == 0 {
			b--
			continue
		}
		switch {
		case a >= 0 && s.e[a].ID > x.ID:
			s.e[w] = s.e[a]
			a--
		case a >= 0 && s.e[a].ID == x.ID:
			s.e[w] = s.e[a] // already maximised above
			a--
			b--
		default:
			s.e[w] = x
			b--
		}
		w--
	}
}

// CompareSparse returns exactly one of Equal, Before, After, Concurrent;
// entries missing on either side count as zero. It allocates nothing.
func CompareSparse(a, b *Sparse) Order {
	x, y := a.e, b.e
	if len(x) == len(y) {
		// Stable membership, the common case: both hold the same ids, so
		// one pass with conditional moves decides, as for a dense vector.
		y = y[:len(x)]
		var lt, gt, moved uint
		for k := range x {
			if x[k].ID != y[k].ID {
				moved = 1
			}
			if x[k].N < y[k].N {
				lt = 1
			}
			if x[k].N > y[k].N {
				gt = 1
			}
		}
		if moved == 0 {
			return orders[(lt|gt<<1)&3]
		}
	}
	less, greater := false, false
	i, j := 0, 0
	for i < len(x) && j < len(y) {
		switch {
		case x[i].ID == y[j].ID:
			if x[i].N < y[j].N {
				less = true
			} else if x[i].N > y[j].N {
				greater = true
			}
			i++
			j++
		case x[i].ID < y[j].ID: // b has zero here
			if x[i].N != 0 {
				greater = true
			}
			i++
		default:
			if y[j].N != 0 {
				less = true
			}
			j++
		}
		if less && greater {
			return Concurrent
		}
	}
	for ; i < len(x); i++ {
		if x[i].N != 0 {
			greater = true
			break
		}
	}
	for ; j < len(y); j++ {
		if y[j].N != 0 {
			less = true
			break
		}
	}
	return order(less, greater)
}

// Compare is CompareSparse(s, o).
func (s *Sparse) Compare(o *Sparse) Order { return CompareSparse(s, o) }

// String formats s as {id:n,id:n}, ids ascending.
func (s *Sparse) String() string {
	var b []byte
	b = append(b, '{')
	for i, x := range s.e {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendUint(b, x.ID, 10)
		b = append(b, ':')
		b = strconv.AppendUint(b, x.N, 10)
	}
	return string(append(b, '}'))
}

// ParseSparse parses the String form {id:n,...}. Ids may come in any order
// but not twice; zero counts are dropped.
func ParseSparse(in string) (Sparse, error) {
	p := strings.TrimSpace(in)
	lead := len(in) - len(strings.TrimLeft(in, " \t"))
	if len(p) < 2 || p[0] != '{' || p[len(p)-1] != '}' {
		return Sparse{}, &SyntaxError{Input: in, Offset: lead, Msg: "a sparse vector is written {id:n,...}"}
	}
	body := p[1 : len(p)-1]
	if strings.TrimSpace(body) == "" {
		return Sparse{}, nil
	}
	var es []Entry
	var offs []int
	off := lead + 1
	for _, f := range strings.Split(body, ",") {
		id, n, ok := strings.Cut(f, ":")
		if !ok {
			return Sparse{}, &SyntaxError{Input: in, Offset: off, Msg: "entry " + strconv.Quote(strings.TrimSpace(f)) + " is not id:n"}
		}
		x, err1 := strconv.ParseUint(strings.TrimSpace(id), 10, 64)
		y, err2 := strconv.ParseUint(strings.TrimSpace(n), 10, 64)
		if err1 != nil || err2 != nil {
			return Sparse{}, &SyntaxError{Input: in, Offset: off, Msg: "entry " + strconv.Quote(strings.TrimSpace(f)) + " needs non-negative integers"}
		}
		if len(es) == MaxEntries {
			return Sparse{}, &SyntaxError{Input: in, Offset: off, Msg: "too many entries"}
		}
		es = append(es, Entry{x, y})
		offs = append(offs, off)
		off += len(f) + 1
	}
	idx := make([]int, len(es))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(i, j int) bool { return es[idx[i]].ID < es[idx[j]].ID })
	var s Sparse
	for k, i := range idx {
		if k > 0 && es[idx[k-1]].ID == es[i].ID {
			at := max(offs[i], offs[idx[k-1]])
			return Sparse{}, &SyntaxError{Input: in, Offset: at, Msg: "id " + strconv.FormatUint(es[i].ID, 10) + " appears twice"}
		}
		if es[i].N != 0 {
			s.e = append(s.e, es[i])
		}
	}
	return s, nil
}

// SparseOf converts a dense vector (process i+1 ↦ v[i]).
func SparseOf(v Vector) Sparse {
	var s Sparse
	for i, x := range v {
		if x != 0 {
			s.e = append(s.e, Entry{uint64(i + 1), x})
		}
	}
	return s
}
