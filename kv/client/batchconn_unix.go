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
		_, _, rerr := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		// No error: end of stream (0 bytes) or unasked bytes; EAGAIN:
		// nothing waits, the connection is open; any other error: broken.
		closed = rerr != syscall.EAGAIN && rerr != syscall.EWOULDBLOCK
		return true // one look: never wait
	})
	return closed || err != nil
}
