package clientapi_test

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"ordo/kv"
	"ordo/pbft"
	"ordo/pbft/clientapi"
)

// FuzzDecodeRequest: no input panics; an error is an *Error with a 4xx
// status; a decoded request passes Check, survives EncodeRequest and
// DecodeRequest unchanged, and makes a pbft request within MaxOp.
func FuzzDecodeRequest(f *testing.F) {
	for _, s := range []string{
		`{"op":"get","key":"x","client":1,"timestamp":1}`,
		`{"op":"put","key":"x","value":"v","client":7,"timestamp":99}`,
		`{"op":"put","key":"x","value":"","client":7,"timestamp":2}`,
		`{"op":"delete","key":"x","client":4294967295,"timestamp":4611686018427387904}`,
		`{"op":"get","key":"x","client":0,"timestamp":1}`,
		`{"op":"get","key":"x","client":1,"timestamp":1} x`,
		`{"op":"put","key":"\u0000","value":"\u00ff","client":1,"timestamp":1}`,
		`{"op":"get","key":"x","client":1,"timestamp":1,"extra":1}`,
		`{"op":"put","key":"x","key":"y","value":"v","client":1,"timestamp":1}`,
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
		b, err := clientapi.EncodeRequest(q)
		if err != nil {
			t.Fatalf("%q: EncodeRequest: %v", data, err)
		}
		q2, err := clientapi.DecodeRequest(bytes.NewReader(b))
		if err != nil || !reflect.DeepEqual(q, q2) {
			t.Fatalf("%q: round trip %s gave %+v, %v; want %+v", data, b, q2, err, q)
		}
		r, err := clientapi.Command(q)
		if err != nil || r.Validate() != nil {
			t.Fatalf("%q: command %+v, %v", data, r, err)
		}
	})
}

// The largest key and value, every byte of them the longest UTF-8
// encoding allows within the byte bound, fit one PBFT operation.
func TestBoundsFitAnOperation(t *testing.T) {
	v := strings.Repeat("é", clientapi.MaxValueBytes/2)
	q := clientapi.Request{Op: clientapi.OpPut, Key: strings.Repeat("k", clientapi.MaxKeyBytes), Value: &v, Client: 1<<32 - 1, Timestamp: clientapi.MaxTimestamp}
	r, err := clientapi.Command(q)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Op) > pbft.MaxOp || r.Validate() != nil {
		t.Fatalf("operation of %d bytes, bound %d", len(r.Op), pbft.MaxOp)
	}
	if _, err := pbft.EncodeKV(kv.Request{Op: kv.OpPut, Key: "k", Value: strings.Repeat("v", pbft.MaxOp)}); err == nil {
		t.Fatal("EncodeKV took an operation over MaxOp")
	}
}

func TestCheckRefuses(t *testing.T) {
	v := "v"
	big := strings.Repeat("v", clientapi.MaxValueBytes+1)
	for _, c := range []struct {
		q    clientapi.Request
		want string
	}{
		{clientapi.Request{Op: "cas", Key: "x", Client: 1, Timestamp: 1}, "unknown op"},
		{clientapi.Request{Op: "get", Client: 1, Timestamp: 1}, "needs a key"},
		{clientapi.Request{Op: "put", Key: "x", Client: 1, Timestamp: 1}, "needs a value"},
		{clientapi.Request{Op: "get", Key: "x", Value: &v, Client: 1, Timestamp: 1}, "means nothing"},
		{clientapi.Request{Op: "put", Key: "x", Value: &big, Client: 1, Timestamp: 1}, "at most"},
		{clientapi.Request{Op: "get", Key: "x", Timestamp: 1}, "client"},
		{clientapi.Request{Op: "get", Key: "x", Client: 1}, "timestamp"},
	} {
		if err := c.q.Check(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.q, err, c.want)
		}
	}
}
