package trace

import (
	"bytes"
	"strings"
	"testing"
)

// A trace may start with a UTF-8 byte-order mark; a JSON mistake is placed
// at its line and column.
func TestReadBOMAndColumns(t *testing.T) {
	var b bytes.Buffer
	if err := figure().Write(&b); err != nil {
		t.Fatal(err)
	}
	good := b.String()
	if _, err := Read(strings.NewReader("\ufeff" + good)); err != nil {
		t.Fatalf("trace with a byte-order mark: %v", err)
	}
	header, _, _ := strings.Cut(good, "\n")
	_, err := Read(strings.NewReader(header + "\n" + `{"id": 0, "kind": }` + "\n"))
	if err == nil || !strings.HasPrefix(err.Error(), "trace line 2, column 19:") {
		t.Fatalf("bad JSON on line 2: %v, want it placed at line 2, column 19", err)
	}
}
