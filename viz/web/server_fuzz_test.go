package web_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"ordo/viz/web"
)

// FuzzSimQuery: any query to /api/sim is answered 200 or 400 (a clear
// refusal), never a panic or a 500.
func FuzzSimQuery(f *testing.F) {
	for _, q := range []string{
		"scenario=bully-section4&pos=0",
		"scenario=bully-section4&pos=end",
		"scenario=bully-section4&pos=40&go=back",
		"scenario=bully-section4&pos=3&go=next&seed=7",
		"scenario=bully-section4&pos=30&inject=20:crash%203",
		"scenario=bully-section4&inject=5:partition%201,2/3,4,5&pos=9",
		"scenario=bully-section4&inject=5:heal&go=%2B10",
		"scenario=x&seed=&pos=&go=",
	} {
		f.Add(q)
	}
	srv, err := web.NewServer(web.ServerOptions{Scenario: builtin(f, "bully-section4")})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, query string) {
		req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1/api/sim", nil)
		req.URL.RawQuery = query
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code != http.StatusOK && w.Code != http.StatusBadRequest {
			t.Fatalf("%q: %d %s", query, w.Code, w.Body.String())
		}
	})
}
