// Package transport carries ordo messages between real processes over TCP:
// length-prefixed frames holding a versioned envelope, a codec registered for
// every message type, bounded per-peer send queues, reconnection with
// exponential backoff and jitter, and optional mutual TLS.
//
// It also holds the live fault layer. The chapter's section 1 says the
// eight fallacies are about real networks: here the network is real, and the
// fault layer adds the failures on demand — partitions (two-way and
// one-way), delay and random loss — while a real crash stays a real SIGKILL.
package transport
