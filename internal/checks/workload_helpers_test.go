package checks

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/kubeposture/kubeposture/internal/inventory"
)

// wlCase is one case of a workload check's table test.
type wlCase struct {
	// fill puts the case's objects in the snapshot; every kind is marked read
	// unless unread names it.
	fill   func(s *inventory.Snapshot)
	unread []inventory.Kind
	cfg    *Config

	wantJudged       int
	wantFindings     []gotFinding
	wantMissingKinds []inventory.Kind
	// wantNotEvaluated is the reason the check gives for not judging.
	wantNotEvaluated string
}

// runWorkloadCases runs the registered check id on each case.
func runWorkloadCases(t *testing.T, id string, testCases map[string]wlCase) {
	t.Helper()
	for name, tc := range testCases {
		t.Run(name, func(t *testing.T) {
			s := readAll(tc.fill)
			for _, k := range tc.unread {
				s.MarkMissing(k, inventory.MissingForbidden, "forbidden")
			}
			o := runCheck(t, id, s, tc.cfg)
			if diff := cmp.Diff(tc.wantMissingKinds, o.MissingKinds); diff != "" {
				t.Errorf("MissingKinds mismatch (-want +got):\n%s", diff)
			}
			wantEvaluated := len(tc.wantMissingKinds) == 0 && tc.wantNotEvaluated == ""
			if o.Evaluated != wantEvaluated {
				t.Errorf("Evaluated = %t, want %t", o.Evaluated, wantEvaluated)
			}
			if o.NotEvaluatedReason != tc.wantNotEvaluated {
				t.Errorf("NotEvaluatedReason = %q, want %q", o.NotEvaluatedReason, tc.wantNotEvaluated)
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

// wlDeployments fills a snapshot with Deployments of the given specs in ns, named app, app-2, app-3, ...
func wlDeployments(ns string, specs ...corev1.PodSpec) func(s *inventory.Snapshot) {
	return func(s *inventory.Snapshot) {
		for i, spec := range specs {
			s.Deployments = append(s.Deployments, deployment(ns, wlAppName(i), spec))
		}
	}
}

func wlAppName(i int) string {
	if i == 0 {
		return "app"
	}
	return "app-" + string(rune('1'+i))
}

func wlDeployRef(ns, name string) inventory.ObjectRef {
	return objRef("apps/v1", "Deployment", ns, name)
}

func wlPodRef(ns, name string) inventory.ObjectRef { return objRef("v1", "Pod", ns, name) }

// wlFills combines snapshot fills.
func wlFills(fs ...func(s *inventory.Snapshot)) func(s *inventory.Snapshot) {
	return func(s *inventory.Snapshot) {
		for _, f := range fs {
			f(s)
		}
	}
}

func wlStatefulSet(ns, name string, spec corev1.PodSpec) appsv1.StatefulSet {
	return appsv1.StatefulSet{ObjectMeta: objectMeta(ns, name), Spec: appsv1.StatefulSetSpec{Template: corev1.PodTemplateSpec{Spec: spec}}}
}

func wlDaemonSet(ns, name string, spec corev1.PodSpec) appsv1.DaemonSet {
	return appsv1.DaemonSet{ObjectMeta: objectMeta(ns, name), Spec: appsv1.DaemonSetSpec{Template: corev1.PodTemplateSpec{Spec: spec}}}
}

// wlMirrorPod is the kubelet's mirror of a static pod on node-1.
func wlMirrorPod(ns, name string, labels map[string]string, spec corev1.PodSpec) corev1.Pod {
	p := pod(ns, name, spec, controllerRef("v1", "Node", "node-1"))
	p.Annotations = map[string]string{corev1.MirrorPodAnnotationKey: "hash"}
	p.Labels = labels
	return p
}

// wlContainer is a bare container with an image.
func wlContainer(name, image string) corev1.Container {
	return corev1.Container{Name: name, Image: image}
}

// wlSpec is a pod spec of the given containers and nothing else.
func wlSpec(containers ...corev1.Container) corev1.PodSpec {
	return corev1.PodSpec{Containers: containers}
}

// wlEphemeral wraps a container as an ephemeral container.
func wlEphemeral(c corev1.Container) corev1.EphemeralContainer {
	return corev1.EphemeralContainer{EphemeralContainerCommon: corev1.EphemeralContainerCommon(c)}
}

func wlHostPath(name, path string) corev1.Volume {
	return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: path}}}
}

// wlMount returns c mounting the named volume.
func wlMount(c corev1.Container, volume string, readOnly bool) corev1.Container {
	c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: volume, MountPath: "/mnt/" + volume, ReadOnly: readOnly})
	return c
}

func wlResources(kv ...string) corev1.ResourceList {
	l := corev1.ResourceList{}
	for i := 0; i+1 < len(kv); i += 2 {
		l[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return l
}

func wlLimitRange(ns, name string, items ...corev1.LimitRangeItem) corev1.LimitRange {
	return corev1.LimitRange{ObjectMeta: objectMeta(ns, name), Spec: corev1.LimitRangeSpec{Limits: items}}
}

func wlCaps(c corev1.Container, add, drop []corev1.Capability) corev1.Container {
	if c.SecurityContext == nil {
		c.SecurityContext = &corev1.SecurityContext{}
	}
	c.SecurityContext.Capabilities = &corev1.Capabilities{Add: add, Drop: drop}
	return c
}

func wlServiceAccount(ns, name string, automount *bool) corev1.ServiceAccount {
	return corev1.ServiceAccount{ObjectMeta: objectMeta(ns, name), AutomountServiceAccountToken: automount}
}
