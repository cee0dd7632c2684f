package checks

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/kubeposture/kubeposture/internal/inventory"
)

var (
	allowAllIngress = []networkingv1.NetworkPolicyIngressRule{{}}
	allowAllEgress  = []networkingv1.NetworkPolicyEgressRule{{}}
	fromSameNS      = []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{}}}}}
	dnsOnly         = []networkingv1.NetworkPolicyEgressRule{{Ports: []networkingv1.NetworkPolicyPort{{
		Protocol: new(corev1.ProtocolUDP), Port: new(intstr.FromInt32(53)),
	}}}}
)

func shopWith(deployments []appsv1.Deployment, policies ...networkingv1.NetworkPolicy) func(s *inventory.Snapshot) {
	return func(s *inventory.Snapshot) {
		s.Namespaces = []corev1.Namespace{namespace("shop")}
		s.Deployments = deployments
		s.NetworkPolicies = policies
	}
}

func TestNetpolNoDefaultDenyIngress(t *testing.T) {
	const id = "netpol-no-default-deny-ingress"
	web := []appsv1.Deployment{labeledDeployment("shop", "web", kvMap("app", "web"))}
	fail := func(why string) []gotFinding {
		return []gotFinding{{Check: id, Object: nsRefOf("shop"), Message: `namespace "shop" runs 1 workload(s) and has ` + why}}
	}
	const missing = "no NetworkPolicy with podSelector {} and policyType Ingress"
	runAreaCases(t, id, map[string]areaCase{
		"no policy at all fails": {
			fill:         shopWith(web),
			wantJudged:   1,
			wantFindings: fail(missing),
		},
		"empty podSelector with omitted policyTypes and no rules is a deny-all ingress": {
			fill:       shopWith(web, networkPolicy("shop", "deny", networkingv1.NetworkPolicySpec{})),
			wantJudged: 1,
		},
		"explicit Ingress type with an empty rule list is a deny-all": {
			fill: shopWith(web, networkPolicy("shop", "deny", networkingv1.NetworkPolicySpec{
				PolicyTypes: ptypes(ingressType), Ingress: []networkingv1.NetworkPolicyIngressRule{},
			})),
			wantJudged: 1,
		},
		"namespace-wide policy allowing only the same namespace is a default posture": {
			fill:       shopWith(web, networkPolicy("shop", "same-ns", networkingv1.NetworkPolicySpec{Ingress: fromSameNS})),
			wantJudged: 1,
		},
		"namespace-wide egress-only policy does not cover ingress": {
			fill:         shopWith(web, networkPolicy("shop", "deny-egress", networkingv1.NetworkPolicySpec{PolicyTypes: ptypes(egressType)})),
			wantJudged:   1,
			wantFindings: fail(missing),
		},
		"namespace-wide allow-all ingress is not a default deny": {
			fill:         shopWith(web, networkPolicy("shop", "allow-all", networkingv1.NetworkPolicySpec{Ingress: allowAllIngress})),
			wantJudged:   1,
			wantFindings: fail(`NetworkPolicy "allow-all" (spec.ingress[0]) selects every pod and allows all ingress (any source, any port)`),
		},
		"allow-all next to a deny-all opens every pod: policies are additive": {
			fill: shopWith(web,
				networkPolicy("shop", "allow-all", networkingv1.NetworkPolicySpec{Ingress: []networkingv1.NetworkPolicyIngressRule{{}, {}}}),
				networkPolicy("shop", "deny", networkingv1.NetworkPolicySpec{})),
			wantJudged:   1,
			wantFindings: fail(`NetworkPolicy "allow-all" (spec.ingress[0]) selects every pod and allows all ingress (any source, any port)`),
		},
		"namespace-wide rule from ipBlock 0.0.0.0/0 allows everything": {
			fill: shopWith(web, networkPolicy("shop", "world", networkingv1.NetworkPolicySpec{Ingress: []networkingv1.NetworkPolicyIngressRule{
				{From: []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{}}}},
				{From: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "0.0.0.0/0"}}}},
			}})),
			wantJudged:   1,
			wantFindings: fail(`NetworkPolicy "world" (spec.ingress[1]) selects every pod and allows all ingress (any source, any port)`),
		},
		"ipBlock 0.0.0.0/0 with except is a restriction": {
			fill: shopWith(web, networkPolicy("shop", "world", networkingv1.NetworkPolicySpec{Ingress: []networkingv1.NetworkPolicyIngressRule{
				{From: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "0.0.0.0/0", Except: []string{"10.0.0.0/8"}}}}},
			}})),
			wantJudged: 1,
		},
		"allowing any source on one port is a restriction": {
			fill: shopWith(web, networkPolicy("shop", "https", networkingv1.NetworkPolicySpec{Ingress: []networkingv1.NetworkPolicyIngressRule{
				{Ports: []networkingv1.NetworkPolicyPort{{Port: new(intstr.FromInt32(443))}}},
			}})),
			wantJudged: 1,
		},
		"a policy that happens to select every current workload is not a default": {
			fill:         shopWith(web, networkPolicy("shop", "web-only", networkingv1.NetworkPolicySpec{PodSelector: podSel("app", "web")})),
			wantJudged:   1,
			wantFindings: fail(missing),
		},
		"a default deny in another namespace does not count": {
			fill: func(s *inventory.Snapshot) {
				shopWith(web, networkPolicy("billing", "deny", networkingv1.NetworkPolicySpec{}))(s)
			},
			wantJudged:   1,
			wantFindings: fail(missing),
		},
		"namespaces without workloads are not judged": {
			fill: func(s *inventory.Snapshot) {
				s.Namespaces = []corev1.Namespace{namespace("empty")}
			},
			wantJudged: 0,
		},
	})
}

func TestNetpolNoDefaultDenyEgress(t *testing.T) {
	const id = "netpol-no-default-deny-egress"
	web := []appsv1.Deployment{labeledDeployment("shop", "web", kvMap("app", "web"))}
	fail := func(why string) []gotFinding {
		return []gotFinding{{Check: id, Object: nsRefOf("shop"), Message: `namespace "shop" runs 1 workload(s) and has ` + why}}
	}
	const missing = "no NetworkPolicy with podSelector {} and policyType Egress"
	runAreaCases(t, id, map[string]areaCase{
		"no policy at all fails": {
			fill:         shopWith(web),
			wantJudged:   1,
			wantFindings: fail(missing),
		},
		"omitted policyTypes without egress rules is ingress only": {
			fill:         shopWith(web, networkPolicy("shop", "deny", networkingv1.NetworkPolicySpec{})),
			wantJudged:   1,
			wantFindings: fail(missing),
		},
		"omitted policyTypes with egress rules includes Egress": {
			fill:       shopWith(web, networkPolicy("shop", "dns", networkingv1.NetworkPolicySpec{Egress: dnsOnly})),
			wantJudged: 1,
		},
		"explicit Ingress and Egress with no rules denies both": {
			fill:       shopWith(web, networkPolicy("shop", "deny", networkingv1.NetworkPolicySpec{PolicyTypes: ptypes(ingressType, egressType)})),
			wantJudged: 1,
		},
		"namespace-wide allow-all egress is not a default deny": {
			fill: shopWith(web, networkPolicy("shop", "open", networkingv1.NetworkPolicySpec{
				PolicyTypes: ptypes(egressType), Egress: allowAllEgress,
			})),
			wantJudged:   1,
			wantFindings: fail(`NetworkPolicy "open" (spec.egress[0]) selects every pod and allows all egress (any destination, any port)`),
		},
		"egress to ::/0 allows everything": {
			fill: shopWith(web, networkPolicy("shop", "v6", networkingv1.NetworkPolicySpec{
				PolicyTypes: ptypes(egressType),
				Egress:      []networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "::/0"}}}}},
			})),
			wantJudged:   1,
			wantFindings: fail(`NetworkPolicy "v6" (spec.egress[0]) selects every pod and allows all egress (any destination, any port)`),
		},
		"an egress policy on some pods is not a default": {
			fill: shopWith(web, networkPolicy("shop", "web", networkingv1.NetworkPolicySpec{
				PodSelector: podSel("app", "web"), PolicyTypes: ptypes(egressType),
			})),
			wantJudged:   1,
			wantFindings: fail(missing),
		},
	})
}

func TestNetpolWorkloadNotSelected(t *testing.T) {
	const id = "netpol-workload-not-selected"
	webAndAPI := []appsv1.Deployment{
		labeledDeployment("shop", "api", kvMap("app", "api", "tier", "backend")),
		labeledDeployment("shop", "web", kvMap("app", "web")),
	}
	notSelected := func(ref inventory.ObjectRef, path, labels string) gotFinding {
		return gotFinding{Check: id, Object: ref, Message: "no NetworkPolicy with policyType Ingress selects its pods (" + path + ": " + labels + "); its pods accept ingress from any source"}
	}
	const tpl = "spec.template.metadata.labels"
	runAreaCases(t, id, map[string]areaCase{
		"namespace without any policy is left to netpol-namespace-without-policy": {
			fill:       shopWith(webAndAPI),
			wantJudged: 0,
		},
		"workload no ingress policy selects fails, the selected one passes": {
			fill: shopWith(webAndAPI, networkPolicy("shop", "api", networkingv1.NetworkPolicySpec{
				PodSelector: podSel("app", "api"), Ingress: fromSameNS,
			})),
			wantJudged:   2,
			wantFindings: []gotFinding{notSelected(deployRef("shop", "web"), tpl, "app=web")},
		},
		"matchExpressions select with label-selector semantics": {
			fill: shopWith(webAndAPI, networkPolicy("shop", "expr", networkingv1.NetworkPolicySpec{
				PodSelector: metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
					{Key: "app", Operator: metav1.LabelSelectorOpIn, Values: []string{"web", "api"}},
					{Key: "legacy", Operator: metav1.LabelSelectorOpDoesNotExist},
				}},
			})),
			wantJudged: 2,
		},
		"a policy selecting no pod covers nothing": {
			fill:       shopWith(webAndAPI, networkPolicy("shop", "dummy", networkingv1.NetworkPolicySpec{PodSelector: podSel("app", "nothing")})),
			wantJudged: 2,
			wantFindings: []gotFinding{
				notSelected(deployRef("shop", "api"), tpl, "app=api,tier=backend"),
				notSelected(deployRef("shop", "web"), tpl, "app=web"),
			},
		},
		"an egress-only policy does not restrict ingress": {
			fill:         shopWith(webAndAPI[1:], networkPolicy("shop", "egress", networkingv1.NetworkPolicySpec{PolicyTypes: ptypes(egressType)})),
			wantJudged:   1,
			wantFindings: []gotFinding{notSelected(deployRef("shop", "web"), tpl, "app=web")},
		},
		"omitted policyTypes with only egress rules still isolates ingress": {
			fill: shopWith(webAndAPI[1:], networkPolicy("shop", "web", networkingv1.NetworkPolicySpec{
				PodSelector: podSel("app", "web"), Egress: dnsOnly,
			})),
			wantJudged: 1,
		},
		"a namespace-wide deny-all covers every workload": {
			fill:       shopWith(webAndAPI, networkPolicy("shop", "deny", networkingv1.NetworkPolicySpec{})),
			wantJudged: 2,
		},
		"a selecting policy that allows all ingress opens the pods": {
			fill: shopWith(webAndAPI[1:],
				networkPolicy("shop", "deny", networkingv1.NetworkPolicySpec{}),
				networkPolicy("shop", "web-open", networkingv1.NetworkPolicySpec{PodSelector: podSel("app", "web"), Ingress: allowAllIngress})),
			wantJudged: 1,
			wantFindings: []gotFinding{{Check: id, Object: deployRef("shop", "web"),
				Message: `NetworkPolicy "web-open" (spec.ingress[0]) allows ingress from any source on any port (spec.template.metadata.labels: app=web); its pods accept ingress from any source`}},
		},
		"a policy with an invalid selector selects nothing": {
			fill: shopWith(webAndAPI[1:], networkPolicy("shop", "bad", networkingv1.NetworkPolicySpec{
				PodSelector: metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: "Bogus"}}},
			})),
			wantJudged:   1,
			wantFindings: []gotFinding{notSelected(deployRef("shop", "web"), tpl, "app=web")},
		},
		"a policy in another namespace does not select": {
			fill: func(s *inventory.Snapshot) {
				shopWith(webAndAPI[1:],
					networkPolicy("shop", "api", networkingv1.NetworkPolicySpec{PodSelector: podSel("app", "api")}),
					networkPolicy("billing", "web", networkingv1.NetworkPolicySpec{PodSelector: podSel("app", "web")}))(s)
			},
			wantJudged:   1,
			wantFindings: []gotFinding{notSelected(deployRef("shop", "web"), tpl, "app=web")},
		},
		"CronJob and bare Pod templates are judged on their own labels": {
			fill: func(s *inventory.Snapshot) {
				cj := cronJob("shop", "report", hardenedSpec())
				cj.Spec.JobTemplate.Spec.Template.Labels = kvMap("app", "report")
				p := pod("shop", "debug", hardenedSpec())
				s.CronJobs = []batchv1.CronJob{cj}
				s.Pods = []corev1.Pod{p}
				s.NetworkPolicies = []networkingv1.NetworkPolicy{networkPolicy("shop", "api", networkingv1.NetworkPolicySpec{PodSelector: podSel("app", "api")})}
			},
			wantJudged: 2,
			wantFindings: []gotFinding{
				notSelected(objRef("batch/v1", "CronJob", "shop", "report"), "spec.jobTemplate.spec.template.metadata.labels", "app=report"),
				notSelected(objRef("v1", "Pod", "shop", "debug"), "metadata.labels", "none"),
			},
		},
	})
}

// TestNetpolDummyPolicyDoesNotCure checks that whatever meaningless policy is
// added to a namespace, its unprotected workload is still reported, by
// exactly one of netpol-namespace-without-policy and netpol-workload-not-selected.
func TestNetpolDummyPolicyDoesNotCure(t *testing.T) {
	testCases := map[string]struct {
		policies []networkingv1.NetworkPolicy
		wantIDs  []string
	}{
		"no policy": {
			wantIDs: []string{"netpol-namespace-without-policy"},
		},
		"policy selecting no pod": {
			policies: []networkingv1.NetworkPolicy{networkPolicy("shop", "dummy", networkingv1.NetworkPolicySpec{PodSelector: podSel("dummy", "true")})},
			wantIDs:  []string{"netpol-workload-not-selected"},
		},
		"allow-all policy on every pod": {
			policies: []networkingv1.NetworkPolicy{networkPolicy("shop", "dummy", networkingv1.NetworkPolicySpec{Ingress: allowAllIngress})},
			wantIDs:  []string{"netpol-workload-not-selected"},
		},
		"egress-only allow-all policy on every pod": {
			policies: []networkingv1.NetworkPolicy{networkPolicy("shop", "dummy", networkingv1.NetworkPolicySpec{PolicyTypes: ptypes(egressType), Egress: allowAllEgress})},
			wantIDs:  []string{"netpol-workload-not-selected"},
		},
		"real deny-all": {
			policies: []networkingv1.NetworkPolicy{networkPolicy("shop", "deny", networkingv1.NetworkPolicySpec{})},
		},
	}
	for name, tc := range testCases {
		t.Run(name, func(t *testing.T) {
			s := readAll(shopWith([]appsv1.Deployment{labeledDeployment("shop", "web", kvMap("app", "web"))}, tc.policies...))
			var gotIDs []string
			for _, id := range []string{"netpol-namespace-without-policy", "netpol-workload-not-selected"} {
				if o := runCheck(t, id, s, nil); len(o.Findings) > 0 {
					gotIDs = append(gotIDs, id)
				}
			}
			if len(gotIDs) != len(tc.wantIDs) || (len(gotIDs) > 0 && gotIDs[0] != tc.wantIDs[0]) {
				t.Errorf("checks reporting = %v, want %v", gotIDs, tc.wantIDs)
			}
		})
	}
}

func TestServiceExposedWithoutPolicy(t *testing.T) {
	const id = "service-exposed-without-policy"
	svcRef := func(name string) inventory.ObjectRef { return objRef("v1", "Service", "shop", name) }
	webAndAPI := []appsv1.Deployment{
		labeledDeployment("shop", "api", kvMap("app", "api", "tier", "backend")),
		labeledDeployment("shop", "web", kvMap("app", "web", "tier", "frontend")),
		labeledDeployment("shop", "web-canary", kvMap("app", "web", "tier", "frontend", "track", "canary")),
	}
	with := func(services []corev1.Service, policies ...networkingv1.NetworkPolicy) func(s *inventory.Snapshot) {
		return func(s *inventory.Snapshot) {
			shopWith(webAndAPI, policies...)(s)
			s.Services = services
		}
	}
	runAreaCases(t, id, map[string]areaCase{
		"LoadBalancer in front of workloads without policies fails, listing them": {
			fill:       with([]corev1.Service{netService("shop", "web", corev1.ServiceTypeLoadBalancer, kvMap("app", "web"))}),
			wantJudged: 1,
			wantFindings: []gotFinding{{Check: id, Object: svcRef("web"), Message: "spec.type LoadBalancer exposes workloads that no ingress NetworkPolicy restricts: " +
				"Deployment shop/web (no NetworkPolicy with policyType Ingress selects its pods); Deployment shop/web-canary (no NetworkPolicy with policyType Ingress selects its pods)"}},
		},
		"NodePort in front of isolated workloads passes": {
			fill: with([]corev1.Service{netService("shop", "web", corev1.ServiceTypeNodePort, kvMap("app", "web"))},
				networkPolicy("shop", "web", networkingv1.NetworkPolicySpec{PodSelector: podSel("tier", "frontend"), Ingress: fromSameNS})),
			wantJudged: 1,
		},
		"NodePort whose only selecting policy allows everything fails": {
			fill: with([]corev1.Service{netService("shop", "api", corev1.ServiceTypeNodePort, kvMap("app", "api"))},
				networkPolicy("shop", "open", networkingv1.NetworkPolicySpec{PodSelector: podSel("app", "api"), Ingress: allowAllIngress})),
			wantJudged: 1,
			wantFindings: []gotFinding{{Check: id, Object: svcRef("api"), Message: "spec.type NodePort exposes workloads that no ingress NetworkPolicy restricts: " +
				`Deployment shop/api (NetworkPolicy "open" (spec.ingress[0]) allows ingress from any source on any port)`}},
		},
		"ClusterIP Services are not judged": {
			fill:       with([]corev1.Service{netService("shop", "web", corev1.ServiceTypeClusterIP, kvMap("app", "web")), netService("shop", "api", "", kvMap("app", "api"))}),
			wantJudged: 0,
		},
		"ClusterIP with externalIPs is exposed": {
			fill:       with([]corev1.Service{netService("shop", "api", corev1.ServiceTypeClusterIP, kvMap("app", "api"), "203.0.113.9", "203.0.113.1")}),
			wantJudged: 1,
			wantFindings: []gotFinding{{Check: id, Object: svcRef("api"), Message: "spec.externalIPs [203.0.113.1, 203.0.113.9] exposes workloads that no ingress NetworkPolicy restricts: " +
				"Deployment shop/api (no NetworkPolicy with policyType Ingress selects its pods)"}},
		},
		"a Service without selector is not judged": {
			fill:       with([]corev1.Service{netService("shop", "external", corev1.ServiceTypeLoadBalancer, nil)}),
			wantJudged: 0,
		},
		"a selector matching no workload passes": {
			fill:       with([]corev1.Service{netService("shop", "ghost", corev1.ServiceTypeLoadBalancer, kvMap("app", "ghost"))}),
			wantJudged: 1,
		},
		"the selector only selects workloads in the Service's namespace": {
			fill: func(s *inventory.Snapshot) {
				s.Deployments = []appsv1.Deployment{labeledDeployment("billing", "web", kvMap("app", "web"))}
				s.Services = []corev1.Service{netService("shop", "web", corev1.ServiceTypeLoadBalancer, kvMap("app", "web"))}
			},
			wantJudged: 1,
		},
	})
}

func TestIngressWithoutTLS(t *testing.T) {
	const id = "ingress-without-tls"
	ingRef := objRef("networking.k8s.io/v1", "Ingress", "shop", "web")
	tls := func(hosts ...string) []networkingv1.IngressTLS {
		return []networkingv1.IngressTLS{{Hosts: hosts, SecretName: "web-tls"}}
	}
	with := func(ing networkingv1.Ingress) func(s *inventory.Snapshot) {
		return func(s *inventory.Snapshot) { s.Ingresses = []networkingv1.Ingress{ing} }
	}
	fail := func(msg string) []gotFinding { return []gotFinding{{Check: id, Object: ingRef, Message: msg}} }
	annotated := func(k, v string) networkingv1.Ingress {
		ing := netIngress("shop", "web", nil, "shop.example.com")
		ing.Annotations = map[string]string{k: v}
		return ing
	}
	runAreaCases(t, id, map[string]areaCase{
		"no spec.tls fails with the hosts served": {
			fill:         with(netIngress("shop", "web", nil, "www.example.com", "shop.example.com", "www.example.com")),
			wantJudged:   1,
			wantFindings: fail(`spec.tls is empty: hosts "shop.example.com", "www.example.com" are served over plain HTTP`),
		},
		"no spec.tls and no hosts fails": {
			fill:         with(netIngress("shop", "web", nil)),
			wantJudged:   1,
			wantFindings: fail("spec.tls is empty: the Ingress serves plain HTTP"),
		},
		"every host covered passes": {
			fill:       with(netIngress("shop", "web", tls("shop.example.com", "WWW.example.com"), "www.example.com", "shop.example.com")),
			wantJudged: 1,
		},
		"a host outside spec.tls fails": {
			fill:         with(netIngress("shop", "web", tls("shop.example.com"), "shop.example.com", "admin.example.com")),
			wantJudged:   1,
			wantFindings: fail(`no spec.tls[].hosts entry covers spec.rules[1].host "admin.example.com"`),
		},
		"a wildcard TLS host covers one label, not two": {
			fill:         with(netIngress("shop", "web", tls("*.example.com"), "a.example.com", "*.example.com", "a.b.example.com", "example.com")),
			wantJudged:   1,
			wantFindings: fail(`no spec.tls[].hosts entry covers spec.rules[2].host "a.b.example.com", spec.rules[3].host "example.com"`),
		},
		"a wildcard rule host needs a wildcard TLS host": {
			fill:         with(netIngress("shop", "web", tls("a.example.com"), "*.example.com")),
			wantJudged:   1,
			wantFindings: fail(`no spec.tls[].hosts entry covers spec.rules[0].host "*.example.com"`),
		},
		"a rule without host is not covered by host-specific TLS": {
			fill:         with(netIngress("shop", "web", tls("shop.example.com"), "shop.example.com", "")),
			wantJudged:   1,
			wantFindings: fail(`no spec.tls[].hosts entry covers spec.rules[1].host ""`),
		},
		"a spec.tls entry without hosts covers every host": {
			fill:       with(netIngress("shop", "web", tls(), "shop.example.com", "")),
			wantJudged: 1,
		},
		"TLS terminated by the AWS load balancer controller passes": {
			fill:       with(annotated("alb.ingress.kubernetes.io/certificate-arn", "arn:aws:acm:eu-west-1:111122223333:certificate/abc")),
			wantJudged: 1,
		},
		"an HTTPS listener of the AWS controller passes": {
			fill:       with(annotated("alb.ingress.kubernetes.io/listen-ports", `[{"HTTP": 80}, {"HTTPS": 443}]`)),
			wantJudged: 1,
		},
		"an HTTP-only listener of the AWS controller fails": {
			fill:         with(annotated("alb.ingress.kubernetes.io/listen-ports", `[{"HTTP": 80}]`)),
			wantJudged:   1,
			wantFindings: fail(`spec.tls is empty: hosts "shop.example.com" are served over plain HTTP`),
		},
	})
}

func TestNetpolSemanticsHelpers(t *testing.T) {
	testCases := map[string]struct {
		spec        networkingv1.NetworkPolicySpec
		wantIngress bool
		wantEgress  bool
	}{
		"omitted policyTypes, no rules":            {spec: networkingv1.NetworkPolicySpec{}, wantIngress: true},
		"omitted policyTypes, egress rules":        {spec: networkingv1.NetworkPolicySpec{Egress: dnsOnly}, wantIngress: true, wantEgress: true},
		"omitted policyTypes, empty egress list":   {spec: networkingv1.NetworkPolicySpec{Egress: []networkingv1.NetworkPolicyEgressRule{}}, wantIngress: true},
		"empty policyTypes list is omitted":        {spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{}, Egress: dnsOnly}, wantIngress: true, wantEgress: true},
		"explicit Egress only, with ingress rules": {spec: networkingv1.NetworkPolicySpec{PolicyTypes: ptypes(egressType), Ingress: fromSameNS}, wantEgress: true},
		"explicit both":                            {spec: networkingv1.NetworkPolicySpec{PolicyTypes: ptypes(egressType, ingressType)}, wantIngress: true, wantEgress: true},
	}
	for name, tc := range testCases {
		t.Run(name, func(t *testing.T) {
			gotIngress, gotEgress := policyTypes(&tc.spec)
			if gotIngress != tc.wantIngress || gotEgress != tc.wantEgress {
				t.Errorf("policyTypes() = (%t, %t), want (%t, %t)", gotIngress, gotEgress, tc.wantIngress, tc.wantEgress)
			}
		})
	}
}
