package ordo

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
)

// Codec encodes and decodes the messages of one protocol. Every message type
// is registered by its kind from Protocol.Messages; a payload is decoded into
// a fresh value of the registered type, so a peer cannot make a node build a
// type it did not ask for.
type Codec struct {
	types map[string]reflect.Type
}

// NewCodec registers every message type of a protocol. Two types with one
// kind, or a nil message, are programming errors reported as errors.
func NewCodec(msgs []Message) (*Codec, error) {
	c := &Codec{types: map[string]reflect.Type{}}
	for i, m := range msgs {
		if m == nil {
			return nil, fmt.Errorf("codec: message %d of the protocol is nil", i)
		}
		k := m.Kind()
		if k == "" || len(k) > MaxKindLen {
			return nil, fmt.Errorf("codec: message type %T has unusable kind %q", m, k)
		}
		if t, dup := c.types[k]; dup && t != reflect.TypeOf(m) {
			return nil, fmt.Errorf("codec: kind %q registered for both %v and %T", k, t, m)
		}
		c.types[k] = reflect.TypeOf(m)
	}
	return c, nil
}

// Kinds lists the registered kinds, sorted.
func (c *Codec) Kinds() []string {
	out := make([]string, 0, len(c.types))
	for k := range c.types {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Encode encodes m as JSON. An unregistered kind is an error: the peer could
// not decode it.
func (c *Codec) Encode(m Message) ([]byte, error) {
	k := m.Kind()
	if _, ok := c.types[k]; !ok {
		return nil, fmt.Errorf("codec: no codec for kind %q (%T): add it to Protocol.Messages", k, m)
	}
	return json.Marshal(m)
}

// Decode builds a fresh message of the type registered for kind from payload.
func (c *Codec) Decode(kind string, payload []byte) (Message, error) {
	t, ok := c.types[kind]
	if !ok {
		return nil, fmt.Errorf("codec: unknown message kind %q", kind)
	}
	var v reflect.Value
	if t.Kind() == reflect.Pointer {
		v = reflect.New(t.Elem())
		if err := json.Unmarshal(payload, v.Interface()); err != nil {
			return nil, fmt.Errorf("codec: decoding %s: %v", kind, err)
		}
	} else {
		p := reflect.New(t)
		if err := json.Unmarshal(payload, p.Interface()); err != nil {
			return nil, fmt.Errorf("codec: decoding %s: %v", kind, err)
		}
		v = p.Elem()
	}
	m, ok := v.Interface().(Message)
	if !ok {
		return nil, fmt.Errorf("codec: %v is not a message", t)
	}
	if m.Kind() != kind {
		return nil, fmt.Errorf("codec: payload of kind %q decodes to kind %q", kind, m.Kind())
	}
	return m, nil
}

// MaxKindLen bounds a message kind's length.
const MaxKindLen = 64
