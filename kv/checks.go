package kv

// The database's runs are judged by the consistency checkers
// (linearizable, no-lost-write) beside its own agreement checker: loading
// the protocol registers them.
import _ "ordo/consistency"
