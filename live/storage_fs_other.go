//go:build !linux

package live

import "os"

// Filesystem is not known outside Linux.
func Filesystem(string) string { return "unknown" }

// datasync is an fsync where fdatasync is not known.
func datasync(f *os.File) error { return f.Sync() }
