// Package manifests tests the shipped manifests as data: what the RBAC in
// config/rbac grants, rule by rule.
package manifests

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/kubeposture/kubeposture/internal/inventory"
)

const rbacDir = "../../config/rbac"

// The manager's identity, as config/rbac binds it.
const (
	managerSA        = "kubeposture-manager"
	managerNamespace = "kubeposture-system"
)

// readVerbs are the only verbs that change nothing.
var readVerbs = []string{"get", "list", "watch"}

// writeAllowed lists, per API group, the resources the manager may write and
// with which verbs: its own output, its ClusterScans' status, events, its
// leader-election Lease, and the review APIs (create-only, nothing stored).
// Anything else it may only read.
var writeAllowed = map[string]map[string][]string{
	"posture.kubeposture.io": {
		"scanreports":             {"create", "update", "delete"},
		"clusterscanreports":      {"create", "update", "delete"},
		"clusterscans/status":     {"update", "patch"},
		"clusterscans/finalizers": {"update"},
	},
	// Optional OpenReports output (spec.openReports), also the operator's own.
	"openreports.io": {
		"reports":        {"create", "update", "delete"},
		"clusterreports": {"create", "update", "delete"},
	},
	"":                    {"events": {"create", "patch"}},
	"events.k8s.io":       {"events": {"create", "patch"}},
	"coordination.k8s.io": {"leases": {"create", "update", "patch", "delete"}},
	"authorization.k8s.io": {
		"selfsubjectaccessreviews": {"create"},
		"subjectaccessreviews":     {"create"},
	},
	"authentication.k8s.io": {"tokenreviews": {"create"}},
}

// namespacedOnly are resources the manager may write only through a Role in
// its own namespace, never cluster-wide.
var namespacedOnly = map[string]bool{"coordination.k8s.io/leases": true}

// rbacObjects is every RBAC object of config/rbac, by file.
type rbacObjects struct {
	clusterRoles        map[string]*rbacv1.ClusterRole
	roles               map[string]*rbacv1.Role // by namespace/name
	clusterRoleBindings []*rbacv1.ClusterRoleBinding
	roleBindings        []*rbacv1.RoleBinding
	files               map[string]string // object key -> file
}

func loadRBAC(t *testing.T) *rbacObjects {
	t.Helper()
	o := &rbacObjects{clusterRoles: map[string]*rbacv1.ClusterRole{}, roles: map[string]*rbacv1.Role{}, files: map[string]string{}}
	paths, err := filepath.Glob(filepath.Join(rbacDir, "*.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no YAML in %s: %v", rbacDir, err)
	}
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		file := "config/rbac/" + filepath.Base(path)
		r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
		for doc := 1; ; doc++ {
			raw, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			if len(bytes.TrimSpace(raw)) == 0 || isComment(raw) {
				continue
			}
			var tm metav1.TypeMeta
			if err := yaml.Unmarshal(raw, &tm); err != nil {
				t.Fatalf("%s document %d: %v", file, doc, err)
			}
			where := fmt.Sprintf("%s document %d (%s)", file, doc, tm.Kind)
			switch {
			case tm.APIVersion == rbacv1.SchemeGroupVersion.String() && tm.Kind == "ClusterRole":
				v := &rbacv1.ClusterRole{}
				strict(t, where, raw, v)
				o.clusterRoles[v.Name] = v
				o.files["ClusterRole "+v.Name] = file
			case tm.APIVersion == rbacv1.SchemeGroupVersion.String() && tm.Kind == "Role":
				v := &rbacv1.Role{}
				strict(t, where, raw, v)
				o.roles[v.Namespace+"/"+v.Name] = v
				o.files["Role "+v.Namespace+"/"+v.Name] = file
			case tm.APIVersion == rbacv1.SchemeGroupVersion.String() && tm.Kind == "ClusterRoleBinding":
				v := &rbacv1.ClusterRoleBinding{}
				strict(t, where, raw, v)
				o.clusterRoleBindings = append(o.clusterRoleBindings, v)
			case tm.APIVersion == rbacv1.SchemeGroupVersion.String() && tm.Kind == "RoleBinding":
				v := &rbacv1.RoleBinding{}
				strict(t, where, raw, v)
				o.roleBindings = append(o.roleBindings, v)
			case tm.Kind == "ServiceAccount" || tm.Kind == "Kustomization":
			default:
				t.Fatalf("%s: unexpected %s %s in config/rbac", where, tm.APIVersion, tm.Kind)
			}
		}
	}
	return o
}

func strict(t *testing.T, where string, raw []byte, into any) {
	t.Helper()
	if err := yaml.UnmarshalStrict(raw, into); err != nil {
		t.Fatalf("%s: %v", where, err)
	}
}

func isComment(raw []byte) bool {
	for line := range strings.SplitSeq(string(raw), "\n") {
		if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "#") {
			return false
		}
	}
	return true
}

// isManager says whether a binding's subjects include the manager's ServiceAccount.
func isManager(subjects []rbacv1.Subject) bool {
	return slices.ContainsFunc(subjects, func(s rbacv1.Subject) bool {
		return s.Kind == rbacv1.ServiceAccountKind && s.Name == managerSA && s.Namespace == managerNamespace
	})
}

// boundRule is a rule and where it comes from.
type boundRule struct {
	where      string
	rule       rbacv1.PolicyRule
	namespaced bool
}

// managerRules are the rules of every role bound to the manager, plus the
// optional Secret metadata role meant for it.
func (o *rbacObjects) managerRules(t *testing.T) []boundRule {
	t.Helper()
	var out []boundRule
	addCluster := func(name string) {
		cr, ok := o.clusterRoles[name]
		if !ok {
			t.Fatalf("the manager is bound to ClusterRole %s, which config/rbac does not define", name)
		}
		for i, r := range cr.Rules {
			out = append(out, boundRule{where: fmt.Sprintf("%s: ClusterRole %s rules[%d]", o.files["ClusterRole "+name], name, i), rule: r})
		}
	}
	for _, b := range o.clusterRoleBindings {
		if isManager(b.Subjects) {
			addCluster(b.RoleRef.Name)
		}
	}
	for _, b := range o.roleBindings {
		if !isManager(b.Subjects) {
			continue
		}
		if b.RoleRef.Kind == "ClusterRole" {
			t.Fatalf("RoleBinding %s/%s binds the manager to ClusterRole %s: bind ClusterRoles with ClusterRoleBindings, Roles with RoleBindings", b.Namespace, b.Name, b.RoleRef.Name)
		}
		key := b.Namespace + "/" + b.RoleRef.Name
		role, ok := o.roles[key]
		if !ok {
			t.Fatalf("the manager is bound to Role %s, which config/rbac does not define", key)
		}
		for i, r := range role.Rules {
			out = append(out, boundRule{where: fmt.Sprintf("%s: Role %s rules[%d]", o.files["Role "+key], key, i), rule: r, namespaced: true})
		}
	}
	addCluster("kubeposture-secret-metadata")
	return out
}

// No role in config/rbac uses a wildcard anywhere.
func TestRBACHasNoWildcard(t *testing.T) {
	o := loadRBAC(t)
	check := func(where string, rules []rbacv1.PolicyRule) {
		for i, r := range rules {
			for field, values := range map[string][]string{
				"apiGroups": r.APIGroups, "resources": r.Resources, "verbs": r.Verbs, "resourceNames": r.ResourceNames, "nonResourceURLs": r.NonResourceURLs,
			} {
				for _, v := range values {
					if strings.Contains(v, "*") {
						t.Errorf("%s rules[%d].%s has the wildcard %q", where, i, field, v)
					}
				}
			}
		}
	}
	for n, cr := range o.clusterRoles {
		check(o.files["ClusterRole "+n]+": ClusterRole "+n, cr.Rules)
		if cr.AggregationRule != nil {
			t.Errorf("ClusterRole %s aggregates other roles: its grants would not be in config/rbac", n)
		}
	}
	for key, r := range o.roles {
		check(o.files["Role "+key]+": Role "+key, r.Rules)
	}
	if len(o.clusterRoles) < 5 || len(o.roles) < 1 {
		t.Fatalf("read %d ClusterRoles and %d Roles: config/rbac not parsed", len(o.clusterRoles), len(o.roles))
	}
}

// The manager writes only its own output, its ClusterScans' status, events,
// its Lease (in its own namespace) and the review APIs; it reads the rest.
func TestRBACManagerWritesOnlyItsOwn(t *testing.T) {
	o := loadRBAC(t)
	rules := o.managerRules(t)
	if len(rules) < 10 {
		t.Fatalf("the manager has %d rules: its bindings were not found", len(rules))
	}
	for _, br := range rules {
		r := br.rule
		if len(r.NonResourceURLs) > 0 {
			t.Errorf("%s grants non-resource URLs %v", br.where, r.NonResourceURLs)
		}
		writes := slices.DeleteFunc(slices.Clone(r.Verbs), func(v string) bool { return slices.Contains(readVerbs, v) })
		if len(writes) == 0 {
			continue
		}
		if len(r.ResourceNames) > 0 {
			t.Errorf("%s: unexpected resourceNames %v", br.where, r.ResourceNames)
		}
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				allowed, ok := writeAllowed[g][res]
				if !ok {
					t.Errorf("%s grants %v on %s in group %q: the manager writes nothing but its own objects, events and leases", br.where, writes, res, g)
					continue
				}
				for _, v := range writes {
					if !slices.Contains(allowed, v) {
						t.Errorf("%s grants %s on %s in group %q; allowed: %v", br.where, v, res, g, allowed)
					}
				}
				if namespacedOnly[g+"/"+res] && !br.namespaced {
					t.Errorf("%s grants %v on %s/%s cluster-wide: only in the manager's own namespace", br.where, writes, g, res)
				}
			}
		}
	}
}

// Every kind a scan reads by default is granted get, list and watch in the
// generated ClusterRole, and nothing more; Secrets are not in it at all.
func TestRBACManagerReadsWhatItScans(t *testing.T) {
	o := loadRBAC(t)
	role, ok := o.clusterRoles["kubeposture-manager"]
	if !ok {
		t.Fatal("config/rbac/role.yaml defines no ClusterRole kubeposture-manager")
	}
	verbs := func(group, resource string) []string {
		var out []string
		for _, r := range role.Rules {
			if slices.Contains(r.APIGroups, group) && slices.Contains(r.Resources, resource) {
				out = append(out, r.Verbs...)
			}
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	for _, k := range inventory.DefaultKinds {
		res, ok := inventory.Resource(k)
		if !ok {
			t.Fatalf("no resource name for kind %s", k)
		}
		group := inventory.GVK(k).Group
		if got := verbs(group, res); !slices.Equal(got, []string{"get", "list", "watch"}) {
			t.Errorf("kubeposture-manager grants %v on %s (group %q); want exactly get, list, watch", got, res, group)
		}
	}
	for _, r := range role.Rules {
		if slices.Contains(r.Resources, "secrets") {
			t.Errorf("kubeposture-manager names secrets (%v): Secret metadata is opt-in (secret_metadata_role.yaml)", r.Verbs)
		}
	}
	// The manager never writes a ClusterScan itself: users own the spec.
	if got := verbs("posture.kubeposture.io", "clusterscans"); !slices.Equal(got, []string{"get", "list", "watch"}) {
		t.Errorf("kubeposture-manager grants %v on clusterscans; want only get, list, watch", got)
	}
}

// The optional Secret metadata role reads Secrets and nothing else; it is
// not installed by default (config/rbac/kustomization.yaml leaves it out).
func TestRBACSecretMetadataRoleIsReadOnlyAndOptIn(t *testing.T) {
	o := loadRBAC(t)
	cr, ok := o.clusterRoles["kubeposture-secret-metadata"]
	if !ok {
		t.Fatal("config/rbac/secret_metadata_role.yaml defines no ClusterRole kubeposture-secret-metadata")
	}
	if len(cr.Rules) != 1 {
		t.Fatalf("kubeposture-secret-metadata has %d rules, want 1", len(cr.Rules))
	}
	r := cr.Rules[0]
	if !slices.Equal(r.APIGroups, []string{""}) || !slices.Equal(r.Resources, []string{"secrets"}) || len(r.ResourceNames) > 0 || len(r.NonResourceURLs) > 0 {
		t.Errorf("kubeposture-secret-metadata rule = %+v; want core secrets only", r)
	}
	if len(r.Verbs) == 0 || slices.ContainsFunc(r.Verbs, func(v string) bool { return !slices.Contains(readVerbs, v) }) {
		t.Errorf("kubeposture-secret-metadata verbs %v; want only get, list and watch", r.Verbs)
	}

	data, err := os.ReadFile(filepath.Join(rbacDir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		Resources []string `json:"resources"`
	}
	if err := yaml.Unmarshal(data, &k); err != nil {
		t.Fatalf("config/rbac/kustomization.yaml: %v", err)
	}
	if slices.Contains(k.Resources, "secret_metadata_role.yaml") {
		t.Error("config/rbac/kustomization.yaml installs secret_metadata_role.yaml; it must stay opt-in")
	}
	for _, b := range o.clusterRoleBindings {
		if b.RoleRef.Name == cr.Name {
			t.Errorf("ClusterRoleBinding %s binds kubeposture-secret-metadata by default", b.Name)
		}
	}
	// Every other file is installed, so that the tests above judge what is deployed.
	paths, _ := filepath.Glob(filepath.Join(rbacDir, "*.yaml"))
	for _, p := range paths {
		base := filepath.Base(p)
		if base != "kustomization.yaml" && base != "secret_metadata_role.yaml" && !slices.Contains(k.Resources, base) {
			t.Errorf("config/rbac/%s is not listed in config/rbac/kustomization.yaml", base)
		}
	}
}

// The roles for people are read-only.
func TestRBACViewerRolesAreReadOnly(t *testing.T) {
	o := loadRBAC(t)
	for _, n := range []string{"kubeposture-scanreport-viewer", "kubeposture-clusterscan-viewer", "kubeposture-metrics-reader"} {
		cr, ok := o.clusterRoles[n]
		if !ok {
			t.Errorf("config/rbac defines no ClusterRole %s", n)
			continue
		}
		for i, r := range cr.Rules {
			if slices.ContainsFunc(r.Verbs, func(v string) bool { return !slices.Contains(readVerbs, v) }) {
				t.Errorf("ClusterRole %s rules[%d] grants %v: viewer roles are read-only", n, i, r.Verbs)
			}
			for _, g := range r.APIGroups {
				if g != "posture.kubeposture.io" {
					t.Errorf("ClusterRole %s rules[%d] grants group %q: viewers read results only", n, i, g)
				}
			}
		}
	}
}
