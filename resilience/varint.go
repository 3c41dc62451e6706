package resilience

import "encoding/binary"

// uvarint reads a minimal unsigned varint from b: binary.Uvarint, except
// that a value written in more bytes than it needs (0x80 0x00 for 0) is
// refused (k = 0), so every value has one encoding and a decoded record
// re-encodes to the same bytes.
func uvarint(b []byte) (v uint64, k int) {
	v, k = binary.Uvarint(b)
	if k > 0 {
		var buf [binary.MaxVarintLen64]byte
		if binary.PutUvarint(buf[:], v) != k {
			return 0, 0
		}
	}
	return v, k
}
