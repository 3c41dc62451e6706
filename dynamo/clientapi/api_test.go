package clientapi_test

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"ordo/dynamo/clientapi"
)

// FuzzDecodeRequest: no input panics; an error is an *Error with a 4xx
// status; a decoded request passes Check and survives EncodeRequest and
// DecodeRequest unchanged.
func FuzzDecodeRequest(f *testing.F) {
	for _, s := range []string{
		`{"op":"get","key":"x"}`,
		`{"op":"put","key":"x","value":"v","context":"AQEBAQEyAAAAAAAAAA=="}`,
		`{"op":"put","key":"x","value":""}`,
		`{"op":"delete","key":"x","context":"AQE="}`,
		`{"op":"cart-add","key":"c","item":"apple"}`,
		`{"op":"cart-show","key":"c"}`,
		`{"op":"get","key":"x"} x`,
		`{"op":"put","key":"\u0000","value":"\u00ff"}`,
		`[]`, `null`, `{"op":1}`, "\xff",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		q, err := clientapi.DecodeRequest(bytes.NewReader(data))
		if err != nil {
			var e *clientapi.Error
			if !errors.As(err, &e) || e.Status < 400 || e.Status > 499 || e.Msg == "" {
				t.Fatalf("%q: error %#v, want a 4xx *Error", data, err)
			}
			return
		}
		if err := q.Check(); err != nil {
			t.Fatalf("%q decoded, yet Check refuses it: %v", data, err)
		}
		b, err := clientapi.EncodeRequest(q)
		if err != nil {
			t.Fatalf("%q: EncodeRequest: %v", data, err)
		}
		q2, err := clientapi.DecodeRequest(bytes.NewReader(b))
		if err != nil || !reflect.DeepEqual(q, q2) {
			t.Fatalf("%q: round trip %s gave %+v, %v; want %+v", data, b, q2, err, q)
		}
	})
}

func TestContextString(t *testing.T) {
	c := []byte{1, 1, 1, 1, 1, 0xff}
	b, err := clientapi.ParseContext(clientapi.ContextString(c))
	if err != nil || !bytes.Equal(b, c) {
		t.Fatalf("round trip: %x, %v", b, err)
	}
	for s, want := range map[string]string{"#!": "not base64", strings.Repeat("A", 4000): "at most"} {
		if _, err := clientapi.ParseContext(s); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%.20q: %v, want %q", s, err, want)
		}
	}
}
