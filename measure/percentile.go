package measure

import (
	"cmp"
	"slices"
)

// Percentile returns the p-th percentile of xs by nearest rank: the
// smallest sample with at least p% of the samples at or below it (p in
// 0..100; p ≤ 0 gives the minimum, p ≥ 100 the maximum). It returns the
// zero value when xs is empty, and does not modify xs.
//
// The rank is ⌈p·n/100⌉, computed so that float noise in p·n/100 (0.57·100
// is 57.00000000000001) cannot push it to the next sample.
func Percentile[T cmp.Ordered](xs []T, p float64) T {
	if len(xs) == 0 {
		var zero T
		return zero
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	k := int(p/100*float64(len(s)) + 0.999999)
	return s[min(max(k, 1), len(s))-1]
}
