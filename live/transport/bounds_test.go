package transport

import (
	"math"
	"strings"
	"testing"

	"ordo"
	"ordo/clock"
)

// A frame's stamps are bounded like terms: a Lamport time or vector entry
// of 2^64−1 would wrap the receiver's max(C, msg.C)+1.
func TestDecodeFrameRefusesAbsurdStamps(t *testing.T) {
	for _, tc := range []struct {
		e    Envelope
		want string
	}{
		{Envelope{Version: Version, From: 1, To: 2, Kind: "k", Lamport: math.MaxUint64, Vector: clock.Vector{1, 1}}, "lamport"},
		{Envelope{Version: Version, From: 1, To: 2, Kind: "k", Lamport: 1, Vector: clock.Vector{ordo.MaxIndex + 1, 1}}, "vector entry"},
	} {
		frame, err := tc.e.AppendFrame(nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := DecodeFrame(frame[4:]); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error about the %s", tc.e, err, tc.want)
		}
	}
	ok := Envelope{Version: Version, From: 1, To: 2, Kind: "k", Lamport: ordo.MaxIndex, Vector: clock.Vector{ordo.MaxIndex, 0}}
	frame, _ := ok.AppendFrame(nil)
	if _, err := DecodeFrame(frame[4:]); err != nil {
		t.Errorf("stamps at the bound refused: %v", err)
	}
}
