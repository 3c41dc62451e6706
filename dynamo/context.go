package dynamo

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"ordo"
)

// A causal context travels to the client as opaque bytes:
//
//	version (1) | scheme (1: dvv, 2: vv, 3: lww) | uvarint count |
//	count × (uvarint replica, uvarint counter), replicas ascending, counters > 0 |
//	8-byte tag
//
// The tag is HMAC-SHA256 over the key and the bytes before it, with the
// store's context_secret, cut to 8 bytes: a context is good only for the
// key and the store that issued it. DecodeContext is strict (minimal
// varints, ascending distinct replicas, no trailing bytes, bounds) and
// never returns a half-read context: a malformed or forged one is refused
// with an error saying which, and never merged.
const (
	ctxVersion = 1
	tagLen     = 8
	// MaxContextEntries bounds the replicas a context names.
	MaxContextEntries = 64
	// MaxContextBytes bounds an encoded context.
	MaxContextBytes = 2 + binary.MaxVarintLen64 + MaxContextEntries*2*binary.MaxVarintLen64 + tagLen
	// MaxCounter bounds one counter (no store makes 2^48 writes to a key).
	MaxCounter = 1 << 48
)

// Scheme byte of a context: which resolution issued it.
const (
	schemeDVV = 1
	schemeVV  = 2
	schemeLWW = 3
)

// Errors of DecodeContext, wrapped with details.
var (
	ErrContextMalformed = errors.New("malformed context")
	ErrContextForged    = errors.New("forged context: not issued by this store for this key")
)

func tag(secret []byte, key string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	var n [binary.MaxVarintLen64]byte
	m.Write(n[:binary.PutUvarint(n[:], uint64(len(key)))])
	m.Write([]byte(key))
	m.Write(body)
	return m.Sum(nil)[:tagLen]
}

// EncodeContext writes c for key under scheme.
func EncodeContext(secret []byte, key string, scheme byte, c Ctx) []byte {
	b := []byte{ctxVersion, scheme}
	ids := sortedIDs(c)
	n := 0
	for _, id := range ids {
		if c[id] > 0 {
			n++
		}
	}
	b = binary.AppendUvarint(b, uint64(n))
	for _, id := range ids {
		if c[id] > 0 {
			b = binary.AppendUvarint(b, uint64(id))
			b = binary.AppendUvarint(b, c[id])
		}
	}
	return append(b, tag(secret, key, b)...)
}

func uvarint(b []byte, what string) (uint64, []byte, error) {
	v, n := binary.Uvarint(b)
	if n <= 0 {
		return 0, nil, fmt.Errorf("%w: %s: truncated or overlong varint", ErrContextMalformed, what)
	}
	if n != len(binary.AppendUvarint(nil, v)) {
		return 0, nil, fmt.Errorf("%w: %s: non-minimal varint", ErrContextMalformed, what)
	}
	return v, b[n:], nil
}

// DecodeContext reads a context the store issued for key under scheme. An
// empty b is the empty context (a blind write).
func DecodeContext(secret []byte, key string, scheme byte, b []byte) (Ctx, error) {
	c := Ctx{}
	if len(b) == 0 {
		return c, nil
	}
	if len(b) > MaxContextBytes {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrContextMalformed, len(b), MaxContextBytes)
	}
	if len(b) < 2+1+tagLen {
		return nil, fmt.Errorf("%w: %d bytes, too short", ErrContextMalformed, len(b))
	}
	if b[0] != ctxVersion {
		return nil, fmt.Errorf("%w: version %d (want %d)", ErrContextMalformed, b[0], ctxVersion)
	}
	if b[1] < schemeDVV || b[1] > schemeLWW {
		return nil, fmt.Errorf("%w: unknown scheme %d", ErrContextMalformed, b[1])
	}
	body, t := b[:len(b)-tagLen], b[len(b)-tagLen:]
	rest := body[2:]
	n, rest, err := uvarint(rest, "count")
	if err != nil {
		return nil, err
	}
	if n > MaxContextEntries {
		return nil, fmt.Errorf("%w: %d entries, more than %d", ErrContextMalformed, n, MaxContextEntries)
	}
	var last uint64
	for i := range n {
		var id, cnt uint64
		if id, rest, err = uvarint(rest, fmt.Sprintf("entry %d replica", i)); err != nil {
			return nil, err
		}
		if cnt, rest, err = uvarint(rest, fmt.Sprintf("entry %d counter", i)); err != nil {
			return nil, err
		}
		switch {
		case id == 0 || id > 1<<20:
			return nil, fmt.Errorf("%w: entry %d: replica %d out of range 1..%d", ErrContextMalformed, i, id, 1<<20)
		case i > 0 && id <= last:
			return nil, fmt.Errorf("%w: entry %d: replica %d not after %d", ErrContextMalformed, i, id, last)
		case cnt == 0 || cnt > MaxCounter:
			return nil, fmt.Errorf("%w: entry %d: counter %d out of range 1..%d", ErrContextMalformed, i, cnt, uint64(MaxCounter))
		}
		last = id
		c[ordo.NodeID(id)] = cnt
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrContextMalformed, len(rest))
	}
	if !hmac.Equal(t, tag(secret, key, body)) {
		return nil, ErrContextForged
	}
	if b[1] != scheme {
		return nil, fmt.Errorf("%w: issued under scheme %d, the bucket uses %d", ErrContextMalformed, b[1], scheme)
	}
	return c, nil
}
