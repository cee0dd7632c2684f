package checks

import (
	"testing"

	"github.com/kubeposture/kubeposture/internal/inventory"
)

// admission-no-policy-engine judges a whole cluster: from manifests it is
// not evaluated, and with nothing running it judges nothing.
func TestAdmissionPolicyEngineNeedsAWholeCluster(t *testing.T) {
	c := Default.Get("admission-no-policy-engine")
	withWorkload := func(partial bool) *inventory.Snapshot {
		s := &inventory.Snapshot{Partial: partial}
		for _, k := range inventory.AllKinds {
			s.MarkRead(k)
		}
		s.Pods = append(s.Pods, pod("shop", "web", hardenedSpec("web")))
		return s
	}
	tcs := map[string]struct {
		snap          *inventory.Snapshot
		wantEvaluated bool
		wantFindings  int
		wantJudged    int
	}{
		"cluster with a workload and no engine": {snap: withWorkload(false), wantEvaluated: true, wantFindings: 1, wantJudged: 1},
		"manifests with a workload":             {snap: withWorkload(true), wantEvaluated: false},
		"cluster with nothing running":          {snap: func() *inventory.Snapshot { s := withWorkload(false); s.Pods = nil; return s }(), wantEvaluated: true},
	}
	for name, tc := range tcs {
		t.Run(name, func(t *testing.T) {
			o := Run(tc.snap, nil, []*Check{c})[0]
			if o.Evaluated != tc.wantEvaluated || len(o.Findings) != tc.wantFindings || o.Judged != tc.wantJudged {
				t.Errorf("evaluated %v, findings %d, judged %d; want %v, %d, %d (%s)", o.Evaluated, len(o.Findings), o.Judged,
					tc.wantEvaluated, tc.wantFindings, tc.wantJudged, o.NotEvaluatedReason)
			}
		})
	}
}
