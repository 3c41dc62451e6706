// Package spawn is how ordo starts the processes it runs on this machine
// (cluster nodes, package live; etcd members, package service/etcd): each
// in its own process group, so that a Ctrl-C at the terminal reaches the
// launcher, which stops them in order; tied to the launcher's life when it
// stays to supervise them; and inheriting no descriptor of the launcher's
// but those given on purpose (the chapter's section 5: a process is a
// failure unit of its own, and a lock it holds by accident outlives the
// command that took it).
//
//	cmd := exec.Command(bin, args...)
//	spawn.Prepare(cmd, supervised)
//	err := cmd.Start()
package spawn
