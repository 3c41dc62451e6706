package clientapi_test

import (
	"testing"

	"ordo/pbft/clientapi"
)

// docs/live.md states the body bound in bytes.
func TestBodyBound(t *testing.T) {
	if clientapi.MaxBodyBytes != 1664 {
		t.Fatalf("MaxBodyBytes = %d: update docs/live.md", clientapi.MaxBodyBytes)
	}
}
