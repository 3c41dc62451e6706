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
	p.ws()
	if !p.eat('[') {
		return nil, false
	}
	p.ws()
	if p.eat(']') {
		return nil, false // empty: the decoder's refusal
	}
	for {
		if len(items) == MaxBatch {
			return nil, false
		}
		q, ok := p.request()
		if !ok {
			return nil, false
		}
		r, err := q.Check()
		it := BatchItem{Req: r}
		if err != nil {
			it.Err = err.(*Error)
		}
		items = append(items, it)
		p.ws()
		if p.eat(',') {
			p.ws()
			continue
		}
		if !p.eat(']') {
			return nil, false
		}
		p.ws()
		return items, p.i == len(p.b)
	}
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

// request reads one object of the batch.
func (p *fastJSON) request() (Request, bool) {
	var q Request
	if !p.eat('{') {
		return q, false
	}
	p.ws()
	if p.eat('}') {
		return q, true
	}
	var seen uint
	for {
		p.ws()
		k, ok := p.str()
		if !ok {
			return q, false
		}
		p.ws()
		if !p.eat(':') {
			return q, false
		}
		p.ws()
		var bit uint
		var s []byte
		var v uint64
		switch string(k) {
		case "op":
			bit = 1 << 0
			s, ok = p.str()
			q.Op = string(s)
		case "key":
			bit = 1 << 1
			s, ok = p.str()
			q.Key = string(s)
		case "end":
			bit = 1 << 2
			s, ok = p.str()
			q.End = string(s)
		case "value":
			bit = 1 << 3
			s, ok = p.str()
			q.Value = string(s)
		case "read":
			bit = 1 << 4
			s, ok = p.str()
			q.Read = string(s)
		case "limit":
			bit = 1 << 5
			v, ok = p.uint(math.MaxUint32)
			q.Limit = uint32(v)
		case "session":
			bit = 1 << 6
			q.Session, ok = p.uint(math.MaxUint64)
		case "seq":
			bit = 1 << 7
			q.Seq, ok = p.uint(math.MaxUint64)
		case "node":
			bit = 1 << 8
			v, ok = p.uint(math.MaxInt)
			q.Node = int(v)
		default:
			return q, false // expect, exists, another spelling, unknown
		}
		if !ok || seen&bit != 0 {
			return q, false
		}
		seen |= bit
		p.ws()
		if p.eat(',') {
			continue
		}
		return q, p.eat('}')
	}
}
