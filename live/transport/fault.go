package transport

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"ordo"
)

// Faults is the fault layer's setting on one node. Blocking outbound traffic
// to a peer and inbound traffic from it is a partition; blocking only one
// direction is a one-way partition. Delay holds every outbound frame back;
// Loss drops that fraction of outbound messages at random. The zero value is
// a healthy network.
type Faults struct {
	BlockOut []ordo.NodeID `json:"block_out,omitempty"`
	BlockIn  []ordo.NodeID `json:"block_in,omitempty"`
	Delay    Duration      `json:"delay,omitempty"`
	Loss     float64       `json:"loss,omitempty"`
}

// MaxDelay bounds the delay the fault layer adds.
const MaxDelay = 10 * time.Second

// Validate checks f for a cluster of n nodes seen from node self, with a
// message that names the bad field.
func (f *Faults) Validate(self ordo.NodeID, n int) error {
	for _, l := range []struct {
		name string
		ids  []ordo.NodeID
	}{{"block_out", f.BlockOut}, {"block_in", f.BlockIn}} {
		for _, id := range l.ids {
			if id < 1 || int(id) > n || id == self {
				return fmt.Errorf("%s: node %d is not a peer of %v (peers are 1..%d without %d)", l.name, int(id), self, n, int(self))
			}
		}
	}
	if f.Delay < 0 || time.Duration(f.Delay) > MaxDelay {
		return fmt.Errorf("delay: %v out of 0..%v", time.Duration(f.Delay), MaxDelay)
	}
	if !(f.Loss >= 0 && f.Loss <= 1) {
		return fmt.Errorf("loss: %v is not a fraction in 0..1", f.Loss)
	}
	return nil
}

// Healthy reports whether f injects nothing.
func (f *Faults) Healthy() bool {
	return len(f.BlockOut) == 0 && len(f.BlockIn) == 0 && f.Delay == 0 && f.Loss == 0
}

func (f *Faults) blocksOut(id ordo.NodeID) bool { return slices.Contains(f.BlockOut, id) }
func (f *Faults) blocksIn(id ordo.NodeID) bool  { return slices.Contains(f.BlockIn, id) }

// Duration is a time.Duration written in JSON as "150ms".
type Duration time.Duration

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var ns int64
		if err2 := json.Unmarshal(b, &ns); err2 != nil {
			return fmt.Errorf("duration: want a string like \"50ms\"")
		}
		*d = Duration(ns)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration: %v", err)
	}
	*d = Duration(v)
	return nil
}
