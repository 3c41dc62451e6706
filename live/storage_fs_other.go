//go:build !linux

package live

// Filesystem is not known outside Linux.
func Filesystem(string) string { return "unknown" }
