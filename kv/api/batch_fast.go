package api

import "math"

// decodeBatchFast decodes the batches clients send — a JSON array of flat
// objects whose fields are this package's names spelled exactly, each
// once, with strings free of escapes and control characters and numbers
// as plain unsigned integers — without encoding/json's reflection, which
// was a fifth of a batch's time on the leader. ok is false for anything
// else (an escape, null, a CAS's expect or exists, another spelling, a
// malformed or oversize batch ...): the caller then decodes the body with
// encoding/json from scratch, so every refusal and its message stay that
// decoder's. What this accepts, encoding/json decodes to the same items
// (FuzzDecodeBatchFast checks it). data is valid UTF-8.
func decodeBatchFast(data []byte) (items []BatchItem, ok bool) {
	p := fastJSON{b: data}
	ok = p.array(func() bool {
		if len(items) == MaxBatch {
			return false
		}
		q, ok := p.request()
		if !ok {
			return false
		}
		r, err := q.Check()
		it := BatchItem{Req: r}
		if err != nil {
			it.Err = err.(*Error)
		}
		items = append(items, it)
		return true
	})
	if !ok {
		return nil, false // (an empty batch too: the decoder's refusal)
	}
	return items, true
}

// fastJSON reads the subset of JSON decodeBatchFast accepts.
type fastJSON struct {
	b []byte
	i int
}

func (p *fastJSON) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *fastJSON) eat(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// str reads a string without escapes or control characters.
func (p *fastJSON) str() ([]byte, bool) {
	if !p.eat('"') {
		return nil, false
	}
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			s := p.b[start:p.i]
			p.i++
			return s, true
		case c == '\\' || c < 0x20:
			return nil, false
		}
		p.i++
	}
	return nil, false
}

// uint reads a plain unsigned integer of at most max: digits, no leading
// zero, no sign, fraction or exponent.
func (p *fastJSON) uint(max uint64) (uint64, bool) {
	start := p.i
	var v uint64
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		d := uint64(p.b[p.i] - '0')
		if v > (max-d)/10 {
			return 0, false
		}
		v = v*10 + d
		p.i++
	}
	n := p.i - start
	if n == 0 || (n > 1 && p.b[start] == '0') {
		return 0, false
	}
	if p.i < len(p.b) {
		switch p.b[p.i] {
		case '.', 'e', 'E':
			return 0, false
		}
	}
	return v, true
}

// array reads a JSON array of at least one element, each read by elem
// (at its first byte), and nothing after it but white space. An empty
// array is false: both callers leave it to encoding/json.
func (p *fastJSON) array(elem func() bool) bool {
	p.ws()
	if !p.eat('[') {
		return false
	}
	p.ws()
	if p.eat(']') {
		return false
	}
	for {
		if !elem() {
			return false
		}
		p.ws()
		if p.eat(',') {
			p.ws()
			continue
		}
		if !p.eat(']') {
			return false
		}
		p.ws()
		return p.i == len(p.b)
	}
}

// object reads one flat JSON object: for each member, field reads the
// value (at its first byte) of the key it is given and returns the
// field's bit (one per field: a field twice is false) and whether the
// value read; an unknown key is false.
func (p *fastJSON) object(field func(key []byte) (bit uint, ok bool)) bool {
	if !p.eat('{') {
		return false
	}
	p.ws()
	if p.eat('}') {
		return true
	}
	var seen uint
	for {
		p.ws()
		k, ok := p.str()
		if !ok {
			return false
		}
		p.ws()
		if !p.eat(':') {
			return false
		}
		p.ws()
		bit, ok := field(k)
		if !ok || bit == 0 || seen&bit != 0 {
			return false
		}
		seen |= bit
		p.ws()
		if p.eat(',') {
			continue
		}
		return p.eat('}')
	}
}

// request reads one object of the batch.
func (p *fastJSON) request() (q Request, ok bool) {
	ok = p.object(func(k []byte) (bit uint, ok bool) {
		var s []byte
		var v uint64
		switch string(k) {
		case "op":
			s, ok = p.str()
			return 1 << 0, set(&q.Op, s, ok)
		case "key":
			s, ok = p.str()
			return 1 << 1, set(&q.Key, s, ok)
		case "end":
			s, ok = p.str()
			return 1 << 2, set(&q.End, s, ok)
		case "value":
			s, ok = p.str()
			return 1 << 3, set(&q.Value, s, ok)
		case "read":
			s, ok = p.str()
			return 1 << 4, set(&q.Read, s, ok)
		case "limit":
			v, ok = p.uint(math.MaxUint32)
			q.Limit = uint32(v)
			return 1 << 5, ok
		case "session":
			q.Session, ok = p.uint(math.MaxUint64)
			return 1 << 6, ok
		case "seq":
			q.Seq, ok = p.uint(math.MaxUint64)
			return 1 << 7, ok
		case "node":
			v, ok = p.uint(math.MaxInt)
			q.Node = int(v)
			return 1 << 8, ok
		}
		return 0, false // expect, exists, another spelling, unknown
	})
	return q, ok
}

// set stores s in *dst when the string read (ok) and returns ok.
func set(dst *string, s []byte, ok bool) bool {
	if ok {
		*dst = string(s)
	}
	return ok
}
