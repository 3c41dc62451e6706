package ordo

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sort"
	"unsafe"
)

// Codec encodes and decodes the messages of one protocol (or of every
// protocol of a run) in ordo's wire format: a compact, canonical binary
// encoding of the message's fields in declaration order. The kind is not
// part of the payload: it travels beside it (the live envelope, the
// simulator's in-flight item) and selects the registered type, so a peer
// cannot make a node build a type it did not ask for.
//
// The format, per Go kind (little-endian, no field names, no tags):
//
//	bool                   1 byte, 0 or 1
//	uint, uint8..uint64    unsigned varint (LEB128), minimal length
//	int, int8..int64       zigzag then unsigned varint (ordo.NodeID and
//	                       time.Duration are ints)
//	float32, float64       4 or 8 bytes, IEEE 754 bits
//	string, []byte         uvarint length, then the bytes
//	[]T                    uvarint count, then each element
//	[N]T                   the N elements
//	map[K]V                uvarint count, then key, value pairs ordered by
//	                       the key's encoded bytes (so the bytes are
//	                       canonical: equal maps encode equally)
//	*S (S a struct)        1 byte, 0 for nil or 1 then S
//	struct                 every field in order
//
// Every value has exactly one encoding and Decode accepts only that one
// (minimal varints, ordered distinct map keys, 0/1 bools, no trailing
// bytes), so the bytes of a message are canonical: a protocol can sign or
// hash them. A nil and an empty slice or map encode alike and decode as nil.
//
// NewCodec compiles one encode/decode plan per type: no per-message walk of
// the type graph, and decoding allocates the decoded value only (plus its
// slices, strings and maps).
type Codec struct {
	kinds  map[string]*msgType
	sorted []string
	// small lists the registrations when there are few: a scan comparing
	// type words beats hashing the kind on every message.
	small []*msgType
}

// smallCodec is the most registrations Codec scans rather than hashes.
const smallCodec = 16

// msgType is one registered message type.
type msgType struct {
	kind string
	t    reflect.Type // as registered: S or *S
	ptr  bool         // registered as *S
	s    reflect.Type // S
	p    *plan        // S's plan
	// typ is the type word of an interface holding t, tab the itab word of
	// a Message holding t: Encode compares typ to check a message's type
	// without reflection, Decode builds the Message from tab and the
	// freshly decoded value's pointer (one allocation: the value).
	typ, tab unsafe.Pointer
	// direct is true for a value type Go stores in an interface's data word
	// itself (a pointer-shaped type): decoded through reflect instead.
	direct bool
	zero   Message // a zero-size type decodes to this value
	// layer is set for a Layered registration: decode the inner kind with
	// the inner codec entry and wrap it.
	layer string
	inner *msgType
}

// NewCodec registers every message type of a protocol and compiles its
// plan. It refuses, naming the type and field: a nil message; a kind that
// is empty or longer than MaxKindLen; two types with one kind; a field that
// is unexported; a field of a type the format cannot carry (interface,
// chan, func, unsafe.Pointer, a pointer to a non-struct, a map key other
// than a bool, integer or string, a slice or map of elements that encode to
// no bytes); and a Sizer whose Size() disagrees with the real encoded
// length of the zero value or of a filled sample. Listing one type twice is
// allowed. Layered values (see LayerMessages) register an embedded
// protocol's messages under the layer's kinds.
func NewCodec(msgs []Message) (*Codec, error) {
	c := &Codec{kinds: map[string]*msgType{}}
	plans := map[reflect.Type]*plan{}
	for i, m := range msgs {
		if err := c.register(m, i, plans); err != nil {
			return nil, err
		}
	}
	for k := range c.kinds {
		c.sorted = append(c.sorted, k)
	}
	sort.Strings(c.sorted)
	if len(c.sorted) <= smallCodec {
		for _, k := range c.sorted {
			c.small = append(c.small, c.kinds[k])
		}
	}
	return c, nil
}

func (c *Codec) register(m Message, i int, plans map[reflect.Type]*plan) error {
	if m == nil || isNilPointer(m) {
		return fmt.Errorf("codec: message %d of the protocol is nil", i)
	}
	k := m.Kind()
	if k == "" || len(k) > MaxKindLen {
		return fmt.Errorf("codec: message type %T has unusable kind %q (length must be 1..%d)", m, k, MaxKindLen)
	}
	t := reflect.TypeOf(m)
	if prev, dup := c.kinds[k]; dup {
		if prev.t != t || (prev.layer != "" && !sameLayered(prev, m)) {
			return fmt.Errorf("codec: kind %q registered for both %v and %T", k, prev.t, m)
		}
		return nil
	}
	if l, ok := m.(Layered); ok {
		if l.Layer == "" {
			return fmt.Errorf("codec: layered message %q has an empty layer", k)
		}
		if l.Msg == nil {
			return fmt.Errorf("codec: layered message of layer %q carries no message", l.Layer)
		}
		sub := &Codec{kinds: map[string]*msgType{}}
		if err := sub.register(l.Msg, i, plans); err != nil {
			return fmt.Errorf("codec: layer %q: %w", l.Layer, err)
		}
		inner := sub.kinds[l.Msg.Kind()]
		c.kinds[k] = &msgType{kind: k, t: t, layer: l.Layer, inner: inner, typ: typeWord(m), tab: tabWord(m)}
		return nil
	}
	mt := &msgType{kind: k, t: t, s: t, typ: typeWord(m), tab: tabWord(m)}
	if t.Kind() == reflect.Pointer {
		if t.Elem().Kind() != reflect.Struct {
			return fmt.Errorf("codec: message type %v: a pointer message must point to a struct", t)
		}
		mt.ptr, mt.s = true, t.Elem()
	}
	p, err := compile(mt.s, mt.s.String(), plans)
	if err != nil {
		return fmt.Errorf("codec: message type %v (kind %q): %w", t, k, err)
	}
	mt.p = p
	if !mt.ptr {
		mt.direct = mayBeDirect(t)
		if t.Size() == 0 {
			mt.zero = m
		}
	}
	c.kinds[k] = mt
	if err := c.checkSizer(mt, m); err != nil {
		delete(c.kinds, k)
		return err
	}
	return nil
}

func sameLayered(prev *msgType, m Message) bool {
	l := m.(Layered)
	return prev.layer == l.Layer && prev.inner != nil && prev.inner.t == reflect.TypeOf(l.Msg)
}

func isNilPointer(m Message) bool {
	v := reflect.ValueOf(m)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// checkSizer refuses a Sizer whose Size() is not the encoded length, on the
// zero value and on a sample with every field filled.
func (c *Codec) checkSizer(mt *msgType, m Message) error {
	if _, ok := m.(Sizer); !ok {
		return nil
	}
	for _, fill := range []bool{false, true} {
		v := reflect.New(mt.s)
		if fill {
			fillSample(v.Elem(), 0)
		}
		var sm Message
		if mt.ptr {
			sm = v.Interface().(Message)
		} else {
			sm = v.Elem().Interface().(Message)
		}
		n, err := c.Size(sm)
		if err != nil {
			return fmt.Errorf("codec: sizing a sample %v: %w", mt.t, err)
		}
		if got := sm.(Sizer).Size(); got != n {
			what := "the zero value"
			if fill {
				what = "a filled sample"
			}
			return fmt.Errorf("codec: %v.Size() is %d for %s but it encodes to %d bytes: make Size agree with the encoding, or remove it (the runtimes take the size from the codec)", mt.t, got, what, n)
		}
	}
	return nil
}

// fillSample sets every field of v to a non-zero value: two-byte varints,
// short strings, two-element slices and maps, non-nil pointers.
func fillSample(v reflect.Value, depth int) {
	if depth > 4 {
		return
	}
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(-100)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		v.SetUint(200)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1.5)
	case reflect.String:
		v.SetString("sample")
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			fillSample(s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.Array:
		for i := range v.Len() {
			fillSample(v.Index(i), depth+1)
		}
	case reflect.Map:
		mp := reflect.MakeMap(v.Type())
		for i := range 2 {
			k := reflect.New(v.Type().Key()).Elem()
			fillSample(k, depth+1)
			if i == 1 { // a second, distinct key
				switch k.Kind() {
				case reflect.Bool:
					k.SetBool(false)
				case reflect.String:
					k.SetString("other")
				case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
					k.SetInt(7)
				default:
					k.SetUint(7)
				}
			}
			e := reflect.New(v.Type().Elem()).Elem()
			fillSample(e, depth+1)
			mp.SetMapIndex(k, e)
		}
		v.Set(mp)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fillSample(p.Elem(), depth+1)
		v.Set(p)
	case reflect.Struct:
		for i := range v.NumField() {
			fillSample(v.Field(i), depth+1)
		}
	}
}

// Kinds lists the registered kinds, sorted.
func (c *Codec) Kinds() []string { return slices.Clone(c.sorted) }

// Has reports whether kind is registered.
func (c *Codec) Has(kind string) bool { _, ok := c.kinds[kind]; return ok }

// lookup finds m's registration.
func (c *Codec) lookup(m Message) (*msgType, error) {
	if m == nil {
		return nil, errors.New("codec: nil message")
	}
	if c.small != nil {
		tw := typeWord(m)
		for _, mt := range c.small {
			if mt.typ == tw && mt.layer == "" {
				// One kind per type unless the type's Kind depends on its
				// value: check it.
				if k := m.Kind(); k == mt.kind {
					return mt, nil
				}
				break
			}
		}
	}
	k := m.Kind()
	mt, ok := c.kinds[k]
	if !ok {
		return nil, fmt.Errorf("codec: no codec for kind %q (%T): add it to Protocol.Messages", k, m)
	}
	return mt, nil
}

// check verifies that m has the registered type and returns a pointer to
// its value (nil for a layered registration).
func (mt *msgType) check(m Message) (unsafe.Pointer, error) {
	if typeWord(m) != mt.typ {
		return nil, fmt.Errorf("codec: kind %q is registered for %v, not %T", mt.kind, mt.t, m)
	}
	if mt.layer != "" {
		l := m.(Layered)
		if l.Layer != mt.layer || l.Msg == nil {
			return nil, fmt.Errorf("codec: layered message %q does not match its registration (layer %q)", mt.kind, mt.layer)
		}
		return nil, nil
	}
	p := dataWord(m)
	if mt.ptr && p == nil {
		return nil, fmt.Errorf("codec: nil %v message", mt.t)
	}
	return p, nil
}

func (mt *msgType) append(b []byte, m Message) ([]byte, error) {
	p, err := mt.check(m)
	if err != nil {
		return b, err
	}
	switch {
	case mt.layer != "":
		return mt.inner.append(b, m.(Layered).Msg)
	case mt.direct:
		return mt.p.enc(b, directValue(m)), nil
	}
	return mt.p.enc(b, p), nil
}

func (mt *msgType) sizeOf(m Message) (int, error) {
	p, err := mt.check(m)
	if err != nil {
		return 0, err
	}
	switch {
	case mt.layer != "":
		return mt.inner.sizeOf(m.(Layered).Msg)
	case mt.direct:
		return mt.p.size(directValue(m)), nil
	}
	return mt.p.size(p), nil
}

// Append appends m's encoding to b. It allocates nothing when b has room
// (maps excepted: their keys are sorted through a scratch buffer). An
// unregistered kind or a type other than the registered one is an error:
// the peer could not decode it.
func (c *Codec) Append(b []byte, m Message) ([]byte, error) {
	mt, err := c.lookup(m)
	if err != nil {
		return b, err
	}
	return mt.append(b, m)
}

// Encode returns m's encoding in a new slice of exactly its size.
func (c *Codec) Encode(m Message) ([]byte, error) {
	mt, err := c.lookup(m)
	if err != nil {
		return nil, err
	}
	n, err := mt.sizeOf(m)
	if err != nil {
		return nil, err
	}
	return mt.append(make([]byte, 0, n), m)
}

// Size returns the length in bytes of m's encoding without encoding it.
func (c *Codec) Size(m Message) (int, error) {
	mt, err := c.lookup(m)
	if err != nil {
		return 0, err
	}
	return mt.sizeOf(m)
}

// Decode builds a fresh message of the type registered for kind from
// payload. It is strict: a truncated payload, trailing bytes, a
// non-canonical varint, a bool other than 0 or 1, an integer that
// overflows its field, a length or count larger than the rest of the
// payload can hold, map keys out of order, nesting deeper than MaxDepth or
// a payload over MaxMessageSize is a *DecodeError, and no partly decoded
// value is ever returned. A message type that implements Validator is
// checked after decoding: a value it refuses is a *DecodeError with
// Reason ReasonAbsurd. It never panics.
func (c *Codec) Decode(kind string, payload []byte) (Message, error) {
	for _, mt := range c.small {
		if mt.kind == kind {
			return mt.decode(payload)
		}
	}
	if c.small != nil {
		return nil, &DecodeError{Kind: kind, Reason: ReasonUnknownKind}
	}
	mt, ok := c.kinds[kind]
	if !ok {
		return nil, &DecodeError{Kind: kind, Reason: ReasonUnknownKind}
	}
	return mt.decode(payload)
}

func (mt *msgType) decode(payload []byte) (Message, error) {
	if len(payload) > MaxMessageSize {
		return nil, &DecodeError{Kind: mt.kind, Reason: ReasonTooLarge, Detail: fmt.Sprintf("%d bytes, bound is %d", len(payload), MaxMessageSize)}
	}
	if mt.layer != "" {
		inner, err := mt.inner.decode(payload)
		if err != nil {
			if de, ok := err.(*DecodeError); ok {
				de.Kind = mt.kind
			}
			return nil, err
		}
		return Layered{Layer: mt.layer, Msg: inner, kind: mt.kind}, nil
	}
	if mt.zero != nil {
		if len(payload) != 0 {
			return nil, &DecodeError{Kind: mt.kind, Reason: ReasonTrailing, Detail: fmt.Sprintf("%d bytes after the message", len(payload))}
		}
		return mt.zero, nil
	}
	v := reflect.New(mt.s)
	p := v.UnsafePointer()
	d := mt.p.dec(decoder{b: payload}, p)
	if d.err == nil && d.off != len(d.b) {
		d.fail(ReasonTrailing, "%d bytes after the message", len(d.b)-d.off)
	}
	if d.err != nil {
		d.err.Kind = mt.kind
		return nil, d.err
	}
	var m Message
	if mt.direct {
		m = v.Elem().Interface().(Message)
	} else {
		m = makeMessage(mt.tab, p)
	}
	// A type whose Kind depends on its fields must decode to the kind it
	// arrived as: the kind chose the type, the payload must not change it.
	if k := m.Kind(); k != mt.kind {
		return nil, &DecodeError{Kind: mt.kind, Offset: len(payload), Reason: ReasonInvalid, Detail: fmt.Sprintf("decodes to kind %q", k)}
	}
	// A well-formed message may still carry a value no peer could have
	// sent honestly (a term of 2^64−1): its Validate refuses it here, so
	// both runtimes drop and count it like a malformed one (bounds.go).
	if v, ok := m.(Validator); ok {
		if err := v.Validate(); err != nil {
			return nil, &DecodeError{Kind: mt.kind, Offset: len(payload), Reason: ReasonAbsurd, Detail: err.Error()}
		}
	}
	return m, nil
}

// MaxKindLen bounds a message kind's length.
const MaxKindLen = 64

// MaxDepth bounds the nesting of pointers, slices and maps a decoder
// follows, so a hostile payload cannot exhaust the stack.
const MaxDepth = 64

// Decode failure reasons (DecodeError.Reason): a short, fixed set, so they
// can label metrics.
const (
	ReasonUnknownKind = "unknown kind"
	ReasonTruncated   = "truncated"
	ReasonTrailing    = "trailing bytes"
	ReasonTooLarge    = "too large"
	ReasonInvalid     = "invalid"
	ReasonTooDeep     = "too deep"
	// ReasonAbsurd: the message decoded but its Validate (Validator)
	// refused a value, such as a term above MaxTerm.
	ReasonAbsurd = "absurd"
)

// DecodeError is a payload Decode refused.
type DecodeError struct {
	Kind   string
	Offset int    // byte offset in the payload
	Reason string // one of the Reason constants
	Detail string
}

func (e *DecodeError) Error() string {
	s := fmt.Sprintf("codec: decoding %q at byte %d: %s", e.Kind, e.Offset, e.Reason)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// ---- plans ----

// plan encodes, decodes and sizes one type through a pointer to a value of
// it. Struct fields are reached by offset, so a message's encoding walks
// precompiled closures and never the reflect type graph.
type plan struct {
	t    reflect.Type
	enc  func(b []byte, p unsafe.Pointer) []byte
	dec  func(d decoder, p unsafe.Pointer) decoder // by value: it stays on the stack
	size func(p unsafe.Pointer) int
	min  int // the fewest bytes a value encodes to
}

// field is one struct field: scalars are handled inline by an op code (a
// switch beats an indirect call per field), everything else by its plan.
type field struct {
	off uintptr
	op  op
	p   *plan
}

type op uint8

const (
	opPlan op = iota
	opBool
	opInt8
	opInt16
	opInt32
	opInt64
	opUint8
	opUint16
	opUint32
	opUint64
	opString
)

// opOf is the inline op for t, or opPlan.
func opOf(t reflect.Type) op {
	switch t.Kind() {
	case reflect.Bool:
		return opBool
	case reflect.String:
		return opString
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return [...]op{1: opInt8, 2: opInt16, 4: opInt32, 8: opInt64}[t.Size()]
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return [...]op{1: opUint8, 2: opUint16, 4: opUint32, 8: opUint64}[t.Size()]
	}
	return opPlan
}

func zigzag(v int64) uint64   { return uint64(v<<1) ^ uint64(v>>63) }
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

// compile builds t's plan; plans caches them by type, which also ties the
// knot of recursive types (through pointers, slices and maps).
func compile(t reflect.Type, path string, plans map[reflect.Type]*plan) (*plan, error) {
	if p, ok := plans[t]; ok {
		return p, nil
	}
	p := &plan{t: t}
	switch t.Kind() {
	case reflect.Bool:
		p.min = 1
		p.enc = func(b []byte, p unsafe.Pointer) []byte {
			if *(*bool)(p) {
				return append(b, 1)
			}
			return append(b, 0)
		}
		p.dec = func(dv decoder, p unsafe.Pointer) decoder {
			d := &dv
			switch c := d.byte(); c {
			case 0, 1:
				*(*bool)(p) = c == 1
			default:
				d.fail(ReasonInvalid, "bool byte %d", c)
			}
			return dv
		}
		p.size = func(unsafe.Pointer) int { return 1 }
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		intPlan(p, t.Size())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		uintPlan(p, t.Size())
	case reflect.Float32:
		p.min = 4
		p.enc = func(b []byte, p unsafe.Pointer) []byte {
			u := math.Float32bits(*(*float32)(p))
			return append(b, byte(u), byte(u>>8), byte(u>>16), byte(u>>24))
		}
		p.dec = func(dv decoder, p unsafe.Pointer) decoder {
			d := &dv
			if s := d.take(4); s != nil {
				*(*float32)(p) = math.Float32frombits(uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24)
			}
			return dv
		}
		p.size = func(unsafe.Pointer) int { return 4 }
	case reflect.Float64:
		p.min = 8
		p.enc = func(b []byte, p unsafe.Pointer) []byte {
			u := math.Float64bits(*(*float64)(p))
			return append(b, byte(u), byte(u>>8), byte(u>>16), byte(u>>24), byte(u>>32), byte(u>>40), byte(u>>48), byte(u>>56))
		}
		p.dec = func(dv decoder, p unsafe.Pointer) decoder {
			d := &dv
			if s := d.take(8); s != nil {
				var u uint64
				for i := 7; i >= 0; i-- {
					u = u<<8 | uint64(s[i])
				}
				*(*float64)(p) = math.Float64frombits(u)
			}
			return dv
		}
		p.size = func(unsafe.Pointer) int { return 8 }
	case reflect.String:
		p.min = 1
		p.enc = func(b []byte, p unsafe.Pointer) []byte {
			s := *(*string)(p)
			return append(appendUvarint(b, uint64(len(s))), s...)
		}
		p.dec = func(dv decoder, p unsafe.Pointer) decoder {
			d := &dv
			if s := d.take(d.length(1)); len(s) > 0 {
				*(*string)(p) = string(s)
			}
			return dv
		}
		p.size = func(p unsafe.Pointer) int { n := len(*(*string)(p)); return uvarintLen(uint64(n)) + n }
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			p.min = 1
			p.enc = func(b []byte, p unsafe.Pointer) []byte {
				s := *(*[]byte)(p)
				return append(appendUvarint(b, uint64(len(s))), s...)
			}
			p.dec = func(dv decoder, p unsafe.Pointer) decoder {
				d := &dv
				if s := d.take(d.length(1)); len(s) > 0 {
					*(*[]byte)(p) = bytes.Clone(s)
				}
				return dv
			}
			p.size = func(p unsafe.Pointer) int { n := len(*(*[]byte)(p)); return uvarintLen(uint64(n)) + n }
			break
		}
		plans[t] = p
		ep, err := compile(t.Elem(), path+"[]", plans)
		if err != nil {
			delete(plans, t)
			return nil, err
		}
		if ep.min == 0 {
			delete(plans, t)
			return nil, fmt.Errorf("field %s: elements of %v encode to no bytes: a slice of them carries only its length", path, t.Elem())
		}
		slicePlan(p, t, ep)
	case reflect.Array:
		ep, err := compile(t.Elem(), path+"[]", plans)
		if err != nil {
			return nil, err
		}
		arrayPlan(p, t, ep)
	case reflect.Map:
		switch t.Key().Kind() {
		case reflect.Bool, reflect.String,
			reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		default:
			return nil, fmt.Errorf("field %s: map key type %v unsupported (bool, integer or string keys only)", path, t.Key())
		}
		plans[t] = p
		kp, err := compile(t.Key(), path+"[key]", plans)
		if err == nil {
			var vp *plan
			if vp, err = compile(t.Elem(), path+"[value]", plans); err == nil {
				mapPlan(p, t, kp, vp)
			}
		}
		if err != nil {
			delete(plans, t)
			return nil, err
		}
	case reflect.Pointer:
		if t.Elem().Kind() != reflect.Struct {
			return nil, fmt.Errorf("field %s: pointer to %v unsupported (pointers to structs only)", path, t.Elem())
		}
		plans[t] = p
		ep, err := compile(t.Elem(), path, plans)
		if err != nil {
			delete(plans, t)
			return nil, err
		}
		pointerPlan(p, t, ep)
	case reflect.Struct:
		plans[t] = p
		var fs []field
		for i := range t.NumField() {
			f := t.Field(i)
			fpath := path + "." + f.Name
			if !f.IsExported() {
				delete(plans, t)
				return nil, fmt.Errorf("field %s is unexported: the codec cannot carry it (export it, or keep it out of the message)", fpath)
			}
			fp, err := compile(f.Type, fpath, plans)
			if err != nil {
				delete(plans, t)
				return nil, err
			}
			fs = append(fs, field{f.Offset, opOf(f.Type), fp})
			p.min += fp.min
		}
		structPlan(p, fs)
	default:
		return nil, fmt.Errorf("field %s: type %v (%s) unsupported: messages carry bools, numbers, strings, slices, arrays, maps, structs and pointers to structs", path, t, t.Kind())
	}
	plans[t] = p
	return p, nil
}

// loadUint reads the size-byte unsigned integer at p, zero-extended.
func loadUint(p unsafe.Pointer, size uintptr) uint64 {
	switch size {
	case 1:
		return uint64(*(*uint8)(p))
	case 2:
		return uint64(*(*uint16)(p))
	case 4:
		return uint64(*(*uint32)(p))
	}
	return *(*uint64)(p)
}

// storeUint writes the low size bytes of v at p. Signed integers use it too:
// truncating a two's-complement value keeps exactly the bits intN(v) would.
func storeUint(p unsafe.Pointer, size uintptr, v uint64) {
	switch size {
	case 1:
		*(*uint8)(p) = uint8(v)
	case 2:
		*(*uint16)(p) = uint16(v)
	case 4:
		*(*uint32)(p) = uint32(v)
	default:
		*(*uint64)(p) = v
	}
}

// intPlan encodes signed integers zigzagged, so small magnitudes of either
// sign take one byte.
func intPlan(p *plan, size uintptr) {
	p.min = 1
	bits := size * 8
	shift := 64 - bits
	// Sign-extend: move the value's sign bit to bit 63, shift back arithmetically.
	load := func(p unsafe.Pointer) int64 { return int64(loadUint(p, size)<<shift) >> shift }
	p.enc = func(b []byte, p unsafe.Pointer) []byte { return appendUvarint(b, zigzag(load(p))) }
	p.size = func(p unsafe.Pointer) int { return uvarintLen(zigzag(load(p))) }
	p.dec = func(dv decoder, p unsafe.Pointer) decoder {
		d := &dv
		v := unzigzag(d.uvarint())
		if bits < 64 && (v < -1<<(bits-1) || v >= 1<<(bits-1)) {
			d.fail(ReasonInvalid, "%d overflows int%d", v, bits)
			return dv
		}
		storeUint(p, size, uint64(v))
		return dv
	}
}

func uintPlan(p *plan, size uintptr) {
	p.min = 1
	bits := size * 8
	p.enc = func(b []byte, p unsafe.Pointer) []byte { return appendUvarint(b, loadUint(p, size)) }
	p.size = func(p unsafe.Pointer) int { return uvarintLen(loadUint(p, size)) }
	p.dec = func(dv decoder, p unsafe.Pointer) decoder {
		d := &dv
		v := d.uvarint()
		if bits < 64 && v>>bits != 0 {
			d.fail(ReasonInvalid, "%d overflows uint%d", v, bits)
			return dv
		}
		storeUint(p, size, v)
		return dv
	}
}

// sliceHeader is the layout of a slice value.
type sliceHeader struct {
	data     unsafe.Pointer
	len, cap int
}

func slicePlan(p *plan, t reflect.Type, ep *plan) {
	p.min = 1
	es := t.Elem().Size()
	p.enc = func(b []byte, p unsafe.Pointer) []byte {
		h := (*sliceHeader)(p)
		b = appendUvarint(b, uint64(h.len))
		for i := range h.len {
			b = ep.enc(b, unsafe.Add(h.data, uintptr(i)*es))
		}
		return b
	}
	p.size = func(p unsafe.Pointer) int {
		h := (*sliceHeader)(p)
		n := uvarintLen(uint64(h.len))
		for i := range h.len {
			n += ep.size(unsafe.Add(h.data, uintptr(i)*es))
		}
		return n
	}
	p.dec = func(dv decoder, p unsafe.Pointer) decoder {
		d := &dv
		n := d.length(ep.min)
		if n == 0 || !d.enter() {
			return dv
		}
		s := reflect.MakeSlice(t, n, n)
		data := s.UnsafePointer()
		for i := 0; i < n && d.err == nil; i++ {
			*d = ep.dec(*d, unsafe.Add(data, uintptr(i)*es))
		}
		d.depth--
		reflect.NewAt(t, p).Elem().Set(s)
		return dv
	}
}

func arrayPlan(p *plan, t reflect.Type, ep *plan) {
	n, es := t.Len(), t.Elem().Size()
	p.min = n * ep.min
	p.enc = func(b []byte, p unsafe.Pointer) []byte {
		for i := range n {
			b = ep.enc(b, unsafe.Add(p, uintptr(i)*es))
		}
		return b
	}
	p.size = func(p unsafe.Pointer) int {
		s := 0
		for i := range n {
			s += ep.size(unsafe.Add(p, uintptr(i)*es))
		}
		return s
	}
	p.dec = func(dv decoder, p unsafe.Pointer) decoder {
		d := &dv
		for i := 0; i < n && d.err == nil; i++ {
			*d = ep.dec(*d, unsafe.Add(p, uintptr(i)*es))
		}
		return dv
	}
}

func pointerPlan(p *plan, t reflect.Type, ep *plan) {
	p.min = 1
	p.enc = func(b []byte, p unsafe.Pointer) []byte {
		q := *(*unsafe.Pointer)(p)
		if q == nil {
			return append(b, 0)
		}
		return ep.enc(append(b, 1), q)
	}
	p.size = func(p unsafe.Pointer) int {
		q := *(*unsafe.Pointer)(p)
		if q == nil {
			return 1
		}
		return 1 + ep.size(q)
	}
	p.dec = func(dv decoder, p unsafe.Pointer) decoder {
		d := &dv
		switch c := d.byte(); {
		case d.err != nil:
		case c == 0:
		case c == 1:
			if !d.enter() {
				return dv
			}
			v := reflect.New(t.Elem())
			*d = ep.dec(*d, v.UnsafePointer())
			d.depth--
			*(*unsafe.Pointer)(p) = v.UnsafePointer()
		default:
			d.fail(ReasonInvalid, "pointer flag %d", c)
		}
		return dv
	}
}

func structPlan(p *plan, fs []field) {
	p.enc = func(b []byte, p unsafe.Pointer) []byte {
		for _, f := range fs {
			q := unsafe.Add(p, f.off)
			switch f.op {
			case opUint64:
				b = appendUvarint(b, *(*uint64)(q))
			case opInt64:
				b = appendUvarint(b, zigzag(*(*int64)(q)))
			case opBool:
				if *(*bool)(q) {
					b = append(b, 1)
				} else {
					b = append(b, 0)
				}
			case opString:
				str := *(*string)(q)
				b = append(appendUvarint(b, uint64(len(str))), str...)
			case opUint8:
				b = appendUvarint(b, uint64(*(*uint8)(q)))
			case opUint16:
				b = appendUvarint(b, uint64(*(*uint16)(q)))
			case opUint32:
				b = appendUvarint(b, uint64(*(*uint32)(q)))
			case opInt8:
				b = appendUvarint(b, zigzag(int64(*(*int8)(q))))
			case opInt16:
				b = appendUvarint(b, zigzag(int64(*(*int16)(q))))
			case opInt32:
				b = appendUvarint(b, zigzag(int64(*(*int32)(q))))
			default:
				b = f.p.enc(b, q)
			}
		}
		return b
	}
	p.size = func(p unsafe.Pointer) int {
		n := 0
		for _, f := range fs {
			q := unsafe.Add(p, f.off)
			switch f.op {
			case opUint64:
				n += uvarintLen(*(*uint64)(q))
			case opInt64:
				n += uvarintLen(zigzag(*(*int64)(q)))
			case opBool:
				n++
			case opString:
				l := len(*(*string)(q))
				n += uvarintLen(uint64(l)) + l
			case opUint8:
				n += uvarintLen(uint64(*(*uint8)(q)))
			case opUint16:
				n += uvarintLen(uint64(*(*uint16)(q)))
			case opUint32:
				n += uvarintLen(uint64(*(*uint32)(q)))
			case opInt8:
				n += uvarintLen(zigzag(int64(*(*int8)(q))))
			case opInt16:
				n += uvarintLen(zigzag(int64(*(*int16)(q))))
			case opInt32:
				n += uvarintLen(zigzag(int64(*(*int32)(q))))
			default:
				n += f.p.size(q)
			}
		}
		return n
	}
	p.dec = func(dv decoder, p unsafe.Pointer) decoder {
		d := &dv
		for _, f := range fs {
			if d.err != nil {
				return dv
			}
			q := unsafe.Add(p, f.off)
			switch f.op {
			case opUint64:
				*(*uint64)(q) = d.uvarint()
			case opInt64:
				*(*int64)(q) = unzigzag(d.uvarint())
			case opPlan:
				*d = f.p.dec(*d, q)
			default:
				*d = f.p.dec(*d, q) // narrow ints, bools, strings: checked by their plans
			}
		}
		return dv
	}
}

// mapPlan encodes entries ordered by the key's encoded bytes; decoding
// demands that order strictly, so duplicates and reorderings are refused.
func mapPlan(p *plan, t reflect.Type, kp, vp *plan) {
	p.min = 1
	kt, vt := t.Key(), t.Elem()
	type entry struct{ k, v reflect.Value }
	// entries copies the map into addressable keys and values.
	entries := func(p unsafe.Pointer) []entry {
		m := reflect.NewAt(t, p).Elem()
		out := make([]entry, 0, m.Len())
		it := m.MapRange()
		for it.Next() {
			k, v := reflect.New(kt).Elem(), reflect.New(vt).Elem()
			k.Set(it.Key())
			v.Set(it.Value())
			out = append(out, entry{k, v})
		}
		return out
	}
	p.enc = func(b []byte, p unsafe.Pointer) []byte {
		es := entries(p)
		keys := make([][]byte, len(es))
		for i, e := range es {
			keys[i] = kp.enc(nil, e.k.Addr().UnsafePointer())
		}
		idx := make([]int, len(es))
		for i := range idx {
			idx[i] = i
		}
		sort.Slice(idx, func(a, b int) bool { return bytes.Compare(keys[idx[a]], keys[idx[b]]) < 0 })
		b = appendUvarint(b, uint64(len(es)))
		for _, i := range idx {
			b = append(b, keys[i]...)
			b = vp.enc(b, es[i].v.Addr().UnsafePointer())
		}
		return b
	}
	p.size = func(p unsafe.Pointer) int {
		es := entries(p)
		n := uvarintLen(uint64(len(es)))
		for _, e := range es {
			n += kp.size(e.k.Addr().UnsafePointer()) + vp.size(e.v.Addr().UnsafePointer())
		}
		return n
	}
	p.dec = func(dv decoder, p unsafe.Pointer) decoder {
		d := &dv
		n := d.length(kp.min + vp.min)
		if n == 0 || !d.enter() {
			return dv
		}
		m := reflect.MakeMapWithSize(t, n)
		var prev []byte
		for i := 0; i < n && d.err == nil; i++ {
			start := d.off
			k := reflect.New(kt)
			*d = kp.dec(*d, k.UnsafePointer())
			if d.err != nil {
				break
			}
			kb := d.b[start:d.off]
			if i > 0 && bytes.Compare(prev, kb) >= 0 {
				d.off = start
				d.fail(ReasonInvalid, "map keys out of order or repeated")
				break
			}
			prev = kb
			v := reflect.New(vt)
			*d = vp.dec(*d, v.UnsafePointer())
			m.SetMapIndex(k.Elem(), v.Elem())
		}
		d.depth--
		if d.err == nil {
			reflect.NewAt(t, p).Elem().Set(m)
		}
		return dv
	}
}

// ---- the decoder ----

type decoder struct {
	b     []byte
	off   int
	depth int
	err   *DecodeError
}

func (d *decoder) fail(reason, format string, args ...any) {
	if d.err == nil {
		d.err = &DecodeError{Offset: d.off, Reason: reason, Detail: fmt.Sprintf(format, args...)}
	}
}

// enter descends one level of nesting; false (and an error) past MaxDepth.
func (d *decoder) enter() bool {
	if d.depth >= MaxDepth {
		d.fail(ReasonTooDeep, "nesting deeper than %d", MaxDepth)
		return false
	}
	d.depth++
	return true
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if d.off >= len(d.b) {
		d.fail(ReasonTruncated, "want 1 more byte")
		return 0
	}
	c := d.b[d.off]
	d.off++
	return c
}

// take returns the next n bytes (aliasing the payload), or nil and an
// error when fewer remain.
func (d *decoder) take(n int) []byte {
	if d.err != nil || n == 0 {
		return nil
	}
	if n > len(d.b)-d.off {
		d.fail(ReasonTruncated, "want %d bytes, %d remain", n, len(d.b)-d.off)
		return nil
	}
	s := d.b[d.off : d.off+n : d.off+n]
	d.off += n
	return s
}

// length reads a length or count whose elements encode to at least min
// bytes each, and refuses one the rest of the payload cannot hold, before
// anything is allocated for it.
func (d *decoder) length(min int) int {
	at := d.off
	n := d.uvarint()
	if d.err != nil {
		return 0
	}
	if rest := uint64(len(d.b) - d.off); n > rest/uint64(max(min, 1)) {
		d.off = at
		why := ReasonTruncated
		if n > MaxMessageSize {
			why = ReasonTooLarge // no message could hold it
		}
		d.fail(why, "length %d, but %d bytes remain", n, rest)
		return 0
	}
	return int(n)
}

// uvarint reads a minimal-length unsigned LEB128 varint.
func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	if d.off < len(d.b) && d.b[d.off] < 0x80 {
		c := d.b[d.off]
		d.off++
		return uint64(c)
	}
	var v uint64
	for i := 0; ; i++ {
		if d.off+i >= len(d.b) {
			d.fail(ReasonTruncated, "varint")
			return 0
		}
		c := d.b[d.off+i]
		if i == 9 && c > 1 {
			d.fail(ReasonInvalid, "varint overflows 64 bits")
			return 0
		}
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			if c == 0 && i > 0 {
				d.fail(ReasonInvalid, "non-minimal varint")
				return 0
			}
			d.off += i + 1
			return v
		}
	}
}

func appendUvarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// ---- interface words ----
//
// An interface value is two words: a type word (for a non-empty interface,
// an itab pointer) and a data word, a pointer to the value or, for a
// pointer-shaped type, the value itself. Reading them lets Encode check a
// message's type and reach its fields without reflect, and lets Decode
// return a Message holding the one value it allocated.

func typeWord(m Message) unsafe.Pointer {
	a := any(m)
	return (*[2]unsafe.Pointer)(unsafe.Pointer(&a))[0]
}

func tabWord(m Message) unsafe.Pointer { return (*[2]unsafe.Pointer)(unsafe.Pointer(&m))[0] }

// directValue points to a copy of a pointer-shaped message's data word,
// which is the value itself. (Only here does m escape.)
func directValue(m Message) unsafe.Pointer {
	w := new(unsafe.Pointer)
	*w = dataWord(m)
	return unsafe.Pointer(w)
}

func dataWord(m Message) unsafe.Pointer { return (*[2]unsafe.Pointer)(unsafe.Pointer(&m))[1] }

// makeMessage is the Message whose itab word is tab and data word p: for a
// type stored indirectly, p points to a value of it (never shared).
func makeMessage(tab, p unsafe.Pointer) Message {
	var m Message
	w := (*[2]unsafe.Pointer)(unsafe.Pointer(&m))
	w[0], w[1] = tab, p
	return m
}

// mayBeDirect reports whether Go may store t in an interface's data word
// itself (pointer-shaped: one pointer word). Such types decode through
// reflect; every other value type is stored behind a pointer.
func mayBeDirect(t reflect.Type) bool {
	return t.Size() == unsafe.Sizeof(uintptr(0)) && hasPointers(t)
}

func hasPointers(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.String, reflect.Chan, reflect.Func, reflect.Interface, reflect.UnsafePointer:
		return true
	case reflect.Array:
		return t.Len() > 0 && hasPointers(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if hasPointers(t.Field(i).Type) {
				return true
			}
		}
	}
	return false
}
