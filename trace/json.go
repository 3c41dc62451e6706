package trace

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// AppendJSON appends e's JSON encoding to dst: the bytes json.Marshal(e)
// gives, without its reflection (the live runtime writes one event per
// message, and encoding them was a tenth of a busy node's CPU). Attribute
// values of types other than the integers, floats, strings and bools
// protocols note go through json.Marshal; a value it refuses is written
// as its error string, so an event always encodes.
func AppendJSON(dst []byte, e *Event) []byte {
	dst = append(dst, `{"id":`...)
	dst = strconv.AppendInt(dst, int64(e.ID), 10)
	dst = append(dst, `,"kind":`...)
	dst = appendString(dst, string(e.Kind))
	if e.Node != 0 {
		dst = append(dst, `,"node":`...)
		dst = strconv.AppendInt(dst, int64(e.Node), 10)
	}
	dst = append(dst, `,"t":`...)
	dst = strconv.AppendInt(dst, e.T, 10)
	if e.Local != 0 {
		dst = append(dst, `,"local":`...)
		dst = strconv.AppendInt(dst, e.Local, 10)
	}
	if e.Lamport != 0 {
		dst = append(dst, `,"lamport":`...)
		dst = strconv.AppendUint(dst, e.Lamport, 10)
	}
	if len(e.Vector) != 0 {
		dst = append(dst, `,"vc":[`...)
		for i, v := range e.Vector {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = strconv.AppendUint(dst, v, 10)
		}
		dst = append(dst, ']')
	}
	if e.Peer != 0 {
		dst = append(dst, `,"peer":`...)
		dst = strconv.AppendInt(dst, int64(e.Peer), 10)
	}
	if e.Msg != 0 {
		dst = append(dst, `,"msg":`...)
		dst = strconv.AppendUint(dst, e.Msg, 10)
	}
	if e.MsgKind != "" {
		dst = append(dst, `,"msg_kind":`...)
		dst = appendString(dst, e.MsgKind)
	}
	if e.Bytes != 0 {
		dst = append(dst, `,"bytes":`...)
		dst = strconv.AppendInt(dst, int64(e.Bytes), 10)
	}
	if e.Name != "" {
		dst = append(dst, `,"name":`...)
		dst = appendString(dst, e.Name)
	}
	if len(e.Attrs) != 0 {
		dst = append(dst, `,"attrs":[`...)
		for i, a := range e.Attrs {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"k":`...)
			dst = appendString(dst, a.Key)
			dst = append(dst, `,"v":`...)
			dst = appendValue(dst, a.Value)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	if e.Body != nil {
		// As json.Marshal writes a RawMessage: compact, HTML-escaped.
		var c bytes.Buffer
		if json.Compact(&c, *e.Body) == nil {
			out := bytes.NewBuffer(append(dst, `,"body":`...))
			json.HTMLEscape(out, c.Bytes())
			dst = out.Bytes()
		}
	}
	return append(dst, '}')
}

func appendValue(dst []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(dst, "null"...)
	case string:
		return appendString(dst, v)
	case bool:
		return strconv.AppendBool(dst, v)
	case int:
		return strconv.AppendInt(dst, int64(v), 10)
	case int64:
		return strconv.AppendInt(dst, v, 10)
	case int32:
		return strconv.AppendInt(dst, int64(v), 10)
	case uint64:
		return strconv.AppendUint(dst, v, 10)
	case uint32:
		return strconv.AppendUint(dst, uint64(v), 10)
	case uint:
		return strconv.AppendUint(dst, uint64(v), 10)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return appendString(dst, err.Error())
	}
	return append(dst, b...)
}

// appendString appends s as a JSON string, escaped as json.Marshal does
// (including its HTML-safe escapes): plain ASCII is copied, anything
// else goes through json.Marshal.
func appendString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, _ := json.Marshal(s)
			return append(dst, b...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}
