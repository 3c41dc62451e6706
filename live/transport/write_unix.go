//go:build unix

package transport

import "syscall"

// writeOnce writes b to the socket with one non-blocking write(2) and
// returns how many bytes it took: 0 when the socket is full (EAGAIN),
// broken, or past its deadline.
func writeOnce(rc syscall.RawConn, b []byte) int {
	n := 0
	err := rc.Write(func(fd uintptr) bool {
		var werr error
		if n, werr = syscall.Write(int(fd), b); werr != nil {
			n = 0
		}
		return true // one attempt: never wait for the socket
	})
	if err != nil {
		return 0
	}
	return n
}
