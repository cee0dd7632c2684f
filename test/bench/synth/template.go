package synth

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// profile is how carefully a pod template was written.
type profile int

const (
	hardened profile = iota // meant to pass the workload checks
	typical                 // a few settings missing
	insecure                // one or more dangerous settings
)

// template returns a pod template: half hardened, three in ten typical,
// two in ten insecure; one to three containers, an init container in some,
// environment, probes, volumes and the annotations Helm charts add.
func (g *gen) template(app string, labels map[string]string, sa, kind string) corev1.PodTemplateSpec {
	p := hardened
	switch n := g.r.IntN(10); {
	case n >= 8:
		p = insecure
	case n >= 5:
		p = typical
	}
	spec := corev1.PodSpec{
		ServiceAccountName:            sa,
		TerminationGracePeriodSeconds: ptr(int64(30)),
		NodeSelector:                  map[string]string{"kubernetes.io/os": "linux"},
		Tolerations:                   []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: labels["app.kubernetes.io/part-of"], Effect: corev1.TaintEffectNoSchedule}},
		Volumes: []corev1.Volume{
			{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: app + "-config"}}}},
			{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: ptr(resource.MustParse("256Mi"))}}},
		},
	}
	if kind == "Job" || kind == "CronJob" {
		spec.RestartPolicy = corev1.RestartPolicyOnFailure
	}
	if g.r.IntN(3) == 0 {
		spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{
			Weight: 100, PodAffinityTerm: corev1.PodAffinityTerm{TopologyKey: "kubernetes.io/hostname", LabelSelector: selectorOf(app)},
		}}}}
	}
	if g.r.IntN(4) == 0 {
		spec.Volumes = append(spec.Volumes, corev1.Volume{Name: "credentials", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "app-secret-000"}}})
	}
	if p == hardened {
		spec.AutomountServiceAccountToken = ptr(false)
		spec.SecurityContext = &corev1.PodSecurityContext{
			RunAsNonRoot: ptr(true), RunAsUser: ptr(int64(10001)), RunAsGroup: ptr(int64(10001)), FSGroup: ptr(int64(10001)),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		}
	}
	containers := 1 + g.r.IntN(3)
	for i := range containers {
		name := app
		if i > 0 {
			name = pick(g.r, "sidecar", "proxy", "exporter") + fmt.Sprint(i)
		}
		spec.Containers = append(spec.Containers, g.container(name, app, p, i))
	}
	if g.r.IntN(4) == 0 {
		c := g.container("init-migrations", app, p, -1)
		c.Ports, c.LivenessProbe, c.ReadinessProbe = nil, nil, nil
		spec.InitContainers = append(spec.InitContainers, c)
	}
	if p == insecure {
		g.makeInsecure(&spec)
	}
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{
			Labels: labels,
			Annotations: map[string]string{
				"checksum/config":      fmt.Sprintf("%x", g.bytes(32)),
				"prometheus.io/scrape": "true",
				"prometheus.io/port":   "9090",
			},
		},
		Spec: spec,
	}
}

// container returns the i-th container (-1 for an init container); each
// listens on its own ports, which host networking requires.
func (g *gen) container(name, app string, p profile, i int) corev1.Container {
	port := int32(8080 + 10*max(i, 0))
	image := fmt.Sprintf("registry.example.com/%s/%s@sha256:%x", app, name, g.bytes(32))
	if p != hardened {
		image = fmt.Sprintf("registry.example.com/%s/%s:1.%d.%d", app, name, g.r.IntN(20), g.r.IntN(10))
	}
	c := corev1.Container{
		Name: name, Image: image, ImagePullPolicy: corev1.PullIfNotPresent,
		Args:  []string{"--config=/etc/app/config.yaml", "--log-level=info", fmt.Sprintf("--port=%d", port)},
		Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: port, Protocol: corev1.ProtocolTCP}, {Name: "metrics", ContainerPort: port + 1000, Protocol: corev1.ProtocolTCP}},
		VolumeMounts: []corev1.VolumeMount{
			{Name: "config", MountPath: "/etc/app", ReadOnly: true},
			{Name: "tmp", MountPath: "/tmp"},
		},
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
			Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("512Mi")},
		},
	}
	for j := range 5 + g.r.IntN(20) {
		env := corev1.EnvVar{Name: fmt.Sprintf("APP_SETTING_%02d", j), Value: fmt.Sprintf("value-%d", g.r.IntN(1000))}
		switch j % 7 {
		case 3:
			env.Value, env.ValueFrom = "", &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "app-secret-000"}, Key: "password"}}
		case 5:
			env.Value, env.ValueFrom = "", &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}
		}
		c.Env = append(c.Env, env)
	}
	if i == 0 {
		c.LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromString("http")}}, PeriodSeconds: 10}
		c.ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/readyz", Port: intstr.FromString("http")}}, PeriodSeconds: 5}
	}
	switch p {
	case hardened:
		c.SecurityContext = &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr(false), ReadOnlyRootFilesystem: ptr(true), RunAsNonRoot: ptr(true),
			Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		}
	case typical:
		switch g.r.IntN(3) {
		case 0:
			c.Resources.Limits = nil
		case 1:
			c.SecurityContext = &corev1.SecurityContext{AllowPrivilegeEscalation: ptr(false)}
		}
	}
	return c
}

// makeInsecure adds one to three dangerous settings.
func (g *gen) makeInsecure(spec *corev1.PodSpec) {
	c := &spec.Containers[0]
	for _, n := range g.r.Perm(9)[:1+g.r.IntN(3)] {
		switch n {
		case 0:
			c.SecurityContext = &corev1.SecurityContext{Privileged: ptr(true)}
		case 1:
			spec.Volumes = append(spec.Volumes, corev1.Volume{Name: "docker-sock", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/run/docker.sock"}}})
			c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: "docker-sock", MountPath: "/var/run/docker.sock"})
		case 2:
			spec.HostNetwork = true
		case 3:
			spec.HostPID = true
		case 4:
			c.SecurityContext = &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{pick[corev1.Capability](g.r, "SYS_ADMIN", "NET_ADMIN", "SYS_PTRACE")}}}
		case 5:
			c.Image = fmt.Sprintf("docker.io/library/%s:latest", pick(g.r, "nginx", "redis", "busybox"))
		case 6:
			c.SecurityContext = &corev1.SecurityContext{RunAsUser: ptr(int64(0)), AllowPrivilegeEscalation: ptr(true)}
		case 7:
			c.Resources = corev1.ResourceRequirements{}
		case 8:
			c.Env = append(c.Env, corev1.EnvVar{Name: "DB_PASSWORD", Value: "hunter2"})
		}
	}
}

func ptr[T any](v T) *T { return &v }
