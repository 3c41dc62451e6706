// Package clientapi is PBFT's client API over HTTP with JSON, and its Go
// client: the live face of the chapter's section 5 ("Byzantine failure")
// and of Castro and Liskov 1999, section 4.1 (the client).
//
// A replica's API turns one request into a pbft.Request injected into
// the replica's event loop through the runtime's gateway, and answers
// once that replica executed it (at its sequence number, on the kv
// database's machine, kv.Machine), or at once from its reply cache:
//
//	POST /v1/pbft  {"op":"put","key":"x","value":"1","client":7,"timestamp":1}
//	  → {"status":"ok","rev":3,"replica":2,"view":0}
//	POST /v1/pbft  {"op":"get","key":"x","client":7,"timestamp":2}
//	  → {"status":"ok","value":"1","rev":4,"mod_rev":3,"replica":2,"view":0}
//	GET  /v1/status
//
// Send every request to every replica's API: a replica prepares a
// request only once it heard it from its client itself (or f+1 others
// vouch for it), the authenticated link standing for the client's
// signature of Castro and Liskov's protocol, and backups do not relay
// requests to the primary. A request POSTed to one replica alone is
// never executed (504 after the deadline): the primary orders it and the
// backups do not prepare it, and a backup that alone heard it suspects
// the primary and changes view by itself, until the others move too.
//
// One replica's answer proves nothing: it may be the liar. The Go client
// (Client) sends each request, with its client id and a timestamp that
// grows with every request, to every replica's API, and accepts a result
// only once f+1 replicas answered it the same (at least one of them is
// correct); it names the replicas that answered otherwise, and retries
// the replicas that did not answer with the same timestamp (a replica
// executes a (client, timestamp) once and answers a retry from its reply
// cache). Reads are ordered like writes (no read-only optimisation).
//
// Keys and values are UTF-8 text: keys 1..MaxKeyBytes, values at most
// MaxValueBytes bytes, so that the command fits a PBFT operation
// (pbft.MaxOp). client is 1..2^32-1, timestamp 1..2^62.
//
// Status codes: 200 for ok and not-found; 400 a request refused; 413
// oversize; 415 not JSON; 401 a wrong client token (checked by the
// runtime, status "unauthorized"); 429 busy; 500 bad-reply, the replica's reply answers nothing
// (another request's, or a result that is no kv answer: the replica lies
// or is broken, and the Go client counts it as a disagreeing answer);
// 503 the node is stopping; 504 no reply from this
// replica in time (not executed yet: the request may still be executed,
// and a retry with the same timestamp is answered once it is); 404 and
// 405 for other paths and methods. Every answer is one JSON object
// {"status":...,"error":...}.
//
// `ordo kv put|get|del` uses the Go client when the cluster's protocol
// is pbft (cmd/ordo/kv_pbft.go).
package clientapi
