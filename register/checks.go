package register

// The register's scenarios are judged by the consistency checkers
// (linearizable, no-lost-write): loading the protocol registers them.
import _ "ordo/consistency"
