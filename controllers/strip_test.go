package controllers_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubeposture/kubeposture/internal/engine"
	"github.com/kubeposture/kubeposture/internal/inventory"
)

// The manager's cache holds controlled Pods, ReplicaSets and Jobs as their
// identity only, and the rest without status (inventory.Trim). The findings
// read through that cache are the findings of the same objects read whole
// from the API server: every outcome, finding and message, and the number
// of objects judged.
func TestStrippedCacheGivesSameFindings(t *testing.T) {
	const ns = "strip-parity"
	ensureNamespace(t, ns, map[string]string{"strip-parity": "in-scope"})
	insecure := corev1.PodSpec{
		HostNetwork: true,
		Containers: []corev1.Container{{
			Name: "app", Image: "nginx:latest",
			SecurityContext: &corev1.SecurityContext{Privileged: ptr(true)},
			VolumeMounts:    []corev1.VolumeMount{{Name: "host", MountPath: "/host"}},
		}},
		Volumes: []corev1.Volume{{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}}},
	}
	hardened := corev1.PodSpec{
		AutomountServiceAccountToken: ptr(false),
		SecurityContext:              &corev1.PodSecurityContext{RunAsNonRoot: ptr(true), SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
		Containers: []corev1.Container{{
			Name: "app", Image: "registry.example/app@sha256:" + fmt.Sprintf("%064d", 1),
			SecurityContext: &corev1.SecurityContext{
				AllowPrivilegeEscalation: ptr(false), ReadOnlyRootFilesystem: ptr(true),
				Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			},
			Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{"cpu": resource.MustParse("100m"), "memory": resource.MustParse("64Mi")}},
		}},
	}
	labels := func(name string) map[string]string { return map[string]string{"app": name} }
	template := func(name string, spec corev1.PodSpec) corev1.PodTemplateSpec {
		return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels(name)}, Spec: *spec.DeepCopy()}
	}
	jobSpec := func(spec corev1.PodSpec) corev1.PodSpec {
		s := *spec.DeepCopy()
		s.RestartPolicy = corev1.RestartPolicyNever
		return s
	}
	controlledBy := func(owner client.Object, apiVersion, kind string) []metav1.OwnerReference {
		return []metav1.OwnerReference{{APIVersion: apiVersion, Kind: kind, Name: owner.GetName(), UID: owner.GetUID(), Controller: ptr(true)}}
	}
	podOf := func(namespace, name string, owners []metav1.OwnerReference, objLabels map[string]string, spec corev1.PodSpec) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: objLabels, OwnerReferences: owners}, Spec: *spec.DeepCopy()}
	}
	selector := func(name string) *metav1.LabelSelector { return &metav1.LabelSelector{MatchLabels: labels(name)} }

	// A Deployment, its ReplicaSet and its Pod, as kube-controller-manager would make them.
	web := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"},
		Spec: appsv1.DeploymentSpec{Selector: selector("web"), Template: template("web", insecure)}}
	create(t, web)
	webRS := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web-5d8f", Labels: labels("web"), OwnerReferences: controlledBy(web, "apps/v1", "Deployment")},
		Spec: appsv1.ReplicaSetSpec{Selector: selector("web"), Template: template("web", insecure)}}
	create(t, webRS)
	api := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "api"},
		Spec: appsv1.DeploymentSpec{Selector: selector("api"), Template: template("api", hardened)}}
	create(t, api)
	db := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "db"},
		Spec: appsv1.StatefulSetSpec{Selector: selector("db"), Template: template("db", hardened)}}
	agent := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "agent"},
		Spec: appsv1.DaemonSetSpec{Selector: selector("agent"), Template: template("agent", insecure)}}
	report := &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "report"}, Spec: batchv1.CronJobSpec{
		Schedule: "0 3 * * *", Suspend: ptr(true),
		JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: template("report", jobSpec(insecure))}},
	}}
	migrate := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "migrate"},
		Spec: batchv1.JobSpec{Suspend: ptr(true), Template: template("migrate", jobSpec(hardened))}}
	create(t, db, agent, report, migrate)
	reportJob := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "report-2900", OwnerReferences: controlledBy(report, "batch/v1", "CronJob")},
		Spec: batchv1.JobSpec{Suspend: ptr(true), Template: template("report", jobSpec(insecure))}}
	create(t, reportJob)
	create(t,
		podOf(ns, "web-5d8f-a", controlledBy(webRS, "apps/v1", "ReplicaSet"), labels("web"), insecure),
		podOf(ns, "db-0", controlledBy(db, "apps/v1", "StatefulSet"), labels("db"), hardened),
		podOf(ns, "agent-x", controlledBy(agent, "apps/v1", "DaemonSet"), labels("agent"), insecure),
		podOf(ns, "report-2900-x", controlledBy(reportJob, "batch/v1", "Job"), labels("report"), jobSpec(insecure)),
		podOf(ns, "migrate-x", controlledBy(migrate, "batch/v1", "Job"), labels("migrate"), jobSpec(hardened)),
		// Judged as pods: no controller, or one the scan does not read.
		podOf(ns, "debug", nil, labels("debug"), insecure),
		podOf(ns, "cache-0", []metav1.OwnerReference{{APIVersion: "example.com/v1", Kind: "CacheCluster", Name: "cache", UID: "0c1f3a5e-cache", Controller: ptr(true)}}, labels("cache"), insecure),
		// A controller that does not exist (a claim the API server never
		// checks; here no garbage collector deletes the Pod): the cache holds
		// an identity, which the scan reads whole and judges as a Pod.
		podOf(ns, "dangling", []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "never-created", UID: "0c1f3a5e-gone", Controller: ptr(true)}}, labels("dangling"), insecure),
	)

	// A self-hosted API server (a DaemonSet's Pod) and a static etcd (its Node's Pod) in
	// kube-system: the control-plane checks read their Pods' specs.
	apiServerSpec := corev1.PodSpec{Containers: []corev1.Container{{
		Name: "kube-apiserver", Image: "registry.k8s.io/kube-apiserver:v1.37.2",
		Command: []string{"kube-apiserver", "--anonymous-auth=true", "--authorization-mode=AlwaysAllow", "--profiling=true"},
	}}}
	etcdSpec := corev1.PodSpec{Containers: []corev1.Container{{
		Name: "etcd", Image: "registry.k8s.io/etcd:3.6.0", Command: []string{"etcd", "--client-cert-auth=false"},
	}}}
	selfHosted := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: metav1.NamespaceSystem, Name: "strip-kube-apiserver"},
		Spec: appsv1.DaemonSetSpec{Selector: selector("strip-kube-apiserver"), Template: template("strip-kube-apiserver", apiServerSpec)}}
	create(t, selfHosted)
	systemObjects := []client.Object{
		selfHosted,
		podOf(metav1.NamespaceSystem, "strip-kube-apiserver-x", controlledBy(selfHosted, "apps/v1", "DaemonSet"),
			map[string]string{"app": "strip-kube-apiserver", "component": "kube-apiserver"}, apiServerSpec),
		podOf(metav1.NamespaceSystem, "strip-etcd-cp1", []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: "cp1", UID: "0c1f3a5e-node", Controller: ptr(true)}},
			map[string]string{"component": "etcd", "tier": "control-plane"}, etcdSpec),
	}
	create(t, systemObjects[1:]...)
	t.Cleanup(func() {
		for _, o := range systemObjects {
			if err := k8sClient.Delete(testCtx, o); client.IgnoreNotFound(err) != nil {
				t.Errorf("deleting %s: %v", o.GetName(), err)
			}
		}
	})

	// The cache holds the controlled objects as identities, and the others typed.
	wantIdentity := map[string]bool{
		"Pod/" + ns + "/web-5d8f-a": true, "Pod/" + ns + "/db-0": true, "Pod/" + ns + "/agent-x": true,
		"Pod/" + ns + "/report-2900-x": true, "Pod/" + ns + "/migrate-x": true,
		"Pod/" + ns + "/debug": false, "Pod/" + ns + "/cache-0": false, "Pod/" + ns + "/dangling": true,
		"Pod/kube-system/strip-kube-apiserver-x": false, "Pod/kube-system/strip-etcd-cp1": false,
		"ReplicaSet/" + ns + "/web-5d8f": true, "Job/" + ns + "/report-2900": true, "Job/" + ns + "/migrate": false,
	}
	eventually(t, scanTimeout, func() error {
		for key, want := range wantIdentity {
			kind, rest, _ := strings.Cut(key, "/")
			var obj client.Object
			switch kind {
			case "Pod":
				obj = &corev1.Pod{}
			case "ReplicaSet":
				obj = &appsv1.ReplicaSet{}
			case "Job":
				obj = &batchv1.Job{}
			}
			informer, err := managerCache.GetInformer(testCtx, obj)
			if err != nil {
				return err
			}
			item, ok, err := informer.(toolscache.SharedIndexInformer).GetStore().GetByKey(rest)
			switch {
			case err != nil:
				return fmt.Errorf("%s: %w", key, err)
			case !ok:
				return fmt.Errorf("%s is not in the cache yet", key)
			}
			if got := inventory.IsIdentity(item); got != want {
				return fmt.Errorf("%s in the cache is a %T; want an identity: %v", key, item, want)
			}
		}
		return nil
	})

	scope, err := inventory.NewScope(nil, []string{ns, metav1.NamespaceSystem}, nil)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := engine.NewPlan(engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	outcomesOf := func(r client.Reader, scope inventory.Scope) ([]outcomeKey, error) {
		snap, err := inventory.FromReader(testCtx, r, nil, scope, inventory.AllKinds)
		if err != nil {
			return nil, err
		}
		if missing := snap.MissingKinds(); len(missing) > 0 {
			return nil, fmt.Errorf("kinds not read: %v", missing)
		}
		return outcomeKeys(plan.Run(snap)), nil
	}
	compare := func(scope inventory.Scope) (cached []outcomeKey) {
		t.Helper()
		eventually(t, scanTimeout, func() error {
			direct, err := outcomesOf(inventory.PagedReader{Reader: k8sClient}, scope)
			if err != nil {
				return fmt.Errorf("reading the API server: %w", err)
			}
			if cached, err = outcomesOf(managerReader, scope); err != nil {
				return fmt.Errorf("reading the cache: %w", err)
			}
			if diff := cmp.Diff(direct, cached); diff != "" {
				return errors.New("outcomes differ (-API server +cache):\n" + diff)
			}
			return nil
		})
		return cached
	}
	cached := compare(scope)
	// A namespace selector scopes the Pods, ReplicaSets and Jobs visited in
	// the cache as it scopes every other kind: nothing of another namespace
	// (this suite has many) is judged or counted.
	selected, err := inventory.NewScope(&metav1.LabelSelector{MatchLabels: map[string]string{"strip-parity": "in-scope"}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range compare(selected) {
		for ns2 := range o.JudgedIn {
			if ns2 != ns && ns2 != "" {
				t.Errorf("check %s judged objects of namespace %q, out of the selector's scope", o.Check, ns2)
			}
		}
	}

	// The comparison judged what it was meant to: the insecure templates on
	// their controllers and bare pods, and the control plane's pods.
	on := map[string]bool{}
	for _, o := range cached {
		for _, f := range o.Findings {
			on[f.Kind+"/"+f.Namespace+"/"+f.Name] = true
		}
	}
	for _, want := range []string{
		"Deployment/" + ns + "/web", "DaemonSet/" + ns + "/agent", "CronJob/" + ns + "/report", "Pod/" + ns + "/debug", "Pod/" + ns + "/cache-0",
		"Pod/" + ns + "/dangling",
		"Pod/kube-system/strip-kube-apiserver-x", "Pod/kube-system/strip-etcd-cp1",
	} {
		if !on[want] {
			t.Errorf("no finding about %s", want)
		}
	}
	for _, never := range []string{"ReplicaSet/" + ns + "/web-5d8f", "Pod/" + ns + "/web-5d8f-a", "Job/" + ns + "/report-2900", "Pod/" + ns + "/agent-x"} {
		if on[never] {
			t.Errorf("a finding about %s, whose template is judged on its controller", never)
		}
	}
}

// outcomeKey is an outcome as the reports show it.
type outcomeKey struct {
	Check              string
	Evaluated          bool
	MissingKinds       []inventory.Kind
	NotEvaluatedReason string
	Judged             int
	JudgedIn           map[string]int
	Findings           []findingRef
}

type findingRef struct{ Kind, Namespace, Name, Message string }

func outcomeKeys(r *engine.Result) []outcomeKey {
	out := make([]outcomeKey, 0, len(r.Outcomes))
	for _, o := range r.Outcomes {
		k := outcomeKey{Check: o.Check.ID, Evaluated: o.Evaluated, MissingKinds: o.MissingKinds, NotEvaluatedReason: o.NotEvaluatedReason, Judged: o.Judged, JudgedIn: o.JudgedIn}
		for _, f := range o.Findings {
			k.Findings = append(k.Findings, findingRef{f.Object.Kind, f.Object.Namespace, f.Object.Name, f.Message})
		}
		out = append(out, k)
	}
	return out
}
