package checks

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubeposture/kubeposture/internal/inventory"
)

func TestNetpolNamespaceWithoutPolicy(t *testing.T) {
	const id = "netpol-namespace-without-policy"
	defaultDeny := networkingv1.NetworkPolicySpec{
		PodSelector: metav1.LabelSelector{},
		PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
	}
	allowFrontend := networkingv1.NetworkPolicySpec{
		PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "api"}},
		Ingress: []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{
			PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "frontend"}},
		}}}},
	}
	nsRef := func(name string) inventory.ObjectRef { return objRef("v1", "Namespace", "", name) }

	testCases := map[string]struct {
		namespaces      []corev1.Namespace
		deployments     []appsv1.Deployment
		replicaSets     []appsv1.ReplicaSet
		pods            []corev1.Pod
		networkPolicies []networkingv1.NetworkPolicy
		wantJudged      int
		wantFindings    []gotFinding
	}{
		"namespace with a deployment and no policy fails on the namespace": {
			namespaces:  []corev1.Namespace{namespace("shop")},
			deployments: []appsv1.Deployment{deployment("shop", "web", hardenedSpec())},
			wantJudged:  1,
			wantFindings: []gotFinding{{
				Check: id, Object: nsRef("shop"),
				Message: `namespace "shop" runs 1 workload(s) and has no NetworkPolicy`,
			}},
		},
		"namespace with a default-deny policy selecting every pod passes": {
			namespaces:      []corev1.Namespace{namespace("shop")},
			deployments:     []appsv1.Deployment{deployment("shop", "web", hardenedSpec())},
			networkPolicies: []networkingv1.NetworkPolicy{networkPolicy("shop", "default-deny", defaultDeny)},
			wantJudged:      1,
		},
		"namespace with a policy selecting some pods passes": {
			namespaces:      []corev1.Namespace{namespace("shop")},
			deployments:     []appsv1.Deployment{deployment("shop", "web", hardenedSpec())},
			networkPolicies: []networkingv1.NetworkPolicy{networkPolicy("shop", "allow-frontend", allowFrontend)},
			wantJudged:      1,
		},
		"namespace without workloads is not judged": {
			namespaces:      []corev1.Namespace{namespace("empty"), namespace("guarded")},
			networkPolicies: []networkingv1.NetworkPolicy{networkPolicy("guarded", "default-deny", defaultDeny)},
			wantJudged:      0,
		},
		"a policy in another namespace does not count": {
			namespaces:      []corev1.Namespace{namespace("billing"), namespace("shop")},
			deployments:     []appsv1.Deployment{deployment("billing", "api", hardenedSpec()), deployment("shop", "web", hardenedSpec())},
			networkPolicies: []networkingv1.NetworkPolicy{networkPolicy("billing", "default-deny", defaultDeny)},
			wantJudged:      2,
			wantFindings: []gotFinding{{
				Check: id, Object: nsRef("shop"),
				Message: `namespace "shop" runs 1 workload(s) and has no NetworkPolicy`,
			}},
		},
		"workloads are counted as the user wrote them": {
			namespaces:  []corev1.Namespace{namespace("shop")},
			deployments: []appsv1.Deployment{deployment("shop", "web", hardenedSpec())},
			replicaSets: []appsv1.ReplicaSet{replicaSet("shop", "web-5d8", hardenedSpec(), controllerRef("apps/v1", "Deployment", "web"))},
			pods: []corev1.Pod{
				pod("shop", "web-5d8-a", hardenedSpec(), controllerRef("apps/v1", "ReplicaSet", "web-5d8")),
				pod("shop", "web-5d8-b", hardenedSpec(), controllerRef("apps/v1", "ReplicaSet", "web-5d8")),
				pod("shop", "debug", hardenedSpec()),
			},
			wantJudged: 1,
			wantFindings: []gotFinding{{
				Check: id, Object: nsRef("shop"),
				Message: `namespace "shop" runs 2 workload(s) and has no NetworkPolicy`,
			}},
		},
		"each namespace is judged once": {
			namespaces: []corev1.Namespace{namespace("a"), namespace("b")},
			deployments: []appsv1.Deployment{
				deployment("a", "one", hardenedSpec()),
				deployment("a", "two", hardenedSpec()),
				deployment("b", "three", hardenedSpec()),
			},
			wantJudged: 2,
			wantFindings: []gotFinding{
				{Check: id, Object: nsRef("a"), Message: `namespace "a" runs 2 workload(s) and has no NetworkPolicy`},
				{Check: id, Object: nsRef("b"), Message: `namespace "b" runs 1 workload(s) and has no NetworkPolicy`},
			},
		},
	}
	for name, tc := range testCases {
		t.Run(name, func(t *testing.T) {
			s := readAll(func(s *inventory.Snapshot) {
				s.Namespaces = tc.namespaces
				s.Deployments = tc.deployments
				s.ReplicaSets = tc.replicaSets
				s.Pods = tc.pods
				s.NetworkPolicies = tc.networkPolicies
			})
			o := runCheck(t, id, s, nil)
			if !o.Evaluated {
				t.Fatalf("Evaluated = false, want true (missing %v)", o.MissingKinds)
			}
			if o.Judged != tc.wantJudged {
				t.Errorf("Judged = %d, want %d", o.Judged, tc.wantJudged)
			}
			if diff := cmp.Diff(tc.wantFindings, summarize(o.Findings)); diff != "" {
				t.Errorf("findings mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestNetpolNotEvaluated checks that when policies or workloads could not be
// read the check is not evaluated: an unreadable kind is never a pass, and a
// namespace is never failed for lack of policies we could not see.
func TestNetpolNotEvaluated(t *testing.T) {
	testCases := map[string]struct {
		missing          []inventory.Kind
		wantMissingKinds []inventory.Kind
	}{
		"network policies forbidden": {
			missing:          []inventory.Kind{inventory.KindNetworkPolicy},
			wantMissingKinds: []inventory.Kind{inventory.KindNetworkPolicy},
		},
		"pods and network policies missing": {
			missing:          []inventory.Kind{inventory.KindPod, inventory.KindNetworkPolicy},
			wantMissingKinds: []inventory.Kind{inventory.KindNetworkPolicy, inventory.KindPod},
		},
	}
	for name, tc := range testCases {
		t.Run(name, func(t *testing.T) {
			s := readAll(func(s *inventory.Snapshot) {
				s.Namespaces = []corev1.Namespace{namespace("shop")}
				s.Deployments = []appsv1.Deployment{deployment("shop", "web", hardenedSpec())}
			})
			for _, k := range tc.missing {
				s.MarkMissing(k, inventory.MissingForbidden, "forbidden")
			}
			o := runCheck(t, "netpol-namespace-without-policy", s, nil)
			if o.Evaluated {
				t.Errorf("Evaluated = true, want false")
			}
			if diff := cmp.Diff(tc.wantMissingKinds, o.MissingKinds); diff != "" {
				t.Errorf("MissingKinds mismatch (-want +got):\n%s", diff)
			}
			if o.Judged != 0 || len(o.Findings) != 0 {
				t.Errorf("Judged=%d findings=%v, want 0 and none", o.Judged, summarize(o.Findings))
			}
		})
	}
}
