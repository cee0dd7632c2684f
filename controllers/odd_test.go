package controllers_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	posturev1alpha1 "github.com/kubeposture/kubeposture/api/v1alpha1"
)

// Odd but legal objects, through the API: the shapes of
// internal/engine/odd_test.go that the API server admits (it refuses pod
// templates without containers, duplicate container names and non-DNS
// container names; those are judged from manifests in the engine test). The
// scan of a namespace full of them succeeds, and its findings are the
// sensible ones, one per check and object, within the report's bounds.

// oddLabelKey is the i-th of the longest legal label keys: a 253-byte DNS prefix and a 63-byte name.
func oddLabelKey(i int) string {
	prefix := strings.Repeat("a", 60) + "." + strings.Repeat("b", 60) + "." + strings.Repeat("c", 60) + "." + strings.Repeat("d", 59) + fmt.Sprintf(".x%09d", i)
	return prefix + "/" + fmt.Sprintf("n%062d", i)
}

func oddObjects(ns string) []client.Object {
	var objs []client.Object

	// Every security context nil, an init container, and (added below, through
	// its subresource) an ephemeral container.
	objs = append(objs, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "bare"}, Spec: corev1.PodSpec{
		InitContainers: []corev1.Container{{Name: "init", Image: "registry.example.com/i:1"}},
		Containers:     []corev1.Container{{Name: "app", Image: "registry.example.com/a:1"}},
	}})

	// 100 privileged containers in one Deployment.
	wide := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "wide"}, Spec: appsv1.DeploymentSpec{
		Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "wide"}},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "wide"}}},
	}}
	for i := range 100 {
		wide.Spec.Template.Spec.Containers = append(wide.Spec.Template.Spec.Containers, corev1.Container{
			Name: fmt.Sprintf("c-%03d", i), Image: "nginx:1.27",
			SecurityContext: &corev1.SecurityContext{Privileged: ptr(true), Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"SYS_ADMIN"}}},
		})
	}
	objs = append(objs, wide)

	// 500 labels with the longest keys and values, and 256 KiB of unicode annotations (the API's limit).
	labelled := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "labelled", Labels: map[string]string{}, Annotations: map[string]string{
		"example.com/notes": strings.Repeat("数", (256*1024-len("example.com/notes"))/len("数")),
	}}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example.com/a:1"}}}}
	for i := range 500 {
		labelled.Labels[oddLabelKey(i)] = fmt.Sprintf("v%062d", i)
	}
	objs = append(objs, labelled)

	// Unicode where the API allows it: annotation and env values, SELinux options.
	objs = append(objs, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "unicode", Annotations: map[string]string{"description": "Équipe 数据 🚀\u2028"}},
		Spec: corev1.PodSpec{
			SecurityContext: &corev1.PodSecurityContext{SELinuxOptions: &corev1.SELinuxOptions{Type: "類型_🚀_t"}},
			Containers: []corev1.Container{{Name: "app", Image: "registry.example.com/a:1", Env: []corev1.EnvVar{
				{Name: "GREETING", Value: "こんにちは 世界"}, {Name: "DB_PASSWORD", Value: "пароль-🚀"},
			}}},
		}})

	// 5,000 env vars, a few from Secrets or credential literals.
	envy := corev1.Container{Name: "app", Image: "registry.example.com/a:1"}
	for i := range 5000 {
		e := corev1.EnvVar{Name: fmt.Sprintf("VAR_%05d", i), Value: "x"}
		switch i % 1000 {
		case 1:
			e = corev1.EnvVar{Name: fmt.Sprintf("FROM_SECRET_%05d", i), ValueFrom: &corev1.EnvVarSource{
				SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}, Key: "k"}}}
		case 2:
			e = corev1.EnvVar{Name: fmt.Sprintf("API_TOKEN_%05d", i), Value: "canary-env-literal"}
		}
		envy.Env = append(envy.Env, e)
	}
	objs = append(objs, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "envy"}, Spec: corev1.PodSpec{Containers: []corev1.Container{envy}}})

	// A Role with 1,000 rules, the last a wildcard, bound to a user.
	long := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "long"}}
	for i := range 1000 {
		long.Rules = append(long.Rules, rbacv1.PolicyRule{APIGroups: []string{"example.com"}, Resources: []string{fmt.Sprintf("things%04d", i)}, Verbs: []string{"get", "list"}})
	}
	long.Rules[999] = rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"*"}, Verbs: []string{"*"}}
	objs = append(objs, long, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "long"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "long"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "odd-alice"}},
	})
	return objs
}

// oddClusterObjects are a ClusterRole aggregating 200 ClusterRoles (one of
// which grants Secrets), selecting itself too, and its binding. envtest runs
// no aggregation controller, so its own rules stay empty: the scan must
// aggregate them itself.
func oddClusterObjects() []client.Object {
	const label = "odd.example.com/aggregate-to-odd-big"
	var objs []client.Object
	for i := range 200 {
		objs = append(objs, &rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("odd-part-%03d", i), Labels: map[string]string{label: "true"}},
			Rules:      []rbacv1.PolicyRule{{APIGroups: []string{"example.com"}, Resources: []string{fmt.Sprintf("things%03d", i)}, Verbs: []string{"get"}}},
		})
	}
	objs[150].(*rbacv1.ClusterRole).Rules = append(objs[150].(*rbacv1.ClusterRole).Rules,
		rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get", "list"}})
	objs = append(objs, &rbacv1.ClusterRole{
		ObjectMeta:      metav1.ObjectMeta{Name: "odd-big", Labels: map[string]string{label: "true"}},
		AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{label: "true"}}}},
	}, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "odd-big"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "odd-big"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "odd-bob"}},
	})
	return objs
}

func TestOddObjectsScanThroughTheAPI(t *testing.T) {
	const name, ns = "odd", "odd-shapes"
	ensureNamespace(t, ns, nil)
	createConcurrently(t, append(oddObjects(ns), oddClusterObjects()...))
	// An ephemeral container, which only its subresource can add; with a nil security context too.
	bare := &corev1.Pod{}
	if err := k8sClient.Get(testCtx, types.NamespacedName{Namespace: ns, Name: "bare"}, bare); err != nil {
		t.Fatal(err)
	}
	bare.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
		Name: "debug", Image: "registry.example.com/d:1", TerminationMessagePolicy: corev1.TerminationMessageReadFile, ImagePullPolicy: corev1.PullIfNotPresent}}}
	if err := k8sClient.SubResource("ephemeralcontainers").Update(testCtx, bare); err != nil {
		t.Fatalf("adding an ephemeral container: %v", err)
	}
	// The scan must see every object: wait for the cache.
	eventually(t, scanTimeout, func() error {
		p := &corev1.Pod{}
		if err := managerReader.Get(testCtx, types.NamespacedName{Namespace: ns, Name: "bare"}, p); err != nil || len(p.Spec.EphemeralContainers) == 0 {
			return fmt.Errorf("the cache has not seen the ephemeral container: %w", err)
		}
		for _, key := range []types.NamespacedName{{Name: "odd-big"}, {Name: "odd-part-199"}} {
			if err := managerReader.Get(testCtx, key, &rbacv1.ClusterRole{}); err != nil {
				return err
			}
		}
		return managerReader.Get(testCtx, types.NamespacedName{Name: "odd-big"}, &rbacv1.ClusterRoleBinding{})
	})
	waitCachedPods(t, ns, 4)

	scan := newScan(name, ns)
	scan.Spec.TrustedRegistries = []string{"registry.example.com/"}
	create(t, scan)
	scan = waitScanned(t, name, nil)
	if r := readyCondition(scan); r.Reason != posturev1alpha1.ReasonScanSucceeded {
		t.Errorf("Ready = %+v", r)
	}

	rep := getReport(t, ns, name)
	cluster := &posturev1alpha1.ClusterScanReport{}
	if err := k8sClient.Get(testCtx, types.NamespacedName{Name: name}, cluster); err != nil {
		t.Fatal(err)
	}
	findings, clusterFindings := rep.AllFindings(), cluster.AllFindings()
	t.Logf("ScanReport: %d findings, %d bytes; ClusterScanReport: %d findings", len(findings), objectSize(t, rep), len(clusterFindings))

	// One finding per check and object, each message within bounds and valid UTF-8.
	seen := map[string]bool{}
	for _, f := range append(slices.Clone(findings), clusterFindings...) {
		key := f.CheckID + " " + f.Object.Kind + " " + f.Object.Namespace + "/" + f.Object.Name
		if seen[key] {
			t.Errorf("two findings for %s", key)
		}
		seen[key] = true
		if len(f.Message) > 2048 || !utf8.ValidString(f.Message) {
			t.Errorf("%s: message of %d bytes, valid UTF-8 %t", key, len(f.Message), utf8.ValidString(f.Message))
		}
	}
	if rep.Summary.Omitted != 0 || int(rep.Summary.Findings) != len(findings) {
		t.Errorf("summary %+v with %d findings: nothing should be left out here", rep.Summary, len(findings))
	}

	find := func(findings []posturev1alpha1.ObjectFinding, id, obj string) *posturev1alpha1.ObjectFinding {
		for i := range findings {
			if findings[i].CheckID == id && findings[i].Object.Name == obj {
				return &findings[i]
			}
		}
		t.Errorf("no %s finding about %s", id, obj)
		return &posturev1alpha1.ObjectFinding{}
	}
	// Nil security contexts: restricted asks for settings on every container, the ephemeral one included.
	if msg := find(findings, "pss-run-as-non-root", "bare").Message; !strings.Contains(msg, `"init"`) || !strings.Contains(msg, `"debug"`) {
		t.Errorf("pss-run-as-non-root about bare does not name the init and ephemeral containers: %s", msg)
	}
	for _, f := range findings {
		if f.Object.Name == "bare" && f.CheckID == "pss-privileged" {
			t.Errorf("an unset security context was judged privileged: %s", f.Message)
		}
	}
	// 100 containers: one finding, evidence cut to the bound.
	if msg := find(findings, "pss-privileged", "wide").Message; !strings.Contains(msg, `"c-000"`) || !strings.Contains(msg, `"c-099"`) {
		t.Errorf("pss-privileged about wide does not name the first and last containers: %.200s", msg)
	}
	if msg := find(findings, "workload-dangerous-capabilities", "wide").Message; !strings.Contains(msg, "containers[0]") || len(msg) > 2048 || !strings.HasSuffix(msg, "...") {
		t.Errorf("workload-dangerous-capabilities about wide (%d bytes), want evidence cut to 2048 bytes with \"...\": %.200s", len(msg), msg)
	}
	// Unicode reaches the evidence intact.
	if msg := find(findings, "pss-se-linux-options", "unicode").Message; !strings.Contains(msg, "類型_🚀_t") {
		t.Errorf("pss-se-linux-options about unicode: %s", msg)
	}
	if msg := find(findings, "workload-credential-literal-env", "unicode").Message; !strings.Contains(msg, "DB_PASSWORD") || strings.Contains(msg, "пароль") {
		t.Errorf("workload-credential-literal-env about unicode names no variable, or its value: %s", msg)
	}
	// 500 labels: judged like any Pod.
	find(findings, "workload-writable-root-filesystem", "labelled")
	// 5,000 env vars: the Secret-backed ones named, the literal's value not.
	if msg := find(findings, "workload-secret-env-vars", "envy").Message; !strings.Contains(msg, "FROM_SECRET_00001") {
		t.Errorf("workload-secret-env-vars about envy: %.200s", msg)
	}
	if msg := find(findings, "workload-credential-literal-env", "envy").Message; !strings.Contains(msg, "API_TOKEN_00002") || strings.Contains(msg, "canary-env-literal") {
		t.Errorf("workload-credential-literal-env about envy: %.200s", msg)
	}
	// 1,000 rules: the wildcard one found by its index.
	if msg := find(findings, "rbac-wildcard-rules", "long").Message; !strings.Contains(msg, "rules[999]") {
		t.Errorf("rbac-wildcard-rules about long: %.300s", msg)
	}
	if msg := find(findings, "rbac-secrets-access", "long").Message; !strings.Contains(msg, "odd-alice") {
		t.Errorf("rbac-secrets-access about long: %.300s", msg)
	}
	// Aggregation the scan computes itself: Secrets through odd-part-150.
	if msg := find(clusterFindings, "rbac-secrets-access", "odd-big").Message; !strings.Contains(msg, "odd-bob") || !strings.Contains(msg, "odd-part-150") {
		t.Errorf("rbac-secrets-access about odd-big: %.300s", msg)
	}
}
