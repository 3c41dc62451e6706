package spawn

import (
	"os"
	"os/exec"
	"strconv"
)

// Share is the GOMAXPROCS of each of n Go processes that one launcher
// runs on a machine where it has procs CPUs (its own GOMAXPROCS): the
// CPUs divided among them, at least one each.
//
// Why: a Go process assumes it owns its GOMAXPROCS CPUs. When one of its
// goroutines readies another (a message handed from the transport to the
// event loop, from the loop to the syncer), the runtime wakes a thread
// for an idle P, which spins looking for work before it sleeps; with
// three cluster nodes of two Ps each on two CPUs, those wake-ups and
// spins were 18-22% of every node's CPU (docs/live.md, "CPUs shared
// among the nodes"). With one P a process, a hand-off within it wakes no
// thread.
func Share(procs, n int) int {
	if n < 1 {
		return max(procs, 1)
	}
	return max(procs/n, 1)
}

// EnvProcs is the GOMAXPROCS of this process's environment when the Go
// runtime would take it (a positive integer); ok false when it is unset,
// empty or invalid (the runtime ignores it and uses its default).
func EnvProcs() (n int, ok bool) {
	v, set := os.LookupEnv("GOMAXPROCS")
	if !set {
		return 0, false
	}
	p, err := strconv.ParseInt(v, 10, 32) // the runtime's parse: an int32
	if err != nil || p < 1 {
		return 0, false
	}
	return int(p), true
}

// SetProcs gives the process cmd will start GOMAXPROCS n, over any
// GOMAXPROCS of the environment cmd passes on (exec keeps the last of
// two).
func SetProcs(cmd *exec.Cmd, n int) {
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, "GOMAXPROCS="+strconv.Itoa(n))
}
