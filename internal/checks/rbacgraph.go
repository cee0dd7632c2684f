package checks

// The RBAC graph: every (Cluster)RoleBinding resolved to the rules it grants,
// with the same semantics as the API server's RBAC authorizer
// (k8s.io/kubernetes/pkg/registry/rbac/validation and
// pkg/apis/rbac/v1/evaluation_helpers.go):
//
//   - a RoleBinding grants its Role, or a ClusterRole, within its own namespace
//     only: never cluster-scoped resources (nodes, persistentvolumes, users, ...)
//     and never non-resource URLs;
//   - a ClusterRoleBinding grants a ClusterRole everywhere (a ClusterRoleBinding
//     to a Role is invalid and grants nothing);
//   - an aggregated ClusterRole grants the union of the rules of every
//     ClusterRole its clusterRoleSelectors match, transitively (manifests
//     often leave the aggregated rules empty; in a cluster the controller has
//     copied them, and de-duplication makes the two agree);
//   - a ServiceAccount subject without a namespace means the RoleBinding's
//     namespace (and nobody in a ClusterRoleBinding); unknown subject kinds
//     match nobody;
//   - a binding to a role missing from the snapshot grants nothing, except the
//     built-in cluster-admin, whose rules are known (manifest directories
//     rarely hold the built-in roles).
//
// The graph is built once per check Run, in O(bindings + roles x rules):
// each role's effective rules are computed once and shared by its bindings.
// Rules match requests as the authorizer matches them: "*" in verbs, apiGroups
// and resources; "*/sub" for a subresource of every resource. "pods/*" is NOT
// a wildcard for the authorizer (it only matches a subresource literally named
// "*"), so it grants nothing here either. A rule with resourceNames grants
// only requests for those names: never create of a top-level resource (its
// name is unknown at authorization time) nor deletecollection.

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kubeposture/kubeposture/internal/inventory"
)

const (
	rbacAPIVersion = "rbac.authorization.k8s.io/v1"
	// rbacBootstrapLabel marks the roles and bindings the API server creates and reconciles.
	rbacBootstrapLabel = "kubernetes.io/bootstrapping"
	rbacBootstrapValue = "rbac-defaults"
)

// rbacRule is one rule a role grants, with where it was written: the bound
// role's rules[Index], or for an aggregated ClusterRole, the rules[Index] of
// the ClusterRole it aggregates (Origin).
type rbacRule struct {
	Rule rbacv1.PolicyRule
	// Origin is the role that holds the rule; empty means the bound role itself.
	Origin string
	Index  int
}

// rbacBinding is a RoleBinding or ClusterRoleBinding resolved to its role's rules.
type rbacBinding struct {
	Ref  inventory.ObjectRef
	Meta *metav1.ObjectMeta
	// Namespace is where the binding grants: "" for a ClusterRoleBinding (cluster-wide).
	Namespace string
	RoleRef   rbacv1.RoleRef
	// Subjects are the binding's subjects as written.
	Subjects []rbacv1.Subject
	// Rules are the role's effective rules; nil when the role is not in the snapshot.
	Rules []rbacRule
	// Resolved is false when the role is not in the snapshot (and not a known built-in).
	Resolved bool
	// BuiltInRole is true when Rules are those of the built-in cluster-admin, absent from the snapshot.
	BuiltInRole bool
}

// Grant is one rule granted to one subject through one binding.
type Grant struct {
	// Subject is the binding's subject, with a ServiceAccount's namespace defaulted.
	Subject rbacv1.Subject
	// SubjectIndex is the subject's index in the binding's subjects.
	SubjectIndex int
	Binding      *rbacBinding
	Rule         *rbacRule
}

// buildGrants returns every (subject, binding, rule) of the snapshot, binding
// by binding: the flat form of buildRBACBindings.
func buildGrants(s *inventory.Snapshot) []Grant {
	bindings := buildRBACBindings(s)
	var out []Grant
	for i := range bindings {
		b := &bindings[i]
		for j, sub := range b.Subjects {
			sub, ok := b.effectiveSubject(sub)
			if !ok {
				continue
			}
			for k := range b.Rules {
				out = append(out, Grant{Subject: sub, SubjectIndex: j, Binding: b, Rule: &b.Rules[k]})
			}
		}
	}
	return out
}

// buildRBACBindings resolves every binding of the snapshot to its role's
// effective rules: ClusterRoleBindings first, then RoleBindings, each in
// snapshot order.
func buildRBACBindings(s *inventory.Snapshot) []rbacBinding {
	r := newRBACResolver(s)
	out := listRBACBindings(s)
	for i := range out {
		b := &out[i]
		switch {
		case b.RoleRef.Kind == "ClusterRole":
			b.Rules, b.Resolved, b.BuiltInRole = r.clusterRoleRules(b.RoleRef.Name)
		case b.RoleRef.Kind == "Role" && b.Namespace != "":
			// A ClusterRoleBinding to a Role is invalid and grants nothing.
			b.Rules, b.Resolved = r.roleRules(b.Namespace, b.RoleRef.Name)
		}
	}
	return out
}

// listRBACBindings returns every binding of the snapshot, unresolved.
func listRBACBindings(s *inventory.Snapshot) []rbacBinding {
	out := make([]rbacBinding, 0, len(s.ClusterRoleBindings)+len(s.RoleBindings))
	for i := range s.ClusterRoleBindings {
		o := &s.ClusterRoleBindings[i]
		out = append(out, rbacBinding{
			Ref:      inventory.Ref(rbacAPIVersion, "ClusterRoleBinding", &o.ObjectMeta),
			Meta:     &o.ObjectMeta,
			RoleRef:  o.RoleRef,
			Subjects: o.Subjects,
		})
	}
	for i := range s.RoleBindings {
		o := &s.RoleBindings[i]
		out = append(out, rbacBinding{
			Ref:       inventory.Ref(rbacAPIVersion, "RoleBinding", &o.ObjectMeta),
			Meta:      &o.ObjectMeta,
			Namespace: o.Namespace,
			RoleRef:   o.RoleRef,
			Subjects:  o.Subjects,
		})
	}
	return out
}

// effectiveSubject returns the subject as the authorizer reads it (a
// ServiceAccount's namespace defaulted to the RoleBinding's), and false when
// it can match nobody.
func (b *rbacBinding) effectiveSubject(sub rbacv1.Subject) (rbacv1.Subject, bool) {
	switch sub.Kind {
	case rbacv1.UserKind, rbacv1.GroupKind:
		return sub, sub.Name != ""
	case rbacv1.ServiceAccountKind:
		if sub.Namespace == "" {
			sub.Namespace = b.Namespace
		}
		return sub, sub.Namespace != "" && sub.Name != ""
	}
	return sub, false
}

// isBootstrap reports whether the binding is one the API server creates (and reconciles).
func (b *rbacBinding) isBootstrap() bool {
	return b.Meta.Labels[rbacBootstrapLabel] == rbacBootstrapValue && strings.HasPrefix(b.Meta.Name, "system:")
}

// reportable reports whether a subject's permissions are the user's decision:
// not a control-plane identity (see IsSystemSubject), and not one of the
// kube-system controller service accounts the API server's own bootstrap
// bindings (system:controller:*) grant to.
func (b *rbacBinding) reportable(sub rbacv1.Subject) bool {
	if IsSystemSubject(sub) {
		return false
	}
	if sub.Kind == rbacv1.ServiceAccountKind && sub.Namespace == "kube-system" && b.isBootstrap() {
		return false
	}
	return true
}

// reportableSubjects returns the binding's reportable subjects (defaulted), in order, with their indexes.
func (b *rbacBinding) reportableSubjects() (subs []rbacv1.Subject, idx []int) {
	for i, sub := range b.Subjects {
		sub, ok := b.effectiveSubject(sub)
		if !ok || !b.reportable(sub) {
			continue
		}
		subs = append(subs, sub)
		idx = append(idx, i)
	}
	return subs, idx
}

func (b *rbacBinding) kindName() string {
	return fmt.Sprintf("%s %q", b.Ref.Kind, b.Ref.Name)
}

func (b *rbacBinding) scope() string {
	if b.Namespace == "" {
		return "cluster-wide"
	}
	return fmt.Sprintf("in namespace %q", b.Namespace)
}

func (b *rbacBinding) roleString() string {
	s := fmt.Sprintf("%s %q", b.RoleRef.Kind, b.RoleRef.Name)
	if b.BuiltInRole {
		s += " (built-in, not in the snapshot)"
	}
	return s
}

// rbacResolver computes the effective rules of roles, each once.
type rbacResolver struct {
	roles        map[string]*rbacv1.Role // by namespace/name
	clusterRoles map[string]*rbacv1.ClusterRole
	// clusterRoleNames are sorted: the aggregation controller visits matches by name.
	clusterRoleNames []string
	roleMemo         map[string][]rbacRule
	clusterRoleMemo  map[string][]rbacRule
	selectors        map[string][]labels.Selector
}

func newRBACResolver(s *inventory.Snapshot) *rbacResolver {
	r := &rbacResolver{
		roles:           make(map[string]*rbacv1.Role, len(s.Roles)),
		clusterRoles:    make(map[string]*rbacv1.ClusterRole, len(s.ClusterRoles)),
		roleMemo:        map[string][]rbacRule{},
		clusterRoleMemo: map[string][]rbacRule{},
		selectors:       map[string][]labels.Selector{},
	}
	for i := range s.Roles {
		o := &s.Roles[i]
		r.roles[o.Namespace+"/"+o.Name] = o
	}
	for i := range s.ClusterRoles {
		o := &s.ClusterRoles[i]
		if _, dup := r.clusterRoles[o.Name]; !dup {
			r.clusterRoleNames = append(r.clusterRoleNames, o.Name)
		}
		r.clusterRoles[o.Name] = o
	}
	sort.Strings(r.clusterRoleNames)
	return r
}

// rbacClusterAdminRules are the built-in cluster-admin ClusterRole's rules.
var rbacClusterAdminRules = []rbacv1.PolicyRule{
	{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}},
	{NonResourceURLs: []string{"*"}, Verbs: []string{"*"}},
}

func (r *rbacResolver) roleRules(namespace, name string) ([]rbacRule, bool) {
	key := namespace + "/" + name
	role, ok := r.roles[key]
	if !ok {
		return nil, false
	}
	if rules, ok := r.roleMemo[key]; ok {
		return rules, true
	}
	rules := make([]rbacRule, len(role.Rules))
	for i := range role.Rules {
		rules[i] = rbacRule{Rule: role.Rules[i], Index: i}
	}
	r.roleMemo[key] = rules
	return rules, true
}

// clusterRoleRules returns a ClusterRole's effective rules, whether it was
// found, and whether they are the built-in cluster-admin's (not in the snapshot).
func (r *rbacResolver) clusterRoleRules(name string) (rules []rbacRule, found, builtIn bool) {
	if rules, ok := r.clusterRoleMemo[name]; ok {
		return rules, true, false
	}
	cr, ok := r.clusterRoles[name]
	if !ok {
		if name == "cluster-admin" {
			rules := make([]rbacRule, len(rbacClusterAdminRules))
			for i := range rbacClusterAdminRules {
				rules[i] = rbacRule{Rule: rbacClusterAdminRules[i], Index: i}
			}
			return rules, true, true
		}
		return nil, false, false
	}
	if cr.AggregationRule == nil {
		rules = make([]rbacRule, len(cr.Rules))
		for i := range cr.Rules {
			rules[i] = rbacRule{Rule: cr.Rules[i], Index: i}
		}
	} else {
		rules = r.aggregate(cr)
	}
	r.clusterRoleMemo[name] = rules
	return rules, true, false
}

// aggregate returns the rules of an aggregated ClusterRole: its own, then
// those of every ClusterRole reachable through clusterRoleSelectors (selector
// by selector, matches by name, depth first), each rule once. The visited set
// guards against cycles; the union of everything reachable is what the
// aggregation controller converges to.
func (r *rbacResolver) aggregate(root *rbacv1.ClusterRole) []rbacRule {
	var out []rbacRule
	seen := map[string]struct{}{}
	visited := map[string]bool{}
	var visit func(cr *rbacv1.ClusterRole)
	visit = func(cr *rbacv1.ClusterRole) {
		if visited[cr.Name] {
			return
		}
		visited[cr.Name] = true
		origin := cr.Name
		if cr == root {
			origin = ""
		}
		for i := range cr.Rules {
			k := rbacRuleKey(&cr.Rules[i])
			if _, dup := seen[k]; dup {
				continue
			}
			seen[k] = struct{}{}
			out = append(out, rbacRule{Rule: cr.Rules[i], Origin: origin, Index: i})
		}
		if cr.AggregationRule == nil {
			return
		}
		for _, sel := range r.selectorsOf(cr) {
			for _, name := range r.clusterRoleNames {
				m := r.clusterRoles[name]
				if name != cr.Name && sel.Matches(labels.Set(m.Labels)) {
					visit(m)
				}
			}
		}
	}
	visit(root)
	return out
}

// selectorsOf parses an aggregated ClusterRole's selectors once. Invalid
// selectors are left out (the controller gives up on them too).
func (r *rbacResolver) selectorsOf(cr *rbacv1.ClusterRole) []labels.Selector {
	if sels, ok := r.selectors[cr.Name]; ok {
		return sels
	}
	var sels []labels.Selector
	for i := range cr.AggregationRule.ClusterRoleSelectors {
		sel, err := metav1.LabelSelectorAsSelector(&cr.AggregationRule.ClusterRoleSelectors[i])
		if err != nil {
			continue
		}
		sels = append(sels, sel)
	}
	r.selectors[cr.Name] = sels
	return sels
}

// rbacRuleKey identifies a rule for de-duplication; nil and empty lists are the
// same, as for the aggregation controller's semantic equality.
func rbacRuleKey(p *rbacv1.PolicyRule) string {
	var b strings.Builder
	for _, l := range [][]string{p.Verbs, p.APIGroups, p.Resources, p.ResourceNames, p.NonResourceURLs} {
		for _, s := range l {
			b.WriteString(s)
			b.WriteByte(0)
		}
		b.WriteByte(1)
	}
	return b.String()
}

// Matching.

// rbacAsk is a set of requests a check asks about: any of Verbs (nil means
// any verb) on any of Resources ("pods", "pods/exec"; "userextras/*" means any
// subresource of userextras) in Group.
type rbacAsk struct {
	Verbs     []string
	Group     string
	Resources []string
	// ClusterScoped resources cannot be granted by a RoleBinding.
	ClusterScoped bool
}

// rbacMatch is what one rule grants of an ask.
type rbacMatch struct {
	Rule      *rbacRule
	Verbs     []string
	Resources []string
	// Names is the rule's resourceNames: when set, only those objects.
	Names []string
}

// rbacMatchRule returns what rule grants of the asks, through a binding that
// grants in namespace ("" for cluster-wide). ok is false when it grants none.
func rbacMatchRule(rule *rbacRule, namespace string, asks []rbacAsk) (m rbacMatch, ok bool) {
	p := &rule.Rule
	for _, ask := range asks {
		if ask.ClusterScoped && namespace != "" {
			continue
		}
		if !rbacGroupMatches(p, ask.Group) {
			continue
		}
		for _, res := range ask.Resources {
			resource, sub, _ := strings.Cut(res, "/")
			if !rbacResourceMatches(p, res, resource, sub) {
				continue
			}
			verbs := ask.Verbs
			if verbs == nil {
				verbs = p.Verbs
			}
			matched := false
			for _, v := range verbs {
				if !rbacVerbMatches(p, v) {
					continue
				}
				if len(p.ResourceNames) > 0 && (v == "deletecollection" || (v == "create" && sub == "")) {
					// Never authorized by name: the request carries none.
					continue
				}
				matched = true
				m.Verbs = rbacAppendUnique(m.Verbs, v)
			}
			if matched {
				m.Resources = rbacAppendUnique(m.Resources, res)
			}
		}
	}
	if len(m.Verbs) == 0 {
		return m, false
	}
	m.Rule = rule
	m.Names = p.ResourceNames
	return m, true
}

func rbacVerbMatches(p *rbacv1.PolicyRule, verb string) bool {
	for _, v := range p.Verbs {
		if v == rbacv1.VerbAll || v == verb {
			return true
		}
	}
	return false
}

func rbacGroupMatches(p *rbacv1.PolicyRule, group string) bool {
	for _, g := range p.APIGroups {
		if g == rbacv1.APIGroupAll || g == group {
			return true
		}
	}
	return false
}

// rbacResourceMatches matches combined ("pods/exec") against a rule's
// resources as the authorizer does; sub "*" asks for any subresource.
func rbacResourceMatches(p *rbacv1.PolicyRule, combined, resource, sub string) bool {
	for _, r := range p.Resources {
		switch {
		case r == rbacv1.ResourceAll, r == combined:
			return true
		case sub == "*" && strings.HasPrefix(r, resource+"/"), sub == "*" && strings.HasPrefix(r, "*/"):
			return true
		case sub != "" && sub != "*" && r == "*/"+sub:
			return true
		}
	}
	return false
}

func rbacAppendUnique(l []string, s string) []string {
	if slices.Contains(l, s) {
		return l
	}
	return append(l, s)
}

// rbacMatchBinding returns what every rule of the binding grants of the asks.
// With unrestricted, rules with resourceNames are left out.
func rbacMatchBinding(b *rbacBinding, asks []rbacAsk, unrestricted bool) []rbacMatch {
	var out []rbacMatch
	for i := range b.Rules {
		if unrestricted && len(b.Rules[i].Rule.ResourceNames) > 0 {
			continue
		}
		if m, ok := rbacMatchRule(&b.Rules[i], b.Namespace, asks); ok {
			out = append(out, m)
		}
	}
	return out
}

// Messages.

// rbacMaxListed bounds the subjects and rules a message lists.
const rbacMaxListed = 5

func rbacSubject(s rbacv1.Subject) string {
	if s.Kind == rbacv1.ServiceAccountKind {
		return fmt.Sprintf("ServiceAccount %q", s.Namespace+"/"+s.Name)
	}
	return fmt.Sprintf("%s %q", s.Kind, s.Name)
}

// rbacSubjects lists subjects sorted, at most rbacMaxListed*2 of them.
func rbacSubjects(subs []rbacv1.Subject) string {
	names := make([]string, 0, len(subs))
	for _, s := range subs {
		names = rbacAppendUnique(names, rbacSubject(s))
	}
	sort.Strings(names)
	return rbacBoundedList(names, 2*rbacMaxListed, "subject(s)", ", ")
}

func rbacBoundedList(items []string, maxItems int, what, sep string) string {
	if len(items) <= maxItems {
		return strings.Join(items, sep)
	}
	return strings.Join(items[:maxItems], sep) + fmt.Sprintf("%sand %d more %s", sep, len(items)-maxItems, what)
}

// rbacRuleString shows a rule as written, e.g.
// (apiGroups [""], resources [secrets], verbs [get list]).
func rbacRuleString(p *rbacv1.PolicyRule) string {
	var parts []string
	if len(p.APIGroups) > 0 || len(p.Resources) > 0 {
		parts = append(parts, fmt.Sprintf("apiGroups %q", p.APIGroups), fmt.Sprintf("resources %v", p.Resources))
	}
	if len(p.ResourceNames) > 0 {
		parts = append(parts, fmt.Sprintf("resourceNames %v", p.ResourceNames))
	}
	if len(p.NonResourceURLs) > 0 {
		parts = append(parts, fmt.Sprintf("nonResourceURLs %v", p.NonResourceURLs))
	}
	parts = append(parts, fmt.Sprintf("verbs %v", p.Verbs))
	return "(" + strings.Join(parts, ", ") + ")"
}

// rbacRuleRef names where a rule is written, relative to the bound role:
// "rules[1]", or `rules[0] of aggregated ClusterRole "x"`.
func rbacRuleRef(r *rbacRule) string {
	if r.Origin == "" {
		return fmt.Sprintf("rules[%d]", r.Index)
	}
	return fmt.Sprintf("rules[%d] of aggregated ClusterRole %q", r.Index, r.Origin)
}

// rbacRulesString lists rules with their source, at most rbacMaxListed.
func rbacRulesString(rules []*rbacRule) string {
	items := make([]string, len(rules))
	for i, r := range rules {
		items[i] = rbacRuleRef(r) + " " + rbacRuleString(&r.Rule)
	}
	return rbacBoundedList(items, rbacMaxListed, "rule(s)", "; ")
}

// rbacIsStarStar reports whether a rule grants every verb on every resource of every group.
func rbacIsStarStar(p *rbacv1.PolicyRule) bool {
	return slices.Contains(p.Verbs, rbacv1.VerbAll) && slices.Contains(p.Resources, rbacv1.ResourceAll) &&
		slices.Contains(p.APIGroups, rbacv1.APIGroupAll)
}

// rbacGranted summarises matches: "get,list on secrets", narrowing to the
// named objects only when every match is restricted by resourceNames, and
// saying "every verb on every resource" for a "*" on "*" rule.
func rbacGranted(ms []rbacMatch) string {
	var verbs, resources, names []string
	restricted := true
	for _, m := range ms {
		if len(m.Names) == 0 {
			restricted = false
			if rbacIsStarStar(&m.Rule.Rule) {
				return `every verb on every resource ("*" on "*")`
			}
		}
	}
	for _, m := range ms {
		if !restricted && len(m.Names) > 0 {
			continue
		}
		for _, v := range m.Verbs {
			verbs = rbacAppendUnique(verbs, v)
		}
		for _, r := range m.Resources {
			resources = rbacAppendUnique(resources, r)
		}
		for _, n := range m.Names {
			names = rbacAppendUnique(names, n)
		}
	}
	sort.Strings(verbs)
	sort.Strings(resources)
	s := strings.Join(verbs, ",") + " on " + strings.Join(resources, ",")
	if restricted {
		sort.Strings(names)
		s += fmt.Sprintf(" (only the objects named %v)", names)
	}
	return s
}

// rbacGrantMessage is the evidence of a binding granting what ms match to subs:
// `ClusterRoleBinding "ci" grants User "alice" get,list on secrets cluster-wide
// through ClusterRole "reader" rules[1] (apiGroups [""], resources [secrets], verbs [get list])`.
func rbacGrantMessage(b *rbacBinding, subs []rbacv1.Subject, ms []rbacMatch) string {
	rules := make([]*rbacRule, len(ms))
	for i := range ms {
		rules[i] = ms[i].Rule
	}
	return fmt.Sprintf("%s grants %s %s %s through %s %s",
		b.kindName(), rbacSubjects(subs), rbacGranted(ms), b.scope(), b.roleString(), rbacRulesString(rules))
}
