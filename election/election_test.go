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
	for range 7 {
		q.Next()
	}
	if got := q.Newest(); got != 0 {
		t.Fatalf("no acks: newest majority round %d, want 0", got)
	}
	q.Ack(2, 7)
	if got := q.Newest(); got != 0 {
		t.Fatalf("2 of 5: %d, want 0", got)
	}
	q.Ack(3, 6)
	if got := q.Newest(); got != 6 {
		t.Fatalf("3 of 5 (7,7,6): %d, want 6", got)
	}
	q.Ack(3, 5) // older ack does not go back
	if got := q.Newest(); got != 6 {
		t.Fatalf("after an older ack: %d, want 6", got)
	}
	q.Restart(0)
	if r := q.Next(); r != 8 || q.Newest() != 0 {
		t.Fatalf("after restart: round %d, newest %d; want 8, 0", r, q.Newest())
	}
	q.Restart(8) // a candidacy's round, acknowledged by its votes
	if got := q.Newest(); got != 8 {
		t.Fatalf("restart at 8: %d", got)
	}
}

// A leader alone is its own majority: every round it sends is acknowledged
// at once, so its lease never runs out.
func TestRoundsAloneIsMajority(t *testing.T) {
	q := NewRounds(1, 1)
	q.Restart(0)
	for want := uint64(1); want <= 3; want++ {
		if r := q.Next(); r != want || q.Newest() != want {
			t.Fatalf("round %d: newest %d, want %d", r, q.Newest(), want)
		}
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
