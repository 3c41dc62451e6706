// Package api is the key-value database's client API over HTTP with JSON:
// the request and response shapes, their strict decoder, and an
// http.Handler that turns each request into a kv.Request for one server
// and its kv.Response into an HTTP answer. It is the live face of exercise
// 3's database (the chapter's exercise 3 and section 4's database primary):
// a client talks to any server, a follower answers "not leader" with the
// leader's address, and every answer says whether a write took effect.
//
// Endpoints (all JSON unless said):
//
//	POST /v1/kv        {"op":"put","key":"k","value":"v","session":7,"seq":1}
//	                   → {"status":"ok","rev":12}
//	POST /v1/kv/batch  [{"op":"put",...},{"op":"delete",...}]   1..256 requests
//	                   → 200 [{"code":200,"status":"ok","rev":12},{"code":421,...}]
//	                   each answered as alone (its status code in "code"),
//	                   all handed to the server at once (Config.CallMany)
//	GET  /v1/watch?key=K&after=REV[&timeout=30s]   long poll: answers once
//	                   K's revision exceeds REV, or "timeout"
//	GET  /v1/snapshot  the state machine's snapshot (application/octet-stream,
//	                   X-Ordo-Rev: the log index it was taken at); the
//	                   leader only, after a ReadIndex round; streamed
//	                   from the server in parts of kv.MaxSnapReply bytes
//	GET  /v1/status    the server's id, role, term and leader
//
// Status codes: 200 for ok, not-found and mismatch (the status field says
// which); 421 not leader (leader and leader_addr say where to go); 503
// unavailable or shutting down, nothing changed; 504 outcome unknown (a
// write may or may not have taken effect); 409 a membership change the
// leader refused (its strict reconfiguration check: nothing changed,
// retrying at once will not help); 400 malformed (keys and values are
// UTF-8: a body with other bytes is refused); 413 oversize; 429 busy; 401
// a missing or wrong token (checked by the runtime); 404 no such endpoint;
// 405 a known endpoint asked with another method (Allow names its own).
// Every error body is the same JSON object: {"status":...,"error":...}.
// Reads name their level "index" (the default; "linearizable" is its
// alias), "lease" or "serializable".
//
// The handler knows nothing of the runtime: it is given a Caller, which
// the live runtime provides (live.Gateway.Call) and cmd/ordo wires in:
//
//	h := api.NewHandler(api.Config{Call: gw.Call})
//	http.ListenAndServe("127.0.0.1:2379", h)
package api
