// Package plural agrees a noun with its count in ordo's messages: "1
// replica", "2 replicas", never "1 replicas".
package plural

import (
	"fmt"
	"strings"
)

// Count is n and the noun agreeing with it: Count(1, "replica") is "1
// replica", Count(3, "replica") "3 replicas". The plural is the
// singular's regular one (Noun) unless given: Count(n, "replica lies",
// "replicas lie") agrees a verb too.
func Count[N Integer](n N, singular string, plural ...string) string {
	return fmt.Sprint(n) + " " + Noun(n, singular, plural...)
}

// Integer is any integer type: counts come as int, int64 or uint64.
type Integer interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64 | ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64
}

// Noun is the singular when n is 1 (or -1), else the plural: the one
// given, or the singular's last word made plural by the regular rules
// (entry → entries, batch → batches, key → keys, seed → seeds).
func Noun[N Integer](n N, singular string, plural ...string) string {
	if n == 1 || n < 0 && n+1 == 0 { // 1 or -1
		return singular
	}
	if len(plural) > 0 {
		return plural[0]
	}
	return Of(singular)
}

// Of is the regular plural of word (of its last word: "client API" →
// "client APIs").
func Of(word string) string {
	lower := strings.ToLower(word)
	switch {
	case word == "":
		return word
	case strings.HasSuffix(lower, "s"), strings.HasSuffix(lower, "x"), strings.HasSuffix(lower, "z"),
		strings.HasSuffix(lower, "ch"), strings.HasSuffix(lower, "sh"):
		return word + "es"
	case len(lower) > 1 && strings.HasSuffix(lower, "y") && !strings.ContainsRune("aeiou", rune(lower[len(lower)-2])):
		return word[:len(word)-1] + "ies"
	}
	return word + "s"
}
