package partial

import (
	"os"
	"testing"
)

func TestPrintTable(t *testing.T) {
	rows, err := Table(DefaultScene, 1)
	if err != nil {
		t.Fatal(err)
	}
	WriteTable(os.Stdout, rows)
}
