package clientapi_test

import (
	"testing"

	"ordo/dynamo/clientapi"
)

// docs/live.md states the body bound in bytes.
func TestBodyBound(t *testing.T) {
	if clientapi.MaxBodyBytes != 9864 {
		t.Fatalf("MaxBodyBytes = %d: update docs/live.md and the package doc", clientapi.MaxBodyBytes)
	}
}
