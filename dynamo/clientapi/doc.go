// Package clientapi is the Dynamo-style store's client API over HTTP with
// JSON: the request and response shapes, their strict decoder, and an
// http.Handler that turns each request into a dynamo.Request for one
// server (any server coordinates; one outside the key's preference list
// forwards it and relays the answer) and the dynamo.Reply into an HTTP
// answer. It is the live face of the chapter's section 3, "Vector Clock
// 활용 예: DynamoDB": a get returns every sibling and one opaque context,
// a put with that context supersedes exactly what the context covers, a
// delete writes a tombstone over it (Dynamo 2007, section 4.4), and the
// shopping cart's add and remove are a get, an edit and a put with the
// get's context, so that a concurrent edit becomes a sibling that the
// bucket's merge folds in.
//
// One endpoint takes every operation (and GET /v1/status says who
// answers):
//
//	POST /v1/dynamo  {"op":"get","key":"x"}
//	  → {"status":"ok","siblings":[{"value":"B","vec":"[2,0]"},{"value":"C","vec":"[1,1]"}],"context":"AQIC..."}
//	POST /v1/dynamo  {"op":"put","key":"x","value":"B+C","context":"AQIC..."}
//	  → {"status":"ok","vec":"[3,1]"}
//	POST /v1/dynamo  {"op":"delete","key":"x","context":"AQIC..."}
//	POST /v1/dynamo  {"op":"cart-add","key":"cart","item":"apple"}
//	  → {"status":"ok","items":["apple"],"merge":"orset","vec":"[1,0,0]"}
//
// The context travels as base64 (JSON's encoding of bytes); the client
// never looks inside it, and the servers refuse one they did not issue
// for that key. Keys and values are UTF-8 text (1..dynamo.MaxKeyLen and
// at most dynamo.MaxValueLen bytes); cart items are 1..dynamo.MaxItemLen
// of [a-z0-9._-]. A get whose siblings are all tombstones, or a key never
// written, answers status "not-found" with the context to write over it.
//
// Status codes: 200 for ok and not-found; 400 a request refused (the
// server's reason: a malformed or forged context, a bad cart, the
// sibling cap, a full store); 413 oversize; 415 not JSON; 401 a missing
// or wrong client token (checked by the runtime, status "unauthorized"); 429 busy; 503
// unavailable (fewer than R replicas answered, the node is stopping:
// nothing changed); 504 outcome unknown (a put or delete that fewer than
// W replicas acknowledged in time: the coordinator may have stored it,
// and anti-entropy would spread it); 404 and 405 for other paths and
// methods. Every answer is one JSON object {"status":...,"error":...}.
//
// The handler knows nothing of the runtime: it is given a Caller, which
// the live runtime provides (live.Gateway.Call) and cmd/ordo wires in:
//
//	h := clientapi.NewHandler(clientapi.Config{Call: gw.Call})
//	http.ListenAndServe("127.0.0.1:2379", h)
//
// The Go client is package dynamo/client; `ordo kv` uses it when the
// cluster's protocol is dynamo.
package clientapi
