package dynamo

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"ordo"
)

// MaxScriptSteps bounds a scripted client's steps.
const MaxScriptSteps = 64

// Step is one scripted operation of a dynamo-client:
//
//	TIME get KEY @SERVER [as NAME]            read; keep the answer (values, context) as NAME
//	TIME put KEY VALUE @SERVER [ctx NAME]     write with NAME's context (none: a blind write)
//	TIME del KEY @SERVER [ctx NAME]           delete with NAME's context (none: read first, delete what it saw)
//	TIME resolve KEY @SERVER                  read; if there are siblings, write back their join ("B+C") with the read's context
//	TIME add KEY ITEM @SERVER [ctx NAME]      cart: read (or take NAME's cart and context), add ITEM, write
//	TIME remove KEY ITEM @SERVER [ctx NAME]   cart: the same, removing ITEM
type Step struct {
	At     time.Duration
	Op     string
	Key    string
	Arg    string // put's value, add's or remove's item
	Server ordo.NodeID
	Save   string // get: as NAME
	Ctx    string // put, add, remove: ctx NAME
}

// ParseScript reads a script: steps separated by commas, times
// ascending. Errors name the step.
func ParseScript(s string) ([]Step, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var steps []Step
	for i, part := range strings.Split(s, ",") {
		if i >= MaxScriptSteps {
			return nil, fmt.Errorf("dynamo-client: more than %d script steps", MaxScriptSteps)
		}
		st, err := parseStep(strings.Fields(part))
		if err != nil {
			return nil, fmt.Errorf("dynamo-client: script step %d %q: %v", i+1, strings.TrimSpace(part), err)
		}
		if len(steps) > 0 && st.At < steps[len(steps)-1].At {
			return nil, fmt.Errorf("dynamo-client: script step %d at %v is before step %d", i+1, st.At, i)
		}
		steps = append(steps, st)
	}
	return steps, nil
}

func parseStep(f []string) (Step, error) {
	var st Step
	if len(f) < 4 {
		return st, fmt.Errorf(`want "TIME OP KEY [ARG] @SERVER [as|ctx NAME]"`)
	}
	at, err := time.ParseDuration(f[0])
	if err != nil || at < 0 || at > 24*time.Hour {
		return st, fmt.Errorf("time %q is not a duration in 0..24h", f[0])
	}
	st.At, st.Op, st.Key = at, f[1], f[2]
	if len(st.Key) == 0 || len(st.Key) > MaxKeyLen {
		return st, fmt.Errorf("key of %d bytes (1..%d)", len(st.Key), MaxKeyLen)
	}
	rest := f[3:]
	switch st.Op {
	case "get", "resolve", "del":
	case "put", "add", "remove":
		st.Arg, rest = rest[0], rest[1:]
		if st.Op != "put" && !validName(st.Arg) {
			return st, fmt.Errorf("item %q is not 1..%d of [a-z0-9._-]", st.Arg, MaxItemLen)
		}
	default:
		return st, fmt.Errorf("op %q (valid: get, put, del, resolve, add, remove)", st.Op)
	}
	if len(rest) == 0 || !strings.HasPrefix(rest[0], "@") {
		return st, fmt.Errorf("want @SERVER after the operation")
	}
	n, err := strconv.Atoi(rest[0][1:])
	if err != nil || n < 1 || n > 4096 {
		return st, fmt.Errorf("server %q is not @1..@4096", rest[0])
	}
	st.Server, rest = ordo.NodeID(n), rest[1:]
	switch {
	case len(rest) == 0:
	case len(rest) == 2 && rest[0] == "as" && st.Op == "get":
		st.Save = rest[1]
	case len(rest) == 2 && rest[0] == "ctx" && (st.Op == "put" || st.Op == "del" || st.Op == "add" || st.Op == "remove"):
		st.Ctx = rest[1]
	default:
		return st, fmt.Errorf("unexpected %q (a get may end \"as NAME\"; put, del, add and remove \"ctx NAME\")", strings.Join(rest, " "))
	}
	return st, nil
}
