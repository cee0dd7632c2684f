package engine_test

import (
	"bytes"
	"testing"

	"github.com/kubeposture/kubeposture/internal/engine"
	"github.com/kubeposture/kubeposture/internal/inventory"
)

// FuzzEngineOnManifests runs the whole catalogue on whatever the manifest
// loader makes of arbitrary input: no check may panic on odd but loadable
// objects, and every outcome is either evaluated or says why not.
func FuzzEngineOnManifests(f *testing.F) {
	f.Add([]byte("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: x}]}\n"))
	f.Add([]byte("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: n}\nspec:\n  template:\n    spec:\n      hostNetwork: true\n      containers: []\n      initContainers: [{name: i, securityContext: {capabilities: {add: [ALL]}}}]\n      volumes: [{name: v, hostPath: {path: /}}]\n"))
	f.Add([]byte("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\naggregationRule: {clusterRoleSelectors: [{matchLabels: {a: b}}]}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: b}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: r}\nsubjects: [{kind: Group, name: system:authenticated}]\n"))
	f.Add([]byte("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: n}\nspec: {podSelector: {matchExpressions: [{key: a, operator: Bogus}]}}\n"))
	plan, err := engine.NewPlan(engine.Options{TrustedRegistries: []string{"registry.example.com"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m := inventory.LoadManifests([]string{"-"}, bytes.NewReader(data), inventory.ManifestOptions{MaxDocumentBytes: 64 << 10, MaxTotalBytes: 1 << 20})
		r := plan.Run(m.Snapshot)
		for _, o := range r.Outcomes {
			if !o.Evaluated && len(o.MissingKinds) == 0 && o.NotEvaluatedReason == "" {
				t.Errorf("check %s is not evaluated and says not why", o.Check.ID)
			}
			if !o.Evaluated && len(o.Findings) > 0 {
				t.Errorf("check %s is not evaluated but has findings", o.Check.ID)
			}
		}
	})
}
