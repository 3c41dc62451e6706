package ordo

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// Bounds on what ordo believes (TIGER_STYLE: a bound on everything). A
// number that arrives from a peer or from a disk is checked against these
// before a protocol acts on it, so one forged frame or one hand-edited file
// cannot push a counter to where its arithmetic wraps: a node that adopted
// term 2^64−1 could never campaign again (term+1 wraps to 0), and it would
// spread that term to every node it spoke to.

// MaxTerm bounds every term, epoch and round counter a protocol accepts
// from the network or its store: 2^62. At one election a millisecond a
// cluster takes 146 million years to reach it, so only a forged or corrupt
// value can exceed it, and counter+1 never overflows a uint64 below it.
// A protocol at MaxTerm refuses to increase its counter (it stays a
// follower, with a note) rather than wrap.
const MaxTerm = 1 << 62

// MaxIndex bounds log indexes, sequence numbers and hop counts from the
// network or a store, for the same reason as MaxTerm.
const MaxIndex = 1 << 62

// Validator is implemented by a message that can tell an absurd value from
// a sound one (a term above MaxTerm, a node id outside any cluster, a
// negative count). Codec.Decode calls Validate after decoding a message of
// a type that has it, so both runtimes refuse an absurd message the way
// they refuse a malformed one: the live transport drops and counts it
// ("rejected: invalid"), the simulator's wire mode drops it as malformed.
// It is never delivered, so never persisted. Validate must be pure and
// cheap: it runs on every delivery.
type Validator interface {
	Validate() error
}

// CheckTerm returns an error when v, a term, epoch or round named what,
// exceeds MaxTerm. Validate methods use it.
func CheckTerm(what string, v uint64) error {
	if v > MaxTerm {
		return fmt.Errorf("%s %d exceeds the bound %d (MaxTerm)", what, v, uint64(MaxTerm))
	}
	return nil
}

// CheckNode returns an error when id, a node id field named what, is
// neither None nor a possible node (1..MaxNodeID).
func CheckNode(what string, id NodeID) error {
	if id < 0 || id > MaxNodeID {
		return fmt.Errorf("%s %d is not a node id (0..%d)", what, int(id), MaxNodeID)
	}
	return nil
}

// MaxNodeID bounds a node id that arrives from the network or a store.
const MaxNodeID = 1 << 16

// Corrupt is the panic value a protocol uses to fail-stop when its store
// holds a value it must not believe (a hard state of the wrong length, a
// term above MaxTerm): Key is the store key, Err what is wrong with it.
// Running on would spread the absurd value or wrap a counter; panicking
// with a string would print a stack trace and no way out. Both runtimes
// turn it into a clean stop of that node only, with an error that names
// the store file and key and says how to recover: restore the file from a
// backup, or wipe the node's directory and let it rejoin as a new,
// empty node.
type Corrupt struct {
	Key string
	Err error
}

func (c Corrupt) Error() string {
	return fmt.Sprintf("store key %q holds a value this node must not believe: %v", c.Key, c.Err)
}

func (c Corrupt) Unwrap() error { return c.Err }

// Input bounds: one per kind of input ordo reads whole. Every file, pipe,
// FIFO or standard input goes through ReadInput or LimitInput, which read
// at most the bound plus one byte, so /dev/zero costs one bound of memory
// and a clear error, never all the host's memory.
const (
	// MaxSourceBytes bounds a text written by hand: a diagram, a scenario,
	// a cluster file, a history (16 MiB).
	MaxSourceBytes = 16 << 20
	// MaxTraceBytes bounds one trace file (1 GiB): a trace is read whole
	// into memory to be checked or drawn.
	MaxTraceBytes = 1 << 30
)

// InputTooLargeError is the error of an input longer than its bound.
type InputTooLargeError struct {
	Name  string // the file name, or "-" for standard input
	Limit int64  // the bound, bytes
}

func (e *InputTooLargeError) Error() string {
	return fmt.Sprintf("%s: larger than the bound of %d bytes for this kind of input", e.Name, e.Limit)
}

// ErrInputTooLarge matches every *InputTooLargeError with errors.Is.
var ErrInputTooLarge = errors.New("input too large")

func (e *InputTooLargeError) Is(target error) bool { return target == ErrInputTooLarge }

// limited reads at most limit bytes, then fails with InputTooLargeError
// when one more byte is there.
type limited struct {
	r     io.Reader
	name  string
	limit int64
	left  int64 // bytes still allowed, plus one to detect the overflow
}

func (l *limited) Read(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, &InputTooLargeError{Name: l.name, Limit: l.limit}
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left <= 0 {
		// The byte past the bound arrived: drop it and fail.
		return n - 1, &InputTooLargeError{Name: l.name, Limit: l.limit}
	}
	return n, err
}

// LimitInput wraps r, an input named name, so that reading more than limit
// bytes from it fails with *InputTooLargeError after reading at most
// limit+1 bytes from r.
func LimitInput(r io.Reader, name string, limit int64) io.Reader {
	return &limited{r: r, name: name, limit: limit, left: limit + 1}
}

// OpenInput opens name for reading through a limit of limit bytes (see
// LimitInput); "-" is stdin (os.Stdin when stdin is nil). Close the result
// when done (closing stdin's is a no-op).
func OpenInput(name string, stdin io.Reader, limit int64) (io.ReadCloser, error) {
	if name == "-" {
		if stdin == nil {
			stdin = os.Stdin
		}
		return io.NopCloser(LimitInput(stdin, "standard input", limit)), nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{LimitInput(f, name, limit), f}, nil
}

// ReadInput reads the whole of name ("-" is stdin; os.Stdin when stdin is
// nil) through a limit of limit bytes: it reads at most limit+1 bytes and
// fails with *InputTooLargeError when the input is longer. A regular file
// is checked by size before any byte is read.
func ReadInput(name string, stdin io.Reader, limit int64) ([]byte, error) {
	if name != "-" {
		if st, err := os.Stat(name); err == nil && st.Mode().IsRegular() && st.Size() > limit {
			return nil, &InputTooLargeError{Name: name, Limit: limit}
		}
	}
	r, err := OpenInput(name, stdin, limit)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

// TrimBOM drops a UTF-8 byte-order mark from the start of b: editors on
// some systems write one, and parsers accept it.
func TrimBOM(b []byte) []byte {
	if len(b) >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
		return b[3:]
	}
	return b
}
