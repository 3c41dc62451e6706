//go:build !linux

package bench

// filesystem: only Linux tells tmpfs apart here.
func filesystem(dir string) string { return "unknown" }
