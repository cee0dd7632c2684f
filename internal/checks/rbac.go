package checks

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubeposture/kubeposture/internal/inventory"
)

// IsSystemSubject reports whether a subject is a control-plane identity
// (system:kube-controller-manager, system:nodes, system:masters, ...). Not
// system subjects, because granting them anything is a user's decision:
// the groups that stand for everybody or for anonymous users, and service
// accounts in any spelling (ServiceAccount subjects, the
// system:serviceaccount:<ns>:<name> user names, and the
// system:serviceaccounts[:<ns>] groups).
func IsSystemSubject(s rbacv1.Subject) bool {
	if s.Kind == rbacv1.ServiceAccountKind {
		return false
	}
	switch {
	case s.Name == "system:anonymous", s.Name == "system:unauthenticated", s.Name == "system:authenticated":
		return false
	case strings.HasPrefix(s.Name, "system:serviceaccount:"), s.Name == "system:serviceaccounts", strings.HasPrefix(s.Name, "system:serviceaccounts:"):
		return false
	}
	return strings.HasPrefix(s.Name, "system:")
}

func subjectString(s rbacv1.Subject) string {
	if s.Kind == rbacv1.ServiceAccountKind {
		return fmt.Sprintf("ServiceAccount %s/%s", s.Namespace, s.Name)
	}
	return fmt.Sprintf("%s %s", s.Kind, s.Name)
}

func rbacChecks() []*Check {
	return append([]*Check{rbacClusterAdminBindingCheck()}, rbacCatalogueChecks()...)
}

func rbacClusterAdminBindingCheck() *Check {
	return &Check{
		ID:       "rbac-cluster-admin-binding",
		Title:    "cluster-admin bound to non-system subjects",
		Severity: SeverityHigh,
		Category: CategoryRBAC,
		Description: "The cluster-admin ClusterRole grants every verb on every resource. Bindings of it (ClusterRoleBindings, " +
			"or RoleBindings, which grant it within one namespace) to users, groups or service accounts other than the " +
			"control plane's own identities give those subjects full control.",
		Remediation: "Bind a role with only the permissions the subject needs, and remove the cluster-admin binding.",
		Needs:       []inventory.Kind{inventory.KindClusterRoleBinding, inventory.KindRoleBinding},
		Run: func(s *inventory.Snapshot, _ *Config, e *Emitter) {
			// The built-in binding (to system:masters) passes through its subject, not
			// its bootstrapping label: a user added to it is still reported.
			judge := func(ref inventory.ObjectRef, roleRef rbacv1.RoleRef, subjects []rbacv1.Subject, field string) {
				e.Judge(ref)
				if roleRef.Kind != "ClusterRole" || roleRef.Name != "cluster-admin" {
					return
				}
				var names []string
				for _, sub := range subjects {
					if !IsSystemSubject(sub) {
						names = append(names, subjectString(sub))
					}
				}
				if len(names) == 0 {
					return
				}
				sort.Strings(names)
				e.Fail(ref, "roleRef ClusterRole cluster-admin is bound to %s (%s)", strings.Join(names, ", "), field)
			}
			for i := range s.ClusterRoleBindings {
				b := &s.ClusterRoleBindings[i]
				judge(inventory.Ref("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", &b.ObjectMeta), b.RoleRef, b.Subjects, "subjects")
			}
			for i := range s.RoleBindings {
				b := &s.RoleBindings[i]
				judge(inventory.Ref("rbac.authorization.k8s.io/v1", "RoleBinding", &b.ObjectMeta), b.RoleRef, b.Subjects, "subjects; within namespace "+b.Namespace)
			}
		},
	}
}

// The RBAC catalogue below judges effective permissions (see rbacgraph.go):
// one finding per (check, binding), listing the binding's subjects whose
// permissions are the user's decision and the rules that grant. Bindings
// whose subjects are all control-plane identities are not judged.

var (
	rbacKinds        = []inventory.Kind{inventory.KindRole, inventory.KindClusterRole, inventory.KindRoleBinding, inventory.KindClusterRoleBinding}
	rbacClusterKinds = []inventory.Kind{inventory.KindClusterRole, inventory.KindClusterRoleBinding}
	rbacBindingKinds = []inventory.Kind{inventory.KindRoleBinding, inventory.KindClusterRoleBinding}
)

const (
	rbacGrantEvidence = "The binding, its subjects (other than control-plane identities), what it grants and where " +
		"(cluster-wide or in the RoleBinding's namespace; \"only the objects named [...]\" when every granting rule has resourceNames), " +
		"and each granting rule: the bound role, the rule's index in its rules (or the aggregated ClusterRole it comes from) and its " +
		"apiGroups, resources, resourceNames and verbs."
	rbacBindingNote = " Effective permissions are judged: RoleBindings to ClusterRoles grant within their namespace only, " +
		"aggregated ClusterRoles grant the rules of every ClusterRole they aggregate, and wildcards count."
)

// Pod controllers: creating any of them creates pods.
var rbacCreatePodsAsks = []rbacAsk{
	{Verbs: []string{"create"}, Group: "", Resources: []string{"pods", "replicationcontrollers"}},
	{Verbs: []string{"create"}, Group: "apps", Resources: []string{"daemonsets", "deployments", "replicasets", "statefulsets"}},
	{Verbs: []string{"create"}, Group: "batch", Resources: []string{"cronjobs", "jobs"}},
}

var rbacSecretsAsks = []rbacAsk{{Verbs: []string{"get", "list", "watch"}, Group: "", Resources: []string{"secrets"}}}

// Bind and escalate on roles are checked in the role's namespace; so is bind
// on a ClusterRole for a RoleBinding. Escalate on ClusterRoles and
// impersonation of users, groups, uids and extras are cluster-scoped;
// impersonation of service accounts is namespaced.
var rbacBindEscalateImpersonateAsks = []rbacAsk{
	{Verbs: []string{"bind", "escalate"}, Group: rbacv1.GroupName, Resources: []string{"roles"}},
	{Verbs: []string{"bind"}, Group: rbacv1.GroupName, Resources: []string{"clusterroles"}},
	{Verbs: []string{"escalate"}, Group: rbacv1.GroupName, Resources: []string{"clusterroles"}, ClusterScoped: true},
	{Verbs: []string{"impersonate"}, Group: "", Resources: []string{"groups", "users"}, ClusterScoped: true},
	{Verbs: []string{"impersonate"}, Group: "", Resources: []string{"serviceaccounts"}},
	{Verbs: []string{"impersonate"}, Group: "authentication.k8s.io", Resources: []string{"uids", "userextras/*"}, ClusterScoped: true},
}

var rbacTokenCreateAsks = []rbacAsk{{Verbs: []string{"create"}, Group: "", Resources: []string{"serviceaccounts/token"}}}

// rbacGrantCheck is a check that fails every binding granting any of asks to
// a reportable subject. With clusterScoped (every ask is cluster-scoped),
// only ClusterRoleBindings can grant, so only they are judged.
func rbacGrantCheck(c *Check, asks []rbacAsk, clusterScoped bool) *Check {
	c.Category = CategoryRBAC
	c.Evidence = rbacGrantEvidence
	if clusterScoped {
		c.Needs = rbacClusterKinds
	} else {
		c.Needs = rbacKinds
	}
	c.Run = func(s *inventory.Snapshot, _ *Config, e *Emitter) {
		bindings := e.scan.rbacBindings(s)
		for i := range bindings {
			b := &bindings[i]
			if clusterScoped && b.Namespace != "" {
				continue
			}
			subs, _ := b.reportableSubjects()
			if len(subs) == 0 {
				continue
			}
			e.Judge(b.Ref)
			if ms := rbacMatchBinding(b, asks, false); len(ms) > 0 {
				e.Fail(b.Ref, "%s", rbacGrantMessage(b, subs, ms))
			}
		}
	}
	return c
}

func rbacCatalogueChecks() []*Check {
	return []*Check{
		rbacGrantCheck(&Check{
			ID:       "rbac-secrets-access",
			Title:    "Subjects can read Secrets",
			Severity: SeverityHigh,
			Description: "CIS 5.1.2: get, list or watch on secrets discloses their contents, including service account tokens " +
				"and credentials for other systems; list and watch read every Secret of the namespace (or of the cluster) at once." + rbacBindingNote,
			Remediation: "Remove get, list and watch on secrets from the role, or restrict the rule with resourceNames to the Secrets " +
				"the subject needs; bind with a RoleBinding in one namespace rather than a ClusterRoleBinding.",
		}, rbacSecretsAsks, false),
		rbacGrantCheck(&Check{
			ID:       "rbac-create-pods",
			Title:    "Subjects can create pods",
			Severity: SeverityMedium,
			Description: "CIS 5.1.4: whoever can create pods, or the controllers that create them (deployments, replicasets, " +
				"statefulsets, daemonsets, jobs, cronjobs, replicationcontrollers), can run any image as any service account of the " +
				"namespace, mount its Secrets and, unless admission forbids it, run privileged on a node." + rbacBindingNote,
			Remediation: "Remove create on pods and pod controllers from roles that do not need it; deploy through a pipeline " +
				"identity instead of people, and enforce Pod Security admission on the namespace.",
		}, rbacCreatePodsAsks, false),
		{
			ID:       "rbac-default-service-account-bound",
			Title:    "Default service account granted a role",
			Severity: SeverityMedium,
			Category: CategoryRBAC,
			Description: "CIS 5.1.5: every pod that names no service account runs as its namespace's default service account, " +
				"so permissions granted to it (as a ServiceAccount subject, or as the user system:serviceaccount:<namespace>:default) " +
				"are given to every such pod.",
			Remediation: "Create a dedicated service account for the workload that needs the permissions, bind the role to it, " +
				"set spec.serviceAccountName, and remove the default service account from the binding's subjects.",
			Evidence: "The binding, its role and each default service account subject with its index (subjects[i]).",
			Needs:    rbacBindingKinds,
			Run:      runRBACDefaultServiceAccount,
		},
		{
			ID:       "rbac-system-masters",
			Title:    "Bindings to the system:masters group",
			Severity: SeverityHigh,
			Category: CategoryRBAC,
			Description: "CIS 5.1.7: members of system:masters bypass authorization entirely (the API server allows every request " +
				"before RBAC is consulted), membership comes from client certificates that cannot be revoked, and removing a " +
				"binding does not take their access away. Bindings naming the group show that it is relied upon. The built-in " +
				"cluster-admin binding is not reported.",
			Remediation: "Remove system:masters from the binding's subjects; give administrators their own group, bound to the " +
				"role they need, and keep system:masters certificates for break-glass use only.",
			Evidence: "The binding, its role and the system:masters subject with its index (subjects[i]).",
			Needs:    rbacBindingKinds,
			Run:      runRBACSystemMasters,
		},
		rbacGrantCheck(&Check{
			ID:       "rbac-bind-escalate-impersonate",
			Title:    "Subjects can bind, escalate or impersonate",
			Severity: SeverityCritical,
			Description: "CIS 5.1.8: bind on roles or clusterroles lets a subject grant permissions it does not hold, escalate " +
				"lets it edit roles beyond its own permissions, and impersonate on users, groups, service accounts, uids or " +
				"user extras lets it act as another identity (system:masters included): each is a path to cluster-admin." + rbacBindingNote,
			Remediation: "Remove the bind, escalate and impersonate verbs from the role; where a controller needs bind, restrict " +
				"the rule with resourceNames to the roles it may bind.",
		}, rbacBindEscalateImpersonateAsks, false),
		rbacGrantCheck(&Check{
			ID:       "rbac-create-persistentvolumes",
			Title:    "Subjects can create PersistentVolumes",
			Severity: SeverityHigh,
			Description: "CIS 5.1.9: a PersistentVolume can point at a hostPath, so whoever can create one can mount any directory " +
				"of a node (its kubelet credentials, the container runtime's socket) into a pod. PersistentVolumes are " +
				"cluster-scoped: only ClusterRoleBindings grant them." + rbacBindingNote,
			Remediation: "Remove create on persistentvolumes from the role; provision volumes through StorageClasses and " +
				"PersistentVolumeClaims.",
		}, []rbacAsk{{Verbs: []string{"create"}, Group: "", Resources: []string{"persistentvolumes"}, ClusterScoped: true}}, true),
		rbacGrantCheck(&Check{
			ID:       "rbac-nodes-proxy",
			Title:    "Subjects can use the nodes/proxy subresource",
			Severity: SeverityHigh,
			Description: "CIS 5.1.10: nodes/proxy reaches the kubelet API directly, which can run commands in every pod of the " +
				"node; requests through it bypass admission control and are not audited as pod exec. Any verb is reported " +
				"(get is enough to exec over websockets). Nodes are cluster-scoped: only ClusterRoleBindings grant them." + rbacBindingNote,
			Remediation: "Remove nodes/proxy (and wildcard resources) from the role; grant nodes/metrics, nodes/stats or " +
				"nodes/log for monitoring instead.",
		}, []rbacAsk{{Group: "", Resources: []string{"nodes/proxy"}, ClusterScoped: true}}, true),
		rbacGrantCheck(&Check{
			ID:       "rbac-csr-approval",
			Title:    "Subjects can approve certificate signing requests",
			Severity: SeverityHigh,
			Description: "CIS 5.1.11: update or patch on certificatesigningrequests/approval, or approve on signers, lets a " +
				"subject approve CSRs, for example a client certificate for the system:masters group or a node's identity." + rbacBindingNote,
			Remediation: "Remove update and patch on certificatesigningrequests/approval and approve on signers from the role; " +
				"where an approver is needed, restrict approve with resourceNames to its own signerName.",
		}, []rbacAsk{
			{Verbs: []string{"patch", "update"}, Group: "certificates.k8s.io", Resources: []string{"certificatesigningrequests/approval"}, ClusterScoped: true},
			{Verbs: []string{"approve"}, Group: "certificates.k8s.io", Resources: []string{"signers"}, ClusterScoped: true},
		}, true),
		rbacGrantCheck(&Check{
			ID:       "rbac-webhook-configuration-write",
			Title:    "Subjects can change admission webhook configurations",
			Severity: SeverityHigh,
			Description: "CIS 5.1.12: whoever can create, update, patch or delete validating or mutating webhook configurations " +
				"can switch off admission policy, or send every object (Secrets included) to a webhook of their own and " +
				"mutate pods as they are created." + rbacBindingNote,
			Remediation: "Remove create, update, patch, delete and deletecollection on validatingwebhookconfigurations and " +
				"mutatingwebhookconfigurations from the role; leave them to the cluster's administrators and the " +
				"controllers that own their webhooks, restricted with resourceNames.",
		}, []rbacAsk{{
			Verbs: []string{"create", "delete", "deletecollection", "patch", "update"}, Group: "admissionregistration.k8s.io",
			Resources: []string{"mutatingwebhookconfigurations", "validatingwebhookconfigurations"}, ClusterScoped: true,
		}}, true),
		rbacGrantCheck(&Check{
			ID:       "rbac-serviceaccount-token-create",
			Title:    "Subjects can create service account tokens",
			Severity: SeverityHigh,
			Description: "CIS 5.1.13: create on serviceaccounts/token mints a token for any service account in scope, which " +
				"gives the subject every permission of those service accounts." + rbacBindingNote,
			Remediation: "Remove create on serviceaccounts/token from the role, or restrict it with resourceNames to the " +
				"service accounts the subject must act as.",
		}, rbacTokenCreateAsks, false),
		rbacGrantCheck(&Check{
			ID:       "rbac-pod-exec-attach-portforward",
			Title:    "Subjects can exec into, attach to or port-forward to pods",
			Severity: SeverityHigh,
			Description: "create on pods/exec, pods/attach or pods/portforward (get, for clients that still use it) runs " +
				"commands in, or connects to, the containers of every pod in scope, with their service account tokens, " +
				"mounted Secrets and network access." + rbacBindingNote,
			Remediation: "Remove pods/exec, pods/attach and pods/portforward from the role; grant them for debugging through a " +
				"separate, time-limited binding, restricted with resourceNames where possible.",
		}, []rbacAsk{{Verbs: []string{"create", "get"}, Group: "", Resources: []string{"pods/attach", "pods/exec", "pods/portforward"}}}, false),
		{
			ID:       "rbac-wildcard-rules",
			Title:    "Roles with wildcard rules",
			Severity: SeverityMedium,
			Category: CategoryRBAC,
			Description: "CIS 5.1.3: \"*\" in verbs, resources or apiGroups grants everything that exists now and every resource " +
				"or verb added later (for example a CRD holding credentials). The API server's built-in roles (names starting " +
				"with system:, the kubernetes.io/bootstrapping=rbac-defaults label, cluster-admin, admin, edit and view) are not " +
				"judged; aggregated ClusterRoles are judged on the rules they aggregate.",
			Remediation: "List the verbs, API groups and resources the role needs instead of \"*\".",
			Evidence: "The role and each rule with a wildcard: its index in rules (or the aggregated ClusterRole it comes from), " +
				"the fields holding \"*\" and the rule.",
			Needs: []inventory.Kind{inventory.KindRole, inventory.KindClusterRole},
			Run:   runRBACWildcardRules,
		},
		{
			ID:       "rbac-anonymous-access",
			Title:    "Anonymous or all authenticated users granted permissions",
			Severity: SeverityCritical,
			Category: CategoryRBAC,
			Description: "Bindings to system:anonymous or system:unauthenticated grant to anyone who can reach the API server; " +
				"bindings to system:authenticated grant to every identity, every service account included. Reported: anything " +
				"granted to anonymous users beyond the public health, version and service-account-issuer discovery endpoints, " +
				"and anything granted to all authenticated users beyond API discovery and self-subject reviews (what the " +
				"built-in system:discovery, system:basic-user and system:public-info-viewer bindings give).",
			Remediation: "Remove system:anonymous, system:unauthenticated and system:authenticated from the binding's subjects and " +
				"bind the role to the groups that need it; consider --anonymous-auth=false on the API server.",
			Evidence: "The binding, the anonymous or all-users subjects, and each rule granting more than the allowed discovery " +
				"(or the role, when it is not in the snapshot).",
			Needs: rbacKinds,
			Run:   runRBACAnonymousAccess,
		},
		{
			ID:       "rbac-workload-cluster-takeover",
			Title:    "Workloads whose service account can take over the cluster",
			Severity: SeverityCritical,
			Category: CategoryRBAC,
			Description: "A workload whose service account can read Secrets, create pods (or pod controllers), bind, escalate, " +
				"impersonate or mint service account tokens cluster-wide or in kube-system hands cluster-admin to whoever " +
				"compromises one of its containers: the token is mounted in every pod. The service account's grants include " +
				"those to its groups (system:serviceaccounts, system:serviceaccounts:<namespace>, system:authenticated). " +
				"Workloads in kube-system are the platform's own and are not judged; nor are pods that mount no token " +
				"(automountServiceAccountToken: false on the pod, or unset on the pod and false on its ServiceAccount when " +
				"that is in the snapshot, and no projected serviceAccountToken volume).",
			Remediation: "Give the workload a dedicated service account bound only to what it needs, in its own namespace; " +
				"move cluster-wide powers to a separate controller, or set automountServiceAccountToken: false if the " +
				"workload does not call the API.",
			Evidence: "The service account and the field naming it (serviceAccountName, serviceAccount, or the default), then " +
				"each path: binding, subject, what it grants and where, and the granting rules.",
			Needs: append(slices.Clone(rbacKinds), inventory.WorkloadKinds...),
			// Judged one template at a time, with the other workload checks.
			PerTemplate: prepareRBACWorkloadTakeover,
		},
	}
}

func runRBACDefaultServiceAccount(s *inventory.Snapshot, _ *Config, e *Emitter) {
	bindings := listRBACBindings(s)
	for i := range bindings {
		b := &bindings[i]
		subs, idx := b.reportableSubjects()
		if len(subs) == 0 {
			continue
		}
		e.Judge(b.Ref)
		var found []string
		for j, sub := range subs {
			if isDefaultServiceAccountSubject(sub) {
				found = append(found, fmt.Sprintf("%s (subjects[%d])", rbacSubject(sub), idx[j]))
			}
		}
		if len(found) > 0 {
			e.Fail(b.Ref, "%s binds %s to %s %s", b.kindName(), b.roleString(), strings.Join(found, ", "), b.scope())
		}
	}
}

// isDefaultServiceAccountSubject reports whether a (defaulted) subject is a
// namespace's default service account, in either spelling.
func isDefaultServiceAccountSubject(sub rbacv1.Subject) bool {
	switch sub.Kind {
	case rbacv1.ServiceAccountKind:
		return sub.Name == "default"
	case rbacv1.UserKind:
		ns, name, ok := rbacServiceAccountUser(sub.Name)
		return ok && ns != "" && name == "default"
	}
	return false
}

// rbacServiceAccountUser splits a service account's user name,
// system:serviceaccount:<namespace>:<name>.
func rbacServiceAccountUser(user string) (namespace, name string, ok bool) {
	rest, ok := strings.CutPrefix(user, "system:serviceaccount:")
	if !ok {
		return "", "", false
	}
	namespace, name, ok = strings.Cut(rest, ":")
	return namespace, name, ok && namespace != "" && name != "" && !strings.Contains(name, ":")
}

func runRBACSystemMasters(s *inventory.Snapshot, _ *Config, e *Emitter) {
	bindings := listRBACBindings(s)
	for i := range bindings {
		b := &bindings[i]
		if b.Ref.Kind == "ClusterRoleBinding" && b.Ref.Name == "cluster-admin" && b.Meta.Labels[rbacBootstrapLabel] == rbacBootstrapValue {
			continue // the built-in binding that makes system:masters cluster-admin
		}
		e.Judge(b.Ref)
		var found []string
		for j, sub := range b.Subjects {
			if sub.Kind == rbacv1.GroupKind && sub.Name == "system:masters" {
				found = append(found, fmt.Sprintf("%s (subjects[%d])", rbacSubject(sub), j))
			}
		}
		if len(found) > 0 {
			e.Fail(b.Ref, "%s binds %s to %s %s", b.kindName(), b.roleString(), strings.Join(found, ", "), b.scope())
		}
	}
}

// isBuiltInRBACRole reports whether a role is one of the API server's own.
func isBuiltInRBACRole(m *metav1.ObjectMeta, cluster bool) bool {
	if strings.HasPrefix(m.Name, "system:") || m.Labels[rbacBootstrapLabel] == rbacBootstrapValue {
		return true
	}
	if !cluster {
		return false
	}
	switch m.Name {
	case "cluster-admin", "admin", "edit", "view":
		return true
	}
	return false
}

func runRBACWildcardRules(s *inventory.Snapshot, _ *Config, e *Emitter) {
	r := newRBACResolver(s)
	judge := func(ref inventory.ObjectRef, rules []rbacRule) {
		e.Judge(ref)
		var items []string
		for i := range rules {
			p := &rules[i].Rule
			var fields []string
			if slices.Contains(p.APIGroups, rbacv1.APIGroupAll) {
				fields = append(fields, "apiGroups")
			}
			if slices.ContainsFunc(p.Resources, func(r string) bool { return r == rbacv1.ResourceAll || strings.HasPrefix(r, "*/") }) {
				fields = append(fields, "resources")
			}
			if slices.Contains(p.Verbs, rbacv1.VerbAll) {
				fields = append(fields, "verbs")
			}
			if len(fields) > 0 {
				items = append(items, fmt.Sprintf("%s has \"*\" in %s %s", rbacRuleRef(&rules[i]), strings.Join(fields, ", "), rbacRuleString(p)))
			}
		}
		if len(items) > 0 {
			e.Fail(ref, "%s", rbacBoundedList(items, rbacMaxListed, "rule(s)", "; "))
		}
	}
	for i := range s.Roles {
		o := &s.Roles[i]
		if isBuiltInRBACRole(&o.ObjectMeta, false) {
			continue
		}
		rules, _ := r.roleRules(o.Namespace, o.Name)
		judge(inventory.Ref(rbacAPIVersion, "Role", &o.ObjectMeta), rules)
	}
	for i := range s.ClusterRoles {
		o := &s.ClusterRoles[i]
		if isBuiltInRBACRole(&o.ObjectMeta, true) {
			continue
		}
		rules, _, _ := r.clusterRoleRules(o.Name)
		judge(inventory.Ref(rbacAPIVersion, "ClusterRole", &o.ObjectMeta), rules)
	}
}

// rbacAllowance is a set of harmless permissions: get on some non-resource
// URLs, create on some resources (group/resource).
type rbacAllowance struct {
	desc      string
	urls      map[string]bool
	resources map[string]bool
}

// publicInfo is what system:public-info-viewer grants, and the service
// account issuer discovery documents (public by design).
var rbacPublicInfo = rbacAllowance{
	desc: "the public health, version and issuer discovery endpoints",
	urls: map[string]bool{
		"/livez": true, "/readyz": true, "/healthz": true, "/version": true, "/version/": true,
		"/.well-known/openid-configuration": true, "/.well-known/openid-configuration/": true,
		"/openid/v1/jwks": true, "/openid/v1/jwks/": true,
	},
}

// rbacDiscovery adds what system:discovery and system:basic-user grant.
var rbacDiscovery = rbacAllowance{
	desc: "API discovery and self-subject reviews",
	urls: map[string]bool{
		"/livez": true, "/readyz": true, "/healthz": true, "/version": true, "/version/": true,
		"/.well-known/openid-configuration": true, "/.well-known/openid-configuration/": true,
		"/openid/v1/jwks": true, "/openid/v1/jwks/": true,
		"/openapi": true, "/openapi/*": true, "/api": true, "/api/*": true, "/apis": true, "/apis/*": true,
	},
	resources: map[string]bool{
		"authorization.k8s.io/selfsubjectaccessreviews": true,
		"authorization.k8s.io/selfsubjectrulesreviews":  true,
		"authentication.k8s.io/selfsubjectreviews":      true,
	},
}

// allows reports whether a rule grants nothing beyond the allowance, through
// a binding granting in namespace (non-resource URLs are never granted by a RoleBinding).
func (a *rbacAllowance) allows(p *rbacv1.PolicyRule, namespace string) bool {
	if len(p.Resources) > 0 && len(p.APIGroups) > 0 && len(p.Verbs) > 0 {
		for _, v := range p.Verbs {
			if v != "create" {
				return false
			}
		}
		for _, g := range p.APIGroups {
			for _, r := range p.Resources {
				if !a.resources[g+"/"+r] {
					return false
				}
			}
		}
	}
	if len(p.NonResourceURLs) > 0 && len(p.Verbs) > 0 && namespace == "" {
		for _, v := range p.Verbs {
			if v != "get" {
				return false
			}
		}
		for _, u := range p.NonResourceURLs {
			if !a.urls[u] {
				return false
			}
		}
	}
	return true
}

// rbacBuiltInDiscoveryBindings are the API server's bindings to all users.
var rbacBuiltInDiscoveryBindings = map[string]bool{"system:discovery": true, "system:basic-user": true, "system:public-info-viewer": true}

func runRBACAnonymousAccess(s *inventory.Snapshot, _ *Config, e *Emitter) {
	bindings := e.scan.rbacBindings(s)
	for i := range bindings {
		b := &bindings[i]
		subs, _ := b.reportableSubjects()
		if len(subs) == 0 {
			continue
		}
		e.Judge(b.Ref)
		var anonymous, authenticated []rbacv1.Subject
		for _, sub := range subs {
			switch {
			case sub.Kind == rbacv1.UserKind && sub.Name == "system:anonymous",
				sub.Kind == rbacv1.GroupKind && sub.Name == "system:unauthenticated":
				anonymous = append(anonymous, sub)
			case sub.Kind == rbacv1.GroupKind && sub.Name == "system:authenticated":
				authenticated = append(authenticated, sub)
			}
		}
		// The built-in bindings to everybody: clusters upgraded from before
		// 1.14 still bind system:discovery and system:basic-user to
		// system:unauthenticated too, which Kubernetes keeps on purpose.
		builtIn := b.Ref.Kind == "ClusterRoleBinding" && rbacBuiltInDiscoveryBindings[b.Ref.Name] &&
			b.RoleRef.Kind == "ClusterRole" && b.RoleRef.Name == b.Ref.Name
		var parts []string
		beyond := func(subs []rbacv1.Subject, a *rbacAllowance) {
			var ms []rbacMatch
			for j := range b.Rules {
				if !a.allows(&b.Rules[j].Rule, b.Namespace) {
					ms = append(ms, rbacMatch{Rule: &b.Rules[j]})
				}
			}
			if len(ms) == 0 {
				return
			}
			rules := make([]*rbacRule, len(ms))
			for j := range ms {
				rules[j] = ms[j].Rule
			}
			parts = append(parts, fmt.Sprintf("%s grants %s more than %s %s through %s %s",
				b.kindName(), rbacSubjects(subs), a.desc, b.scope(), b.roleString(), rbacRulesString(rules)))
		}
		if len(anonymous) > 0 {
			switch {
			case builtIn:
				beyond(anonymous, &rbacDiscovery)
			case !b.Resolved:
				parts = append(parts, fmt.Sprintf("%s binds %s, which is not in the snapshot, to %s %s",
					b.kindName(), b.roleString(), rbacSubjects(anonymous), b.scope()))
			default:
				beyond(anonymous, &rbacPublicInfo)
			}
		}
		if len(authenticated) > 0 {
			beyond(authenticated, &rbacDiscovery)
		}
		if len(parts) > 0 {
			e.Fail(b.Ref, "%s", strings.Join(parts, "; "))
		}
	}
}

// rbacTakeoverAsks are the permissions that, cluster-wide or in kube-system,
// amount to cluster-admin.
var rbacTakeoverAsks = slices.Concat(rbacSecretsAsks, rbacCreatePodsAsks, rbacBindEscalateImpersonateAsks, rbacTokenCreateAsks)

func prepareRBACWorkloadTakeover(s *inventory.Snapshot, _ *Config, e *Emitter) func(w *inventory.Workload) {
	type path struct {
		b  *rbacBinding
		ms []rbacMatch
	}
	type hit struct {
		path int
		sub  rbacv1.Subject
	}
	bindings := e.scan.rbacBindings(s)
	var paths []path
	bySA := map[string][]hit{} // namespace/name
	byNS := map[string][]hit{} // system:serviceaccounts:<namespace>
	var everyone []hit         // system:serviceaccounts, system:authenticated
	for i := range bindings {
		b := &bindings[i]
		if b.Namespace != "" && b.Namespace != "kube-system" {
			continue
		}
		ms := rbacMatchBinding(b, rbacTakeoverAsks, true)
		if len(ms) == 0 {
			continue
		}
		p := len(paths)
		paths = append(paths, path{b: b, ms: ms})
		for _, sub := range b.Subjects {
			sub, ok := b.effectiveSubject(sub)
			if !ok {
				continue
			}
			h := hit{path: p, sub: sub}
			switch sub.Kind {
			case rbacv1.ServiceAccountKind:
				bySA[sub.Namespace+"/"+sub.Name] = append(bySA[sub.Namespace+"/"+sub.Name], h)
			case rbacv1.UserKind:
				if ns, name, ok := rbacServiceAccountUser(sub.Name); ok {
					bySA[ns+"/"+name] = append(bySA[ns+"/"+name], h)
				}
			case rbacv1.GroupKind:
				switch {
				case sub.Name == "system:serviceaccounts", sub.Name == "system:authenticated":
					everyone = append(everyone, h)
				case strings.HasPrefix(sub.Name, "system:serviceaccounts:"):
					ns := strings.TrimPrefix(sub.Name, "system:serviceaccounts:")
					byNS[ns] = append(byNS[ns], h)
				}
			}
		}
	}
	// The ServiceAccounts' own automount setting, where they were read.
	sas := indexServiceAccounts(s)
	return func(w *inventory.Workload) {
		ns := w.Ref.Namespace
		if ns == "kube-system" {
			return // the platform's own workloads
		}
		e.Judge(w.Ref)
		sa, field := podServiceAccount(w.Spec)
		if len(paths) == 0 || !rbacMountsToken(w.Spec, sas.of(ns, sa)) {
			return
		}
		subsOf := map[int][]rbacv1.Subject{}
		for _, hits := range [][]hit{bySA[ns+"/"+sa], byNS[ns], everyone} {
			for _, h := range hits {
				subsOf[h.path] = append(subsOf[h.path], h.sub)
			}
		}
		if len(subsOf) == 0 {
			return
		}
		order := make([]int, 0, len(subsOf))
		for p := range subsOf {
			order = append(order, p)
		}
		slices.Sort(order)
		items := make([]string, len(order))
		for i, p := range order {
			items[i] = rbacGrantMessage(paths[p].b, subsOf[p], paths[p].ms)
		}
		e.Fail(w.Ref, "pod template runs as ServiceAccount %q (%s), and %s",
			ns+"/"+sa, field, rbacBoundedList(items, rbacMaxListed, "binding(s)", "; "))
	}
}

// rbacMountsToken reports whether a pod holds its service account's
// token: automounted unless the pod says false, or leaves it unset and its
// ServiceAccount sa says false (the pod's setting wins; a ServiceAccount not
// in the snapshot, nil, is taken to automount), or projected explicitly.
func rbacMountsToken(spec *corev1.PodSpec, sa *corev1.ServiceAccount) bool {
	switch automount := spec.AutomountServiceAccountToken; {
	case automount != nil && *automount:
		return true
	case automount == nil && (sa == nil || sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken):
		return true
	}
	for i := range spec.Volumes {
		if p := spec.Volumes[i].Projected; p != nil {
			for j := range p.Sources {
				if p.Sources[j].ServiceAccountToken != nil {
					return true
				}
			}
		}
	}
	return false
}
