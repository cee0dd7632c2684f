package checks

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubeposture/kubeposture/internal/inventory"
)

// RBAC test helpers (helpers_test.go has subjects and bindings).

func policyRule(groups, resources []string, verbs ...string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{APIGroups: groups, Resources: resources, Verbs: verbs}
}

func namedRule(groups, resources, names []string, verbs ...string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{APIGroups: groups, Resources: resources, ResourceNames: names, Verbs: verbs}
}

func urlRule(urls []string, verbs ...string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{NonResourceURLs: urls, Verbs: verbs}
}

func testClusterRole(name string, rules ...rbacv1.PolicyRule) rbacv1.ClusterRole {
	return rbacv1.ClusterRole{ObjectMeta: objectMeta("", name), Rules: rules}
}

// aggregatingClusterRole aggregates the ClusterRoles matching any of selectors.
func aggregatingClusterRole(name string, rules []rbacv1.PolicyRule, selectors ...metav1.LabelSelector) rbacv1.ClusterRole {
	cr := testClusterRole(name, rules...)
	cr.AggregationRule = &rbacv1.AggregationRule{ClusterRoleSelectors: selectors}
	return cr
}

func labelledClusterRole(cr rbacv1.ClusterRole, kv ...string) rbacv1.ClusterRole {
	cr.Labels = map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		cr.Labels[kv[i]] = kv[i+1]
	}
	return cr
}

func matchLabels(kv ...string) metav1.LabelSelector {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return metav1.LabelSelector{MatchLabels: m}
}

func testRole(ns, name string, rules ...rbacv1.PolicyRule) rbacv1.Role {
	return rbacv1.Role{ObjectMeta: objectMeta(ns, name), Rules: rules}
}

func roleRefTo(name string) rbacv1.RoleRef {
	return rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name}
}

var bootstrapLabels = map[string]string{"kubernetes.io/bootstrapping": "rbac-defaults"}

// grantStrings renders grants as "<binding> <subject> <scope> <rule source> <rule>".
func grantStrings(gs []Grant) []string {
	var out []string
	for _, g := range gs {
		b := g.Binding
		name := b.Ref.Name
		if b.Ref.Namespace != "" {
			name = b.Ref.Namespace + "/" + name
		}
		out = append(out, fmt.Sprintf("%s %s: %s %s via %s %s %s", b.Ref.Kind, name, rbacSubject(g.Subject), b.scope(),
			b.roleString(), rbacRuleRef(g.Rule), rbacRuleString(&g.Rule.Rule)))
	}
	return out
}

func TestBuildGrants(t *testing.T) {
	secrets := policyRule([]string{""}, []string{"secrets"}, "get")
	pods := policyRule([]string{""}, []string{"pods"}, "list")
	deploys := policyRule([]string{"apps"}, []string{"deployments"}, "create")

	testCases := map[string]struct {
		roles               []rbacv1.Role
		clusterRoles        []rbacv1.ClusterRole
		roleBindings        []rbacv1.RoleBinding
		clusterRoleBindings []rbacv1.ClusterRoleBinding
		want                []string
	}{
		"no bindings": {
			clusterRoles: []rbacv1.ClusterRole{testClusterRole("reader", secrets)},
		},
		"RoleBinding to a Role in its own namespace, not the one of the same name elsewhere": {
			roles: []rbacv1.Role{
				testRole("team-a", "reader", secrets),
				testRole("team-b", "reader", pods),
			},
			roleBindings: []rbacv1.RoleBinding{roleBinding("team-b", "rb", roleRefTo("reader"), user("alice"))},
			want: []string{
				`RoleBinding team-b/rb: User "alice" in namespace "team-b" via Role "reader" rules[0] (apiGroups [""], resources [pods], verbs [list])`,
			},
		},
		"RoleBinding to a ClusterRole is scoped to its namespace": {
			clusterRoles: []rbacv1.ClusterRole{testClusterRole("reader", secrets, pods)},
			roleBindings: []rbacv1.RoleBinding{roleBinding("team-a", "rb", clusterRoleRef("reader"), user("alice"))},
			want: []string{
				`RoleBinding team-a/rb: User "alice" in namespace "team-a" via ClusterRole "reader" rules[0] (apiGroups [""], resources [secrets], verbs [get])`,
				`RoleBinding team-a/rb: User "alice" in namespace "team-a" via ClusterRole "reader" rules[1] (apiGroups [""], resources [pods], verbs [list])`,
			},
		},
		"ClusterRoleBinding to a ClusterRole is cluster-wide, one grant per subject and rule": {
			clusterRoles:        []rbacv1.ClusterRole{testClusterRole("reader", secrets)},
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("crb", clusterRoleRef("reader"), user("alice"), group("devs"))},
			want: []string{
				`ClusterRoleBinding crb: User "alice" cluster-wide via ClusterRole "reader" rules[0] (apiGroups [""], resources [secrets], verbs [get])`,
				`ClusterRoleBinding crb: Group "devs" cluster-wide via ClusterRole "reader" rules[0] (apiGroups [""], resources [secrets], verbs [get])`,
			},
		},
		"ClusterRoleBinding to a Role grants nothing": {
			roles:               []rbacv1.Role{testRole("", "reader", secrets), testRole("team-a", "reader", secrets)},
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("crb", roleRefTo("reader"), user("alice"))},
		},
		"binding to a role not in the snapshot grants nothing": {
			roleBindings:        []rbacv1.RoleBinding{roleBinding("team-a", "rb", roleRefTo("gone"), user("alice"))},
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("crb", clusterRoleRef("gone"), user("alice"))},
		},
		"built-in cluster-admin absent from the snapshot is known": {
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("crb", clusterRoleRef("cluster-admin"), user("alice"))},
			want: []string{
				`ClusterRoleBinding crb: User "alice" cluster-wide via ClusterRole "cluster-admin" (built-in, not in the snapshot) rules[0] (apiGroups ["*"], resources [*], verbs [*])`,
				`ClusterRoleBinding crb: User "alice" cluster-wide via ClusterRole "cluster-admin" (built-in, not in the snapshot) rules[1] (nonResourceURLs [*], verbs [*])`,
			},
		},
		"cluster-admin in the snapshot is read as it is": {
			clusterRoles:        []rbacv1.ClusterRole{testClusterRole("cluster-admin", pods)},
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("crb", clusterRoleRef("cluster-admin"), user("alice"))},
			want: []string{
				`ClusterRoleBinding crb: User "alice" cluster-wide via ClusterRole "cluster-admin" rules[0] (apiGroups [""], resources [pods], verbs [list])`,
			},
		},
		"other built-in roles absent from the snapshot stay unresolved": {
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{
				clusterRoleBinding("a", clusterRoleRef("admin"), user("alice")),
				clusterRoleBinding("e", clusterRoleRef("edit"), user("alice")),
				clusterRoleBinding("v", clusterRoleRef("view"), user("alice")),
			},
		},
		"service account without namespace: the RoleBinding's namespace, nobody in a ClusterRoleBinding": {
			clusterRoles:        []rbacv1.ClusterRole{testClusterRole("reader", secrets)},
			roleBindings:        []rbacv1.RoleBinding{roleBinding("team-a", "rb", clusterRoleRef("reader"), serviceAccount("", "bot"))},
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("crb", clusterRoleRef("reader"), serviceAccount("", "bot"))},
			want: []string{
				`RoleBinding team-a/rb: ServiceAccount "team-a/bot" in namespace "team-a" via ClusterRole "reader" rules[0] (apiGroups [""], resources [secrets], verbs [get])`,
			},
		},
		"unknown subject kinds match nobody": {
			clusterRoles:        []rbacv1.ClusterRole{testClusterRole("reader", secrets)},
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("crb", clusterRoleRef("reader"), rbacv1.Subject{Kind: "Robot", Name: "r2"}, user(""))},
		},
		"aggregated ClusterRoles resolve transitively when the manifests leave rules empty": {
			clusterRoles: []rbacv1.ClusterRole{
				aggregatingClusterRole("my-admin", nil, matchLabels("aggregate-to-my-admin", "true")),
				labelledClusterRole(aggregatingClusterRole("my-edit", nil, matchLabels("aggregate-to-my-edit", "true")), "aggregate-to-my-admin", "true"),
				labelledClusterRole(testClusterRole("my-view", pods), "aggregate-to-my-edit", "true"),
				labelledClusterRole(testClusterRole("deployer", deploys), "aggregate-to-my-admin", "true"),
				labelledClusterRole(testClusterRole("unrelated", secrets), "aggregate-to-other", "true"),
			},
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("crb", clusterRoleRef("my-admin"), user("alice"))},
			want: []string{
				// Selector matches by name: deployer, then my-edit (and, through it, my-view).
				`ClusterRoleBinding crb: User "alice" cluster-wide via ClusterRole "my-admin" rules[0] of aggregated ClusterRole "deployer" (apiGroups ["apps"], resources [deployments], verbs [create])`,
				`ClusterRoleBinding crb: User "alice" cluster-wide via ClusterRole "my-admin" rules[0] of aggregated ClusterRole "my-view" (apiGroups [""], resources [pods], verbs [list])`,
			},
		},
		"aggregated ClusterRole filled by the controller: its own rules, de-duplicated": {
			clusterRoles: []rbacv1.ClusterRole{
				aggregatingClusterRole("my-admin", []rbacv1.PolicyRule{deploys, pods}, matchLabels("aggregate-to-my-admin", "true")),
				labelledClusterRole(testClusterRole("deployer", deploys), "aggregate-to-my-admin", "true"),
				labelledClusterRole(testClusterRole("reader", policyRule([]string{""}, []string{"pods"}, "list"), secrets), "aggregate-to-my-admin", "true"),
			},
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("crb", clusterRoleRef("my-admin"), user("alice"))},
			want: []string{
				`ClusterRoleBinding crb: User "alice" cluster-wide via ClusterRole "my-admin" rules[0] (apiGroups ["apps"], resources [deployments], verbs [create])`,
				`ClusterRoleBinding crb: User "alice" cluster-wide via ClusterRole "my-admin" rules[1] (apiGroups [""], resources [pods], verbs [list])`,
				`ClusterRoleBinding crb: User "alice" cluster-wide via ClusterRole "my-admin" rules[1] of aggregated ClusterRole "reader" (apiGroups [""], resources [secrets], verbs [get])`,
			},
		},
		"aggregation cycles terminate and grant the union": {
			clusterRoles: []rbacv1.ClusterRole{
				labelledClusterRole(aggregatingClusterRole("a", []rbacv1.PolicyRule{pods}, matchLabels("in", "b")), "in", "a"),
				labelledClusterRole(aggregatingClusterRole("b", []rbacv1.PolicyRule{secrets}, matchLabels("in", "a")), "in", "b"),
			},
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{
				clusterRoleBinding("to-a", clusterRoleRef("a"), user("alice")),
				clusterRoleBinding("to-b", clusterRoleRef("b"), user("bob")),
			},
			want: []string{
				`ClusterRoleBinding to-a: User "alice" cluster-wide via ClusterRole "a" rules[0] (apiGroups [""], resources [pods], verbs [list])`,
				`ClusterRoleBinding to-a: User "alice" cluster-wide via ClusterRole "a" rules[0] of aggregated ClusterRole "b" (apiGroups [""], resources [secrets], verbs [get])`,
				`ClusterRoleBinding to-b: User "bob" cluster-wide via ClusterRole "b" rules[0] (apiGroups [""], resources [secrets], verbs [get])`,
				`ClusterRoleBinding to-b: User "bob" cluster-wide via ClusterRole "b" rules[0] of aggregated ClusterRole "a" (apiGroups [""], resources [pods], verbs [list])`,
			},
		},
		"a selector matching the aggregating role itself is ignored": {
			clusterRoles: []rbacv1.ClusterRole{
				labelledClusterRole(aggregatingClusterRole("self", []rbacv1.PolicyRule{pods}, matchLabels("team", "x")), "team", "x"),
			},
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("crb", clusterRoleRef("self"), user("alice"))},
			want: []string{
				`ClusterRoleBinding crb: User "alice" cluster-wide via ClusterRole "self" rules[0] (apiGroups [""], resources [pods], verbs [list])`,
			},
		},
		"an empty selector aggregates every ClusterRole; an invalid one none": {
			clusterRoles: []rbacv1.ClusterRole{
				aggregatingClusterRole("everything", nil, metav1.LabelSelector{}),
				aggregatingClusterRole("broken", nil, metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "x", Operator: "Near"}}}),
				testClusterRole("reader", secrets),
			},
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{
				clusterRoleBinding("all", clusterRoleRef("everything"), user("alice")),
				clusterRoleBinding("none", clusterRoleRef("broken"), user("bob")),
			},
			want: []string{
				`ClusterRoleBinding all: User "alice" cluster-wide via ClusterRole "everything" rules[0] of aggregated ClusterRole "reader" (apiGroups [""], resources [secrets], verbs [get])`,
			},
		},
		"matchExpressions selectors": {
			clusterRoles: []rbacv1.ClusterRole{
				aggregatingClusterRole("agg", nil, metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
					{Key: "tier", Operator: metav1.LabelSelectorOpIn, Values: []string{"ops", "dev"}},
				}}),
				labelledClusterRole(testClusterRole("ops", deploys), "tier", "ops"),
				labelledClusterRole(testClusterRole("prod", secrets), "tier", "prod"),
			},
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("crb", clusterRoleRef("agg"), user("alice"))},
			want: []string{
				`ClusterRoleBinding crb: User "alice" cluster-wide via ClusterRole "agg" rules[0] of aggregated ClusterRole "ops" (apiGroups ["apps"], resources [deployments], verbs [create])`,
			},
		},
	}
	for name, tc := range testCases {
		t.Run(name, func(t *testing.T) {
			s := readAll(func(s *inventory.Snapshot) {
				s.Roles = tc.roles
				s.ClusterRoles = tc.clusterRoles
				s.RoleBindings = tc.roleBindings
				s.ClusterRoleBindings = tc.clusterRoleBindings
			})
			if diff := cmp.Diff(tc.want, grantStrings(buildGrants(s))); diff != "" {
				t.Errorf("grants mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRBACMatchRule(t *testing.T) {
	core := []string{""}
	testCases := map[string]struct {
		rule      rbacv1.PolicyRule
		namespace string
		asks      []rbacAsk
		// want is rbacGranted of the match; empty means no match.
		want string
	}{
		"exact": {
			rule: policyRule(core, []string{"secrets"}, "get", "list"),
			asks: rbacSecretsAsks,
			want: "get,list on secrets",
		},
		"verb wildcard grants every verb asked": {
			rule: policyRule(core, []string{"secrets"}, "*"),
			asks: rbacSecretsAsks,
			want: "get,list,watch on secrets",
		},
		"resource and group wildcards": {
			rule: policyRule([]string{"*"}, []string{"*"}, "watch"),
			asks: rbacSecretsAsks,
			want: "watch on secrets",
		},
		"another group": {
			rule: policyRule([]string{"apps"}, []string{"secrets"}, "get"),
			asks: rbacSecretsAsks,
		},
		"another verb": {
			rule: policyRule(core, []string{"secrets"}, "create", "delete"),
			asks: rbacSecretsAsks,
		},
		"subresource asked exactly": {
			rule: policyRule(core, []string{"pods/exec"}, "create"),
			asks: []rbacAsk{{Verbs: []string{"create"}, Resources: []string{"pods/exec"}}},
			want: "create on pods/exec",
		},
		"*/subresource matches that subresource of every resource": {
			rule: policyRule(core, []string{"*/exec"}, "create"),
			asks: []rbacAsk{{Verbs: []string{"create"}, Resources: []string{"pods/exec", "pods/attach"}}},
			want: "create on pods/exec",
		},
		"resource/* is no wildcard for the authorizer": {
			rule: policyRule(core, []string{"pods/*"}, "create"),
			asks: []rbacAsk{{Verbs: []string{"create"}, Resources: []string{"pods/exec"}}},
		},
		"a resource does not grant its subresources": {
			rule: policyRule(core, []string{"pods"}, "*"),
			asks: []rbacAsk{{Verbs: []string{"create"}, Resources: []string{"pods/exec"}}},
		},
		"* grants subresources": {
			rule: policyRule(core, []string{"*"}, "create"),
			asks: []rbacAsk{{Verbs: []string{"create"}, Resources: []string{"pods/exec"}}},
			want: "create on pods/exec",
		},
		"resourceNames narrow get": {
			rule: namedRule(core, []string{"secrets"}, []string{"db", "api"}, "get"),
			asks: rbacSecretsAsks,
			want: "get on secrets (only the objects named [api db])",
		},
		"resourceNames never authorize create of a resource": {
			rule: namedRule(core, []string{"pods"}, []string{"mine"}, "create"),
			asks: rbacCreatePodsAsks,
		},
		"resourceNames do narrow create on a subresource": {
			rule: namedRule(core, []string{"serviceaccounts/token"}, []string{"builder"}, "create"),
			asks: rbacTokenCreateAsks,
			want: "create on serviceaccounts/token (only the objects named [builder])",
		},
		"resourceNames never authorize deletecollection": {
			rule: namedRule([]string{"admissionregistration.k8s.io"}, []string{"validatingwebhookconfigurations"}, []string{"x"}, "deletecollection"),
			asks: []rbacAsk{{Verbs: []string{"delete", "deletecollection"}, Group: "admissionregistration.k8s.io", Resources: []string{"validatingwebhookconfigurations"}}},
		},
		"cluster-scoped resources cluster-wide": {
			rule: policyRule(core, []string{"persistentvolumes"}, "create"),
			asks: []rbacAsk{{Verbs: []string{"create"}, Resources: []string{"persistentvolumes"}, ClusterScoped: true}},
			want: "create on persistentvolumes",
		},
		"cluster-scoped resources are never granted in a namespace": {
			rule:      policyRule(core, []string{"persistentvolumes"}, "create"),
			namespace: "team-a",
			asks:      []rbacAsk{{Verbs: []string{"create"}, Resources: []string{"persistentvolumes"}, ClusterScoped: true}},
		},
		"any verb asked": {
			rule: policyRule(core, []string{"nodes/proxy"}, "get", "list"),
			asks: []rbacAsk{{Resources: []string{"nodes/proxy"}}},
			want: "get,list on nodes/proxy",
		},
		"any subresource asked": {
			rule: policyRule([]string{"authentication.k8s.io"}, []string{"userextras/scopes"}, "impersonate"),
			asks: rbacBindEscalateImpersonateAsks,
			want: "impersonate on userextras/*",
		},
		"non-resource rules grant no resources": {
			rule: urlRule([]string{"*"}, "*"),
			asks: rbacSecretsAsks,
		},
	}
	for name, tc := range testCases {
		t.Run(name, func(t *testing.T) {
			r := rbacRule{Rule: tc.rule}
			m, ok := rbacMatchRule(&r, tc.namespace, tc.asks)
			got := ""
			if ok {
				got = rbacGranted([]rbacMatch{m})
			}
			if got != tc.want {
				t.Errorf("rbacMatchRule() grants %q, want %q", got, tc.want)
			}
		})
	}
}

// BenchmarkBuildRBACBindings measures a cluster-sized graph: 200 namespaces
// with 10 RoleBindings each, 500 ClusterRoleBindings and an aggregated role.
func BenchmarkBuildRBACBindings(b *testing.B) {
	s := readAll(func(s *inventory.Snapshot) {
		s.ClusterRoles = append(s.ClusterRoles, aggregatingClusterRole("agg", nil, matchLabels("agg", "true")))
		for i := range 100 {
			s.ClusterRoles = append(s.ClusterRoles, labelledClusterRole(testClusterRole(fmt.Sprintf("cr-%d", i),
				policyRule([]string{""}, []string{"secrets", "pods"}, "get", "list"),
				policyRule([]string{"apps"}, []string{"deployments"}, "create")), "agg", "true"))
		}
		for i := range 500 {
			s.ClusterRoleBindings = append(s.ClusterRoleBindings, clusterRoleBinding(fmt.Sprintf("crb-%d", i), clusterRoleRef(fmt.Sprintf("cr-%d", i%100)), user("u")))
		}
		for n := range 200 {
			ns := fmt.Sprintf("ns-%d", n)
			s.Roles = append(s.Roles, testRole(ns, "r", policyRule([]string{""}, []string{"configmaps"}, "get")))
			for i := range 10 {
				ref := clusterRoleRef("agg")
				if i%2 == 0 {
					ref = roleRefTo("r")
				}
				s.RoleBindings = append(s.RoleBindings, roleBinding(ns, fmt.Sprintf("rb-%d", i), ref, serviceAccount(ns, "sa")))
			}
		}
	})
	c := Default.Get("rbac-secrets-access")
	for b.Loop() {
		Run(s, nil, []*Check{c})
	}
}
