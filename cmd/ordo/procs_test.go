package main

import (
	"bytes"
	"errors"
	"os/exec"
	"path/filepath"
	"testing"
)

// ordoProcs builds ordo from this tree into a temporary directory, for
// tests that run it as real processes, and returns that directory and a
// runner: run(args...) is the command's stdout, stderr and exit code (it
// fails t when the binary cannot run at all).
func ordoProcs(t *testing.T) (tmp string, run func(args ...string) (string, string, int)) {
	t.Helper()
	tmp = t.TempDir()
	bin := filepath.Join(tmp, "ordo")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return tmp, func(args ...string) (string, string, int) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		var ee *exec.ExitError
		switch {
		case err == nil:
			return out.String(), errb.String(), 0
		case errors.As(err, &ee):
			return out.String(), errb.String(), ee.ExitCode()
		}
		t.Fatalf("ordo %v: %v", args, err)
		return "", "", -1
	}
}

// mustSucceed wraps run: the command's stdout, failing t unless it exits 0.
func mustSucceed(t *testing.T, run func(args ...string) (string, string, int)) func(args ...string) string {
	return func(args ...string) string {
		t.Helper()
		out, errs, code := run(args...)
		if code != 0 {
			t.Fatalf("ordo %v: exit %d\n%s%s", args, code, out, errs)
		}
		return out
	}
}
