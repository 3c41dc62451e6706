package election

import (
	"errors"
	"testing"
)

func TestMajority(t *testing.T) {
	// Reference: section 5, "5개 노드 중: Partition A (2개): 2 < 3".
	for n, want := range map[int]int{1: 1, 2: 2, 3: 2, 4: 3, 5: 3, 65: 33} {
		if got := Majority(n); got != want {
			t.Errorf("Majority(%d) = %d, want %d", n, got, want)
		}
	}
}

func TestRoundsNewest(t *testing.T) {
	q := NewRounds(1, 5)
	if got := q.Newest(7); got != 0 {
		t.Fatalf("no acks: newest majority round %d, want 0", got)
	}
	q.Ack(2, 7)
	if got := q.Newest(7); got != 0 {
		t.Fatalf("2 of 5: %d, want 0", got)
	}
	q.Ack(3, 6)
	if got := q.Newest(7); got != 6 {
		t.Fatalf("3 of 5 (7,7,6): %d, want 6", got)
	}
	q.Ack(3, 5) // older ack does not go back
	if got := q.Newest(7); got != 6 {
		t.Fatalf("after an older ack: %d, want 6", got)
	}
	q.Reset()
	if got := q.Newest(9); got != 0 {
		t.Fatalf("after reset: %d", got)
	}
}

func TestFenceRejectsStaleToken(t *testing.T) {
	var f Fence
	if err := f.Admit(1, 3); err != nil {
		t.Fatal(err)
	}
	if err := f.Admit(1, 3); err != nil {
		t.Fatalf("same holder, same token: %v", err)
	}
	if err := f.Admit(2, 3); err == nil {
		t.Fatal("another holder with the same token was accepted")
	}
	if err := f.Admit(2, 4); err != nil {
		t.Fatal(err)
	}
	var st *StaleTokenError
	if err := f.Admit(1, 3); !errors.As(err, &st) || st.Highest != 4 {
		t.Fatalf("deposed leader's token: %v", err)
	}
	if f.Accepted != 3 || f.Rejected != 2 || f.Highest() != 4 {
		t.Fatalf("counts %d/%d highest %d", f.Accepted, f.Rejected, f.Highest())
	}
}
