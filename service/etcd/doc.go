// Package etcd runs a real etcd cluster on this machine: a real system
// behind an adapter. The chapter's section 4 ("현대적 리더 선출 → 외부 서비스
// 활용") elects a leader through a coordination service — an etcd or
// ZooKeeper ephemeral key under /leader-election/ — and exercise 3's
// database is measured against etcd (issue 11, `ordo bench kv`). Both need
// the real thing, not a model of it: this package starts one.
//
// Each member is its own process (the ordo binary's hidden subcommand
// `ordo service etcd-member`, which calls RunMember with the embedded
// go.etcd.io/etcd/server/v3), so a SIGKILL is a real crash of one member.
// Members listen on free loopback ports, keep their data in Dir/etcdN on
// the same filesystem as ordo's nodes and fsync as etcd does by default
// (fsync is never turned off here), and log to Dir/etcdN/member.log.
//
//	c, err := etcd.Start(ctx, etcd.Options{N: 3, Dir: dir})
//	if err != nil { ... }
//	defer c.Stop()
//	cli, err := c.Client(c.Endpoints()...) // a go.etcd.io/etcd/client/v3 client
//	i, err := c.Leader(ctx)                // index 0..N-1 of the leader
//	c.Kill(i)                              // SIGKILL: a real crash
//	c.Restart(ctx, i)                      // back from its own disk
//
// Security: by default members speak plain HTTP on loopback, open to any
// local process. Options.CA/Cert/Key turn on mutual TLS for clients and
// peers (a client without a certificate from CA is refused in the
// handshake; `ordo cluster up` does this); Options.TLS is etcd's auto
// TLS: encrypted, but anyone may connect.
//
// A test binary can play the member itself: call MemberMain from TestMain
// when os.Args[1:3] are "service", "etcd-member" (see IsMemberArgs), and set
// Options.Binary to os.Executable().
package etcd
