// Package synth generates synthetic clusters for the benchmark harness: the
// objects a team would apply to a cluster of a given number of Pods
// (namespaces with their workloads, ServiceAccounts, RBAC, NetworkPolicies,
// Services, Ingresses, quotas and Secrets with data), with pod templates that
// mix hardened, typical and insecure settings. Generation is deterministic:
// the same Options give the same objects, byte for byte.
//
// Generate returns what a user applies; kube-controller-manager turns its
// Deployments, StatefulSets and Jobs into ReplicaSets and Pods. Materialize
// does that work offline (for the engine benchmarks and for manifest files
// that hold a whole cluster), and Snapshot builds the engine's input.
package synth

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// PodsPerNamespace is the number of Pods each generated namespace runs (the
// last one runs the rest).
const PodsPerNamespace = 100

// Options say what to generate.
type Options struct {
	// Pods is the number of Pods the cluster runs once its controllers have
	// made them: Deployments' and StatefulSets' replicas, Jobs' Pods, bare Pods.
	Pods int
	// Seed varies the objects; the same seed gives the same objects. 0 means 1.
	Seed uint64
}

// Cluster is a generated cluster.
type Cluster struct {
	Options Options
	// Objects are what a user applies, with their apiVersion and kind, in an
	// order that creates owners (and namespaces) before what they own. Objects that own or are owned by
	// another carry a generated UID; owner references use those UIDs.
	Objects []client.Object
	// Pods is the number of Pods the controllers make from Objects plus the bare Pods.
	Pods int
	// ReplicaSets is the number of ReplicaSets: those in Objects (a Deployment's
	// old revisions) and one current ReplicaSet per Deployment.
	ReplicaSets int
}

// Generate generates a cluster of o.Pods Pods.
func Generate(o Options) *Cluster {
	if o.Seed == 0 {
		o.Seed = 1
	}
	g := &gen{r: rand.New(rand.NewPCG(o.Seed, uint64(o.Pods))), c: &Cluster{Options: o}}
	nsCount := max(1, (o.Pods+PodsPerNamespace-1)/PodsPerNamespace)
	g.clusterObjects(nsCount)
	left := o.Pods
	for i := range nsCount {
		budget := min(PodsPerNamespace, left)
		if i == nsCount-1 {
			budget = left
		}
		left -= budget
		g.namespace(i, budget)
	}
	return g.c
}

type gen struct {
	r *rand.Rand
	c *Cluster
}

// add adds objects, with their apiVersion and kind, as manifests have them.
func (g *gen) add(objs ...client.Object) {
	for _, o := range objs {
		setTypeMeta(o)
	}
	g.c.Objects = append(g.c.Objects, objs...)
}

// pick returns one of the values at random.
func pick[T any](r *rand.Rand, values ...T) T { return values[r.IntN(len(values))] }

// UID returns the generated UID of an object: the same for the same kind,
// namespace and name.
func UID(kind, namespace, name string) types.UID {
	sum := sha256.Sum256([]byte(kind + "/" + namespace + "/" + name))
	h := hex.EncodeToString(sum[:16])
	return types.UID(h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32])
}

func meta(namespace, name string, labels map[string]string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: labels}
}

func withUID(m metav1.ObjectMeta, kind string) metav1.ObjectMeta {
	m.UID = UID(kind, m.Namespace, m.Name)
	return m
}

func controllerRef(gvk schema.GroupVersionKind, m *metav1.ObjectMeta) metav1.OwnerReference {
	yes := true
	return metav1.OwnerReference{APIVersion: gvk.GroupVersion().String(), Kind: gvk.Kind, Name: m.Name, UID: m.UID, Controller: &yes, BlockOwnerDeletion: &yes}
}

func appLabels(app, component, team string) map[string]string {
	return map[string]string{
		"app.kubernetes.io/name":       app,
		"app.kubernetes.io/instance":   app,
		"app.kubernetes.io/component":  component,
		"app.kubernetes.io/part-of":    team,
		"app.kubernetes.io/managed-by": "Helm",
		"app.kubernetes.io/version":    "1.4.2",
	}
}

func selectorOf(app string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchLabels: map[string]string{"app.kubernetes.io/name": app, "app.kubernetes.io/instance": app}}
}

var teams = []string{"payments", "search", "checkout", "identity", "platform", "data", "ml", "growth", "ledger", "media"}

// clusterObjects are the cluster-scoped objects: ClusterRoles and their
// bindings (operators' roles, aggregated views, a few dangerous grants), and
// StorageClasses.
func (g *gen) clusterObjects(nsCount int) {
	n := 20 + nsCount/2
	for i := range n {
		name := fmt.Sprintf("operator-%03d", i)
		rules := []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"configmaps", "services", "endpoints"}, Verbs: []string{"get", "list", "watch"}},
			{APIGroups: []string{"apps"}, Resources: []string{"deployments", "statefulsets"}, Verbs: []string{"get", "list", "watch", "update", "patch"}},
			{APIGroups: []string{"example.com"}, Resources: []string{fmt.Sprintf("widgets%d", i), fmt.Sprintf("widgets%d/status", i)}, Verbs: []string{"*"}},
		}
		switch i % 7 {
		case 0:
			rules = append(rules, rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get", "list", "watch"}})
		case 3:
			rules = append(rules, rbacv1.PolicyRule{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}})
		case 5:
			rules = append(rules, rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods/exec", "pods"}, Verbs: []string{"create", "get"}})
		}
		g.add(&rbacv1.ClusterRole{ObjectMeta: meta("", name, map[string]string{"app.kubernetes.io/part-of": pick(g.r, teams...)}), Rules: rules})
		ns := fmt.Sprintf("team-%03d", g.r.IntN(nsCount))
		g.add(&rbacv1.ClusterRoleBinding{
			ObjectMeta: meta("", name, nil),
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: "app-000"}},
		})
	}
	g.add(&rbacv1.ClusterRoleBinding{
		ObjectMeta: meta("", "ci-deployer-admin", nil),
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: "team-000", Name: "app-001"}},
	})
	g.add(&rbacv1.ClusterRoleBinding{
		ObjectMeta: meta("", "developers-view", nil),
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "developers"}},
	})
	bind := storagev1.VolumeBindingWaitForFirstConsumer
	g.add(
		&storagev1.StorageClass{ObjectMeta: meta("", "standard", nil), Provisioner: "csi.example.com", VolumeBindingMode: &bind},
		&storagev1.StorageClass{ObjectMeta: meta("", "fast", nil), Provisioner: "csi.example.com", Parameters: map[string]string{"type": "ssd"}, VolumeBindingMode: &bind},
	)
}

// namespace generates one namespace running budget Pods.
func (g *gen) namespace(i, budget int) {
	ns := fmt.Sprintf("team-%03d", i)
	team := teams[i%len(teams)]
	nsLabels := map[string]string{"team": team, "kubernetes.io/metadata.name": ns}
	if i%3 == 0 {
		nsLabels["pod-security.kubernetes.io/warn"] = "restricted"
		nsLabels["pod-security.kubernetes.io/audit"] = "baseline"
	}
	g.add(&corev1.Namespace{ObjectMeta: meta("", ns, nsLabels)})

	// Pods: two StatefulSets of 3, three Jobs, two CronJobs with a Job each,
	// four bare Pods, and Deployments for the rest. DaemonSets make no Pods
	// on a control plane without Nodes.
	var w []workload
	left := budget
	take := func(n int) bool {
		if left < n {
			return false
		}
		left -= n
		return true
	}
	for j := range 2 {
		if budget >= 30 && take(3) {
			w = append(w, workload{kind: "StatefulSet", name: fmt.Sprintf("db-%d", j), replicas: 3})
		}
	}
	for j := range 3 {
		if budget >= 30 && take(1) {
			w = append(w, workload{kind: "Job", name: fmt.Sprintf("migrate-%d", j), replicas: 1})
		}
	}
	for j := range 2 {
		if budget >= 30 && take(1) {
			w = append(w, workload{kind: "CronJob", name: fmt.Sprintf("report-%d", j), replicas: 1})
		}
	}
	for j := range 4 {
		if budget >= 10 && take(1) {
			w = append(w, workload{kind: "Pod", name: fmt.Sprintf("debug-%d", j), replicas: 1})
		}
	}
	if budget >= 30 {
		w = append(w, workload{kind: "DaemonSet", name: "log-agent"})
	}
	for j := 0; left > 0; j++ {
		n := min(left, pick(g.r, 1, 2, 2, 3, 3, 3, 4, 5, 6, 8, 10, 12))
		left -= n
		w = append(w, workload{kind: "Deployment", name: fmt.Sprintf("svc-%03d", j), replicas: n})
	}

	// ServiceAccounts, one per long-running workload, and Secrets with data.
	sas := 0
	for _, x := range w {
		if x.kind == "Deployment" || x.kind == "StatefulSet" || x.kind == "DaemonSet" {
			sas++
		}
	}
	for j := range sas {
		sa := &corev1.ServiceAccount{ObjectMeta: meta(ns, fmt.Sprintf("app-%03d", j), map[string]string{"team": team})}
		if j%4 == 0 {
			no := false
			sa.AutomountServiceAccountToken = &no
		}
		g.add(sa)
	}
	g.secrets(ns, len(w))
	g.rbac(ns, sas)
	g.policies(ns, i, w)

	for j, x := range w {
		sa := "default"
		if sas > 0 && x.kind != "Pod" && x.kind != "Job" && x.kind != "CronJob" {
			sa = fmt.Sprintf("app-%03d", j%sas)
		}
		g.workload(ns, team, sa, x)
		g.c.Pods += x.replicas
	}
}

type workload struct {
	kind     string
	name     string
	replicas int
}

// secrets adds Opaque and TLS Secrets and Helm release Secrets (large:
// gzipped manifests), whose data the operator must never hold.
func (g *gen) secrets(ns string, workloads int) {
	for j := range max(3, workloads/2) {
		data := map[string][]byte{
			"username": []byte(fmt.Sprintf("user-%d", j)),
			"password": g.bytes(32),
			"config":   g.bytes(512 + g.r.IntN(3*1024)),
		}
		g.add(&corev1.Secret{ObjectMeta: meta(ns, fmt.Sprintf("app-secret-%03d", j), map[string]string{"app.kubernetes.io/managed-by": "Helm"}), Type: corev1.SecretTypeOpaque, Data: data})
	}
	g.add(&corev1.Secret{
		ObjectMeta: meta(ns, "ingress-tls", nil), Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{corev1.TLSCertKey: g.bytes(1600), corev1.TLSPrivateKeyKey: g.bytes(1700)},
	})
	for j := range 3 {
		name := fmt.Sprintf("sh.helm.release.v1.%s.v%d", ns, j+1)
		g.add(&corev1.Secret{
			ObjectMeta: meta(ns, name, map[string]string{"owner": "helm", "name": ns, "status": pick(g.r, "superseded", "deployed"), "version": fmt.Sprint(j + 1)}),
			Type:       "helm.sh/release.v1",
			Data:       map[string][]byte{"release": g.bytes(8*1024 + g.r.IntN(16*1024))},
		})
	}
}

// bytes returns n pseudo-random printable bytes.
func (g *gen) bytes(n int) []byte {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[g.r.IntN(len(alphabet))]
	}
	return b
}

// rbac adds the namespace's Roles and RoleBindings: a reader, a Secrets
// reader and, in some namespaces, a Role that can exec into Pods.
func (g *gen) rbac(ns string, sas int) {
	roles := []*rbacv1.Role{
		{ObjectMeta: meta(ns, "config-reader", nil), Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get", "list", "watch"}}}},
		{ObjectMeta: meta(ns, "secret-reader", nil), Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get", "list"}}}},
		{ObjectMeta: meta(ns, "debugger", nil), Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"pods", "pods/log"}, Verbs: []string{"get", "list"}},
			{APIGroups: []string{""}, Resources: []string{"pods/exec"}, Verbs: pick(g.r, []string{"create"}, []string{"get"})},
		}},
	}
	for j, role := range roles {
		g.add(role)
		subject := rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "team-" + ns}
		if sas > 0 {
			subject = rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: fmt.Sprintf("app-%03d", j%sas)}
		}
		g.add(&rbacv1.RoleBinding{
			ObjectMeta: meta(ns, role.Name, nil),
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
			Subjects:   []rbacv1.Subject{subject},
		})
	}
	g.add(&rbacv1.RoleBinding{
		ObjectMeta: meta(ns, "team-edit", nil),
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "edit"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "team-" + ns}},
	})
}

// policies adds NetworkPolicies (a default deny in most namespaces), an
// Ingress, a LimitRange and a ResourceQuota in some namespaces, and a Service
// per Deployment and StatefulSet.
func (g *gen) policies(ns string, i int, w []workload) {
	if i%5 != 4 {
		g.add(&networkingv1.NetworkPolicy{
			ObjectMeta: meta(ns, "default-deny", nil),
			Spec:       networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}},
		})
		port := intstr.FromInt32(8080)
		g.add(&networkingv1.NetworkPolicy{
			ObjectMeta: meta(ns, "allow-ingress-controller", nil),
			Spec: networkingv1.NetworkPolicySpec{
				PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app.kubernetes.io/component": "api"}},
				Ingress: []networkingv1.NetworkPolicyIngressRule{{
					From:  []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "ingress-nginx"}}}},
					Ports: []networkingv1.NetworkPolicyPort{{Port: &port}},
				}},
				PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			},
		})
	}
	if i%2 == 0 {
		g.add(&corev1.LimitRange{ObjectMeta: meta(ns, "defaults", nil), Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
			Type:           corev1.LimitTypeContainer,
			Default:        corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("512Mi")},
			DefaultRequest: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
		}}}})
		// Object counts only: a quota on requests would reject Pods that set none.
		g.add(&corev1.ResourceQuota{ObjectMeta: meta(ns, "objects", nil), Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{
			corev1.ResourcePods: resource.MustParse("1000"), corev1.ResourceServices: resource.MustParse("200"), "count/secrets": resource.MustParse("500"),
		}}})
	}
	var rules []networkingv1.IngressRule
	for _, x := range w {
		if x.kind != "Deployment" && x.kind != "StatefulSet" {
			continue
		}
		svc := &corev1.Service{ObjectMeta: meta(ns, x.name, appLabels(x.name, "api", "")), Spec: corev1.ServiceSpec{
			Selector: selectorOf(x.name).MatchLabels,
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}},
		}}
		if x.kind == "StatefulSet" {
			svc.Spec.ClusterIP = corev1.ClusterIPNone
		}
		g.add(svc)
		if len(rules) < 3 && x.kind == "Deployment" {
			pt := networkingv1.PathTypePrefix
			rules = append(rules, networkingv1.IngressRule{Host: x.name + "." + ns + ".example.com", IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &pt, Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: x.name, Port: networkingv1.ServiceBackendPort{Number: 80}}}}},
			}}})
		}
	}
	if len(rules) > 0 {
		class := "nginx"
		ing := &networkingv1.Ingress{ObjectMeta: meta(ns, "public", nil), Spec: networkingv1.IngressSpec{IngressClassName: &class, Rules: rules}}
		if i%2 == 1 {
			ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{rules[0].Host}, SecretName: "ingress-tls"}}
		}
		g.add(ing)
	}
}

var (
	deploymentGVK = appsv1.SchemeGroupVersion.WithKind("Deployment")
	cronJobGVK    = batchv1.SchemeGroupVersion.WithKind("CronJob")
)

// workload adds one workload: its object and, for a Deployment, the
// ReplicaSets of its earlier revisions (scaled to zero, as kept by
// revisionHistoryLimit), and for a CronJob, the Job of its last run.
func (g *gen) workload(ns, team, sa string, x workload) {
	component := pick(g.r, "api", "api", "worker", "frontend", "cache")
	labels := appLabels(x.name, component, team)
	tmpl := g.template(x.name, labels, sa, x.kind)
	replicas := int32(x.replicas)
	switch x.kind {
	case "Deployment":
		d := &appsv1.Deployment{ObjectMeta: withUID(meta(ns, x.name, labels), "Deployment"), Spec: appsv1.DeploymentSpec{
			Replicas: &replicas, Selector: selectorOf(x.name), Template: tmpl,
		}}
		d.Annotations = map[string]string{"meta.helm.sh/release-name": ns, "meta.helm.sh/release-namespace": ns}
		g.add(d)
		for rev := 1; rev <= 2; rev++ {
			old := *tmpl.DeepCopy()
			old.Spec.Containers[0].Image = fmt.Sprintf("%s-rc%d", old.Spec.Containers[0].Image, rev)
			hash := fmt.Sprintf("%x", sha256.Sum256([]byte(ns+x.name+old.Spec.Containers[0].Image)))[:10]
			old.Labels = copyLabels(old.Labels, "pod-template-hash", hash)
			zero := int32(0)
			rs := &appsv1.ReplicaSet{ObjectMeta: meta(ns, x.name+"-"+hash, old.Labels), Spec: appsv1.ReplicaSetSpec{
				Replicas: &zero, Template: old,
				Selector: &metav1.LabelSelector{MatchLabels: copyLabels(selectorOf(x.name).MatchLabels, "pod-template-hash", hash)},
			}}
			rs.Annotations = map[string]string{"deployment.kubernetes.io/revision": fmt.Sprint(rev)}
			rs.OwnerReferences = []metav1.OwnerReference{controllerRef(deploymentGVK, &d.ObjectMeta)}
			g.add(rs)
			g.c.ReplicaSets++
		}
		g.c.ReplicaSets++ // the current one, which the Deployment controller makes
	case "StatefulSet":
		g.add(&appsv1.StatefulSet{ObjectMeta: meta(ns, x.name, labels), Spec: appsv1.StatefulSetSpec{
			Replicas: &replicas, Selector: selectorOf(x.name), Template: tmpl, ServiceName: x.name,
			// Parallel: without a kubelet no Pod becomes Ready, and OrderedReady would stop at the first.
			PodManagementPolicy: appsv1.ParallelPodManagement,
		}})
	case "DaemonSet":
		g.add(&appsv1.DaemonSet{ObjectMeta: meta(ns, x.name, labels), Spec: appsv1.DaemonSetSpec{Selector: selectorOf(x.name), Template: tmpl}})
	case "Job":
		g.add(&batchv1.Job{ObjectMeta: meta(ns, x.name, labels), Spec: batchv1.JobSpec{Template: tmpl}})
	case "CronJob":
		suspend := true
		cj := &batchv1.CronJob{ObjectMeta: withUID(meta(ns, x.name, labels), "CronJob"), Spec: batchv1.CronJobSpec{
			// Suspended: the benchmark must not change while it runs.
			Schedule: "17 3 * * *", Suspend: &suspend,
			JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: tmpl}},
		}}
		g.add(cj)
		job := &batchv1.Job{ObjectMeta: meta(ns, x.name+"-29000000", labels), Spec: batchv1.JobSpec{Template: *tmpl.DeepCopy()}}
		job.OwnerReferences = []metav1.OwnerReference{controllerRef(cronJobGVK, &cj.ObjectMeta)}
		g.add(job)
	case "Pod":
		g.add(&corev1.Pod{ObjectMeta: meta(ns, x.name, tmpl.Labels), Spec: tmpl.Spec})
	}
}

func copyLabels(l map[string]string, kv ...string) map[string]string {
	out := make(map[string]string, len(l)+len(kv)/2)
	for k, v := range l {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}
