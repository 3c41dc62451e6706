package ordo

import "testing"

type reserving struct {
	*MemStorage
	asked int
}

func (r *reserving) Reserve(n int) { r.asked += n }

// A layer passes the store's Reserve hint on (the Raft snapshot's room in
// the live store's batch), and a store without one is left alone.
func TestSubStoreReserves(t *testing.T) {
	under := &reserving{MemStorage: NewMemStorage()}
	st := &subStore{s: under, prefix: "l/"}
	st.Reserve(42)
	if under.asked != 42 {
		t.Fatalf("the store beneath was asked for %d bytes, want 42", under.asked)
	}
	(&subStore{s: NewMemStorage(), prefix: "l/"}).Reserve(1) // nothing to pass it to: no panic
}
