package checks

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/kubeposture/kubeposture/internal/inventory"
)

// netpolNeeds are the kinds every NetworkPolicy check reads.
var netpolNeeds = append([]inventory.Kind{inventory.KindNetworkPolicy}, inventory.WorkloadKinds...)

const netpolSemantics = " Policies are read as the API defines them: podSelector {} selects every pod; " +
	"an omitted policyTypes means Ingress, plus Egress when egress rules exist; a policy type with no rules denies all " +
	"traffic in that direction."

func networkChecks() []*Check {
	return []*Check{
		netpolNamespaceWithoutPolicy(),
		netpolNoDefaultDeny(false),
		netpolNoDefaultDeny(true),
		netpolWorkloadNotSelected(),
		serviceExposedWithoutPolicy(),
		ingressWithoutTLS(),
	}
}

func netpolNamespaceWithoutPolicy() *Check {
	return &Check{
		ID:       "netpol-namespace-without-policy",
		Title:    "Namespace with workloads but no NetworkPolicy",
		Severity: SeverityMedium,
		Category: CategoryNetwork,
		Description: "CIS 5.3.2 and the NSA/CISA guidance ask for NetworkPolicies in every namespace. Without any NetworkPolicy, " +
			"every pod in the namespace accepts traffic from, and sends traffic to, every pod in the cluster. Namespaces that run " +
			"no workload are not judged: a policy there would protect nothing. Any policy passes this check, but a policy " +
			"cannot silence the network checks on its own: workloads that no real ingress policy restricts (including those " +
			"selected only by a policy that selects nothing or allows everything) are then reported by netpol-workload-not-selected.",
		Remediation: "Add a default-deny NetworkPolicy (podSelector: {}, policyTypes: [Ingress, Egress]) and policies that allow the traffic the workloads need.",
		Evidence:    "The namespace and the number of workloads (pod templates as the user wrote them) it runs.",
		Needs:       netpolNeeds,
		Run: func(s *inventory.Snapshot, _ *Config, e *Emitter) {
			withPolicy := map[string]bool{}
			for i := range s.NetworkPolicies {
				withPolicy[s.NetworkPolicies[i].Namespace] = true
			}
			order, workloads := e.scan.workloadNamespaces(s)
			nsRef := namespaceRef(s)
			for _, ns := range order {
				ref := nsRef(ns)
				e.Judge(ref)
				if !withPolicy[ns] {
					e.Fail(ref, "namespace %q runs %d workload(s) and has no NetworkPolicy", ns, workloads[ns])
				}
			}
		},
	}
}

func netpolNoDefaultDeny(egress bool) *Check {
	c := &Check{
		ID:       "netpol-no-default-deny-ingress",
		Title:    "Namespace without a default-deny ingress NetworkPolicy",
		Severity: SeverityMedium,
		Category: CategoryNetwork,
		Description: "CIS 5.3.2 and the NSA/CISA guidance call for a default-deny posture per namespace, so that a new or " +
			"forgotten workload is isolated until a policy allows its traffic. A namespace running workloads passes when a " +
			"NetworkPolicy with podSelector {} applies to Ingress, whatever its rules (a namespace-wide policy that allows " +
			"some traffic, such as only from the same namespace, is still a default posture), unless one of those " +
			"namespace-wide policies allows all ingress (a rule with no from and no ports, or from ipBlock 0.0.0.0/0 or ::/0 " +
			"without except): policies are additive, so such a rule opens every pod, and it cannot serve to silence this check. " +
			"A policy whose podSelector happens to match every current workload does not count: it does not cover the next one.",
		Remediation: "Add a NetworkPolicy with podSelector: {} and policyTypes: [Ingress] and no ingress rules (or only rules " +
			"that allow what every pod needs), then allow each workload's traffic with narrower policies.",
		Evidence: "The namespace, its number of workloads, and what is missing: no namespace-wide Ingress policy, or the " +
			"namespace-wide policy and rule (spec.ingress[i]) that allows everything.",
		Needs: netpolNeeds,
	}
	if egress {
		c.ID = "netpol-no-default-deny-egress"
		c.Title = "Namespace without a default-deny egress NetworkPolicy"
		c.Severity = SeverityLow
		c.Description = strings.NewReplacer("Ingress", "Egress", "ingress", "egress", "no from", "no to",
			"from ipBlock", "to ipBlock", "such as only from the same namespace", "such as only DNS").Replace(c.Description) +
			" Without egress control a compromised pod can reach any service in the cluster and beyond."
		c.Description += netpolSemantics
		c.Remediation = "Add a NetworkPolicy with podSelector: {} and policyTypes: [Egress] that allows only what every pod " +
			"needs (typically DNS to kube-dns), then allow each workload's other destinations with narrower policies."
		c.Evidence = strings.ReplaceAll(c.Evidence, "Ingress policy, or the namespace-wide policy and rule (spec.ingress[i])",
			"Egress policy, or the namespace-wide policy and rule (spec.egress[i])")
	}
	if !egress {
		c.Description += netpolSemantics
	}
	c.Run = func(s *inventory.Snapshot, _ *Config, e *Emitter) {
		ix := indexNetpols(s)
		order, workloads := e.scan.workloadNamespaces(s)
		nsRef := namespaceRef(s)
		for _, ns := range order {
			ref := nsRef(ns)
			e.Judge(ref)
			if why := ix.defaultPosture(ns, egress); why != "" {
				e.Fail(ref, "namespace %q runs %d workload(s) and has %s", ns, workloads[ns], why)
			}
		}
	}
	return c
}

// templateLabelsPath is the field path of a workload's pod template labels.
func templateLabelsPath(kind string) string {
	switch kind {
	case "Pod":
		return "metadata.labels"
	case "CronJob":
		return "spec.jobTemplate.spec.template.metadata.labels"
	}
	return "spec.template.metadata.labels"
}

func netpolWorkloadNotSelected() *Check {
	return &Check{
		ID:       "netpol-workload-not-selected",
		Title:    "Workload whose pods no ingress NetworkPolicy restricts",
		Severity: SeverityMedium,
		Category: CategoryNetwork,
		Description: "CIS 5.3.2 asks that every pod be covered by NetworkPolicies. In a namespace that has NetworkPolicies, a " +
			"workload whose pods no policy with policyType Ingress selects accepts traffic from any source; so does one " +
			"selected by a policy that allows all ingress (a rule with no from and no ports, or from ipBlock 0.0.0.0/0 or ::/0 " +
			"without except), because policies are additive. Pods are matched on the labels of the pod template as the user " +
			"wrote it. A policy that selects no pod, an egress-only policy or an allow-all policy therefore never counts as " +
			"coverage. Namespaces with no NetworkPolicy at all are reported once, by netpol-namespace-without-policy, and not here." +
			netpolSemantics,
		Remediation: "Add (or widen the podSelector of) a NetworkPolicy with policyType Ingress that selects the workload's pods " +
			"and allows only the sources and ports they serve; or add a default-deny ingress policy (podSelector: {}) to the namespace.",
		Evidence: "The workload, its pod template labels (field path and value), and why it is open: no Ingress policy " +
			"selects it, or the selecting policy and rule (spec.ingress[i]) that allows everything.",
		Needs: netpolNeeds,
		PerTemplate: func(s *inventory.Snapshot, _ *Config, e *Emitter) func(w *inventory.Workload) {
			ix := indexNetpols(s)
			return func(w *inventory.Workload) {
				if len(ix[w.Ref.Namespace]) == 0 {
					return // netpol-namespace-without-policy reports it
				}
				e.Judge(w.Ref)
				if why := ix.ingressExposure(w.Ref.Namespace, w.Meta.Labels); why != "" {
					e.fail(w.Ref, why+" ("+templateLabelsPath(w.Ref.Kind)+": "+formatLabels(w.Meta.Labels)+"); its pods accept ingress from any source")
				}
			}
		},
	}
}

// serviceExposure says how a Service is reachable from outside the cluster
// network, or "" when it is not.
func serviceExposure(svc *corev1.Service) string {
	var how []string
	switch svc.Spec.Type {
	case corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeNodePort:
		how = append(how, "spec.type "+string(svc.Spec.Type))
	}
	if len(svc.Spec.ExternalIPs) > 0 {
		ips := append([]string(nil), svc.Spec.ExternalIPs...)
		sort.Strings(ips)
		how = append(how, fmt.Sprintf("spec.externalIPs [%s]", strings.Join(ips, ", ")))
	}
	return strings.Join(how, " and ")
}

// selectsWorkload reports whether a Service selector (a plain equality map)
// selects pods with the given labels. An empty selector selects nothing: the
// endpoints controllers manage no endpoints for it.
func selectsWorkload(selector, podLabels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if got, ok := podLabels[k]; !ok || got != v {
			return false
		}
	}
	return true
}

func serviceExposedWithoutPolicy() *Check {
	return &Check{
		ID:       "service-exposed-without-policy",
		Title:    "Externally exposed Service in front of pods no ingress NetworkPolicy restricts",
		Severity: SeverityHigh,
		Category: CategoryNetwork,
		Description: "A Service of type LoadBalancer or NodePort, or with spec.externalIPs, is reachable from outside the " +
			"cluster network. When the pods it selects are restricted by no ingress NetworkPolicy (no policy with policyType " +
			"Ingress selects them, or one that does allows all ingress), nothing limits who can reach them, nor which other " +
			"ports of those pods an attacker who lands next to them can reach: the shortest path from the internet into the " +
			"cluster (CIS 5.3.2, NSA/CISA network separation). The selector is matched against the pod template labels of the " +
			"workloads in the Service's namespace; a Service without a selector selects nothing here and is not judged." +
			netpolSemantics,
		Remediation: "Add a NetworkPolicy with policyType Ingress that selects the exposed pods and allows only the Service's " +
			"target ports (and, where possible, only the load balancer's or clients' address ranges); or make the Service " +
			"ClusterIP behind an Ingress or gateway.",
		Evidence: "The Service's exposure (spec.type, spec.externalIPs) and each workload it selects that no ingress policy restricts, with the reason.",
		Needs:    append([]inventory.Kind{inventory.KindService}, netpolNeeds...),
		Run: func(s *inventory.Snapshot, _ *Config, e *Emitter) {
			ix := indexNetpols(s)
			// The workloads by namespace, indexed once a Service is exposed.
			var byNS map[string][]*inventory.Workload
			for i := range s.Services {
				svc := &s.Services[i]
				how := serviceExposure(svc)
				if how == "" || len(svc.Spec.Selector) == 0 {
					continue
				}
				if byNS == nil {
					byNS = map[string][]*inventory.Workload{}
					ws := s.Workloads()
					for j := range ws {
						byNS[ws[j].Ref.Namespace] = append(byNS[ws[j].Ref.Namespace], &ws[j])
					}
				}
				ref := inventory.Ref("v1", "Service", &svc.ObjectMeta)
				e.Judge(ref)
				var open []string
				for _, w := range byNS[svc.Namespace] {
					if !selectsWorkload(svc.Spec.Selector, w.Meta.Labels) {
						continue
					}
					if why := ix.ingressExposure(w.Ref.Namespace, w.Meta.Labels); why != "" {
						open = append(open, fmt.Sprintf("%s (%s)", workloadString(w.Ref), why))
					}
				}
				if len(open) == 0 {
					continue
				}
				sort.Strings(open)
				e.Fail(ref, "%s exposes workloads that no ingress NetworkPolicy restricts: %s", how, strings.Join(open, "; "))
			}
		},
	}
}

// ingressTLSAnnotations are annotations with which well-known ingress
// controllers terminate TLS without spec.tls (the certificate lives in the
// cloud provider or the controller's configuration).
var ingressTLSAnnotations = []string{
	"alb.ingress.kubernetes.io/certificate-arn",         // AWS Load Balancer Controller
	"ingress.gcp.kubernetes.io/pre-shared-cert",         // GKE
	"networking.gke.io/managed-certificates",            // GKE managed certificates
	"appgw.ingress.kubernetes.io/appgw-ssl-certificate", // Azure Application Gateway
}

// tlsByAnnotation returns the annotation that configures TLS outside spec.tls, if any.
func tlsByAnnotation(ing *networkingv1.Ingress) string {
	a := ing.Annotations
	for _, k := range ingressTLSAnnotations {
		if a[k] != "" {
			return k
		}
	}
	// The AWS controller discovers ACM certificates by host when an HTTPS listener is configured.
	if strings.Contains(strings.ToUpper(a["alb.ingress.kubernetes.io/listen-ports"]), "HTTPS") {
		return "alb.ingress.kubernetes.io/listen-ports"
	}
	if strings.EqualFold(a["traefik.ingress.kubernetes.io/router.tls"], "true") {
		return "traefik.ingress.kubernetes.io/router.tls"
	}
	return ""
}

// tlsHostCovers reports whether the TLS host pattern covers a rule's host:
// equal (case-insensitively), or a wildcard *.example.com covering exactly one
// more label (a.example.com, and the same wildcard).
func tlsHostCovers(pattern, host string) bool {
	pattern, host = strings.ToLower(pattern), strings.ToLower(host)
	if pattern == host {
		return true
	}
	if suffix, ok := strings.CutPrefix(pattern, "*"); ok && strings.HasPrefix(suffix, ".") {
		label, ok := strings.CutSuffix(host, suffix)
		return ok && label != "" && !strings.Contains(label, ".")
	}
	return false
}

func ingressWithoutTLS() *Check {
	return &Check{
		ID:       "ingress-without-tls",
		Title:    "Ingress serving hosts without TLS",
		Severity: SeverityMedium,
		Category: CategoryNetwork,
		Description: "The NSA/CISA guidance asks for TLS on all traffic. An Ingress with no spec.tls entry serves its hosts over " +
			"plain HTTP, exposing credentials and session tokens in transit; one whose spec.tls hosts do not cover a rule's " +
			"host serves that host without a matching certificate. A wildcard TLS host (*.example.com) covers one extra label; " +
			"a spec.tls entry without hosts covers every host (the controller's default). Ingresses whose TLS is configured " +
			"by a well-known controller annotation (AWS alb certificate-arn or an HTTPS listen-ports, GKE pre-shared or " +
			"managed certificates, Azure Application Gateway certificates, Traefik router.tls) pass.",
		Remediation: "Add a spec.tls entry listing every host of spec.rules with the Secret holding its certificate (for example " +
			"issued by cert-manager), and redirect HTTP to HTTPS.",
		Evidence: "Either that spec.tls is empty (with the hosts served), or each spec.rules[i].host that no spec.tls[].hosts entry covers.",
		Needs:    []inventory.Kind{inventory.KindIngress},
		Run: func(s *inventory.Snapshot, _ *Config, e *Emitter) {
			for i := range s.Ingresses {
				ing := &s.Ingresses[i]
				ref := inventory.Ref("networking.k8s.io/v1", "Ingress", &ing.ObjectMeta)
				e.Judge(ref)
				if tlsByAnnotation(ing) != "" {
					continue
				}
				if len(ing.Spec.TLS) == 0 {
					var hosts []string
					for _, r := range ing.Spec.Rules {
						if r.Host != "" {
							hosts = append(hosts, fmt.Sprintf("%q", r.Host))
						}
					}
					sort.Strings(hosts)
					hosts = slices.Compact(hosts)
					if len(hosts) == 0 {
						e.Fail(ref, "spec.tls is empty: the Ingress serves plain HTTP")
					} else {
						e.Fail(ref, "spec.tls is empty: hosts %s are served over plain HTTP", strings.Join(hosts, ", "))
					}
					continue
				}
				var uncovered []string
				for j, r := range ing.Spec.Rules {
					if !tlsCoversHost(ing.Spec.TLS, r.Host) {
						uncovered = append(uncovered, fmt.Sprintf("spec.rules[%d].host %q", j, r.Host))
					}
				}
				if len(uncovered) > 0 {
					e.Fail(ref, "no spec.tls[].hosts entry covers %s", strings.Join(uncovered, ", "))
				}
			}
		},
	}
}

func tlsCoversHost(tls []networkingv1.IngressTLS, host string) bool {
	for _, t := range tls {
		if len(t.Hosts) == 0 {
			return true
		}
		if host == "" {
			continue
		}
		for _, h := range t.Hosts {
			if tlsHostCovers(h, host) {
				return true
			}
		}
	}
	return false
}
