package transport

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"testing"

	"ordo"
	"ordo/clock"
)

type ping struct {
	Term int
	Note string
}

func (ping) Kind() string { return "ping" }

type pong struct{ Term int }

func (*pong) Kind() string { return "pong" }

func TestFrameRoundTrip(t *testing.T) {
	e := Envelope{Version: Version, From: 2, To: 5, Msg: 2<<40 | 7, Kind: "ping", Lamport: 42, Vector: clock.Vector{1, 9, 0, 3, 0}, Payload: []byte(`{"term":3}`)}
	frame, err := e.AppendFrame(nil)
	if err != nil {
		t.Fatal(err)
	}
	body, err := ReadFrame(bytes.NewReader(frame), nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeFrame(body)
	if err != nil {
		t.Fatal(err)
	}
	if got.From != 2 || got.To != 5 || got.Msg != e.Msg || got.Kind != "ping" || got.Lamport != 42 ||
		!slices.Equal(got.Vector, e.Vector) || string(got.Payload) != string(e.Payload) {
		t.Fatalf("round trip: got %+v, want %+v", got, e)
	}
}

func TestFrameRefusesOtherVersion(t *testing.T) {
	e := Envelope{From: 1, To: 2, Kind: "ping", Vector: clock.Vector{0, 0}}
	frame, _ := e.AppendFrame(nil)
	frame[4] = Version + 1
	if _, err := DecodeFrame(frame[4:]); err == nil {
		t.Fatal("a frame of another wire version decoded")
	}
}

func TestReadFrameBoundsLength(t *testing.T) {
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], MaxFrameSize+1)
	_, err := ReadFrame(bytes.NewReader(hdr[:]), nil)
	if !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("oversized length prefix: got %v, want ErrFrameTooLarge", err)
	}
	big := Envelope{From: 1, To: 2, Kind: "ping", Payload: make([]byte, MaxFrameSize)}
	if _, err := big.AppendFrame(nil); err == nil {
		t.Fatal("an oversized frame was encoded")
	}
}

// FuzzDecodeFrame feeds random bytes to the frame reader and decoder: they
// must return an error or an envelope, never panic, and a decoded envelope
// must encode again to the same body.
func FuzzDecodeFrame(f *testing.F) {
	e := Envelope{Version: Version, From: 1, To: 3, Msg: 99, Kind: "ping", Lamport: 5, Vector: clock.Vector{2, 0, 1}, Payload: []byte{2, 1, 'x'}}
	frame, _ := e.AppendFrame(nil)
	f.Add(frame)
	f.Add(frame[:len(frame)-3])
	f.Add([]byte{0, 0, 0, 1, Version})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{})
	codec, _ := ordo.NewCodec([]ordo.Message{ping{}, &pong{}})
	f.Fuzz(func(t *testing.T, b []byte) {
		body, err := ReadFrame(bytes.NewReader(b), nil)
		if err == nil {
			if e, err := DecodeFrame(body); err == nil {
				codec.Decode(e.Kind, e.Payload)
			}
		}
		e, err := DecodeFrame(b)
		if err != nil {
			return
		}
		codec.Decode(e.Kind, e.Payload)
		again, err := e.AppendFrame(nil)
		if err != nil {
			return // e.g. an empty kind never decodes, so this is the size bound
		}
		e2, err := DecodeFrame(again[4:])
		if err != nil || e2.Kind != e.Kind || e2.Msg != e.Msg || !slices.Equal(e2.Vector, e.Vector) {
			t.Fatalf("re-encoded envelope does not decode the same: %v", err)
		}
	})
}
