//go:build unix

package client

import (
	"net"
	"syscall"
)

// peerClosed reports whether an idle connection's peer has closed it or
// sent anything (an HTTP/1.1 server sends nothing unasked on an idle
// connection but its end of stream, or a TLS alert first): one
// non-blocking peek at the socket, which consumes nothing.
func peerClosed(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	closed := false
	var b [1]byte
	err = rc.Read(func(fd uintptr) bool {
		n, _, rerr := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		// n == 0 without error: end of stream; n > 0: unasked bytes;
		// EAGAIN: nothing waits, the connection is open.
		closed = rerr == nil || rerr != syscall.EAGAIN && rerr != syscall.EWOULDBLOCK && rerr != syscall.EINTR
		_ = n
		return true // one look: never wait
	})
	return closed || err != nil
}
