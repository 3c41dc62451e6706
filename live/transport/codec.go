package transport

import "ordo"

// Codec is the one wire codec of both runtimes (ordo.Codec).
type Codec = ordo.Codec

// NewCodec is ordo.NewCodec.
func NewCodec(msgs []ordo.Message) (*Codec, error) { return ordo.NewCodec(msgs) }
