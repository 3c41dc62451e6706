package live

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// FuzzReadFence: the fence file of a node that lost its disk is read
// through a bound; anything but a decimal term is refused, never believed.
func FuzzReadFence(f *testing.F) {
	for _, s := range []string{"7\n", "0", "-1", "99999999999999999999999", " 12 ", "1e3", strings.Repeat("9", 100)} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, AmnesiaFileName), b, 0o644); err != nil {
			t.Fatal(err)
		}
		v, on, err := readFence(dir)
		if err != nil {
			if on {
				t.Fatalf("%q: an error and a fence", b)
			}
			return
		}
		want, perr := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if !on || perr != nil || v != want || v < 0 || len(b) > maxAmnesiaFile {
			t.Fatalf("%q: fence %d %v, want %d (%v)", b, v, on, want, perr)
		}
	})
}
