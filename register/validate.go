package register

import (
	"errors"
	"fmt"

	"ordo"
)

// Validate methods refuse what no honest peer or client sends
// (ordo.Validator): a timestamp counter or round above ordo.MaxIndex,
// whose +1 would wrap and make an old value look newest forever; a writer
// outside the node ids; a negative operation id. The codec calls them after
// decoding, so an absurd message is dropped and counted, never stored.

// Validate checks a timestamp's bounds.
func (t Timestamp) Validate() error {
	var errs []error
	if t.Counter > ordo.MaxIndex {
		errs = append(errs, fmt.Errorf("timestamp counter %d exceeds ordo.MaxIndex", t.Counter))
	}
	if t.Writer < 0 || t.Writer > ordo.MaxNodeID {
		errs = append(errs, fmt.Errorf("timestamp writer %d is not a node id", t.Writer))
	}
	if t.Round > ordo.MaxIndex {
		errs = append(errs, fmt.Errorf("timestamp round %d exceeds ordo.MaxIndex", t.Round))
	}
	return errors.Join(errs...)
}

func (m Request) Validate() error { return op(m.Op) }
func (m Reply) Validate() error   { return op(m.Op) }
func (m Query) Validate() error   { return round(m.Round) }
func (m UpdateAck) Validate() error {
	return round(m.Round)
}
func (m QueryAck) Validate() error { return errors.Join(round(m.Round), m.TS.Validate()) }
func (m Update) Validate() error   { return errors.Join(round(m.Round), m.TS.Validate()) }

func op(id int64) error {
	if id < 0 {
		return fmt.Errorf("operation id %d is negative", id)
	}
	return nil
}

func round(r uint64) error {
	if r > ordo.MaxIndex {
		return fmt.Errorf("round %d exceeds ordo.MaxIndex", r)
	}
	return nil
}
