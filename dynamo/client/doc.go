// Package client is the Go client of the Dynamo-style store's client API
// (package dynamo/clientapi): get with every sibling and the opaque
// context, put and delete with a context, and the shopping cart's add,
// remove and show. It is the live side of the chapter's section 3
// ("Vector Clock 활용 예: DynamoDB"): the client holds the context
// between a read and the write that resolves what it read.
//
//	c, err := client.FromCluster("ordo-cluster") // cluster.yaml, tls/ca.pem, client.token
//	r, err := c.Get(ctx, "x")                     // r.Siblings, r.Context
//	_, err = c.Put(ctx, "x", "B+C", r.Context)    // supersedes what r saw
//	items, err := c.CartAdd(ctx, "cart", "apple")
//
// Errors: ErrRefused (a bad request, a forged context, a wrong token:
// nothing changed, retrying will not help), ErrUnavailable (no server
// could serve it: nothing changed), ErrUnknown (a put or delete whose
// outcome is unknown: get the key before trying again), ErrNotFound (a
// cart item to remove is not there). A get of a key never written, or
// whose siblings are all tombstones, is Result{Found: false}, no error.
// A write is sent once: a second attempt would be a sibling of the first.
package client
