//go:build !unix

package transport

import "syscall"

// writeOnce takes nothing here: every frame goes through the peer's
// writer goroutine.
func writeOnce(syscall.RawConn, []byte) int { return 0 }
