package checks

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kubeposture/kubeposture/internal/inventory"
)

func TestRBACClusterAdminBinding(t *testing.T) {
	const id = "rbac-cluster-admin-binding"
	clusterAdmin := clusterRoleRef("cluster-admin")
	crbRef := func(name string) inventory.ObjectRef {
		return objRef("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "", name)
	}
	rbRef := func(ns, name string) inventory.ObjectRef {
		return objRef("rbac.authorization.k8s.io/v1", "RoleBinding", ns, name)
	}
	bootstrap := func(b rbacv1.ClusterRoleBinding) rbacv1.ClusterRoleBinding {
		b.Labels = map[string]string{"kubernetes.io/bootstrapping": "rbac-defaults"}
		b.Annotations = map[string]string{"rbac.authorization.kubernetes.io/autoupdate": "true"}
		return b
	}

	testCases := map[string]struct {
		clusterRoleBindings []rbacv1.ClusterRoleBinding
		roleBindings        []rbacv1.RoleBinding
		wantJudged          int
		wantFindings        []gotFinding
	}{
		"no bindings": {
			wantJudged: 0,
		},
		"cluster-admin bound to a user": {
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("alice-admin", clusterAdmin, user("alice@example.com"))},
			wantJudged:          1,
			wantFindings: []gotFinding{{
				Check: id, Object: crbRef("alice-admin"),
				Message: "roleRef ClusterRole cluster-admin is bound to User alice@example.com (subjects)",
			}},
		},
		"cluster-admin bound to a service account": {
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("ci-admin", clusterAdmin, serviceAccount("ci", "deployer"))},
			wantJudged:          1,
			wantFindings: []gotFinding{{
				Check: id, Object: crbRef("ci-admin"),
				Message: "roleRef ClusterRole cluster-admin is bound to ServiceAccount ci/deployer (subjects)",
			}},
		},
		"service account named like a system identity is not a system subject": {
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("sneaky", clusterAdmin, serviceAccount("kube-system", "system:kube-scheduler"))},
			wantJudged:          1,
			wantFindings: []gotFinding{{
				Check: id, Object: crbRef("sneaky"),
				Message: "roleRef ClusterRole cluster-admin is bound to ServiceAccount kube-system/system:kube-scheduler (subjects)",
			}},
		},
		"bootstrap cluster-admin binding to system:masters": {
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{bootstrap(clusterRoleBinding("cluster-admin", clusterAdmin, group("system:masters")))},
			wantJudged:          1,
		},
		"cluster-admin bound to system:nodes": {
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("nodes-admin", clusterAdmin, group("system:nodes"))},
			wantJudged:          1,
		},
		"cluster-admin bound to system:authenticated": {
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("everyone-admin", clusterAdmin, group("system:authenticated"))},
			wantJudged:          1,
			wantFindings: []gotFinding{{
				Check: id, Object: crbRef("everyone-admin"),
				Message: "roleRef ClusterRole cluster-admin is bound to Group system:authenticated (subjects)",
			}},
		},
		"cluster-admin bound to system:anonymous and system:unauthenticated": {
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("anon-admin", clusterAdmin,
				user("system:anonymous"), group("system:unauthenticated"))},
			wantJudged: 1,
			wantFindings: []gotFinding{{
				Check: id, Object: crbRef("anon-admin"),
				Message: "roleRef ClusterRole cluster-admin is bound to Group system:unauthenticated, User system:anonymous (subjects)",
			}},
		},
		"cluster-admin bound to every service account": {
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("permissive", clusterAdmin, group("system:serviceaccounts"))},
			wantJudged:          1,
			wantFindings: []gotFinding{{
				Check: id, Object: crbRef("permissive"),
				Message: "roleRef ClusterRole cluster-admin is bound to Group system:serviceaccounts (subjects)",
			}},
		},
		"cluster-admin bound to every service account of a namespace": {
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("team-admin", clusterAdmin, group("system:serviceaccounts:team-a"))},
			wantJudged:          1,
			wantFindings: []gotFinding{{
				Check: id, Object: crbRef("team-admin"),
				Message: "roleRef ClusterRole cluster-admin is bound to Group system:serviceaccounts:team-a (subjects)",
			}},
		},
		"cluster-admin bound to a service account through its user name": {
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("ci-admin", clusterAdmin, user("system:serviceaccount:ci:deployer"))},
			wantJudged:          1,
			wantFindings: []gotFinding{{
				Check: id, Object: crbRef("ci-admin"),
				Message: "roleRef ClusterRole cluster-admin is bound to User system:serviceaccount:ci:deployer (subjects)",
			}},
		},
		"user added to the bootstrap cluster-admin binding": {
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{bootstrap(clusterRoleBinding("cluster-admin", clusterAdmin,
				group("system:masters"), user("bob")))},
			wantJudged: 1,
			wantFindings: []gotFinding{{
				Check: id, Object: crbRef("cluster-admin"),
				Message: "roleRef ClusterRole cluster-admin is bound to User bob (subjects)",
			}},
		},
		"system subjects are left out of the message, others are sorted": {
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("mixed", clusterAdmin,
				user("zoe"), group("system:masters"), serviceAccount("ops", "robot"), group("platform-admins"), user("system:kube-controller-manager"))},
			wantJudged: 1,
			wantFindings: []gotFinding{{
				Check: id, Object: crbRef("mixed"),
				Message: "roleRef ClusterRole cluster-admin is bound to Group platform-admins, ServiceAccount ops/robot, User zoe (subjects)",
			}},
		},
		"rolebinding of cluster-admin within a namespace": {
			roleBindings: []rbacv1.RoleBinding{roleBinding("team-a", "team-lead-admin", clusterAdmin, user("carol"))},
			wantJudged:   1,
			wantFindings: []gotFinding{{
				Check: id, Object: rbRef("team-a", "team-lead-admin"),
				Message: "roleRef ClusterRole cluster-admin is bound to User carol (subjects; within namespace team-a)",
			}},
		},
		"rolebinding of a namespaced Role called cluster-admin": {
			roleBindings: []rbacv1.RoleBinding{roleBinding("team-a", "local", rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "cluster-admin"}, user("carol"))},
			wantJudged:   1,
		},
		"binding to another ClusterRole": {
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("alice-view", clusterRoleRef("view"), user("alice@example.com"))},
			roleBindings:        []rbacv1.RoleBinding{roleBinding("team-a", "carol-edit", clusterRoleRef("edit"), user("carol"))},
			wantJudged:          2,
		},
		"every binding is judged, only offending ones fail": {
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{
				bootstrap(clusterRoleBinding("cluster-admin", clusterAdmin, group("system:masters"))),
				clusterRoleBinding("alice-admin", clusterAdmin, user("alice@example.com")),
				clusterRoleBinding("alice-view", clusterRoleRef("view"), user("alice@example.com")),
			},
			roleBindings: []rbacv1.RoleBinding{
				roleBinding("team-a", "carol-edit", clusterRoleRef("edit"), user("carol")),
				roleBinding("team-b", "dave-admin", clusterAdmin, user("dave")),
			},
			wantJudged: 5,
			wantFindings: []gotFinding{
				{Check: id, Object: crbRef("alice-admin"), Message: "roleRef ClusterRole cluster-admin is bound to User alice@example.com (subjects)"},
				{Check: id, Object: rbRef("team-b", "dave-admin"), Message: "roleRef ClusterRole cluster-admin is bound to User dave (subjects; within namespace team-b)"},
			},
		},
	}
	for name, tc := range testCases {
		t.Run(name, func(t *testing.T) {
			s := readAll(func(s *inventory.Snapshot) {
				s.ClusterRoleBindings = tc.clusterRoleBindings
				s.RoleBindings = tc.roleBindings
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

func TestIsSystemSubject(t *testing.T) {
	testCases := map[string]struct {
		subject rbacv1.Subject
		want    bool
	}{
		"system:serviceaccounts group": {
			subject: group("system:serviceaccounts"), want: false,
		},
		"service account by user name": {
			subject: user("system:serviceaccount:ci:deployer"), want: false,
		},
		"system:serviceaccounts:<namespace> group": {
			subject: group("system:serviceaccounts:team-a"), want: false,
		},
		"system:masters group":           {subject: group("system:masters"), want: true},
		"system:nodes group":             {subject: group("system:nodes"), want: true},
		"controller manager user":        {subject: user("system:kube-controller-manager"), want: true},
		"system:authenticated group":     {subject: group("system:authenticated"), want: false},
		"system:unauthenticated group":   {subject: group("system:unauthenticated"), want: false},
		"system:anonymous user":          {subject: user("system:anonymous"), want: false},
		"ordinary user":                  {subject: user("alice"), want: false},
		"service account in kube-system": {subject: serviceAccount("kube-system", "system:foo"), want: false},
	}
	for name, tc := range testCases {
		t.Run(name, func(t *testing.T) {
			if got := IsSystemSubject(tc.subject); got != tc.want {
				t.Errorf("IsSystemSubject(%+v) = %t, want %t", tc.subject, got, tc.want)
			}
		})
	}
}

// TestRBACClusterAdminBindingNotEvaluated checks that a missing binding kind
// makes the check not evaluated, never a pass.
func TestRBACClusterAdminBindingNotEvaluated(t *testing.T) {
	s := readAll(func(s *inventory.Snapshot) {
		s.ClusterRoleBindings = []rbacv1.ClusterRoleBinding{clusterRoleBinding("alice-admin", clusterRoleRef("cluster-admin"), user("alice"))}
	})
	s.MarkMissing(inventory.KindRoleBinding, inventory.MissingForbidden, "rolebindings is forbidden")

	o := runCheck(t, "rbac-cluster-admin-binding", s, nil)
	if o.Evaluated || o.Judged != 0 || len(o.Findings) != 0 {
		t.Errorf("Evaluated=%t Judged=%d findings=%d, want false, 0, 0", o.Evaluated, o.Judged, len(o.Findings))
	}
	if diff := cmp.Diff([]inventory.Kind{inventory.KindRoleBinding}, o.MissingKinds); diff != "" {
		t.Errorf("MissingKinds mismatch (-want +got):\n%s", diff)
	}
}
