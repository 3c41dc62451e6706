// Package bounded reads input through a limit: a file or a stream larger
// than the bound is an error, never a read into memory of whatever size
// it claims ("believe no number from disk without a bound").
//
//	b, err := bounded.ReadFile(path, 1<<20) // error naming path if larger
package bounded

import (
	"fmt"
	"io"
	"os"
)

// ReadFile returns the contents of path, or an error naming path when it
// cannot be read or holds more than limit bytes (limit ≥ 0).
func ReadFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, limit)
	}
	return b, nil
}
