package controllers_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	posturev1alpha1 "github.com/kubeposture/kubeposture/api/v1alpha1"
	"github.com/kubeposture/kubeposture/internal/checks"
	"github.com/kubeposture/kubeposture/internal/report"
)

// etcdRequestLimit is etcd's default request size limit (--max-request-bytes):
// an object larger than this cannot be stored.
const etcdRequestLimit = 1536 * 1024

// worstPod is a Pod the API server admits that fails about 30 checks: the
// most findings one workload can produce (one per check).
func worstPod(ns, name string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.PodSpec{
			HostNetwork: true, HostPID: true, HostIPC: true,
			SecurityContext: &corev1.PodSecurityContext{
				Sysctls:        []corev1.Sysctl{{Name: "kernel.domainname", Value: "example.com"}},
				SELinuxOptions: &corev1.SELinuxOptions{Type: "spc_t"},
			},
			Volumes: []corev1.Volume{
				{Name: "sock", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/run/docker.sock"}}},
				{Name: "etc", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/etc"}}},
			},
			Containers: []corev1.Container{{
				Name: "app", Image: "docker.io/library/nginx:latest", ImagePullPolicy: corev1.PullIfNotPresent,
				Ports: []corev1.ContainerPort{{ContainerPort: 80, HostPort: 80}},
				Env: []corev1.EnvVar{
					{Name: "DB_PASSWORD", Value: "not-a-secret"},
					{Name: "FROM_SECRET", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}, Key: "k"}}},
				},
				SecurityContext: &corev1.SecurityContext{
					Privileged: ptr(true), AllowPrivilegeEscalation: ptr(true), RunAsUser: ptr(int64(0)),
					Capabilities:    &corev1.Capabilities{Add: []corev1.Capability{"SYS_ADMIN", "NET_RAW"}},
					SeccompProfile:  &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined},
					AppArmorProfile: &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeUnconfined},
				},
				Lifecycle:    &corev1.Lifecycle{PostStart: &corev1.LifecycleHandler{HTTPGet: &corev1.HTTPGetAction{Host: "10.0.0.1", Port: intstr.FromInt32(80)}}},
				VolumeMounts: []corev1.VolumeMount{{Name: "sock", MountPath: "/s"}, {Name: "etc", MountPath: "/e"}},
			}},
		},
	}
}

// createConcurrently creates the objects with a few workers: the admin
// client's QPS (envtest sets 1000) is not the limit, the API server is.
func createConcurrently(t *testing.T, objs []client.Object) {
	t.Helper()
	const workers = 8
	work := make(chan client.Object)
	errs := make(chan error, len(objs))
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for o := range work {
				if err := k8sClient.Create(testCtx, o); err != nil {
					errs <- fmt.Errorf("creating %T %s: %w", o, o.GetName(), err)
				}
			}
		})
	}
	for _, o := range objs {
		work <- o
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// waitCachedPods waits until the manager's cache holds n Pods in ns, so
// that the scan sees them all.
func waitCachedPods(t *testing.T, ns string, n int) {
	t.Helper()
	eventually(t, 2*scanTimeout, func() error {
		var l corev1.PodList
		if err := managerReader.List(testCtx, &l, client.InNamespace(ns)); err != nil {
			return err
		}
		if len(l.Items) < n {
			return fmt.Errorf("the manager's cache holds %d of %d pods", len(l.Items), n)
		}
		return nil
	})
}

// 20,000 findings in one namespace: the ScanReport keeps what fits under
// maxFindingsPerReport and the byte bound (well under etcd's limit), the
// most severe first, and says how many it left out; the totals still count
// every finding.
func TestBoundsTwentyThousandFindingsInOneNamespace(t *testing.T) {
	const ns, pods = "bounds-big", 700
	ensureNamespace(t, ns, nil)
	objs := make([]client.Object, 0, pods)
	for i := range pods {
		objs = append(objs, worstPod(ns, fmt.Sprintf("worst-%04d", i)))
	}
	start := time.Now()
	createConcurrently(t, objs)
	t.Logf("created %d pods in %s", pods, time.Since(start).Round(time.Millisecond))
	waitCachedPods(t, ns, pods)

	scan := newScan("bounds", ns)
	scan.Spec.MaxFindingsPerReport = 2000 // the most the CRD allows: the byte bound decides
	scan.Spec.TrustedRegistries = []string{"registry.example.com/"}
	start = time.Now()
	create(t, scan)
	scan = waitScanned(t, "bounds", nil)
	t.Logf("scanned in %s", time.Since(start).Round(time.Millisecond))

	rep := getReport(t, ns, "bounds")
	size := objectSize(t, rep)
	sum := rep.Summary
	findings := rep.AllFindings()
	t.Logf("ScanReport: %d findings, %d kept, %d left out, %d bytes", sum.Findings, len(findings), sum.Omitted, size)
	if sum.Findings < 20000 {
		t.Fatalf("summary.findings = %d; the namespace should have over 20,000 findings", sum.Findings)
	}
	if int(sum.Findings) != len(findings)+int(sum.Omitted) || sum.Omitted == 0 {
		t.Errorf("%d findings kept + %d left out != %d in all", len(findings), sum.Omitted, sum.Findings)
	}
	if len(findings) > 2000 || len(findings) < 2000 && size < report.MaxBytes-32*1024 {
		t.Errorf("kept %d findings in %d bytes: want maxFindingsPerReport (2000), or as many as fit in %d bytes", len(findings), size, report.MaxBytes)
	}
	if size > etcdRequestLimit || size > report.MaxBytes+64*1024 {
		t.Errorf("ScanReport is %d bytes; want at most the %d-byte findings bound plus its summary, and under etcd's %d", size, report.MaxBytes, etcdRequestLimit)
	}
	// Objects come in the order of their most severe finding, each object's
	// findings most severe first.
	least := 5
	for i, o := range rep.Objects {
		for j := 1; j < len(o.Findings); j++ {
			if rank(o.Findings[j]) > rank(o.Findings[j-1]) {
				t.Fatalf("objects[%d].findings[%d] (%s) is more severe than the one before it", i, j, o.Findings[j].Severity)
			}
		}
		if i > 0 && rank(o.Findings[0]) > rank(rep.Objects[i-1].Findings[0]) {
			t.Fatalf("objects[%d] has a finding more severe than objects[%d]'s most severe", i, i-1)
		}
		least = min(least, rank(o.Findings[len(o.Findings)-1]))
	}
	// The most severe are kept: every severity above the least severe kept is kept whole.
	kept := countBySeverity(findings)
	for sev, total := range map[posturev1alpha1.Severity]int32{
		posturev1alpha1.SeverityCritical: sum.Critical, posturev1alpha1.SeverityHigh: sum.High,
		posturev1alpha1.SeverityMedium: sum.Medium, posturev1alpha1.SeverityLow: sum.Low,
	} {
		if checks.Severity(sev).Rank() > least && int32(kept[sev]) != total {
			t.Errorf("kept %d of %d %s findings, though less severe ones were kept", kept[sev], total, sev)
		}
	}
	if sum.Critical == 0 || sum.ResourcesScanned < pods {
		t.Errorf("summary = %+v", sum)
	}

	// The cluster report and the status count every finding, the left-out ones included.
	cluster := &posturev1alpha1.ClusterScanReport{}
	if err := k8sClient.Get(testCtx, types.NamespacedName{Name: "bounds"}, cluster); err != nil {
		t.Fatal(err)
	}
	if cluster.Summary.Findings < sum.Findings || objectSize(t, cluster) > etcdRequestLimit {
		t.Errorf("cluster report: %d findings in all (namespace has %d), %d bytes", cluster.Summary.Findings, sum.Findings, objectSize(t, cluster))
	}
	if st := scan.Status.Summary; st.Critical < sum.Critical || st.ResourcesScanned < pods {
		t.Errorf("status summary %+v does not count the namespace's %+v", st, sum)
	}
	ready := readyCondition(scan)
	if ready.Reason != posturev1alpha1.ReasonScanSucceeded || len(ready.Message) > 1024 {
		t.Errorf("Ready = %+v", ready)
	}
}

func objectSize(t *testing.T, obj any) int {
	t.Helper()
	data, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return len(data)
}

func rank(f posturev1alpha1.Finding) int { return checks.Severity(f.Severity).Rank() }

func countBySeverity(fs []posturev1alpha1.ObjectFinding) map[posturev1alpha1.Severity]int {
	out := map[posturev1alpha1.Severity]int{}
	for _, f := range fs {
		out[f.Severity]++
	}
	return out
}

func readyCondition(scan *posturev1alpha1.ClusterScan) metav1.Condition {
	for _, c := range scan.Status.Conditions {
		if c.Type == posturev1alpha1.ConditionReady {
			return c
		}
	}
	return metav1.Condition{Reason: "absent: " + strings.Join(conditionTypes(scan), ",")}
}

func conditionTypes(scan *posturev1alpha1.ClusterScan) []string {
	var out []string
	for _, c := range scan.Status.Conditions {
		out = append(out, c.Type)
	}
	return out
}
