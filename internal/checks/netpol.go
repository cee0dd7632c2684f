package checks

// NetworkPolicy semantics, as the API defines them (networking.k8s.io/v1):
//
//   - A policy selects pods in its own namespace only, by spec.podSelector.
//     An empty selector ({}) selects every pod; matchLabels and
//     matchExpressions have the usual label-selector semantics. A selector
//     the API server would reject selects nothing here.
//   - Its policy types are spec.policyTypes when that list is non-empty;
//     otherwise Ingress, plus Egress when spec.egress has at least one rule
//     (the API server's own defaulting).
//   - A pod selected by any policy with a type is isolated in that direction:
//     only traffic some selecting policy allows gets through (policies are
//     additive). With the type and no rules (nil or empty list) a policy
//     allows nothing in that direction: a deny-all.
//   - A rule with no peers (from/to) and no ports allows everything, and so
//     does one whose peer is the ipBlock 0.0.0.0/0 or ::/0 with no except and
//     no ports. A pod selected by a policy with such a rule is isolated on
//     paper only: every source (or destination) is allowed. These are the
//     "dummy" policies a scanner must not be silenced by.

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kubeposture/kubeposture/internal/inventory"
)

// netpol is a NetworkPolicy with its selector parsed and its types resolved.
type netpol struct {
	np *networkingv1.NetworkPolicy
	// selector is nil when spec.podSelector is invalid: it then selects nothing.
	selector labels.Selector
	// selectsAll is true for the empty podSelector.
	selectsAll bool
	ingress    bool
	egress     bool
	// openIngress and openEgress name the policy and its first rule that
	// allows all traffic in that direction, as messages show them
	// (`"allow-all" (spec.ingress[0])`), when the policy applies to that
	// direction and has one: read for every workload of the namespace, they
	// are worked out once.
	openIngress, openEgress string
}

// policyTypes returns the directions a policy applies to: spec.policyTypes
// when set, otherwise Ingress, plus Egress when there are egress rules.
func policyTypes(spec *networkingv1.NetworkPolicySpec) (ingress, egress bool) {
	if len(spec.PolicyTypes) == 0 {
		return true, len(spec.Egress) > 0
	}
	for _, t := range spec.PolicyTypes {
		switch t {
		case networkingv1.PolicyTypeIngress:
			ingress = true
		case networkingv1.PolicyTypeEgress:
			egress = true
		}
	}
	return ingress, egress
}

func isEmptySelector(sel *metav1.LabelSelector) bool {
	return len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0
}

func parseNetpol(np *networkingv1.NetworkPolicy) netpol {
	p := netpol{np: np, selectsAll: isEmptySelector(&np.Spec.PodSelector)}
	if sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector); err == nil {
		p.selector = sel
	}
	p.ingress, p.egress = policyTypes(&np.Spec)
	if path, ok := p.allowAllIngress(); ok {
		p.openIngress = strconv.Quote(np.Name) + " (" + path + ")"
	}
	if path, ok := p.allowAllEgress(); ok {
		p.openEgress = strconv.Quote(np.Name) + " (" + path + ")"
	}
	return p
}

// selects reports whether the policy selects pods with the given labels.
func (p *netpol) selects(podLabels map[string]string) bool {
	return p.selector != nil && p.selector.Matches(labels.Set(podLabels))
}

// allowAllIngress returns the field path of the first ingress rule that
// allows every source on every port, if the policy applies to ingress.
func (p *netpol) allowAllIngress() (string, bool) {
	if !p.ingress {
		return "", false
	}
	for i, r := range p.np.Spec.Ingress {
		if allowsAll(r.From, len(r.Ports)) {
			return fmt.Sprintf("spec.ingress[%d]", i), true
		}
	}
	return "", false
}

// allowAllEgress is allowAllIngress for egress rules.
func (p *netpol) allowAllEgress() (string, bool) {
	if !p.egress {
		return "", false
	}
	for i, r := range p.np.Spec.Egress {
		if allowsAll(r.To, len(r.Ports)) {
			return fmt.Sprintf("spec.egress[%d]", i), true
		}
	}
	return "", false
}

// allowsAll reports whether a rule with these peers and this many ports
// allows all traffic: no port restriction, and no peer restriction or a peer
// that is the whole address space.
func allowsAll(peers []networkingv1.NetworkPolicyPeer, ports int) bool {
	if ports > 0 {
		return false
	}
	if len(peers) == 0 {
		return true
	}
	for _, peer := range peers {
		if peer.IPBlock == nil || len(peer.IPBlock.Except) > 0 {
			continue
		}
		if _, n, err := net.ParseCIDR(peer.IPBlock.CIDR); err == nil {
			if ones, _ := n.Mask.Size(); ones == 0 {
				return true
			}
		}
	}
	return false
}

// netpolIndex holds the policies of each namespace, in snapshot order.
type netpolIndex map[string][]netpol

func indexNetpols(s *inventory.Snapshot) netpolIndex {
	ix := netpolIndex{}
	for i := range s.NetworkPolicies {
		np := &s.NetworkPolicies[i]
		ix[np.Namespace] = append(ix[np.Namespace], parseNetpol(np))
	}
	return ix
}

// ingressExposure says why pods with the given labels in namespace ns accept
// ingress from any source, or returns "" when some ingress policy restricts
// them. Policies are additive: one selecting policy that allows everything
// opens the pods whatever the others say.
func (ix netpolIndex) ingressExposure(ns string, podLabels map[string]string) string {
	selected := false
	var open []string
	for i := range ix[ns] {
		p := &ix[ns][i]
		if !p.ingress || !p.selects(podLabels) {
			continue
		}
		selected = true
		if p.openIngress != "" {
			open = append(open, p.openIngress)
		}
	}
	switch {
	case !selected:
		return "no NetworkPolicy with policyType Ingress selects its pods"
	case len(open) > 0:
		sort.Strings(open)
		return "NetworkPolicy " + strings.Join(open, ", ") + " allows ingress from any source on any port"
	}
	return ""
}

// defaultPosture judges a namespace's default for one direction: whether a
// policy with an empty podSelector applies to that direction, and none of
// those allows all traffic. It returns "" when the default is restrictive,
// or why it is not.
func (ix netpolIndex) defaultPosture(ns string, egress bool) string {
	dir, what := "Ingress", "all ingress (any source, any port)"
	if egress {
		dir, what = "Egress", "all egress (any destination, any port)"
	}
	found := false
	var open []string
	for i := range ix[ns] {
		p := &ix[ns][i]
		if !p.selectsAll {
			continue
		}
		applies, openRule := p.ingress, p.openIngress
		if egress {
			applies, openRule = p.egress, p.openEgress
		}
		if !applies {
			continue
		}
		found = true
		if openRule != "" {
			open = append(open, openRule)
		}
	}
	switch {
	case !found:
		return fmt.Sprintf("no NetworkPolicy with podSelector {} and policyType %s", dir)
	case len(open) > 0:
		sort.Strings(open)
		return fmt.Sprintf("NetworkPolicy %s selects every pod and allows %s", strings.Join(open, ", "), what)
	}
	return ""
}

// formatLabels renders pod labels for a message, sorted; "none" when empty.
func formatLabels(l map[string]string) string {
	if len(l) == 0 {
		return "none"
	}
	return labels.Set(l).String()
}

// workloadNamespaces returns the namespaces running workloads, in order of
// first appearance, and the number of workloads in each.
func workloadNamespaces(s *inventory.Snapshot) (order []string, count map[string]int) {
	count = map[string]int{}
	for _, w := range s.Workloads() {
		if count[w.Ref.Namespace] == 0 {
			order = append(order, w.Ref.Namespace)
		}
		count[w.Ref.Namespace]++
	}
	return order, count
}

// namespaceRef returns a function giving the reference of a namespace by
// name, with its UID when the Namespace was read.
func namespaceRef(s *inventory.Snapshot) func(name string) inventory.ObjectRef {
	uids := make(map[string]*metav1.ObjectMeta, len(s.Namespaces))
	for i := range s.Namespaces {
		uids[s.Namespaces[i].Name] = &s.Namespaces[i].ObjectMeta
	}
	return func(name string) inventory.ObjectRef {
		ref := inventory.ObjectRef{APIVersion: "v1", Kind: "Namespace", Name: name}
		if m := uids[name]; m != nil {
			ref.UID = m.UID
		}
		return ref
	}
}

// workloadString names a workload in a message, e.g. Deployment shop/web.
func workloadString(ref inventory.ObjectRef) string {
	return fmt.Sprintf("%s %s/%s", ref.Kind, ref.Namespace, ref.Name)
}
