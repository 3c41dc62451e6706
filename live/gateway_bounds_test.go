package live

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// setFor sets *p to v until the test ends.
func setFor[T any](t *testing.T, p *T, v T) {
	old := *p
	*p = v
	t.Cleanup(func() { *p = old })
}

// A request whose body stalls (headers promise 100 bytes, one comes) is
// timed out by the client API's read bound: the node answers or closes
// the connection instead of holding it forever.
func TestClientAPIStalledBodyTimedOut(t *testing.T) {
	setFor(t, &clientReadTimeout, 300*time.Millisecond)
	rt, _ := echoNode(t, false, Options{})
	conn, err := net.Dial("tcp", rt.ClientAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /echo HTTP/1.1\r\nHost: n1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
	conn.SetReadDeadline(time.Now().Add(20 * time.Second)) // the test's own bound, far above the node's
	b, err := io.ReadAll(conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("a stalled body held the connection (read %q): no read deadline", b)
	}
	if len(b) > 0 && !strings.HasPrefix(string(b), "HTTP/1.1 4") {
		t.Errorf("a stalled body was answered %q; want a 4xx or a closed connection", b)
	}
}

// The client API holds at most clientMaxConns connections: one more is
// not served until one of them closes (so idle or slow clients cannot
// take every descriptor of the node), and then it is.
func TestClientAPIConnectionsBounded(t *testing.T) {
	setFor(t, &clientMaxConns, 2)
	rt, _ := echoNode(t, false, Options{})
	var idle []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", rt.ClientAddr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		idle = append(idle, c)
	}
	probe, err := net.Dial("tcp", rt.ClientAddr()) // the kernel's accept queue takes it
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	fmt.Fprintf(probe, "POST /echo HTTP/1.1\r\nHost: n1\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"N\":5}")
	probe.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	var buf [512]byte
	if n, err := probe.Read(buf[:]); err == nil {
		t.Fatalf("a third connection was served past the bound of 2: %q", buf[:n])
	}
	idle[0].Close()
	probe.SetReadDeadline(time.Now().Add(20 * time.Second))
	n, err := probe.Read(buf[:])
	if err != nil || !strings.HasPrefix(string(buf[:n]), "HTTP/1.1 200") {
		t.Fatalf("after a connection closed, the waiting one: %q, %v; want served (200)", buf[:n], err)
	}
}

// A missing or wrong token's 401 has the client API's JSON error shape.
func TestClientGuard401IsJSON(t *testing.T) {
	h := clientGuard(http.NotFoundHandler(), "the-token")
	w := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/v1/status", nil)
	req.Header.Set("Authorization", "Bearer wrong")
	h.ServeHTTP(w, req)
	var r struct{ Status, Error string }
	if err := json.Unmarshal(w.Body.Bytes(), &r); w.Code != 401 || err != nil || r.Status != "unauthorized" || !strings.Contains(r.Error, "client token") {
		t.Errorf("401: %d %q (%v); want {status, error} saying client token", w.Code, w.Body.String(), err)
	}
}

// The scheme's name is case-insensitive (RFC 7235): "bearer T" and
// "BEARER T" pass, another scheme or a token without one does not.
func TestClientGuardSchemeIsCaseInsensitive(t *testing.T) {
	h := clientGuard(http.NotFoundHandler(), "the-token")
	for auth, want := range map[string]int{
		"Bearer the-token": 404, "bearer the-token": 404, "BEARER the-token": 404,
		"Basic the-token": 401, "the-token": 401, "Bearer  the-token": 401, "Bearer the-token ": 401, "": 401,
	} {
		w := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/v1/status", nil)
		req.Header.Set("Authorization", auth)
		h.ServeHTTP(w, req)
		if w.Code != want {
			t.Errorf("Authorization %q: %d, want %d", auth, w.Code, want)
		}
	}
}
