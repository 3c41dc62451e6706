package api

import (
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf8"
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
func decodeAnswersFast(data []byte) (out []BatchAnswer, ok bool) {
	if !utf8.Valid(data) {
		return nil, false // encoding/json writes U+FFFD for what is not UTF-8 (found by FuzzBatchAnswersFast)
	}
	p := fastJSON{b: data}
	ok = p.array(func() bool {
		a, ok := p.answer()
		out = append(out, a)
		return ok
	})
	if !ok {
		return nil, false
	}
	return out, true
}

func (p *fastJSON) answer() (a BatchAnswer, ok bool) {
	ok = p.object(func(k []byte) (bit uint, ok bool) {
		var s []byte
		var v uint64
		switch string(k) {
		case "code":
			v, ok = p.uint(math.MaxInt)
			a.Code = int(v)
			return 1 << 0, ok
		case "status":
			s, ok = p.str()
			return 1 << 1, set(&a.Status, s, ok)
		case "value":
			s, ok = p.str()
			return 1 << 2, set(&a.Value, s, ok)
		case "rev":
			a.Rev, ok = p.uint(math.MaxUint64)
			return 1 << 3, ok
		case "mod_rev":
			a.ModRev, ok = p.uint(math.MaxUint64)
			return 1 << 4, ok
		case "more":
			if ok = p.i+4 <= len(p.b) && string(p.b[p.i:p.i+4]) == "true"; ok {
				p.i += 4
				a.More = true
			}
			return 1 << 5, ok
		case "leader":
			v, ok = p.uint(math.MaxInt)
			a.Leader = int(v)
			return 1 << 6, ok
		case "leader_addr":
			s, ok = p.str()
			return 1 << 7, set(&a.LeaderAddr, s, ok)
		case "error":
			s, ok = p.str()
			return 1 << 8, set(&a.Error, s, ok)
		}
		return 0, false // pairs, false, another spelling, unknown
	})
	return a, ok
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
