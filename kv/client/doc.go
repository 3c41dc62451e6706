// Package client is the Go client of exercise 3's database (package kv,
// served by `ordo cluster up --protocol kv`): put, get, delete,
// compare-and-swap, range, watch, snapshot and membership over the
// servers' HTTP/JSON client API (package kv/api).
//
// It finds the leader and remembers it, follows a follower's not-leader
// hint, moves on from a server that is down, cut off, paused or shutting
// down (a server that does not complete a connection's TLS handshake
// within Config.ConnectTimeout, 500 ms, is given up at once; one that
// takes a request and stays silent, after Config.AttemptTimeout, 2 s),
// and retries a write with the same session and sequence number, so a
// retried write applies once (the chapter's exercise 3; the Raft thesis,
// section 6.3). An error says what is known: ErrUnknown (a write may or
// may not have taken effect: no definite answer came before the
// deadline), ErrUnavailable (nothing changed: no server could serve it),
// ErrRefused (a bad request). A Client is safe for concurrent use; its
// connection pool keeps up to 64 connections per server. Puts and deletes
// that its goroutines make at the same time share one HTTP request (POST
// /v1/kv/batch: one batch in flight per server, each write still its own
// session and sequence number), so a server pays one turn, one
// AppendEntries and one fsync for all of them; Config.Unbatched turns it
// off (batch.go; measured in docs/kv.md).
//
//	c, err := client.FromCluster(".ordo-cluster") // cluster.yaml, tls/ca.pem, client.token
//	if err != nil { ... }
//	defer c.Close()
//	ctx := context.Background()
//	rev, err := c.Put(ctx, "x", "1")
//	r, err := c.Get(ctx, "x")                     // r.Value "1", r.Found
//	old := "1"
//	ok, cur, err := c.CAS(ctx, "x", &old, "2")    // ok: swapped; else cur is the value
//	if errors.Is(err, client.ErrUnknown) { ... }  // read again before retrying
package client
