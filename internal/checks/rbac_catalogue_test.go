package checks

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubeposture/kubeposture/internal/inventory"
)

// rbacCase is the objects of one RBAC check case and what the check should say.
type rbacCase struct {
	roles               []rbacv1.Role
	clusterRoles        []rbacv1.ClusterRole
	roleBindings        []rbacv1.RoleBinding
	clusterRoleBindings []rbacv1.ClusterRoleBinding
	deployments         []appsv1.Deployment
	pods                []corev1.Pod
	cronJobs            []batchv1.CronJob
	serviceAccounts     []corev1.ServiceAccount
	wantJudged          int
	wantFindings        []gotFinding
}

func runRBACCases(t *testing.T, id string, testCases map[string]rbacCase) {
	t.Helper()
	for name, tc := range testCases {
		t.Run(name, func(t *testing.T) {
			s := readAll(func(s *inventory.Snapshot) {
				s.Roles = tc.roles
				s.ClusterRoles = tc.clusterRoles
				s.RoleBindings = tc.roleBindings
				s.ClusterRoleBindings = tc.clusterRoleBindings
				s.Deployments = tc.deployments
				s.Pods = tc.pods
				s.CronJobs = tc.cronJobs
				s.ServiceAccounts = tc.serviceAccounts
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

func crbObj(name string) inventory.ObjectRef {
	return objRef(rbacAPIVersion, "ClusterRoleBinding", "", name)
}

func rbObj(ns, name string) inventory.ObjectRef {
	return objRef(rbacAPIVersion, "RoleBinding", ns, name)
}

var (
	core          = []string{""}
	secretsReader = testClusterRole("secrets-reader", policyRule(core, []string{"secrets"}, "get", "list"))
	everything    = testClusterRole("everything", policyRule([]string{"*"}, []string{"*"}, "*"))
)

func bootstrapCRB(b rbacv1.ClusterRoleBinding) rbacv1.ClusterRoleBinding {
	b.Labels = bootstrapLabels
	return b
}

func TestRBACSecretsAccess(t *testing.T) {
	const id = "rbac-secrets-access"
	runRBACCases(t, id, map[string]rbacCase{
		"ClusterRoleBinding granting get and list on secrets": {
			clusterRoles: []rbacv1.ClusterRole{testClusterRole("reader",
				policyRule(core, []string{"pods"}, "get"),
				policyRule(core, []string{"secrets"}, "get", "list"))},
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("ci", clusterRoleRef("reader"), user("alice"))},
			wantJudged:          1,
			wantFindings: []gotFinding{{Check: id, Object: crbObj("ci"),
				Message: `ClusterRoleBinding "ci" grants User "alice" get,list on secrets cluster-wide through ClusterRole "reader" rules[1] (apiGroups [""], resources [secrets], verbs [get list])`}},
		},
		"wildcards, through a RoleBinding to a ClusterRole": {
			clusterRoles: []rbacv1.ClusterRole{everything},
			roleBindings: []rbacv1.RoleBinding{roleBinding("team-a", "bot-all", clusterRoleRef("everything"), serviceAccount("team-a", "bot"))},
			wantJudged:   1,
			wantFindings: []gotFinding{{Check: id, Object: rbObj("team-a", "bot-all"),
				Message: `RoleBinding "bot-all" grants ServiceAccount "team-a/bot" every verb on every resource ("*" on "*") in namespace "team-a" through ClusterRole "everything" rules[0] (apiGroups ["*"], resources [*], verbs [*])`}},
		},
		"resourceNames narrow the grant, and the message says so": {
			roles:        []rbacv1.Role{testRole("team-a", "one-secret", namedRule(core, []string{"secrets"}, []string{"db"}, "get"))},
			roleBindings: []rbacv1.RoleBinding{roleBinding("team-a", "app-db", roleRefTo("one-secret"), serviceAccount("team-a", "app"))},
			wantJudged:   1,
			wantFindings: []gotFinding{{Check: id, Object: rbObj("team-a", "app-db"),
				Message: `RoleBinding "app-db" grants ServiceAccount "team-a/app" get on secrets (only the objects named [db]) in namespace "team-a" through Role "one-secret" rules[0] (apiGroups [""], resources [secrets], resourceNames [db], verbs [get])`}},
		},
		"an unrestricted rule outweighs a named one": {
			clusterRoles: []rbacv1.ClusterRole{testClusterRole("mixed",
				namedRule(core, []string{"secrets"}, []string{"db"}, "get"),
				policyRule(core, []string{"secrets"}, "watch"))},
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("mixed", clusterRoleRef("mixed"), group("devs"))},
			wantJudged:          1,
			wantFindings: []gotFinding{{Check: id, Object: crbObj("mixed"),
				Message: `ClusterRoleBinding "mixed" grants Group "devs" watch on secrets cluster-wide through ClusterRole "mixed" rules[0] (apiGroups [""], resources [secrets], resourceNames [db], verbs [get]); rules[1] (apiGroups [""], resources [secrets], verbs [watch])`}},
		},
		"aggregated ClusterRole": {
			clusterRoles: []rbacv1.ClusterRole{
				aggregatingClusterRole("my-admin", nil, matchLabels("team", "x")),
				labelledClusterRole(testClusterRole("agg-secrets", policyRule(core, []string{"secrets"}, "watch")), "team", "x"),
			},
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("devs-admin", clusterRoleRef("my-admin"), group("devs"))},
			wantJudged:          1,
			wantFindings: []gotFinding{{Check: id, Object: crbObj("devs-admin"),
				Message: `ClusterRoleBinding "devs-admin" grants Group "devs" watch on secrets cluster-wide through ClusterRole "my-admin" rules[0] of aggregated ClusterRole "agg-secrets" (apiGroups [""], resources [secrets], verbs [watch])`}},
		},
		"built-in cluster-admin absent from the snapshot": {
			roleBindings: []rbacv1.RoleBinding{roleBinding("team-a", "carol-admin", clusterRoleRef("cluster-admin"), user("carol"))},
			wantJudged:   1,
			wantFindings: []gotFinding{{Check: id, Object: rbObj("team-a", "carol-admin"),
				Message: `RoleBinding "carol-admin" grants User "carol" every verb on every resource ("*" on "*") in namespace "team-a" through ClusterRole "cluster-admin" (built-in, not in the snapshot) rules[0] (apiGroups ["*"], resources [*], verbs [*])`}},
		},
		"system subjects are left out, the others sorted": {
			clusterRoles: []rbacv1.ClusterRole{secretsReader},
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("mixed", clusterRoleRef("secrets-reader"),
				user("zoe"), group("system:nodes"), serviceAccount("ops", "robot"), user("system:kube-controller-manager"))},
			wantJudged: 1,
			wantFindings: []gotFinding{{Check: id, Object: crbObj("mixed"),
				Message: `ClusterRoleBinding "mixed" grants ServiceAccount "ops/robot", User "zoe" get,list on secrets cluster-wide through ClusterRole "secrets-reader" rules[0] (apiGroups [""], resources [secrets], verbs [get list])`}},
		},
		"bindings of system subjects only are not judged": {
			clusterRoles:        []rbacv1.ClusterRole{secretsReader},
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("nodes", clusterRoleRef("secrets-reader"), group("system:nodes"), user("system:kube-scheduler"))},
			wantJudged:          0,
		},
		"the API server's bootstrap bindings to kube-system controllers are not judged": {
			clusterRoles: []rbacv1.ClusterRole{testClusterRole("system:controller:namespace-controller", policyRule([]string{"*"}, []string{"*"}, "get", "list", "delete", "deletecollection"))},
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{bootstrapCRB(clusterRoleBinding("system:controller:namespace-controller",
				clusterRoleRef("system:controller:namespace-controller"), serviceAccount("kube-system", "namespace-controller")))},
			wantJudged: 0,
		},
		"a user's binding to a kube-system service account is judged": {
			clusterRoles:        []rbacv1.ClusterRole{secretsReader},
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("addon", clusterRoleRef("secrets-reader"), serviceAccount("kube-system", "addon"))},
			wantJudged:          1,
			wantFindings: []gotFinding{{Check: id, Object: crbObj("addon"),
				Message: `ClusterRoleBinding "addon" grants ServiceAccount "kube-system/addon" get,list on secrets cluster-wide through ClusterRole "secrets-reader" rules[0] (apiGroups [""], resources [secrets], verbs [get list])`}},
		},
		"passing: other resources, another group, a missing role": {
			clusterRoles: []rbacv1.ClusterRole{
				testClusterRole("configmaps", policyRule(core, []string{"configmaps"}, "*")),
				testClusterRole("crd-secrets", policyRule([]string{"example.com"}, []string{"secrets"}, "get")),
				testClusterRole("writer", policyRule(core, []string{"secrets"}, "create", "update")),
			},
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{
				clusterRoleBinding("a", clusterRoleRef("configmaps"), user("alice")),
				clusterRoleBinding("b", clusterRoleRef("crd-secrets"), user("alice")),
				clusterRoleBinding("c", clusterRoleRef("writer"), user("alice")),
			},
			roleBindings: []rbacv1.RoleBinding{roleBinding("team-a", "d", roleRefTo("not-there"), user("alice"))},
			wantJudged:   4,
		},
	})
}

func TestRBACWildcardRules(t *testing.T) {
	const id = "rbac-wildcard-rules"
	roleObj := func(ns, name string) inventory.ObjectRef { return objRef(rbacAPIVersion, "Role", ns, name) }
	crObj := func(name string) inventory.ObjectRef { return objRef(rbacAPIVersion, "ClusterRole", "", name) }
	labelled := testClusterRole("labelled", policyRule([]string{"*"}, []string{"*"}, "*"))
	labelled.Labels = bootstrapLabels
	runRBACCases(t, id, map[string]rbacCase{
		"Role with wildcards in some rules": {
			roles: []rbacv1.Role{testRole("team-a", "wild",
				policyRule(core, []string{"pods"}, "get"),
				policyRule([]string{"apps"}, []string{"*"}, "get"),
				policyRule([]string{"*"}, []string{"*"}, "*"))},
			wantJudged: 1,
			wantFindings: []gotFinding{{Check: id, Object: roleObj("team-a", "wild"),
				Message: `rules[1] has "*" in resources (apiGroups ["apps"], resources [*], verbs [get]); rules[2] has "*" in apiGroups, resources, verbs (apiGroups ["*"], resources [*], verbs [*])`}},
		},
		"*/subresource is a resource wildcard": {
			clusterRoles: []rbacv1.ClusterRole{testClusterRole("scaler", policyRule([]string{"apps"}, []string{"*/scale"}, "update"))},
			wantJudged:   1,
			wantFindings: []gotFinding{{Check: id, Object: crObj("scaler"),
				Message: `rules[0] has "*" in resources (apiGroups ["apps"], resources [*/scale], verbs [update])`}},
		},
		"built-in roles are not judged": {
			roles: []rbacv1.Role{testRole("kube-system", "system:controller:bootstrap-signer", policyRule(core, []string{"*"}, "*"))},
			clusterRoles: []rbacv1.ClusterRole{
				testClusterRole("cluster-admin", policyRule([]string{"*"}, []string{"*"}, "*")),
				testClusterRole("admin", policyRule([]string{"*"}, []string{"*"}, "*")),
				testClusterRole("edit", policyRule([]string{"*"}, []string{"*"}, "*")),
				testClusterRole("view", policyRule([]string{"*"}, []string{"*"}, "*")),
				testClusterRole("system:kube-scheduler", policyRule([]string{"*"}, []string{"*"}, "*")),
				labelled,
			},
			wantJudged: 0,
		},
		"a namespaced Role named admin is the user's": {
			roles:      []rbacv1.Role{testRole("team-a", "admin", policyRule(core, []string{"pods"}, "*"))},
			wantJudged: 1,
			wantFindings: []gotFinding{{Check: id, Object: roleObj("team-a", "admin"),
				Message: `rules[0] has "*" in verbs (apiGroups [""], resources [pods], verbs [*])`}},
		},
		"aggregated ClusterRoles are judged on what they aggregate": {
			clusterRoles: []rbacv1.ClusterRole{
				aggregatingClusterRole("platform", nil, matchLabels("platform", "true")),
				labelledClusterRole(testClusterRole("crds", policyRule([]string{"example.com"}, []string{"*"}, "get")), "platform", "true"),
			},
			wantJudged: 2,
			wantFindings: []gotFinding{
				{Check: id, Object: crObj("platform"), Message: `rules[0] of aggregated ClusterRole "crds" has "*" in resources (apiGroups ["example.com"], resources [*], verbs [get])`},
				{Check: id, Object: crObj("crds"), Message: `rules[0] has "*" in resources (apiGroups ["example.com"], resources [*], verbs [get])`},
			},
		},
		"explicit rules pass": {
			roles:        []rbacv1.Role{testRole("team-a", "reader", policyRule(core, []string{"pods", "pods/log"}, "get", "list"))},
			clusterRoles: []rbacv1.ClusterRole{testClusterRole("health", urlRule([]string{"/healthz"}, "get"))},
			wantJudged:   2,
		},
	})
}

func TestRBACCreatePods(t *testing.T) {
	const id = "rbac-create-pods"
	runRBACCases(t, id, map[string]rbacCase{
		"create on a pod controller": {
			clusterRoles: []rbacv1.ClusterRole{testClusterRole("deployer", policyRule([]string{"apps"}, []string{"deployments"}, "create", "update"))},
			roleBindings: []rbacv1.RoleBinding{roleBinding("team-a", "ci", clusterRoleRef("deployer"), serviceAccount("ci", "pipeline"))},
			wantJudged:   1,
			wantFindings: []gotFinding{{Check: id, Object: rbObj("team-a", "ci"),
				Message: `RoleBinding "ci" grants ServiceAccount "ci/pipeline" create on deployments in namespace "team-a" through ClusterRole "deployer" rules[0] (apiGroups ["apps"], resources [deployments], verbs [create update])`}},
		},
		"create on pods and, through a wildcard, on every batch controller": {
			roles: []rbacv1.Role{testRole("team-a", "runner",
				policyRule(core, []string{"pods", "configmaps"}, "create"),
				policyRule([]string{"batch"}, []string{"*"}, "*"))},
			roleBindings: []rbacv1.RoleBinding{roleBinding("team-a", "runner", roleRefTo("runner"), user("bob"))},
			wantJudged:   1,
			wantFindings: []gotFinding{{Check: id, Object: rbObj("team-a", "runner"),
				Message: `RoleBinding "runner" grants User "bob" create on cronjobs,jobs,pods in namespace "team-a" through Role "runner" rules[0] (apiGroups [""], resources [pods configmaps], verbs [create]); rules[1] (apiGroups ["batch"], resources [*], verbs [*])`}},
		},
		"create restricted by resourceNames grants nothing": {
			roles:        []rbacv1.Role{testRole("team-a", "named", namedRule(core, []string{"pods"}, []string{"p"}, "create"))},
			roleBindings: []rbacv1.RoleBinding{roleBinding("team-a", "named", roleRefTo("named"), user("bob"))},
			wantJudged:   1,
		},
		"passing: update on pods, create on a subresource, a pod controller of another group": {
			clusterRoles: []rbacv1.ClusterRole{testClusterRole("other",
				policyRule(core, []string{"pods"}, "update", "patch", "delete"),
				policyRule(core, []string{"pods/eviction"}, "create"),
				policyRule([]string{"example.com"}, []string{"deployments"}, "create"))},
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("other", clusterRoleRef("other"), user("bob"))},
			wantJudged:          1,
		},
	})
}

func TestRBACDefaultServiceAccountBound(t *testing.T) {
	const id = "rbac-default-service-account-bound"
	runRBACCases(t, id, map[string]rbacCase{
		"default service account, namespace defaulted from the RoleBinding": {
			roleBindings: []rbacv1.RoleBinding{roleBinding("team-a", "default-view", clusterRoleRef("view"), serviceAccount("", "default"))},
			wantJudged:   1,
			wantFindings: []gotFinding{{Check: id, Object: rbObj("team-a", "default-view"),
				Message: `RoleBinding "default-view" binds ClusterRole "view" to ServiceAccount "team-a/default" (subjects[0]) in namespace "team-a"`}},
		},
		"default service account by user name, among others": {
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("ci-default", clusterRoleRef("edit"),
				user("alice"), user("system:serviceaccount:ci:default"), serviceAccount("ops", "default"))},
			wantJudged: 1,
			wantFindings: []gotFinding{{Check: id, Object: crbObj("ci-default"),
				Message: `ClusterRoleBinding "ci-default" binds ClusterRole "edit" to User "system:serviceaccount:ci:default" (subjects[1]), ServiceAccount "ops/default" (subjects[2]) cluster-wide`}},
		},
		"passing: other service accounts and groups": {
			roleBindings: []rbacv1.RoleBinding{
				roleBinding("team-a", "runner", clusterRoleRef("view"), serviceAccount("team-a", "default-runner")),
				roleBinding("team-a", "all-sas", clusterRoleRef("view"), group("system:serviceaccounts:team-a")),
				roleBinding("team-a", "default-user", clusterRoleRef("view"), user("default")),
			},
			wantJudged: 3,
		},
	})
}

func TestRBACSystemMasters(t *testing.T) {
	const id = "rbac-system-masters"
	runRBACCases(t, id, map[string]rbacCase{
		"the built-in cluster-admin binding is left out": {
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{bootstrapCRB(clusterRoleBinding("cluster-admin", clusterRoleRef("cluster-admin"), group("system:masters")))},
			wantJudged:          0,
		},
		"a binding named cluster-admin without the bootstrap label": {
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("cluster-admin", clusterRoleRef("cluster-admin"), group("system:masters"))},
			wantJudged:          1,
			wantFindings: []gotFinding{{Check: id, Object: crbObj("cluster-admin"),
				Message: `ClusterRoleBinding "cluster-admin" binds ClusterRole "cluster-admin" to Group "system:masters" (subjects[0]) cluster-wide`}},
		},
		"other bindings naming the group, even in a namespace": {
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("masters-view", clusterRoleRef("view"), user("alice"), group("system:masters"))},
			roleBindings:        []rbacv1.RoleBinding{roleBinding("team-a", "masters", roleRefTo("r"), group("system:masters"))},
			wantJudged:          2,
			wantFindings: []gotFinding{
				{Check: id, Object: crbObj("masters-view"), Message: `ClusterRoleBinding "masters-view" binds ClusterRole "view" to Group "system:masters" (subjects[1]) cluster-wide`},
				{Check: id, Object: rbObj("team-a", "masters"), Message: `RoleBinding "masters" binds Role "r" to Group "system:masters" (subjects[0]) in namespace "team-a"`},
			},
		},
		"passing: a user of that name, other groups": {
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{
				clusterRoleBinding("u", clusterRoleRef("view"), user("system:masters")),
				clusterRoleBinding("g", clusterRoleRef("view"), group("system:nodes")),
			},
			wantJudged: 2,
		},
	})
}

func TestRBACBindEscalateImpersonate(t *testing.T) {
	const id = "rbac-bind-escalate-impersonate"
	impersonator := testClusterRole("impersonator", policyRule(core, []string{"users", "groups"}, "impersonate"))
	runRBACCases(t, id, map[string]rbacCase{
		"impersonating users and groups cluster-wide": {
			clusterRoles:        []rbacv1.ClusterRole{impersonator},
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("support", clusterRoleRef("impersonator"), group("support"))},
			wantJudged:          1,
			wantFindings: []gotFinding{{Check: id, Object: crbObj("support"),
				Message: `ClusterRoleBinding "support" grants Group "support" impersonate on groups,users cluster-wide through ClusterRole "impersonator" rules[0] (apiGroups [""], resources [users groups], verbs [impersonate])`}},
		},
		"impersonating users is cluster-scoped: a RoleBinding grants nothing": {
			clusterRoles: []rbacv1.ClusterRole{impersonator},
			roleBindings: []rbacv1.RoleBinding{roleBinding("team-a", "support", clusterRoleRef("impersonator"), group("support"))},
			wantJudged:   1,
		},
		"escalate on roles and impersonate service accounts within a namespace": {
			roles: []rbacv1.Role{testRole("team-a", "lead",
				policyRule([]string{"rbac.authorization.k8s.io"}, []string{"roles"}, "escalate", "update"),
				policyRule(core, []string{"serviceaccounts"}, "impersonate"))},
			roleBindings: []rbacv1.RoleBinding{roleBinding("team-a", "lead", roleRefTo("lead"), user("lead"))},
			wantJudged:   1,
			wantFindings: []gotFinding{{Check: id, Object: rbObj("team-a", "lead"),
				Message: `RoleBinding "lead" grants User "lead" escalate,impersonate on roles,serviceaccounts in namespace "team-a" through Role "lead" rules[0] (apiGroups ["rbac.authorization.k8s.io"], resources [roles], verbs [escalate update]); rules[1] (apiGroups [""], resources [serviceaccounts], verbs [impersonate])`}},
		},
		"bind restricted by resourceNames is narrower, and said so": {
			clusterRoles: []rbacv1.ClusterRole{testClusterRole("binder",
				namedRule([]string{"rbac.authorization.k8s.io"}, []string{"clusterroles"}, []string{"view"}, "bind"))},
			roleBindings: []rbacv1.RoleBinding{roleBinding("team-a", "binder", clusterRoleRef("binder"), serviceAccount("team-a", "operator"))},
			wantJudged:   1,
			wantFindings: []gotFinding{{Check: id, Object: rbObj("team-a", "binder"),
				Message: `RoleBinding "binder" grants ServiceAccount "team-a/operator" bind on clusterroles (only the objects named [view]) in namespace "team-a" through ClusterRole "binder" rules[0] (apiGroups ["rbac.authorization.k8s.io"], resources [clusterroles], resourceNames [view], verbs [bind])`}},
		},
		"passing: managing roles without the verbs": {
			clusterRoles: []rbacv1.ClusterRole{testClusterRole("rbac-manager",
				policyRule([]string{"rbac.authorization.k8s.io"}, []string{"roles", "rolebindings", "clusterroles"}, "get", "list", "create", "update"))},
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("m", clusterRoleRef("rbac-manager"), user("alice"))},
			wantJudged:          1,
		},
	})
}

func TestRBACClusterScopedGrants(t *testing.T) {
	testCases := map[string]struct {
		id   string
		rule rbacv1.PolicyRule
		// wantGranted is what the ClusterRoleBinding's finding says is granted; empty means it passes.
		wantGranted string
	}{
		"create persistentvolumes": {
			id: "rbac-create-persistentvolumes", rule: policyRule(core, []string{"persistentvolumes"}, "create", "get"),
			wantGranted: "create on persistentvolumes",
		},
		"persistentvolumeclaims are not persistentvolumes": {
			id: "rbac-create-persistentvolumes", rule: policyRule(core, []string{"persistentvolumeclaims"}, "create"),
		},
		"any verb on nodes/proxy": {
			id: "rbac-nodes-proxy", rule: policyRule(core, []string{"nodes/proxy"}, "get"),
			wantGranted: "get on nodes/proxy",
		},
		"*/proxy covers nodes/proxy": {
			id: "rbac-nodes-proxy", rule: policyRule(core, []string{"*/proxy"}, "create"),
			wantGranted: "create on nodes/proxy",
		},
		"nodes do not grant nodes/proxy": {
			id: "rbac-nodes-proxy", rule: policyRule(core, []string{"nodes", "nodes/metrics"}, "*"),
		},
		"CSR approval subresource": {
			id: "rbac-csr-approval", rule: policyRule([]string{"certificates.k8s.io"}, []string{"certificatesigningrequests/approval"}, "update"),
			wantGranted: "update on certificatesigningrequests/approval",
		},
		"approve on named signers": {
			id: "rbac-csr-approval", rule: namedRule([]string{"certificates.k8s.io"}, []string{"signers"}, []string{"example.com/*"}, "approve"),
			wantGranted: "approve on signers (only the objects named [example.com/*])",
		},
		"reading CSRs is not approving them": {
			id: "rbac-csr-approval", rule: policyRule([]string{"certificates.k8s.io"}, []string{"certificatesigningrequests"}, "get", "list", "create"),
		},
		"patch a webhook configuration": {
			id: "rbac-webhook-configuration-write", rule: policyRule([]string{"admissionregistration.k8s.io"}, []string{"validatingwebhookconfigurations"}, "get", "list", "patch"),
			wantGranted: "patch on validatingwebhookconfigurations",
		},
		"every write on every admission object": {
			id: "rbac-webhook-configuration-write", rule: policyRule([]string{"admissionregistration.k8s.io"}, []string{"*"}, "*"),
			wantGranted: "create,delete,deletecollection,patch,update on mutatingwebhookconfigurations,validatingwebhookconfigurations",
		},
		"reading webhook configurations": {
			id: "rbac-webhook-configuration-write", rule: policyRule([]string{"admissionregistration.k8s.io"}, []string{"mutatingwebhookconfigurations"}, "get", "list", "watch"),
		},
	}
	for name, tc := range testCases {
		t.Run(name, func(t *testing.T) {
			s := readAll(func(s *inventory.Snapshot) {
				s.ClusterRoles = []rbacv1.ClusterRole{testClusterRole("r", tc.rule)}
				s.ClusterRoleBindings = []rbacv1.ClusterRoleBinding{clusterRoleBinding("crb", clusterRoleRef("r"), user("alice"))}
				// RoleBindings cannot grant cluster-scoped resources, so they are not judged.
				s.RoleBindings = []rbacv1.RoleBinding{roleBinding("team-a", "rb", clusterRoleRef("r"), user("alice"))}
			})
			o := runCheck(t, tc.id, s, nil)
			if o.Judged != 1 {
				t.Errorf("Judged = %d, want 1 (the ClusterRoleBinding only)", o.Judged)
			}
			var want []gotFinding
			if tc.wantGranted != "" {
				want = []gotFinding{{Check: tc.id, Object: crbObj("crb"),
					Message: `ClusterRoleBinding "crb" grants User "alice" ` + tc.wantGranted + ` cluster-wide through ClusterRole "r" rules[0] ` + rbacRuleString(&tc.rule)}}
			}
			if diff := cmp.Diff(want, summarize(o.Findings)); diff != "" {
				t.Errorf("findings mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRBACServiceAccountTokenCreate(t *testing.T) {
	const id = "rbac-serviceaccount-token-create"
	runRBACCases(t, id, map[string]rbacCase{
		"create tokens for every service account of a namespace": {
			roles:        []rbacv1.Role{testRole("ci", "tokens", policyRule(core, []string{"serviceaccounts/token"}, "create"))},
			roleBindings: []rbacv1.RoleBinding{roleBinding("ci", "tokens", roleRefTo("tokens"), user("alice"))},
			wantJudged:   1,
			wantFindings: []gotFinding{{Check: id, Object: rbObj("ci", "tokens"),
				Message: `RoleBinding "tokens" grants User "alice" create on serviceaccounts/token in namespace "ci" through Role "tokens" rules[0] (apiGroups [""], resources [serviceaccounts/token], verbs [create])`}},
		},
		"create a token for a named service account": {
			roles:        []rbacv1.Role{testRole("ci", "tokens", namedRule(core, []string{"serviceaccounts/token"}, []string{"builder"}, "create"))},
			roleBindings: []rbacv1.RoleBinding{roleBinding("ci", "tokens", roleRefTo("tokens"), user("alice"))},
			wantJudged:   1,
			wantFindings: []gotFinding{{Check: id, Object: rbObj("ci", "tokens"),
				Message: `RoleBinding "tokens" grants User "alice" create on serviceaccounts/token (only the objects named [builder]) in namespace "ci" through Role "tokens" rules[0] (apiGroups [""], resources [serviceaccounts/token], resourceNames [builder], verbs [create])`}},
		},
		"creating service accounts is not creating tokens": {
			roles:        []rbacv1.Role{testRole("ci", "sas", policyRule(core, []string{"serviceaccounts"}, "create", "get"))},
			roleBindings: []rbacv1.RoleBinding{roleBinding("ci", "sas", roleRefTo("sas"), user("alice"))},
			wantJudged:   1,
		},
	})
}

func TestRBACPodExecAttachPortforward(t *testing.T) {
	const id = "rbac-pod-exec-attach-portforward"
	runRBACCases(t, id, map[string]rbacCase{
		"create on pods/exec": {
			roles:        []rbacv1.Role{testRole("team-a", "debug", policyRule(core, []string{"pods/exec"}, "create"))},
			roleBindings: []rbacv1.RoleBinding{roleBinding("team-a", "debug", roleRefTo("debug"), group("devs"))},
			wantJudged:   1,
			wantFindings: []gotFinding{{Check: id, Object: rbObj("team-a", "debug"),
				Message: `RoleBinding "debug" grants Group "devs" create on pods/exec in namespace "team-a" through Role "debug" rules[0] (apiGroups [""], resources [pods/exec], verbs [create])`}},
		},
		"get on pods/portforward, for older clients": {
			clusterRoles:        []rbacv1.ClusterRole{testClusterRole("tunnel", policyRule(core, []string{"pods/portforward", "pods/log"}, "get"))},
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("tunnel", clusterRoleRef("tunnel"), user("alice"))},
			wantJudged:          1,
			wantFindings: []gotFinding{{Check: id, Object: crbObj("tunnel"),
				Message: `ClusterRoleBinding "tunnel" grants User "alice" get on pods/portforward cluster-wide through ClusterRole "tunnel" rules[0] (apiGroups [""], resources [pods/portforward pods/log], verbs [get])`}},
		},
		"*/attach": {
			clusterRoles:        []rbacv1.ClusterRole{testClusterRole("attach", policyRule(core, []string{"*/attach"}, "create"))},
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("attach", clusterRoleRef("attach"), user("alice"))},
			wantJudged:          1,
			wantFindings: []gotFinding{{Check: id, Object: crbObj("attach"),
				Message: `ClusterRoleBinding "attach" grants User "alice" create on pods/attach cluster-wide through ClusterRole "attach" rules[0] (apiGroups [""], resources [*/attach], verbs [create])`}},
		},
		"passing: all verbs on pods, pods/* (no wildcard), logs": {
			clusterRoles: []rbacv1.ClusterRole{testClusterRole("pods",
				policyRule(core, []string{"pods"}, "*"),
				policyRule(core, []string{"pods/*"}, "create"),
				policyRule(core, []string{"pods/log"}, "get"))},
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("pods", clusterRoleRef("pods"), user("alice"))},
			wantJudged:          1,
		},
	})
}

func TestRBACAnonymousAccess(t *testing.T) {
	const id = "rbac-anonymous-access"
	discovery := testClusterRole("system:discovery", urlRule([]string{"/livez", "/readyz", "/healthz", "/version", "/version/",
		"/openapi", "/openapi/*", "/api", "/api/*", "/apis", "/apis/*"}, "get"))
	basicUser := testClusterRole("system:basic-user",
		policyRule([]string{"authorization.k8s.io"}, []string{"selfsubjectaccessreviews", "selfsubjectrulesreviews"}, "create"),
		policyRule([]string{"authentication.k8s.io"}, []string{"selfsubjectreviews"}, "create"))
	publicInfo := testClusterRole("system:public-info-viewer", urlRule([]string{"/livez", "/readyz", "/healthz", "/version", "/version/"}, "get"))
	issuer := testClusterRole("system:service-account-issuer-discovery", urlRule([]string{"/.well-known/openid-configuration",
		"/.well-known/openid-configuration/", "/openid/v1/jwks", "/openid/v1/jwks/"}, "get"))
	podReader := testClusterRole("pod-reader", policyRule(core, []string{"pods"}, "get", "list"))
	builtIns := []rbacv1.ClusterRole{discovery, basicUser, publicInfo, issuer}
	runRBACCases(t, id, map[string]rbacCase{
		"the built-in bindings to everybody, upgraded-cluster subjects included": {
			clusterRoles: builtIns,
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{
				bootstrapCRB(clusterRoleBinding("system:discovery", clusterRoleRef("system:discovery"), group("system:authenticated"), group("system:unauthenticated"))),
				bootstrapCRB(clusterRoleBinding("system:basic-user", clusterRoleRef("system:basic-user"), group("system:authenticated"), group("system:unauthenticated"))),
				bootstrapCRB(clusterRoleBinding("system:public-info-viewer", clusterRoleRef("system:public-info-viewer"), group("system:authenticated"), group("system:unauthenticated"))),
			},
			wantJudged: 3,
		},
		"the built-in bindings in manifests without the built-in roles": {
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{
				clusterRoleBinding("system:public-info-viewer", clusterRoleRef("system:public-info-viewer"), group("system:authenticated"), group("system:unauthenticated")),
			},
			wantJudged: 1,
		},
		"public issuer discovery for anonymous users, as the Kubernetes docs suggest": {
			clusterRoles:        builtIns,
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("oidc-reviewer", clusterRoleRef("system:service-account-issuer-discovery"), group("system:unauthenticated"))},
			wantJudged:          1,
		},
		"anonymous users reading pods": {
			clusterRoles:        []rbacv1.ClusterRole{podReader},
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("anon-read", clusterRoleRef("pod-reader"), user("system:anonymous"), user("alice"))},
			wantJudged:          1,
			wantFindings: []gotFinding{{Check: id, Object: crbObj("anon-read"),
				Message: `ClusterRoleBinding "anon-read" grants User "system:anonymous" more than the public health, version and issuer discovery endpoints cluster-wide through ClusterRole "pod-reader" rules[0] (apiGroups [""], resources [pods], verbs [get list])`}},
		},
		"unauthenticated users and API discovery outside the built-in bindings": {
			clusterRoles:        builtIns,
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("anon-discovery", clusterRoleRef("system:discovery"), group("system:unauthenticated"))},
			wantJudged:          1,
			wantFindings: []gotFinding{{Check: id, Object: crbObj("anon-discovery"),
				Message: `ClusterRoleBinding "anon-discovery" grants Group "system:unauthenticated" more than the public health, version and issuer discovery endpoints cluster-wide through ClusterRole "system:discovery" rules[0] (nonResourceURLs [/livez /readyz /healthz /version /version/ /openapi /openapi/* /api /api/* /apis /apis/*], verbs [get])`}},
		},
		"unauthenticated users bound to a role not in the snapshot": {
			roleBindings: []rbacv1.RoleBinding{roleBinding("team-a", "anon", roleRefTo("mystery"), group("system:unauthenticated"))},
			wantJudged:   1,
			wantFindings: []gotFinding{{Check: id, Object: rbObj("team-a", "anon"),
				Message: `RoleBinding "anon" binds Role "mystery", which is not in the snapshot, to Group "system:unauthenticated" in namespace "team-a"`}},
		},
		"all authenticated users with more than discovery": {
			clusterRoles: []rbacv1.ClusterRole{podReader},
			roleBindings: []rbacv1.RoleBinding{roleBinding("team-a", "everyone-reads", clusterRoleRef("pod-reader"), group("system:authenticated"))},
			wantJudged:   1,
			wantFindings: []gotFinding{{Check: id, Object: rbObj("team-a", "everyone-reads"),
				Message: `RoleBinding "everyone-reads" grants Group "system:authenticated" more than API discovery and self-subject reviews in namespace "team-a" through ClusterRole "pod-reader" rules[0] (apiGroups [""], resources [pods], verbs [get list])`}},
		},
		"a built-in role edited to grant more is reported": {
			clusterRoles: []rbacv1.ClusterRole{testClusterRole("system:basic-user",
				policyRule([]string{"authorization.k8s.io"}, []string{"selfsubjectaccessreviews"}, "create"),
				policyRule(core, []string{"secrets"}, "get"))},
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{bootstrapCRB(clusterRoleBinding("system:basic-user", clusterRoleRef("system:basic-user"), group("system:authenticated")))},
			wantJudged:          1,
			wantFindings: []gotFinding{{Check: id, Object: crbObj("system:basic-user"),
				Message: `ClusterRoleBinding "system:basic-user" grants Group "system:authenticated" more than API discovery and self-subject reviews cluster-wide through ClusterRole "system:basic-user" rules[1] (apiGroups [""], resources [secrets], verbs [get])`}},
		},
		"both kinds of everybody in one binding": {
			clusterRoles: []rbacv1.ClusterRole{testClusterRole("wide", urlRule([]string{"/metrics"}, "get"))},
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("metrics-for-all", clusterRoleRef("wide"),
				group("system:authenticated"), group("system:unauthenticated"))},
			wantJudged: 1,
			wantFindings: []gotFinding{{Check: id, Object: crbObj("metrics-for-all"),
				Message: `ClusterRoleBinding "metrics-for-all" grants Group "system:unauthenticated" more than the public health, version and issuer discovery endpoints cluster-wide through ClusterRole "wide" rules[0] (nonResourceURLs [/metrics], verbs [get]); ` +
					`ClusterRoleBinding "metrics-for-all" grants Group "system:authenticated" more than API discovery and self-subject reviews cluster-wide through ClusterRole "wide" rules[0] (nonResourceURLs [/metrics], verbs [get])`}},
		},
		"all authenticated users with self-subject reviews only; non-resource URLs in a namespace grant nothing": {
			clusterRoles: []rbacv1.ClusterRole{
				testClusterRole("whoami", policyRule([]string{"authentication.k8s.io"}, []string{"selfsubjectreviews"}, "create")),
				testClusterRole("urls", urlRule([]string{"*"}, "*")),
			},
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("whoami", clusterRoleRef("whoami"), group("system:authenticated"))},
			roleBindings:        []rbacv1.RoleBinding{roleBinding("team-a", "urls", clusterRoleRef("urls"), group("system:authenticated"))},
			wantJudged:          2,
		},
		"ordinary subjects are not this check's business": {
			clusterRoles:        []rbacv1.ClusterRole{podReader},
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("alice", clusterRoleRef("pod-reader"), user("alice"), group("system:serviceaccounts"))},
			wantJudged:          1,
		},
	})
}

func TestRBACWorkloadClusterTakeover(t *testing.T) {
	const id = "rbac-workload-cluster-takeover"
	withSA := func(sa string) corev1.PodSpec {
		return withSpec(func(s *corev1.PodSpec) { s.ServiceAccountName = sa })
	}
	deployObj := func(ns, name string) inventory.ObjectRef { return objRef("apps/v1", "Deployment", ns, name) }
	podCreator := testClusterRole("pod-creator", policyRule(core, []string{"pods"}, "create"))
	runRBACCases(t, id, map[string]rbacCase{
		"service account reading secrets cluster-wide": {
			clusterRoles:        []rbacv1.ClusterRole{secretsReader},
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("api-secrets", clusterRoleRef("secrets-reader"), serviceAccount("team-a", "api"))},
			deployments:         []appsv1.Deployment{deployment("team-a", "api", withSA("api")), deployment("team-a", "web", withSA("web"))},
			wantJudged:          2,
			wantFindings: []gotFinding{{Check: id, Object: deployObj("team-a", "api"),
				Message: `pod template runs as ServiceAccount "team-a/api" (serviceAccountName), and ClusterRoleBinding "api-secrets" grants ServiceAccount "team-a/api" get,list on secrets cluster-wide through ClusterRole "secrets-reader" rules[0] (apiGroups [""], resources [secrets], verbs [get list])`}},
		},
		"secrets of its own namespace only are no takeover": {
			clusterRoles: []rbacv1.ClusterRole{secretsReader},
			roleBindings: []rbacv1.RoleBinding{roleBinding("team-a", "api-secrets", clusterRoleRef("secrets-reader"), serviceAccount("team-a", "api"))},
			deployments:  []appsv1.Deployment{deployment("team-a", "api", withSA("api"))},
			wantJudged:   1,
		},
		"named secrets cluster-wide are no takeover": {
			clusterRoles:        []rbacv1.ClusterRole{testClusterRole("one", namedRule(core, []string{"secrets"}, []string{"ca"}, "get"))},
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("one", clusterRoleRef("one"), serviceAccount("team-a", "api"))},
			deployments:         []appsv1.Deployment{deployment("team-a", "api", withSA("api"))},
			wantJudged:          1,
		},
		"creating pods in kube-system, through the user name spelling": {
			clusterRoles: []rbacv1.ClusterRole{podCreator},
			roleBindings: []rbacv1.RoleBinding{roleBinding("kube-system", "ci-pods", clusterRoleRef("pod-creator"), user("system:serviceaccount:ci:runner"))},
			cronJobs:     []batchv1.CronJob{cronJob("ci", "nightly", withSA("runner"))},
			wantJudged:   1,
			wantFindings: []gotFinding{{Check: id, Object: objRef("batch/v1", "CronJob", "ci", "nightly"),
				Message: `pod template runs as ServiceAccount "ci/runner" (serviceAccountName), and RoleBinding "ci-pods" grants User "system:serviceaccount:ci:runner" create on pods in namespace "kube-system" through ClusterRole "pod-creator" rules[0] (apiGroups [""], resources [pods], verbs [create])`}},
		},
		"the default service account, through its namespace's group and the built-in cluster-admin": {
			roleBindings: []rbacv1.RoleBinding{roleBinding("team-b", "local-admin", clusterRoleRef("cluster-admin"), group("system:serviceaccounts:team-b"))},
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{
				clusterRoleBinding("team-b-admin", clusterRoleRef("cluster-admin"), group("system:serviceaccounts:team-b")),
				clusterRoleBinding("team-c-admin", clusterRoleRef("cluster-admin"), group("system:serviceaccounts:team-c")),
			},
			pods:       []corev1.Pod{pod("team-b", "adhoc", hardenedSpec())},
			wantJudged: 1,
			wantFindings: []gotFinding{{Check: id, Object: objRef("v1", "Pod", "team-b", "adhoc"),
				Message: `pod template runs as ServiceAccount "team-b/default" (serviceAccountName unset, so default), and ClusterRoleBinding "team-b-admin" grants Group "system:serviceaccounts:team-b" ` +
					`every verb on every resource ("*" on "*") cluster-wide ` +
					`through ClusterRole "cluster-admin" (built-in, not in the snapshot) rules[0] (apiGroups ["*"], resources [*], verbs [*])`}},
		},
		"every service account, through the deprecated field": {
			clusterRoles: []rbacv1.ClusterRole{testClusterRole("binder", policyRule([]string{"rbac.authorization.k8s.io"}, []string{"clusterroles"}, "bind"))},
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{
				clusterRoleBinding("all-sas", clusterRoleRef("binder"), group("system:serviceaccounts")),
				clusterRoleBinding("everyone", clusterRoleRef("binder"), group("system:authenticated")),
			},
			deployments: []appsv1.Deployment{deployment("team-a", "legacy", withSpec(func(s *corev1.PodSpec) {
				s.DeprecatedServiceAccount = "old"
			}))},
			wantJudged: 1,
			wantFindings: []gotFinding{{Check: id, Object: deployObj("team-a", "legacy"),
				Message: `pod template runs as ServiceAccount "team-a/old" (serviceAccount), and ` +
					`ClusterRoleBinding "all-sas" grants Group "system:serviceaccounts" bind on clusterroles cluster-wide through ClusterRole "binder" rules[0] (apiGroups ["rbac.authorization.k8s.io"], resources [clusterroles], verbs [bind]); ` +
					`ClusterRoleBinding "everyone" grants Group "system:authenticated" bind on clusterroles cluster-wide through ClusterRole "binder" rules[0] (apiGroups ["rbac.authorization.k8s.io"], resources [clusterroles], verbs [bind])`}},
		},
		"kube-system workloads are the platform's and not judged": {
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("cni", clusterRoleRef("cluster-admin"), serviceAccount("kube-system", "cni"))},
			deployments:         []appsv1.Deployment{deployment("kube-system", "cni", withSA("cni"))},
			wantJudged:          0,
		},
		"no token mounted, unless projected": {
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("api-admin", clusterRoleRef("cluster-admin"), serviceAccount("team-a", "api"))},
			deployments: []appsv1.Deployment{
				deployment("team-a", "no-token", withSpec(func(s *corev1.PodSpec) {
					s.ServiceAccountName = "api"
					s.AutomountServiceAccountToken = new(false)
				})),
				deployment("team-a", "projected", withSpec(func(s *corev1.PodSpec) {
					s.ServiceAccountName = "api"
					s.AutomountServiceAccountToken = new(false)
					s.Volumes = append(s.Volumes, corev1.Volume{Name: "token", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
						Sources: []corev1.VolumeProjection{{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token"}}},
					}}})
				})),
			},
			wantJudged: 2,
			wantFindings: []gotFinding{{Check: id, Object: deployObj("team-a", "projected"),
				Message: `pod template runs as ServiceAccount "team-a/api" (serviceAccountName), and ClusterRoleBinding "api-admin" grants ServiceAccount "team-a/api" ` +
					`every verb on every resource ("*" on "*") cluster-wide ` +
					`through ClusterRole "cluster-admin" (built-in, not in the snapshot) rules[0] (apiGroups ["*"], resources [*], verbs [*])`}},
		},
		"no token mounted: the ServiceAccount says false and the pod leaves it unset": {
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("api-admin", clusterRoleRef("cluster-admin"), serviceAccount("team-a", "api"))},
			serviceAccounts: []corev1.ServiceAccount{{
				ObjectMeta:                   metav1.ObjectMeta{Namespace: "team-a", Name: "api"},
				AutomountServiceAccountToken: new(false),
			}},
			deployments: []appsv1.Deployment{
				deployment("team-a", "unset", withSA("api")),
				deployment("team-a", "pod-says-true", withSpec(func(s *corev1.PodSpec) {
					s.ServiceAccountName = "api"
					s.AutomountServiceAccountToken = new(true)
				})),
			},
			wantJudged: 2,
			wantFindings: []gotFinding{{Check: id, Object: deployObj("team-a", "pod-says-true"),
				Message: `pod template runs as ServiceAccount "team-a/api" (serviceAccountName), and ClusterRoleBinding "api-admin" grants ServiceAccount "team-a/api" ` +
					`every verb on every resource ("*" on "*") cluster-wide ` +
					`through ClusterRole "cluster-admin" (built-in, not in the snapshot) rules[0] (apiGroups ["*"], resources [*], verbs [*])`}},
		},
		"a same-named service account of another namespace": {
			clusterRoles:        []rbacv1.ClusterRole{podCreator},
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("other", clusterRoleRef("pod-creator"), serviceAccount("team-b", "api"))},
			deployments:         []appsv1.Deployment{deployment("team-a", "api", withSA("api"))},
			wantJudged:          1,
		},
	})
}

// TestRBACCatalogueNeeds checks that each check is not evaluated, never
// passed, when a kind it reads is missing, and only then.
func TestRBACCatalogueNeeds(t *testing.T) {
	testCases := map[string]struct {
		id            string
		missing       inventory.Kind
		wantEvaluated bool
	}{
		"secrets access needs Roles":                           {id: "rbac-secrets-access", missing: inventory.KindRole},
		"secrets access needs RoleBindings":                    {id: "rbac-secrets-access", missing: inventory.KindRoleBinding},
		"persistent volumes need ClusterRoleBindings":          {id: "rbac-create-persistentvolumes", missing: inventory.KindClusterRoleBinding},
		"persistent volumes do not need RoleBindings":          {id: "rbac-create-persistentvolumes", missing: inventory.KindRoleBinding, wantEvaluated: true},
		"nodes/proxy does not need Roles":                      {id: "rbac-nodes-proxy", missing: inventory.KindRole, wantEvaluated: true},
		"default service account needs RoleBindings":           {id: "rbac-default-service-account-bound", missing: inventory.KindRoleBinding},
		"default service account does not need ClusterRoles":   {id: "rbac-default-service-account-bound", missing: inventory.KindClusterRole, wantEvaluated: true},
		"system:masters needs ClusterRoleBindings":             {id: "rbac-system-masters", missing: inventory.KindClusterRoleBinding},
		"wildcards need ClusterRoles":                          {id: "rbac-wildcard-rules", missing: inventory.KindClusterRole},
		"wildcards do not need bindings":                       {id: "rbac-wildcard-rules", missing: inventory.KindClusterRoleBinding, wantEvaluated: true},
		"anonymous access needs Roles":                         {id: "rbac-anonymous-access", missing: inventory.KindRole},
		"takeover needs pods":                                  {id: "rbac-workload-cluster-takeover", missing: inventory.KindPod},
		"takeover needs ClusterRoles":                          {id: "rbac-workload-cluster-takeover", missing: inventory.KindClusterRole},
		"takeover does not need Secrets":                       {id: "rbac-workload-cluster-takeover", missing: inventory.KindSecret, wantEvaluated: true},
		"bind, escalate and impersonate need RoleBindings":     {id: "rbac-bind-escalate-impersonate", missing: inventory.KindRoleBinding},
		"exec needs Roles":                                     {id: "rbac-pod-exec-attach-portforward", missing: inventory.KindRole},
		"token creation needs ClusterRoles":                    {id: "rbac-serviceaccount-token-create", missing: inventory.KindClusterRole},
		"CSR approval does not need RoleBindings":              {id: "rbac-csr-approval", missing: inventory.KindRoleBinding, wantEvaluated: true},
		"webhook configuration writes need ClusterRoles":       {id: "rbac-webhook-configuration-write", missing: inventory.KindClusterRole},
		"create pods needs ClusterRoleBindings":                {id: "rbac-create-pods", missing: inventory.KindClusterRoleBinding},
		"cluster-admin binding still needs both binding kinds": {id: "rbac-cluster-admin-binding", missing: inventory.KindRoleBinding},
	}
	for name, tc := range testCases {
		t.Run(name, func(t *testing.T) {
			s := readAll(func(s *inventory.Snapshot) {
				s.ClusterRoleBindings = []rbacv1.ClusterRoleBinding{clusterRoleBinding("alice-admin", clusterRoleRef("cluster-admin"), user("alice"))}
			})
			s.MarkMissing(tc.missing, inventory.MissingForbidden, "forbidden")
			o := runCheck(t, tc.id, s, nil)
			if o.Evaluated != tc.wantEvaluated {
				t.Fatalf("Evaluated = %t, want %t (missing %v)", o.Evaluated, tc.wantEvaluated, o.MissingKinds)
			}
			if !o.Evaluated && (o.Judged != 0 || len(o.Findings) != 0) {
				t.Errorf("not evaluated, yet Judged = %d and %d findings", o.Judged, len(o.Findings))
			}
		})
	}
}

// TestRBACCatalogueEntries checks that every new RBAC check is registered
// with what the catalogue shows.
func TestRBACCatalogueEntries(t *testing.T) {
	for _, c := range rbacCatalogueChecks() {
		got := Default.Get(c.ID)
		if got == nil {
			t.Errorf("check %q is not registered", c.ID)
			continue
		}
		if got.Category != CategoryRBAC || got.Evidence == "" || len(got.Needs) == 0 {
			t.Errorf("check %q: category %q, evidence %q, needs %v: want rbac, non-empty, non-empty", c.ID, got.Category, got.Evidence, got.Needs)
		}
	}
}
