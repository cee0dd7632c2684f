package engine_test

import (
	"encoding/json"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	posturev1alpha1 "github.com/kubeposture/kubeposture/api/v1alpha1"
	"github.com/kubeposture/kubeposture/internal/checks"
	"github.com/kubeposture/kubeposture/internal/engine"
	"github.com/kubeposture/kubeposture/internal/inventory"
	"github.com/kubeposture/kubeposture/internal/report"
)

// Odd but legal objects: shapes the API server admits, or a manifest may
// hold, that checks rarely meet. The objects are typed, so that shapes the
// API server would reject before a cluster scan sees them (a Pod without
// containers, unicode container names) are judged too, as the CLI judges
// them in manifests. For each: no check panics, every check is evaluated,
// the findings are the ones the shape calls for, and the reports built from
// them stay within their bounds.

// etcdLimit is etcd's default request size limit: a report larger than this
// could not be stored.
const etcdLimit = 1536 * 1024

type oddCase struct {
	fill func(s *inventory.Snapshot)
	// manifest, when set, is loaded with the manifest loader instead of fill.
	manifest string
	want     func(t *testing.T, r *scanned)
}

// scanned is what one odd case produced.
type scanned struct {
	res *engine.Result
	set report.Set
}

// findings returns the findings of check id about the object named name.
func (s *scanned) findings(t *testing.T, id, name string) []checks.Finding {
	t.Helper()
	var out []checks.Finding
	found := false
	for _, o := range s.res.Outcomes {
		if o.Check.ID != id {
			continue
		}
		found = true
		for _, f := range o.Findings {
			if f.Object.Name == name {
				out = append(out, f)
			}
		}
	}
	if !found {
		t.Fatalf("check %s did not run", id)
	}
	return out
}

// one returns the single finding of check id about name, failing otherwise.
func (s *scanned) one(t *testing.T, id, name string) checks.Finding {
	t.Helper()
	fs := s.findings(t, id, name)
	if len(fs) != 1 {
		t.Fatalf("%s: %d findings about %s, want 1: %+v", id, len(fs), name, fs)
	}
	return fs[0]
}

// none fails if check id found anything about name.
func (s *scanned) none(t *testing.T, name string, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if fs := s.findings(t, id, name); len(fs) > 0 {
			t.Errorf("%s: unexpected finding about %s: %s", id, name, fs[0].Message)
		}
	}
}

// apiFinding returns the report's copy of the finding of check id about name.
func (s *scanned) apiFinding(t *testing.T, id, ns, name string) posturev1alpha1.ObjectFinding {
	t.Helper()
	all := s.set.Cluster.AllFindings()
	for _, r := range s.set.Namespaced {
		all = append(all, r.AllFindings()...)
	}
	for _, f := range all {
		if f.CheckID == id && f.Object.Namespace == ns && f.Object.Name == name {
			return f
		}
	}
	t.Fatalf("no %s finding about %s/%s in the reports", id, ns, name)
	return posturev1alpha1.ObjectFinding{}
}

// containerChecks judge containers: a pod template without any has nothing for them to find.
var containerChecks = []string{
	"pss-privileged", "pss-capabilities-baseline", "pss-capabilities-restricted", "pss-allow-privilege-escalation",
	"pss-run-as-non-root", "pss-seccomp-profile-restricted", "workload-writable-root-filesystem",
	"workload-capabilities-not-dropped", "workload-missing-resource-limits", "workload-missing-resource-requests",
	"workload-missing-probes", "image-latest-tag", "image-not-pinned-by-digest", "image-untrusted-registry", "image-pull-policy",
}

func TestOddObjects(t *testing.T) {
	tcs := map[string]oddCase{
		"no containers, and nothing else either": {
			fill: func(s *inventory.Snapshot) {
				s.Namespaces = append(s.Namespaces, namespace("odd"))
				s.Pods = append(s.Pods, corev1.Pod{ObjectMeta: meta("odd", "empty-pod")})
				s.Deployments = append(s.Deployments, appsv1.Deployment{ObjectMeta: meta("odd", "empty-deploy")})
				s.CronJobs = append(s.CronJobs, batchv1.CronJob{ObjectMeta: meta("odd", "empty-cron")})
			},
			want: func(t *testing.T, r *scanned) {
				for _, name := range []string{"empty-pod", "empty-deploy", "empty-cron"} {
					r.none(t, name, containerChecks...)
				}
				// Still judged as workloads: they run as the default service account, with its token.
				r.one(t, "workload-default-service-account", "empty-pod")
				r.one(t, "workload-service-account-token-automount", "empty-deploy")
			},
		},
		"nil securityContexts everywhere": {
			fill: func(s *inventory.Snapshot) {
				s.Namespaces = append(s.Namespaces, namespace("odd"))
				s.Pods = append(s.Pods, corev1.Pod{ObjectMeta: meta("odd", "bare"), Spec: corev1.PodSpec{
					InitContainers: []corev1.Container{{Name: "init", Image: "registry.example.com/i:1"}},
					Containers:     []corev1.Container{{Name: "app", Image: "registry.example.com/a:1"}},
					EphemeralContainers: []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
						Name: "debug", Image: "registry.example.com/d:1"}}},
				}})
			},
			want: func(t *testing.T, r *scanned) {
				// Unset is not privileged, but restricted asks for every setting on every container.
				r.none(t, "bare", "pss-privileged", "pss-capabilities-baseline", "pss-host-namespaces")
				for _, id := range []string{"pss-run-as-non-root", "pss-seccomp-profile-restricted", "pss-allow-privilege-escalation", "pss-capabilities-restricted"} {
					msg := r.one(t, id, "bare").Message
					for _, c := range []string{`"init"`, `"app"`, `"debug"`} {
						if !strings.Contains(msg, c) {
							t.Errorf("%s message does not name container %s: %s", id, c, msg)
						}
					}
				}
				msg := r.one(t, "workload-writable-root-filesystem", "bare").Message
				if !strings.Contains(msg, "initContainers[0]") || !strings.Contains(msg, "containers[0]") {
					t.Errorf("workload-writable-root-filesystem message lacks the paths: %s", msg)
				}
			},
		},
		"100 privileged containers": {
			fill: func(s *inventory.Snapshot) {
				s.Namespaces = append(s.Namespaces, namespace("odd"))
				d := appsv1.Deployment{ObjectMeta: meta("odd", "wide")}
				for i := range 100 {
					d.Spec.Template.Spec.Containers = append(d.Spec.Template.Spec.Containers, corev1.Container{
						Name: fmt.Sprintf("c-%03d", i), Image: "nginx",
						SecurityContext: &corev1.SecurityContext{Privileged: new(true), Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"SYS_ADMIN"}}},
					})
				}
				s.Deployments = append(s.Deployments, d)
			},
			want: func(t *testing.T, r *scanned) {
				// One finding per check, with every container as evidence...
				for _, id := range []string{"pss-privileged", "workload-dangerous-capabilities", "workload-writable-root-filesystem", "image-latest-tag"} {
					msg := r.one(t, id, "wide").Message
					if !strings.Contains(msg, "c-000") || !strings.Contains(msg, "c-099") {
						t.Errorf("%s message does not name the first and last containers (%d bytes): %.300s", id, len(msg), msg)
					}
				}
				if msg := r.one(t, "workload-writable-root-filesystem", "wide").Message; !strings.Contains(msg, "containers[99]") {
					t.Errorf("no field path for the 100th container: %.300s", msg)
				}
				// ...and in the report, evidence cut to the message bound.
				f := r.apiFinding(t, "workload-dangerous-capabilities", "odd", "wide")
				if len(f.Message) > 2048 || !strings.HasSuffix(f.Message, "...") {
					t.Errorf("report message is %d bytes, want cut to at most 2048 with \"...\": %.100s", len(f.Message), f.Message)
				}
				if n := len(r.set.Namespaced[0].AllFindings()); n > len(checks.Default.All()) {
					t.Errorf("%d findings for one workload; at most one per check", n)
				}
			},
		},
		"500 labels and annotations near the size limits": {
			fill: func(s *inventory.Snapshot) {
				ns := namespace("odd")
				ns.Labels = hugeLabels(500)
				s.Namespaces = append(s.Namespaces, ns)
				p := corev1.Pod{ObjectMeta: meta("odd", "labelled"), Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example.com/a:1"}}}}
				p.Labels = hugeLabels(500)
				p.Annotations = map[string]string{"example.com/big": strings.Repeat("ä", 128*1024)} // 256 KiB, the API's limit
				s.Pods = append(s.Pods, p)
				// A policy selecting the pod by its last label, and the namespace by its first.
				last, first := labelKey(499), labelKey(0)
				s.NetworkPolicies = append(s.NetworkPolicies, networkingv1.NetworkPolicy{ObjectMeta: meta("odd", "allow"), Spec: networkingv1.NetworkPolicySpec{
					PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{last: p.Labels[last]}},
					Ingress: []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{
						NamespaceSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: first, Operator: metav1.LabelSelectorOpExists}}},
					}}}},
					PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
				}})
			},
			want: func(t *testing.T, r *scanned) {
				r.none(t, "labelled", "netpol-workload-not-selected")
				r.one(t, "workload-writable-root-filesystem", "labelled")
				// 500 labels of which none is a Pod Security label: no enforced level.
				r.one(t, "namespace-no-pss-enforce", "odd")
			},
		},
		"unicode names and values": {
			fill: func(s *inventory.Snapshot) {
				ns := namespace("odd")
				ns.Annotations = map[string]string{"description": "Équipe 数据 🚀"}
				s.Namespaces = append(s.Namespaces, ns)
				p := corev1.Pod{ObjectMeta: meta("odd", "ünïcode-🚀"), Spec: corev1.PodSpec{}}
				for i := range 40 { // long enough for the report to cut the message inside a rune
					p.Spec.Containers = append(p.Spec.Containers, corev1.Container{
						Name: fmt.Sprintf("容器-%d-%s", i, strings.Repeat("🚀", 10)), Image: "registry.example.com/app:1",
						Env:             []corev1.EnvVar{{Name: "GREETING", Value: "こんにちは\u2028世界"}, {Name: "DB_PASSWORD", Value: "пароль"}},
						SecurityContext: &corev1.SecurityContext{Privileged: new(true)},
					})
				}
				s.Pods = append(s.Pods, p)
			},
			want: func(t *testing.T, r *scanned) {
				if msg := r.one(t, "pss-privileged", "ünïcode-🚀").Message; !strings.Contains(msg, "容器-39-") {
					t.Errorf("pss-privileged message does not name the unicode container: %.200s", msg)
				}
				// The credential check names the variable, never its value.
				if msg := r.one(t, "workload-credential-literal-env", "ünïcode-🚀").Message; !strings.Contains(msg, "DB_PASSWORD") || strings.Contains(msg, "пароль") {
					t.Errorf("workload-credential-literal-env message: %.200s", msg)
				}
				f := r.apiFinding(t, "pss-privileged", "odd", "ünïcode-🚀")
				if len(f.Message) > 2048 || !strings.HasSuffix(f.Message, "...") {
					t.Errorf("report message is %d bytes, want cut to at most 2048", len(f.Message))
				}
			},
		},
		"a Role with 1,000 rules": {
			fill: func(s *inventory.Snapshot) {
				s.Namespaces = append(s.Namespaces, namespace("odd"))
				role := rbacv1.Role{ObjectMeta: meta("odd", "long")}
				for i := range 1000 {
					role.Rules = append(role.Rules, rbacv1.PolicyRule{APIGroups: []string{"example.com"}, Resources: []string{fmt.Sprintf("things%04d", i)}, Verbs: []string{"get", "list"}})
				}
				role.Rules[999] = rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"*"}, Verbs: []string{"*"}}
				s.Roles = append(s.Roles, role)
				s.RoleBindings = append(s.RoleBindings, rbacv1.RoleBinding{
					ObjectMeta: meta("odd", "long"),
					RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "long"},
					Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "alice"}},
				})
			},
			want: func(t *testing.T, r *scanned) {
				if msg := r.one(t, "rbac-wildcard-rules", "long").Message; !strings.Contains(msg, "rules[999]") || strings.Contains(msg, "rules[998]") {
					t.Errorf("rbac-wildcard-rules message should name rules[999] only: %.300s", msg)
				}
				for _, id := range []string{"rbac-secrets-access", "rbac-create-pods", "rbac-pod-exec-attach-portforward"} {
					if msg := r.one(t, id, "long").Message; !strings.Contains(msg, "alice") || !strings.Contains(msg, "rules[999]") {
						t.Errorf("%s message should name alice and rules[999]: %.300s", id, msg)
					}
				}
			},
		},
		"a ClusterRole aggregating 300 ClusterRoles, and aggregating itself": {
			fill: func(s *inventory.Snapshot) {
				sel := []metav1.LabelSelector{{MatchLabels: map[string]string{"example.com/aggregate-to-big": "true"}}}
				for i := range 300 {
					cr := rbacv1.ClusterRole{ObjectMeta: meta("", fmt.Sprintf("part-%03d", i)),
						Rules: []rbacv1.PolicyRule{{APIGroups: []string{"example.com"}, Resources: []string{fmt.Sprintf("things%03d", i)}, Verbs: []string{"get"}}}}
					cr.Labels = map[string]string{"example.com/aggregate-to-big": "true"}
					s.ClusterRoles = append(s.ClusterRoles, cr)
				}
				s.ClusterRoles[150].Rules = append(s.ClusterRoles[150].Rules, rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get", "list"}})
				// Two aggregators selecting each other and themselves; their own rules are left empty,
				// as in manifests (in a cluster the aggregation controller fills them).
				for _, name := range []string{"big", "bigger"} {
					cr := rbacv1.ClusterRole{ObjectMeta: meta("", name), AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: sel}}
					cr.Labels = map[string]string{"example.com/aggregate-to-big": "true"}
					s.ClusterRoles = append(s.ClusterRoles, cr)
				}
				s.ClusterRoleBindings = append(s.ClusterRoleBindings, rbacv1.ClusterRoleBinding{
					ObjectMeta: meta("", "big"),
					RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "big"},
					Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "bob"}},
				})
			},
			want: func(t *testing.T, r *scanned) {
				if msg := r.one(t, "rbac-secrets-access", "big").Message; !strings.Contains(msg, "bob") || !strings.Contains(msg, "part-150") {
					t.Errorf("rbac-secrets-access should name bob and the aggregated part-150: %.300s", msg)
				}
				r.none(t, "big", "rbac-wildcard-rules", "rbac-create-pods")
			},
		},
		"10,000 env vars": {
			fill: func(s *inventory.Snapshot) {
				s.Namespaces = append(s.Namespaces, namespace("odd"))
				c := corev1.Container{Name: "app", Image: "registry.example.com/a:1"}
				for i := range 10000 {
					e := corev1.EnvVar{Name: fmt.Sprintf("VAR_%05d", i), Value: "x"}
					switch i % 1000 {
					case 1:
						e = corev1.EnvVar{Name: fmt.Sprintf("FROM_SECRET_%05d", i), ValueFrom: &corev1.EnvVarSource{
							SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}, Key: "k"}}}
					case 2:
						e = corev1.EnvVar{Name: fmt.Sprintf("API_TOKEN_%05d", i), Value: "canary-literal-value"}
					case 3:
						e = corev1.EnvVar{Name: fmt.Sprintf("EMPTY_%05d", i)} // neither value nor valueFrom
					}
					c.Env = append(c.Env, e)
				}
				s.Pods = append(s.Pods, corev1.Pod{ObjectMeta: meta("odd", "envy"), Spec: corev1.PodSpec{Containers: []corev1.Container{c}}})
			},
			want: func(t *testing.T, r *scanned) {
				if msg := r.one(t, "workload-secret-env-vars", "envy").Message; !strings.Contains(msg, "FROM_SECRET_00001") || !strings.Contains(msg, "FROM_SECRET_09001") {
					t.Errorf("workload-secret-env-vars should name the first and last secret variables: %.300s", msg)
				}
				msg := r.one(t, "workload-credential-literal-env", "envy").Message
				if !strings.Contains(msg, "API_TOKEN_00002") || strings.Contains(msg, "canary-literal-value") {
					t.Errorf("workload-credential-literal-env should name API_TOKEN_00002 and no value: %.300s", msg)
				}
			},
		},
		"an object of every kind with only a name": {
			fill: func(s *inventory.Snapshot) {
				s.Namespaces = append(s.Namespaces, namespace("odd"))
				m := meta("odd", "bare")
				s.Pods = append(s.Pods, corev1.Pod{ObjectMeta: m})
				s.Services = append(s.Services, corev1.Service{ObjectMeta: m})
				s.ServiceAccounts = append(s.ServiceAccounts, corev1.ServiceAccount{ObjectMeta: m})
				s.Secrets = append(s.Secrets, metav1.PartialObjectMetadata{ObjectMeta: m})
				s.Deployments = append(s.Deployments, appsv1.Deployment{ObjectMeta: m})
				s.ReplicaSets = append(s.ReplicaSets, appsv1.ReplicaSet{ObjectMeta: meta("odd", "bare-rs")})
				s.StatefulSets = append(s.StatefulSets, appsv1.StatefulSet{ObjectMeta: meta("odd", "bare-sts")})
				s.DaemonSets = append(s.DaemonSets, appsv1.DaemonSet{ObjectMeta: meta("odd", "bare-ds")})
				s.Jobs = append(s.Jobs, batchv1.Job{ObjectMeta: meta("odd", "bare-job")})
				s.CronJobs = append(s.CronJobs, batchv1.CronJob{ObjectMeta: meta("odd", "bare-cron")})
				s.Ingresses = append(s.Ingresses, networkingv1.Ingress{ObjectMeta: m})
				s.NetworkPolicies = append(s.NetworkPolicies, networkingv1.NetworkPolicy{ObjectMeta: m})
				s.Roles = append(s.Roles, rbacv1.Role{ObjectMeta: m})
				s.RoleBindings = append(s.RoleBindings, rbacv1.RoleBinding{ObjectMeta: m})
				s.LimitRanges = append(s.LimitRanges, corev1.LimitRange{ObjectMeta: m})
				s.ResourceQuotas = append(s.ResourceQuotas, corev1.ResourceQuota{ObjectMeta: m})
				c := meta("", "bare")
				s.ClusterRoles = append(s.ClusterRoles, rbacv1.ClusterRole{ObjectMeta: c, AggregationRule: &rbacv1.AggregationRule{}})
				s.ClusterRoleBindings = append(s.ClusterRoleBindings, rbacv1.ClusterRoleBinding{ObjectMeta: c})
				s.StorageClasses = append(s.StorageClasses, storagev1.StorageClass{ObjectMeta: c})
				s.ValidatingWebhookConfigurations = append(s.ValidatingWebhookConfigurations, admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: c})
				s.MutatingWebhookConfigurations = append(s.MutatingWebhookConfigurations, admissionregistrationv1.MutatingWebhookConfiguration{ObjectMeta: c})
				s.ValidatingAdmissionPolicies = append(s.ValidatingAdmissionPolicies, admissionregistrationv1.ValidatingAdmissionPolicy{ObjectMeta: c})
				s.ValidatingAdmissionPolicyBindings = append(s.ValidatingAdmissionPolicyBindings, admissionregistrationv1.ValidatingAdmissionPolicyBinding{ObjectMeta: c})
			},
			want: func(t *testing.T, r *scanned) {
				for _, name := range []string{"bare", "bare-rs", "bare-sts", "bare-ds", "bare-job", "bare-cron"} {
					r.none(t, name, containerChecks...)
				}
				// A binding to nothing, an empty role and an empty aggregation grant nothing.
				r.none(t, "bare", "rbac-wildcard-rules", "rbac-secrets-access", "rbac-cluster-admin-binding", "rbac-anonymous-access")
			},
		},
		"duplicate container names in a manifest": {
			manifest: `apiVersion: v1
kind: Pod
metadata: {name: twins, namespace: odd}
spec:
  containers:
  - {name: app, image: registry.example.com/a:1}
  - {name: app, image: registry.example.com/a:1, securityContext: {privileged: true}}
  initContainers:
  - {name: app, image: registry.example.com/a:1}
`,
			want: func(t *testing.T, r *scanned) {
				// Judged by position: the privileged one is containers[1], whatever its name.
				r.one(t, "pss-privileged", "twins")
				if msg := r.one(t, "workload-writable-root-filesystem", "twins").Message; !strings.Contains(msg, "containers[1]") || !strings.Contains(msg, "initContainers[0]") {
					t.Errorf("workload-writable-root-filesystem should tell the twins apart by path: %s", msg)
				}
			},
		},
	}
	for name, tc := range tcs {
		t.Run(name, func(t *testing.T) {
			r := scanOdd(t, tc)
			tc.want(t, r)
		})
	}
}

// scanOdd runs the whole catalogue on the case's objects, builds the
// reports, and checks what holds for every case.
func scanOdd(t *testing.T, tc oddCase) *scanned {
	t.Helper()
	var s *inventory.Snapshot
	if tc.manifest != "" {
		m := inventory.LoadManifests([]string{"-"}, strings.NewReader(tc.manifest), inventory.ManifestOptions{})
		if len(m.Errors) > 0 {
			t.Fatalf("loading the manifest: %v", m.Errors)
		}
		s = m.Snapshot
	} else {
		s = &inventory.Snapshot{}
		tc.fill(s)
		for _, k := range inventory.AllKinds {
			s.MarkRead(k)
		}
		s.Sort()
	}
	plan, err := engine.NewPlan(engine.Options{TrustedRegistries: []string{"registry.example.com/"}})
	if err != nil {
		t.Fatal(err)
	}

	r := &scanned{}
	start := time.Now()
	func() {
		defer func() {
			if p := recover(); p != nil {
				t.Fatalf("the engine panicked: %v\n%s", p, debug.Stack())
			}
		}()
		r.res = plan.Run(s)
		perNS, total := s.Count()
		r.set = report.Build(&posturev1alpha1.ClusterScan{ObjectMeta: metav1.ObjectMeta{Name: "odd"}}, r.res.Outcomes,
			report.Options{Resources: perNS, TotalResources: total, Namespaces: len(s.Namespaces)})
	}()
	t.Logf("scanned and built reports in %s: %d findings", time.Since(start).Round(time.Millisecond), r.res.Summary.Findings)

	for _, o := range r.res.Outcomes {
		if !o.Evaluated && o.NotEvaluatedReason == "" {
			t.Errorf("check %s not evaluated (missing %v) though every kind was read", o.Check.ID, o.MissingKinds)
		}
	}
	checkReport(t, "ClusterScanReport", r.set.Cluster, r.set.Cluster.Objects, nil)
	for _, rep := range r.set.Namespaced {
		checkReport(t, "ScanReport "+rep.Namespace, rep, rep.Objects, &rep.Summary)
	}
	return r
}

// checkReport checks the bounds every report keeps: size, message lengths,
// valid UTF-8, and findings kept plus left out adding up to the total.
func checkReport(t *testing.T, what string, obj any, objects []posturev1alpha1.ObjectFindings, sum *posturev1alpha1.ReportSummary) {
	t.Helper()
	data, err := json.Marshal(obj)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if len(data) > etcdLimit {
		t.Errorf("%s is %d bytes, over etcd's %d", what, len(data), etcdLimit)
	}
	kept := 0
	bySeverity := func(a, b posturev1alpha1.Finding) int {
		return checks.Severity(b.Severity).Rank() - checks.Severity(a.Severity).Rank()
	}
	for i, o := range objects {
		kept += len(o.Findings)
		if len(o.Findings) == 0 || len(o.Findings) > report.MaxFindingsPerObject {
			t.Errorf("%s: %d findings about %s", what, len(o.Findings), o.Object.Name)
			continue
		}
		for _, f := range o.Findings {
			if len(f.Message) > 2048 || !utf8.ValidString(f.Message) {
				t.Errorf("%s: %s message of %d bytes (valid UTF-8: %t)", what, f.CheckID, len(f.Message), utf8.ValidString(f.Message))
			}
		}
		if !slices.IsSortedFunc(o.Findings, bySeverity) {
			t.Errorf("%s: the findings about %s are not most severe first", what, o.Object.Name)
		}
		if i > 0 && bySeverity(objects[i-1].Findings[0], o.Findings[0]) > 0 {
			t.Errorf("%s: objects are not in the order of their most severe finding", what)
		}
	}
	if kept > report.DefaultMaxFindings {
		t.Errorf("%s keeps %d findings, over the default cap %d", what, kept, report.DefaultMaxFindings)
	}
	if sum != nil && int(sum.Findings) != kept+int(sum.Omitted) {
		t.Errorf("%s: %d findings kept + %d left out != %d in all", what, kept, sum.Omitted, sum.Findings)
	}
}

func meta(ns, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + ns + "-" + name)}
}

func namespace(name string) corev1.Namespace {
	return corev1.Namespace{ObjectMeta: meta("", name)}
}

// labelKey is the i-th of the longest legal label keys: a 253-byte DNS
// prefix and a 63-byte name.
func labelKey(i int) string {
	prefix := strings.Repeat("a", 60) + "." + strings.Repeat("b", 60) + "." + strings.Repeat("c", 60) + "." + strings.Repeat("d", 59) + fmt.Sprintf(".x%09d", i)
	return prefix[:253] + "/" + fmt.Sprintf("n%062d", i)
}

// hugeLabels returns n labels with the longest legal keys and values.
func hugeLabels(n int) map[string]string {
	out := make(map[string]string, n)
	for i := range n {
		out[labelKey(i)] = fmt.Sprintf("v%062d", i)
	}
	return out
}
