package election

import "fmt"

// Fence is a protected resource that accepts an operation only with a
// fencing token at least as large as every token it has seen (Kleppmann,
// "How to do distributed locking"): a deposed leader that wakes from a pause
// still believing it leads is refused, because the new leader's token is
// larger.
type Fence struct {
	highest uint64
	holder  int // who presented highest (0: nobody yet)
	// Accepted and Rejected count operations.
	Accepted, Rejected int
}

// StaleTokenError is the refusal of a stale token.
type StaleTokenError struct {
	Token, Highest uint64
}

func (e *StaleTokenError) Error() string {
	return fmt.Sprintf("fence: token %d is stale (highest seen %d)", e.Token, e.Highest)
}

// Admit checks token, presented by holder, and records it when accepted.
// A token equal to the highest is accepted only from the holder that
// presented it first: two leaders with the same token cannot be told apart.
func (f *Fence) Admit(holder int, token uint64) error {
	if token < f.highest || (token == f.highest && f.holder != 0 && holder != f.holder) {
		f.Rejected++
		return &StaleTokenError{Token: token, Highest: f.highest}
	}
	f.highest, f.holder = token, holder
	f.Accepted++
	return nil
}

// Highest returns the largest token accepted so far.
func (f *Fence) Highest() uint64 { return f.highest }
