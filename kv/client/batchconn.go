package client

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/url"
	"time"
)

// A batcher's own connections. net/http's client hands every request to
// a writer goroutine and every answer back from a reader goroutine: two
// wake-ups on each batch's critical path, each queued behind whatever
// else runs on a loaded machine. A batch is one request at a time on a connection, so
// the batcher's goroutine writes it and reads the answer itself, with
// net/http's HTTP/1.1 framing (Request.Write, ReadResponse).

// batchConn is one keep-alive HTTP/1.1 connection to a server.
type batchConn struct {
	c   net.Conn // TLS over raw, or raw
	raw net.Conn // the TCP connection
	br  *bufio.Reader
	bw  *bufio.Writer
}

// maxIdleBatchConns bounds a batcher's idle connections (one per batch
// in flight at most: Config.BatchInflight).
const maxIdleBatchConns = maxBatchInflight

// aLongTimeAgo is a deadline that has passed: it breaks a blocked read
// or write at once.
var aLongTimeAgo = time.Unix(1, 0)

// takeConn is an idle connection to the batcher's server that the
// server has not closed, or nil. One it closed meanwhile (its idle
// timeout, a restart) shows its end of stream, or a TLS alert, waiting
// in the socket: such a one is closed and the next tried. The request is
// then written only on a connection that was open a moment before, so a
// failure after it is a real "outcome unknown", never a stale one.
func (b *batcher) takeConn() *batchConn {
	for {
		b.mu.Lock()
		n := len(b.idle)
		if n == 0 {
			b.mu.Unlock()
			return nil
		}
		bc := b.idle[n-1]
		b.idle = b.idle[:n-1]
		b.mu.Unlock()
		if bc.br.Buffered() == 0 && !peerClosed(bc.raw) {
			return bc
		}
		bc.c.Close()
	}
}

// putConn keeps bc for the next batch, or closes it past the bound or
// once the client is closed.
func (b *batcher) putConn(bc *batchConn) {
	b.mu.Lock()
	keep := !b.closed && len(b.idle) < maxIdleBatchConns
	if keep {
		b.idle = append(b.idle, bc)
	}
	b.mu.Unlock()
	if !keep {
		bc.c.Close()
	}
}

// closeConns closes the idle connections; later ones are closed as they
// come back (Client.Close).
func (b *batcher) closeConns() {
	b.mu.Lock()
	idle := b.idle
	b.idle, b.closed = nil, true
	b.mu.Unlock()
	for _, bc := range idle {
		bc.c.Close()
	}
}

// dial opens a connection to the batcher's server within ctx and the
// client's ConnectTimeout: TCP, then TLS when the client has it (the
// server name from the endpoint when the config names none, as
// net/http does; HTTP/1.1 only).
func (b *batcher) dial(ctx context.Context) (*batchConn, error) {
	u, err := url.Parse(b.ep)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, b.c.cfg.ConnectTimeout)
	defer cancel()
	d := net.Dialer{KeepAlive: 30 * time.Second}
	raw, err := d.DialContext(ctx, "tcp", dialAddr(u))
	if err != nil {
		return nil, err
	}
	c := raw
	if b.c.cfg.TLS != nil {
		cfg := b.c.cfg.TLS.Clone()
		if cfg.ServerName == "" {
			cfg.ServerName = u.Hostname()
		}
		cfg.NextProtos = nil // HTTP/1.1: no h2 by ALPN
		tc := tls.Client(c, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			c.Close()
			return nil, err
		}
		c = tc
	}
	return &batchConn{c: c, raw: raw, br: bufio.NewReaderSize(c, 16<<10), bw: bufio.NewWriterSize(c, 16<<10)}, nil
}

// dialAddr is u's host:port, the scheme's port when u names none (as
// net/http dials).
func dialAddr(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	port := "80"
	if u.Scheme == "https" {
		port = "443"
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// exchangeOwn is exchange on one of the batcher's own connections: a
// POST of body to path with the client token, and its answer's body up
// to limit bytes. sent is false only when no connection could be made.
func (b *batcher) exchangeOwn(ctx context.Context, path string, body []byte, limit int) (data []byte, code int, sent bool, err error) {
	bc := b.takeConn()
	if bc == nil {
		if bc, err = b.dial(ctx); err != nil {
			return nil, 0, false, err
		}
	}
	data, code, err = b.roundTrip(ctx, bc, path, body, limit)
	return data, code, true, err
}

// roundTrip sends one request on bc and reads its answer; bc goes back to
// the idle list when the exchange left it sound, else it is closed.
func (b *batcher) roundTrip(ctx context.Context, bc *batchConn, path string, body []byte, limit int) (data []byte, code int, err error) {
	if d, ok := ctx.Deadline(); ok {
		bc.c.SetDeadline(d)
	} else {
		bc.c.SetDeadline(time.Time{})
	}
	stop := context.AfterFunc(ctx, func() { bc.c.SetDeadline(aLongTimeAgo) })
	keep := false
	defer func() {
		// A cancellation that fired meanwhile may set its past deadline
		// at any moment: that connection is not used again.
		if stop() && keep {
			b.putConn(bc)
		} else {
			bc.c.Close()
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.ep+path, bytes.NewReader(body))
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	b.c.authorize(req)
	if err := req.Write(bc.bw); err != nil {
		return nil, 0, ctxErr(ctx, err)
	}
	if err := bc.bw.Flush(); err != nil {
		return nil, 0, ctxErr(ctx, err)
	}
	resp, err := http.ReadResponse(bc.br, req)
	if err != nil {
		return nil, 0, ctxErr(ctx, err)
	}
	data, err = readAnswer(resp.Body, limit)
	resp.Body.Close()
	if err != nil {
		return nil, 0, ctxErr(ctx, err)
	}
	keep = !resp.Close
	return data, resp.StatusCode, nil
}

// ctxErr is ctx's error when it ended the exchange (its deadline or a
// cancellation broke the connection), else err.
func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	return err
}
