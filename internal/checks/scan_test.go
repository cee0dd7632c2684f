package checks

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"

	"github.com/kubeposture/kubeposture/internal/inventory"
)

// TestLevelSlotsRunLikeTheEvaluator holds the namespace checks' way of
// judging a level (the check versions of pssTable.levelSlots, their results
// shared with the pss-* checks) to upstream's evaluator of every default
// check: at every level and version, the same results in the same order,
// on pods that pass and pods that fail each check.
func TestLevelSlotsRunLikeTheEvaluator(t *testing.T) {
	evaluator, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		t.Fatal(err)
	}
	meta, specs := evaluatorTestPods()
	// A pod that passes restricted but sets what the overridden baseline
	// checks would judge: restricted must run without them.
	specs["restricted with overrides"] = withSpec(func(s *corev1.PodSpec) {
		s.SecurityContext.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: new("p.json")}
		s.Containers[0].SecurityContext.Capabilities.Add = []corev1.Capability{"NET_BIND_SERVICE"}
	})
	sc := newScan()
	for _, level := range []api.Level{api.LevelPrivileged, api.LevelBaseline, api.LevelRestricted} {
		for _, v := range evaluatorTestVersions() {
			lv := api.LevelVersion{Level: level, Version: v}
			slots := pssTable.levelSlots(lv)
			if diff := cmp.Diff(pssTable.evaluatorSlots(lv), slots); diff != "" {
				t.Errorf("%s: looked-up slots differ from those worked out (-worked out +looked up):\n%s", lv, diff)
			}
			for name, spec := range specs {
				w := &inventory.Workload{Meta: meta, Spec: &spec}
				want := evaluator.EvaluatePod(lv, meta, &spec)
				var got []policy.CheckResult
				for _, slot := range slots {
					got = append(got, *sc.podSecurity(w, slot))
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s on %s pod: results differ (-evaluator +levelSlots):\n%s", lv, name, diff)
				}
				if want, got := policy.AggregateCheckResults(want).Allowed, sc.allowed(w, slots); got != want {
					t.Errorf("%s on %s pod: allowed = %t, the evaluator says %t", lv, name, got, want)
				}
			}
		}
	}
}

// TestScanComputesOncePerTemplate checks that a fact is computed for the
// template asked about, and again for the next one.
func TestScanComputesOncePerTemplate(t *testing.T) {
	sc := newScan()
	linux, windows := hardenedSpec(), withSpec(func(s *corev1.PodSpec) { s.OS = &corev1.PodOS{Name: corev1.Windows} })
	ws := []inventory.Workload{{Spec: &linux}, {Spec: &windows}, {Spec: &linux}}
	for i, want := range []bool{false, true, false} {
		for range 2 {
			if got := sc.notOnWindows(&ws[i]); got != want {
				t.Errorf("template %d: notOnWindows = %t, want %t", i, got, want)
			}
		}
	}
}
