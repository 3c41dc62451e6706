package api

import (
	"errors"
	"io"
	"mime"
	"net/http"

	"ordo/kv"
)

// DecodeBody is how every client API's POST endpoint starts (this
// package's, dynamo/clientapi's, pbft/clientapi's): it refuses a
// Content-Type other than JSON (415; none is taken as JSON), reads the
// body through a bound of max bytes and decodes it with decode. On
// failure it answers through writeError, with the status of an error that
// has an HTTPStatus() int method (an *Error: 400 malformed, 413 oversize)
// or else 400, and returns false.
func DecodeBody[T any](w http.ResponseWriter, req *http.Request, max int64, decode func(io.Reader) (T, error), writeError func(w http.ResponseWriter, code int, msg string)) (T, bool) {
	var zero T
	if ct := req.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			writeError(w, http.StatusUnsupportedMediaType, "want Content-Type: application/json")
			return zero, false
		}
	}
	req.Body = http.MaxBytesReader(w, req.Body, max)
	v, err := decode(req.Body)
	if err != nil {
		code := http.StatusBadRequest
		var st interface{ HTTPStatus() int }
		if errors.As(err, &st) {
			code = st.HTTPStatus()
		}
		writeError(w, code, err.Error())
		return zero, false
	}
	return v, true
}

// ErrorStatus is the status name a client API answers an error of HTTP
// status code with (this package's, dynamo/clientapi's and
// pbft/clientapi's): unknown for 504 (a write's outcome is unknown), busy
// for 429, bad-request for the rest of 4xx (a request the API refuses),
// unavailable otherwise (the server could not serve it).
func ErrorStatus(code int) string {
	switch {
	case code == http.StatusGatewayTimeout:
		return kv.StatusUnknown.String()
	case code == http.StatusTooManyRequests:
		return kv.StatusBusy.String()
	case code >= 400 && code < 500:
		return kv.StatusBadRequest.String()
	}
	return kv.StatusUnavailable.String()
}

// WriteJSON answers with status code and v as one line of JSON, leaving
// <, > and & as they are (json.Marshal's HTML escaping would spend six
// bytes on each).
func WriteJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	encodeJSON(w, v)
}
