package inventory

import (
	"testing"
)

// Every kind a scan reads must have its resource name, or its access review
// would fail and the kind would always read as missing.
func TestEveryKindHasAResource(t *testing.T) {
	for _, k := range AllKinds {
		if r, ok := Resource(k); !ok || r == "" {
			t.Errorf("kind %s has no resource name", k)
		}
		if Object(k) == nil {
			t.Errorf("kind %s has no object to cache it as", k)
		}
	}
}
