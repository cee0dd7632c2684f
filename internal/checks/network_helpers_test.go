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

// areaCase is one snapshot judged by one check: the network, namespace and
// storage catalogue tests share it.
type areaCase struct {
	fill         func(s *inventory.Snapshot)
	cfg          *Config
	wantJudged   int
	wantFindings []gotFinding
}

// runAreaCases runs check id on each case's snapshot (every kind read) and
// compares what was judged and found.
func runAreaCases(t *testing.T, id string, cases map[string]areaCase) {
	t.Helper()
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := readAll(tc.fill)
			o := runCheck(t, id, s, tc.cfg)
			if !o.Evaluated {
				t.Fatalf("Evaluated = false, want true (missing %v, reason %q)", o.MissingKinds, o.NotEvaluatedReason)
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

// labeledDeployment is a hardened deployment whose pod template has the given labels.
func labeledDeployment(ns, name string, podLabels map[string]string) appsv1.Deployment {
	d := deployment(ns, name, hardenedSpec())
	d.Spec.Template.Labels = podLabels
	return d
}

func nsRefOf(name string) inventory.ObjectRef { return objRef("v1", "Namespace", "", name) }

func deployRef(ns, name string) inventory.ObjectRef { return objRef("apps/v1", "Deployment", ns, name) }

func podSel(kv ...string) metav1.LabelSelector {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return metav1.LabelSelector{MatchLabels: m}
}

func kvMap(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func ptypes(ts ...networkingv1.PolicyType) []networkingv1.PolicyType { return ts }

var (
	ingressType = networkingv1.PolicyTypeIngress
	egressType  = networkingv1.PolicyTypeEgress
)

func netService(ns, name string, typ corev1.ServiceType, selector map[string]string, externalIPs ...string) corev1.Service {
	return corev1.Service{ObjectMeta: objectMeta(ns, name), Spec: corev1.ServiceSpec{Type: typ, Selector: selector, ExternalIPs: externalIPs}}
}

func netIngress(ns, name string, tls []networkingv1.IngressTLS, hosts ...string) networkingv1.Ingress {
	ing := networkingv1.Ingress{ObjectMeta: objectMeta(ns, name), Spec: networkingv1.IngressSpec{TLS: tls}}
	for _, h := range hosts {
		ing.Spec.Rules = append(ing.Spec.Rules, networkingv1.IngressRule{Host: h})
	}
	return ing
}
