package dynamo

import (
	"fmt"
	"slices"
	"strings"
)

// A shopping cart is the chapter's application merge (Dynamo 2007, section
// 4.4: "the add to cart operation can never be forgotten or rejected").
// It travels as a value string; two encodings, by option merge:
//
//   - union: the items, sorted, comma-separated ("apple,pear"). Siblings
//     merge by set union, so an item removed on one side of a partition and
//     still present in a concurrent sibling comes back: Dynamo's
//     "deleted items can resurface".
//   - orset: an observed-remove set. Each add carries a unique tag
//     ("+apple#n6.3"); a remove tombstones the tags it saw ("-n6.3").
//     Siblings merge by the union of adds and of tombstones, so a removed
//     item stays removed while a concurrent add (a new tag) survives.
type Cart struct {
	OR    bool
	adds  map[string]string // tag → item (orset); item → item (union)
	tombs map[string]bool   // removed tags (orset)
}

// Bounds of a cart.
const (
	MaxCartTokens = 256
	MaxItemLen    = 32
)

func validName(s string) bool {
	if s == "" || len(s) > MaxItemLen {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// NewCart is an empty cart.
func NewCart(or bool) *Cart {
	return &Cart{OR: or, adds: map[string]string{}, tombs: map[string]bool{}}
}

// ParseCart reads a cart value; errors say what is wrong.
func ParseCart(or bool, s string) (*Cart, error) {
	c := NewCart(or)
	if s == "" {
		return c, nil
	}
	sep := ","
	if or {
		sep = ";"
	}
	toks := strings.Split(s, sep)
	if len(toks) > MaxCartTokens {
		return nil, fmt.Errorf("cart: %d entries, more than %d", len(toks), MaxCartTokens)
	}
	for _, t := range toks {
		switch {
		case !or:
			if !validName(t) {
				return nil, fmt.Errorf("cart: item %q is not 1..%d of [a-z0-9._-]", t, MaxItemLen)
			}
			c.adds[t] = t
		case strings.HasPrefix(t, "+"):
			item, tg, ok := strings.Cut(t[1:], "#")
			if !ok || !validName(item) || !validName(tg) {
				return nil, fmt.Errorf("cart: add %q is not +ITEM#TAG", t)
			}
			c.adds[tg] = item
		case strings.HasPrefix(t, "-"):
			if !validName(t[1:]) {
				return nil, fmt.Errorf("cart: tombstone %q is not -TAG", t)
			}
			c.tombs[t[1:]] = true
		default:
			return nil, fmt.Errorf("cart: entry %q is neither +ITEM#TAG nor -TAG", t)
		}
	}
	for tg := range c.tombs {
		delete(c.adds, tg)
	}
	return c, nil
}

// Items are the cart's items, sorted, without duplicates.
func (c *Cart) Items() []string {
	var out []string
	for _, it := range c.adds {
		if !slices.Contains(out, it) {
			out = append(out, it)
		}
	}
	slices.Sort(out)
	return out
}

// Add puts item in the cart; tag must be unique per add (orset).
func (c *Cart) Add(item, tag string) {
	if c.OR {
		c.adds[tag] = item
	} else {
		c.adds[item] = item
	}
}

// Remove takes item out: every add of it this cart has seen.
func (c *Cart) Remove(item string) {
	for k, it := range c.adds {
		if it == item {
			delete(c.adds, k)
			if c.OR {
				c.tombs[k] = true
			}
		}
	}
}

// Merge folds o into c.
func (c *Cart) Merge(o *Cart) {
	for k, it := range o.adds {
		c.adds[k] = it
	}
	for k := range o.tombs {
		c.tombs[k] = true
	}
	for k := range c.tombs {
		delete(c.adds, k)
	}
}

// String encodes c canonically.
func (c *Cart) String() string {
	if !c.OR {
		return strings.Join(c.Items(), ",")
	}
	var toks []string
	for tg, it := range c.adds {
		toks = append(toks, "+"+it+"#"+tg)
	}
	for tg := range c.tombs {
		toks = append(toks, "-"+tg)
	}
	slices.Sort(toks)
	return strings.Join(toks, ";")
}
