package api

import (
	"encoding/json"
	"math"
	"strconv"
)

// The answers of a batch, both ways, without encoding/json's reflection
// for the answers writes get (a code, a status, a revision; no pairs, no
// string that JSON escapes); anything else goes through encoding/json,
// which the fast paths are checked against (FuzzBatchAnswersFast).

// appendBatchAnswers appends out as encodeJSON writes it (the same bytes,
// newline included); false if an answer is not of the simple kind.
func appendBatchAnswers(b []byte, out []BatchAnswer) ([]byte, bool) {
	b = append(b, '[')
	for i, a := range out {
		if len(a.Pairs) > 0 {
			return nil, false
		}
		if i > 0 {
			b = append(b, ',')
		}
		ok := true
		b = append(b, `{"code":`...)
		b = strconv.AppendInt(b, int64(a.Code), 10)
		b = append(b, `,"status":`...)
		b, ok = appendPlain(b, a.Status, ok)
		if a.Value != "" {
			b = append(b, `,"value":`...)
			b, ok = appendPlain(b, a.Value, ok)
		}
		if a.Rev != 0 {
			b = append(b, `,"rev":`...)
			b = strconv.AppendUint(b, a.Rev, 10)
		}
		if a.ModRev != 0 {
			b = append(b, `,"mod_rev":`...)
			b = strconv.AppendUint(b, a.ModRev, 10)
		}
		if a.More {
			b = append(b, `,"more":true`...)
		}
		if a.Leader != 0 {
			b = append(b, `,"leader":`...)
			b = strconv.AppendInt(b, int64(a.Leader), 10)
		}
		if a.LeaderAddr != "" {
			b = append(b, `,"leader_addr":`...)
			b, ok = appendPlain(b, a.LeaderAddr, ok)
		}
		if a.Error != "" {
			b = append(b, `,"error":`...)
			b, ok = appendPlain(b, a.Error, ok)
		}
		if !ok {
			return nil, false
		}
		b = append(b, '}')
	}
	return append(b, "]\n"...), true
}

// appendPlain appends s quoted if JSON writes it as it is (printable
// ASCII, no quote or backslash); ok false otherwise.
func appendPlain(b []byte, s string, ok bool) ([]byte, bool) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return b, false
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"'), ok
}

// DecodeBatchAnswers reads the answer of POST /v1/kv/batch (a 200's
// body): as json.Unmarshal into []BatchAnswer would, faster for the
// simple answers of writes.
func DecodeBatchAnswers(data []byte) ([]BatchAnswer, error) {
	if out, ok := decodeAnswersFast(data); ok {
		return out, nil
	}
	var out []BatchAnswer
	err := json.Unmarshal(data, &out)
	return out, err
}

// decodeAnswersFast reads what appendBatchAnswers writes (any order of
// the fields, each once, spelled exactly; strings without escapes; plain
// integers); false for anything else.
func decodeAnswersFast(data []byte) ([]BatchAnswer, bool) {
	p := fastJSON{b: data}
	p.ws()
	if !p.eat('[') {
		return nil, false
	}
	p.ws()
	if p.eat(']') {
		return nil, false
	}
	var out []BatchAnswer
	for {
		a, ok := p.answer()
		if !ok {
			return nil, false
		}
		out = append(out, a)
		p.ws()
		if p.eat(',') {
			p.ws()
			continue
		}
		if !p.eat(']') {
			return nil, false
		}
		p.ws()
		return out, p.i == len(p.b)
	}
}

func (p *fastJSON) answer() (BatchAnswer, bool) {
	var a BatchAnswer
	if !p.eat('{') {
		return a, false
	}
	p.ws()
	if p.eat('}') {
		return a, true
	}
	var seen uint
	for {
		p.ws()
		k, ok := p.str()
		if !ok {
			return a, false
		}
		p.ws()
		if !p.eat(':') {
			return a, false
		}
		p.ws()
		var bit uint
		var s []byte
		var v uint64
		switch string(k) {
		case "code":
			bit = 1 << 0
			v, ok = p.uint(math.MaxInt)
			a.Code = int(v)
		case "status":
			bit = 1 << 1
			s, ok = p.str()
			a.Status = string(s)
		case "value":
			bit = 1 << 2
			s, ok = p.str()
			a.Value = string(s)
		case "rev":
			bit = 1 << 3
			a.Rev, ok = p.uint(math.MaxUint64)
		case "mod_rev":
			bit = 1 << 4
			a.ModRev, ok = p.uint(math.MaxUint64)
		case "more":
			bit = 1 << 5
			if ok = p.i+4 <= len(p.b) && string(p.b[p.i:p.i+4]) == "true"; ok {
				p.i += 4
				a.More = true
			}
		case "leader":
			bit = 1 << 6
			v, ok = p.uint(math.MaxInt)
			a.Leader = int(v)
		case "leader_addr":
			bit = 1 << 7
			s, ok = p.str()
			a.LeaderAddr = string(s)
		case "error":
			bit = 1 << 8
			s, ok = p.str()
			a.Error = string(s)
		default:
			return a, false // pairs, false, another spelling, unknown
		}
		if !ok || seen&bit != 0 {
			return a, false
		}
		seen |= bit
		p.ws()
		if p.eat(',') {
			continue
		}
		return a, p.eat('}')
	}
}

// appendRequest appends q as EncodeRequest's encoding/json writes it (the
// same bytes, without the newline), for a request whose strings JSON
// writes as they are and without a CAS's expect or exists; false
// otherwise.
func appendRequest(b []byte, q Request) ([]byte, bool) {
	if q.Expect != nil || q.Exists != nil {
		return nil, false
	}
	ok := true
	b = append(b, `{"op":`...)
	b, ok = appendPlain(b, q.Op, ok)
	for _, f := range [...]struct{ name, v string }{{`,"key":`, q.Key}, {`,"end":`, q.End}, {`,"value":`, q.Value}} {
		if f.v != "" {
			b = append(b, f.name...)
			b, ok = appendPlain(b, f.v, ok)
		}
	}
	if q.Limit != 0 {
		b = append(b, `,"limit":`...)
		b = strconv.AppendUint(b, uint64(q.Limit), 10)
	}
	if q.Read != "" {
		b = append(b, `,"read":`...)
		b, ok = appendPlain(b, q.Read, ok)
	}
	if q.Session != 0 {
		b = append(b, `,"session":`...)
		b = strconv.AppendUint(b, q.Session, 10)
	}
	if q.Seq != 0 {
		b = append(b, `,"seq":`...)
		b = strconv.AppendUint(b, q.Seq, 10)
	}
	if q.Node != 0 {
		b = append(b, `,"node":`...)
		b = strconv.AppendInt(b, int64(q.Node), 10)
	}
	return append(b, '}'), ok
}
