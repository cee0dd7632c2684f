package engine_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubeposture/kubeposture/internal/engine"
)

// The operator judges objects as its cache holds them (inventory.Trim:
// controlled Pods, ReplicaSets and Jobs as identities, no status, shared
// strings); the CLI judges them whole. Every golden input judged both ways
// gives the same results, under every golden plan, and counts the same
// objects.
func TestTrimmedSnapshotGivesSameResults(t *testing.T) {
	for _, in := range goldenInputs(t) {
		t.Run(in.name, func(t *testing.T) {
			for _, p := range goldenPlans {
				if p.whole {
					continue
				}
				plan, err := engine.NewPlan(p.opts)
				if err != nil {
					t.Fatal(err)
				}
				whole := in.load(t)
				trimmed := in.load(t).Trimmed()
				var want, got strings.Builder
				dumpResult(&want, plan.Run(whole), false, nil)
				dumpResult(&got, plan.Run(trimmed), false, nil)
				if diff := cmp.Diff(strings.Split(want.String(), "\n"), strings.Split(got.String(), "\n")); diff != "" {
					t.Fatalf("plan %s: results differ (-whole +trimmed):\n%s", p.name, diff)
				}
				wantPerNS, wantTotal := whole.Count()
				if perNS, total := trimmed.Count(); total != wantTotal || !cmp.Equal(perNS, wantPerNS) {
					t.Errorf("plan %s: Count() = %v, %d; want %v, %d", p.name, perNS, total, wantPerNS, wantTotal)
				}
			}
		})
	}
}
