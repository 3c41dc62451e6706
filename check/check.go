package check

import (
	"fmt"
	"sort"
	"strings"

	"ordo/trace"
)

// Result is one checker's verdict on one trace.
type Result struct {
	Check      string      `json:"check"`
	OK         bool        `json:"ok"`
	Violations []Violation `json:"violations,omitempty"`
	// Summary is one line for reports ("leader n4 from 1.2s; 1 election").
	Summary string `json:"summary,omitempty"`
}

// Violation is one broken promise, with the events that show it.
type Violation struct {
	Message string `json:"message"`
	Events  []int  `json:"events,omitempty"` // trace event ids
	From    int64  `json:"from_ns,omitempty"`
	To      int64  `json:"to_ns,omitempty"`
}

// Checker reads a trace and says whether a property held.
type Checker interface {
	Name() string
	Doc() string
	Check(t *trace.Trace) Result
}

var checkers = map[string]Checker{}

// Register makes a checker known by name (from an init function).
func Register(c Checker) {
	if _, dup := checkers[c.Name()]; dup {
		panic("check: registered twice: " + c.Name())
	}
	checkers[c.Name()] = c
}

// Lookup finds a checker; the error lists the valid names.
func Lookup(name string) (Checker, error) {
	if c, ok := checkers[name]; ok {
		return c, nil
	}
	return nil, fmt.Errorf("unknown check %q (valid: %s)", name, strings.Join(Names(), ", "))
}

// Names lists registered checkers, sorted.
func Names() []string {
	var out []string
	for n := range checkers {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Run runs the named checkers on t, in the order given.
func Run(t *trace.Trace, names []string) ([]Result, error) {
	var out []Result
	for _, n := range names {
		c, err := Lookup(n)
		if err != nil {
			return nil, err
		}
		out = append(out, c.Check(t))
	}
	return out, nil
}
