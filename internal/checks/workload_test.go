package checks

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/kubeposture/kubeposture/internal/inventory"
)

// TestWorkloadCatalogue pins what the catalogue says about each workload
// check: a change of ID, severity or category is a change for users and
// for the framework mappings.
func TestWorkloadCatalogue(t *testing.T) {
	want := map[string]struct {
		severity Severity
		category Category
		extra    []inventory.Kind
	}{
		"workload-runtime-socket-mount":            {SeverityCritical, CategoryWorkload, nil},
		"workload-sensitive-host-path":             {SeverityHigh, CategoryWorkload, nil},
		"workload-dangerous-capabilities":          {SeverityHigh, CategoryWorkload, nil},
		"workload-capabilities-not-dropped":        {SeverityMedium, CategoryWorkload, nil},
		"workload-writable-root-filesystem":        {SeverityLow, CategoryWorkload, nil},
		"workload-missing-resource-requests":       {SeverityLow, CategoryWorkload, []inventory.Kind{inventory.KindLimitRange}},
		"workload-missing-resource-limits":         {SeverityLow, CategoryWorkload, []inventory.Kind{inventory.KindLimitRange}},
		"image-latest-tag":                         {SeverityMedium, CategoryImages, nil},
		"image-not-pinned-by-digest":               {SeverityLow, CategoryImages, nil},
		"image-untrusted-registry":                 {SeverityHigh, CategoryImages, nil},
		"image-pull-policy":                        {SeverityLow, CategoryImages, nil},
		"workload-service-account-token-automount": {SeverityLow, CategoryWorkload, []inventory.Kind{inventory.KindServiceAccount}},
		"workload-default-service-account":         {SeverityLow, CategoryWorkload, nil},
		"workload-secret-env-vars":                 {SeverityLow, CategorySecrets, nil},
		"workload-credential-literal-env":          {SeverityHigh, CategorySecrets, nil},
		"workload-default-namespace":               {SeverityLow, CategoryWorkload, nil},
		"workload-in-kube-system":                  {SeverityMedium, CategoryWorkload, nil},
		"workload-missing-probes":                  {SeverityLow, CategoryReliability, nil},
	}
	checks := workloadChecks()
	if len(checks) != len(want) {
		t.Errorf("workloadChecks() returns %d checks, want %d", len(checks), len(want))
	}
	for _, c := range checks {
		w, ok := want[c.ID]
		if !ok {
			t.Errorf("unexpected check %q", c.ID)
			continue
		}
		if Default.Get(c.ID) == nil {
			t.Errorf("check %q is not in the Default registry", c.ID)
		}
		if c.Severity != w.severity || c.Category != w.category {
			t.Errorf("check %q: severity %q category %q, want %q and %q", c.ID, c.Severity, c.Category, w.severity, w.category)
		}
		wantNeeds := append(slices.Clone(inventory.WorkloadKinds), w.extra...)
		if diff := cmp.Diff(wantNeeds, c.Needs); diff != "" {
			t.Errorf("check %q: Needs mismatch (-want +got):\n%s", c.ID, diff)
		}
		if c.Title == "" || c.Description == "" || c.Remediation == "" || c.Evidence == "" {
			t.Errorf("check %q: title, description, remediation and evidence are required", c.ID)
		}
	}
}

func TestContainersOf(t *testing.T) {
	spec := corev1.PodSpec{
		InitContainers:      []corev1.Container{{Name: "init"}},
		Containers:          []corev1.Container{{Name: "app"}, {Name: "sidecar"}},
		EphemeralContainers: []corev1.EphemeralContainer{wlEphemeral(corev1.Container{Name: "debug"})},
	}
	testCases := map[string]struct {
		kinds containerKind
		want  []string
	}{
		"all kinds, containers first": {
			kinds: allContainers,
			want: []string{
				`container "app" (containers[0])`, `container "sidecar" (containers[1])`,
				`container "init" (initContainers[0])`, `container "debug" (ephemeralContainers[0])`,
			},
		},
		"containers and init containers": {
			kinds: regularContainer | initContainer,
			want:  []string{`container "app" (containers[0])`, `container "sidecar" (containers[1])`, `container "init" (initContainers[0])`},
		},
		"ephemeral only": {
			kinds: ephemeralContainer,
			want:  []string{`container "debug" (ephemeralContainers[0])`},
		},
	}
	for name, tc := range testCases {
		t.Run(name, func(t *testing.T) {
			var got []string
			for c := range containersOf(&spec, tc.kinds) {
				got = append(got, c.String())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("containers mismatch (-want +got):\n%s", diff)
			}
		})
	}
	// The ephemeral container is the pod spec's own, not a copy.
	for c := range containersOf(&spec, ephemeralContainer) {
		if c.Container != (*corev1.Container)(&spec.EphemeralContainers[0].EphemeralContainerCommon) {
			t.Errorf("ephemeral container is a copy")
		}
	}
}

func TestIsWindowsPod(t *testing.T) {
	testCases := map[string]struct {
		spec corev1.PodSpec
		want bool
	}{
		"no hint":                 {spec: corev1.PodSpec{}, want: false},
		"spec.os.name windows":    {spec: corev1.PodSpec{OS: &corev1.PodOS{Name: corev1.Windows}}, want: true},
		"spec.os.name linux wins": {spec: corev1.PodSpec{OS: &corev1.PodOS{Name: corev1.Linux}, NodeSelector: map[string]string{"kubernetes.io/os": "windows"}}, want: false},
		"node selector windows":   {spec: corev1.PodSpec{NodeSelector: map[string]string{"kubernetes.io/os": "windows"}}, want: true},
		"node selector linux":     {spec: corev1.PodSpec{NodeSelector: map[string]string{"kubernetes.io/os": "linux"}}, want: false},
		"hostProcess pod": {spec: corev1.PodSpec{SecurityContext: &corev1.PodSecurityContext{
			WindowsOptions: &corev1.WindowsSecurityContextOptions{HostProcess: new(true)},
		}}, want: true},
	}
	for name, tc := range testCases {
		t.Run(name, func(t *testing.T) {
			if got := isWindowsPod(&tc.spec); got != tc.want {
				t.Errorf("isWindowsPod() = %t, want %t", got, tc.want)
			}
		})
	}
}

// Host paths.

func TestWorkloadRuntimeSocketMount(t *testing.T) {
	const id = "workload-runtime-socket-mount"
	app := wlContainer("app", "registry.example/app:1.0")
	withVolume := func(path string, c ...corev1.Container) corev1.PodSpec {
		return corev1.PodSpec{Volumes: []corev1.Volume{wlHostPath("host", path)}, Containers: c}
	}
	testCases := map[string]wlCase{
		"docker socket mounted read-only still fails": {
			fill:       wlDeployments("shop", withVolume("/var/run/docker.sock", wlMount(app, "host", true))),
			wantJudged: 1,
			wantFindings: []gotFinding{{Check: id, Object: wlDeployRef("shop", "app"),
				Message: `volumes[0] "host": hostPath.path "/var/run/docker.sock" is a container runtime socket, mounted by container "app" (containers[0]) read-only`}},
		},
		"containerd socket directory with a trailing slash": {
			fill:       wlDeployments("shop", withVolume("/run/containerd/", wlMount(app, "host", false))),
			wantJudged: 1,
			wantFindings: []gotFinding{{Check: id, Object: wlDeployRef("shop", "app"),
				Message: `volumes[0] "host": hostPath.path "/run/containerd/" is a directory holding container runtime sockets, mounted by container "app" (containers[0]) read-write`}},
		},
		"unclean path to the cri-o socket": {
			fill:       wlDeployments("shop", withVolume("//var/run//crio/./crio.sock", wlMount(app, "host", false))),
			wantJudged: 1,
			wantFindings: []gotFinding{{Check: id, Object: wlDeployRef("shop", "app"),
				Message: `volumes[0] "host": hostPath.path "//var/run//crio/./crio.sock" is a container runtime socket, mounted by container "app" (containers[0]) read-write`}},
		},
		"/var/run directory": {
			fill:       wlDeployments("shop", withVolume("/var/run", wlMount(app, "host", true))),
			wantJudged: 1,
			wantFindings: []gotFinding{{Check: id, Object: wlDeployRef("shop", "app"),
				Message: `volumes[0] "host": hostPath.path "/var/run" is a directory holding container runtime sockets, mounted by container "app" (containers[0]) read-only`}},
		},
		"Windows docker named pipe": {
			fill: wlDeployments("shop", func() corev1.PodSpec {
				s := withVolume(`\\.\pipe\docker_engine`, wlMount(app, "host", false))
				s.OS = &corev1.PodOS{Name: corev1.Windows}
				return s
			}()),
			wantJudged: 1,
			wantFindings: []gotFinding{{Check: id, Object: wlDeployRef("shop", "app"),
				Message: `volumes[0] "host": hostPath.path "\\\\.\\pipe\\docker_engine" is a container runtime named pipe, mounted by container "app" (containers[0]) read-write`}},
		},
		"init and ephemeral containers mounting the socket are listed": {
			fill: func(s *inventory.Snapshot) {
				spec := withVolume("/run/containerd/containerd.sock", app)
				spec.InitContainers = []corev1.Container{wlMount(wlContainer("init", "registry.example/init:1"), "host", false)}
				spec.EphemeralContainers = []corev1.EphemeralContainer{wlEphemeral(wlMount(wlContainer("debug", "busybox:1"), "host", true))}
				s.Pods = []corev1.Pod{pod("shop", "debugged", spec)}
			},
			wantJudged: 1,
			wantFindings: []gotFinding{{Check: id, Object: wlPodRef("shop", "debugged"),
				Message: `volumes[0] "host": hostPath.path "/run/containerd/containerd.sock" is a container runtime socket, mounted by container "init" (initContainers[0]) read-write, container "debug" (ephemeralContainers[0]) read-only`}},
		},
		"CronJob template is judged on the CronJob": {
			fill: func(s *inventory.Snapshot) {
				s.CronJobs = []batchv1.CronJob{cronJob("ops", "cleanup", withVolume("/var/run/docker.sock", wlMount(app, "host", false)))}
			},
			wantJudged: 1,
			wantFindings: []gotFinding{{Check: id, Object: objRef("batch/v1", "CronJob", "ops", "cleanup"),
				Message: `volumes[0] "host": hostPath.path "/var/run/docker.sock" is a container runtime socket, mounted by container "app" (containers[0]) read-write`}},
		},
		"socket volume no container mounts passes": {
			fill:       wlDeployments("shop", withVolume("/var/run/docker.sock", app)),
			wantJudged: 1,
		},
		"other host paths pass": {
			fill: wlDeployments("shop",
				withVolume("/var/lib/app", wlMount(app, "host", false)),
				withVolume("/run/xtables.lock", wlMount(app, "host", false)),
				withVolume("/var/run/docker.sock.bak", wlMount(app, "host", false)),
			),
			wantJudged: 3,
		},
		"workload kinds not read": {
			unread:           []inventory.Kind{inventory.KindCronJob},
			wantMissingKinds: []inventory.Kind{inventory.KindCronJob},
		},
	}
	runWorkloadCases(t, id, testCases)
}

func TestIsSensitiveHostPath(t *testing.T) {
	testCases := map[string]bool{
		"/":                            true,
		"/etc":                         true,
		"/etc/":                        true,
		"/etc/kubernetes":              true,
		"/etc/kubernetes/pki/ca.key":   true,
		"/var":                         true,
		"/var/lib":                     true,
		"/var/lib/kubelet/pods":        true,
		"/var/lib/etcd":                true,
		"/proc/1/root":                 true,
		"/sys/fs/cgroup":               true,
		"/root/.ssh":                   true,
		"/home/alice":                  true,
		"/var/log":                     true,
		"/var/log/pods":                true,
		"/var/run":                     true,
		"/run":                         true,
		"/dev":                         true,
		"/etc/shadow":                  true,
		"/opt/cni/bin":                 true,
		"/usr/local/bin/kubectl":       true,
		"//etc//kubernetes/":           true,
		"/etc/ssl/certs":               false,
		"/etc/localtime":               false,
		"/dev/fuse":                    false,
		"/run/xtables.lock":            false,
		"/var/lib/app":                 false,
		"/data":                        false,
		"/lib/modules":                 false,
		"/etc/kubernetes-backup":       false,
		"/procfs":                      false,
		`C:\var\lib\kubelet`:           false,
		"relative/etc":                 false,
		"/var/lib/kubelet/../app/data": false, // Clean resolves it to /var/lib/app/data
	}
	for p, want := range testCases {
		t.Run(p, func(t *testing.T) {
			if got := isSensitiveHostPath(cleanHostPath(p)); got != want {
				t.Errorf("isSensitiveHostPath(%q) = %t, want %t", p, got, want)
			}
		})
	}
}

func TestWorkloadSensitiveHostPath(t *testing.T) {
	const id = "workload-sensitive-host-path"
	app := wlContainer("app", "registry.example/app:1.0")
	withVolumes := func(c corev1.Container, vols ...corev1.Volume) corev1.PodSpec {
		return corev1.PodSpec{Volumes: vols, Containers: []corev1.Container{c}}
	}
	testCases := map[string]wlCase{
		"read-only /etc and writable kubelet dir in one finding": {
			fill: wlDeployments("shop", withVolumes(
				wlMount(wlMount(app, "etc", true), "kubelet", false),
				wlHostPath("etc", "/etc/"), wlHostPath("certs", "/etc/ssl/certs"), wlHostPath("kubelet", "/var/lib/kubelet/pods"),
			)),
			wantJudged: 1,
			wantFindings: []gotFinding{{Check: id, Object: wlDeployRef("shop", "app"),
				Message: `volumes[0] "etc": hostPath.path "/etc/" mounted by container "app" (containers[0]) read-only; ` +
					`volumes[2] "kubelet": hostPath.path "/var/lib/kubelet/pods" mounted by container "app" (containers[0]) read-write`}},
		},
		"ancestor of a sensitive path": {
			fill:       wlDeployments("shop", withVolumes(wlMount(app, "var", true), wlHostPath("var", "/var"))),
			wantJudged: 1,
			wantFindings: []gotFinding{{Check: id, Object: wlDeployRef("shop", "app"),
				Message: `volumes[0] "var": hostPath.path "/var" mounted by container "app" (containers[0]) read-only`}},
		},
		"routine host mounts pass": {
			fill: wlDeployments("shop", withVolumes(
				wlMount(wlMount(wlMount(app, "certs", true), "fuse", false), "lock", false),
				wlHostPath("certs", "/etc/ssl/certs"), wlHostPath("fuse", "/dev/fuse"), wlHostPath("lock", "/run/xtables.lock"),
			)),
			wantJudged: 1,
		},
		"sensitive volume no container mounts passes": {
			fill:       wlDeployments("shop", withVolumes(app, wlHostPath("root", "/"))),
			wantJudged: 1,
		},
		"control-plane static pods are not judged, other pods are": {
			fill: func(s *inventory.Snapshot) {
				spec := withVolumes(wlMount(app, "pki", true), wlHostPath("pki", "/etc/kubernetes/pki"))
				s.Pods = []corev1.Pod{
					wlMirrorPod("kube-system", "kube-apiserver-node-1", map[string]string{"component": "kube-apiserver", "tier": "control-plane"}, spec),
					pod("kube-system", "pki-reader", spec),
				}
			},
			wantJudged: 1,
			wantFindings: []gotFinding{{Check: id, Object: wlPodRef("kube-system", "pki-reader"),
				Message: `volumes[0] "pki": hostPath.path "/etc/kubernetes/pki" mounted by container "app" (containers[0]) read-only`}},
		},
	}
	runWorkloadCases(t, id, testCases)
}

// Capabilities.

func TestWorkloadDangerousCapabilities(t *testing.T) {
	const id = "workload-dangerous-capabilities"
	app := wlContainer("app", "registry.example/app:1.0")
	testCases := map[string]wlCase{
		"dangerous capabilities in any spelling are listed, sorted": {
			fill:       wlDeployments("shop", wlSpec(wlCaps(app, []corev1.Capability{"SYS_ADMIN", "NET_BIND_SERVICE", "cap_net_admin", "CAP_BPF"}, nil))),
			wantJudged: 1,
			wantFindings: []gotFinding{{Check: id, Object: wlDeployRef("shop", "app"),
				Message: `container "app" (containers[0]): securityContext.capabilities.add includes ["CAP_BPF", "SYS_ADMIN", "cap_net_admin"]`}},
		},
		"ALL": {
			fill:       wlDeployments("shop", wlSpec(wlCaps(app, []corev1.Capability{"all"}, []corev1.Capability{"ALL"}))),
			wantJudged: 1,
			wantFindings: []gotFinding{{Check: id, Object: wlDeployRef("shop", "app"),
				Message: `container "app" (containers[0]): securityContext.capabilities.add includes ["all"]`}},
		},
		"init and ephemeral containers": {
			fill: func(s *inventory.Snapshot) {
				spec := wlSpec(app)
				spec.InitContainers = []corev1.Container{wlCaps(wlContainer("init", "registry.example/init:1"), []corev1.Capability{"NET_RAW"}, nil)}
				spec.EphemeralContainers = []corev1.EphemeralContainer{wlEphemeral(wlCaps(wlContainer("debug", "busybox:1"), []corev1.Capability{"SYS_PTRACE"}, nil))}
				s.Pods = []corev1.Pod{pod("shop", "debugged", spec)}
			},
			wantJudged: 1,
			wantFindings: []gotFinding{{Check: id, Object: wlPodRef("shop", "debugged"),
				Message: `container "init" (initContainers[0]): securityContext.capabilities.add includes ["NET_RAW"]; ` +
					`container "debug" (ephemeralContainers[0]): securityContext.capabilities.add includes ["SYS_PTRACE"]`}},
		},
		"runtime-default and harmless capabilities pass": {
			fill:       wlDeployments("shop", wlSpec(wlCaps(app, []corev1.Capability{"NET_BIND_SERVICE", "CHOWN", "SETUID", "DAC_OVERRIDE"}, nil)), wlSpec(app)),
			wantJudged: 2,
		},
		"a capability name that only contains a dangerous one passes": {
			fill:       wlDeployments("shop", wlSpec(wlCaps(app, []corev1.Capability{"CAP_SYS_ADMINISTRATOR", "XSYS_ADMIN"}, nil))),
			wantJudged: 1,
		},
		"Windows pods are not judged": {
			fill: wlDeployments("shop", func() corev1.PodSpec {
				s := wlSpec(wlCaps(app, []corev1.Capability{"SYS_ADMIN"}, nil))
				s.OS = &corev1.PodOS{Name: corev1.Windows}
				return s
			}()),
			wantJudged: 0,
		},
	}
	runWorkloadCases(t, id, testCases)
}

func TestWorkloadCapabilitiesNotDropped(t *testing.T) {
	const id = "workload-capabilities-not-dropped"
	app := wlContainer("app", "registry.example/app:1.0")
	privileged := wlCaps(app, nil, []corev1.Capability{"ALL"})
	privileged.SecurityContext.Privileged = new(true)
	testCases := map[string]wlCase{
		"hardened containers drop ALL and pass": {
			fill:       wlDeployments("shop", hardenedSpec("app", "sidecar")),
			wantJudged: 1,
		},
		"dropping NET_RAW in any spelling passes": {
			fill: wlDeployments("shop",
				wlSpec(wlCaps(app, nil, []corev1.Capability{"NET_RAW"})),
				wlSpec(wlCaps(app, nil, []corev1.Capability{"cap_net_raw"})),
				wlSpec(wlCaps(app, nil, []corev1.Capability{"all"})),
			),
			wantJudged: 3,
		},
		"no securityContext, and other drops only": {
			fill: wlDeployments("shop",
				wlSpec(app),
				wlSpec(wlCaps(app, nil, []corev1.Capability{"SYS_ADMIN", "MKNOD"})),
			),
			wantJudged: 2,
			wantFindings: []gotFinding{
				{Check: id, Object: wlDeployRef("shop", "app"), Message: `container "app" (containers[0]): securityContext.capabilities.drop includes neither NET_RAW nor ALL`},
				{Check: id, Object: wlDeployRef("shop", "app-2"), Message: `container "app" (containers[0]): securityContext.capabilities.drop includes neither NET_RAW nor ALL`},
			},
		},
		"NET_RAW added back after dropping ALL": {
			fill:       wlDeployments("shop", wlSpec(wlCaps(app, []corev1.Capability{"NET_RAW"}, []corev1.Capability{"ALL"}))),
			wantJudged: 1,
			wantFindings: []gotFinding{{Check: id, Object: wlDeployRef("shop", "app"),
				Message: `container "app" (containers[0]): securityContext.capabilities.add puts NET_RAW back`}},
		},
		"privileged keeps NET_RAW whatever it drops": {
			fill:       wlDeployments("shop", wlSpec(privileged)),
			wantJudged: 1,
			wantFindings: []gotFinding{{Check: id, Object: wlDeployRef("shop", "app"),
				Message: `container "app" (containers[0]): securityContext.privileged is true, which grants NET_RAW whatever is dropped`}},
		},
		"init container that drops nothing": {
			fill: wlDeployments("shop", func() corev1.PodSpec {
				s := hardenedSpec()
				s.InitContainers = []corev1.Container{wlContainer("migrate", "registry.example/migrate:1")}
				return s
			}()),
			wantJudged: 1,
			wantFindings: []gotFinding{{Check: id, Object: wlDeployRef("shop", "app"),
				Message: `container "migrate" (initContainers[0]): securityContext.capabilities.drop includes neither NET_RAW nor ALL`}},
		},
		"Windows pods are not judged": {
			fill: wlDeployments("shop", func() corev1.PodSpec {
				s := wlSpec(app)
				s.NodeSelector = map[string]string{"kubernetes.io/os": "windows"}
				return s
			}()),
			wantJudged: 0,
		},
	}
	runWorkloadCases(t, id, testCases)
}

func TestWorkloadWritableRootFilesystem(t *testing.T) {
	const id = "workload-writable-root-filesystem"
	readOnly := func(c corev1.Container, v *bool) corev1.Container {
		if c.SecurityContext == nil {
			c.SecurityContext = &corev1.SecurityContext{}
		}
		c.SecurityContext.ReadOnlyRootFilesystem = v
		return c
	}
	app := wlContainer("app", "registry.example/app:1.0")
	testCases := map[string]wlCase{
		"read-only root filesystem passes": {
			fill:       wlDeployments("shop", wlSpec(readOnly(app, new(true)))),
			wantJudged: 1,
		},
		"unset, false, and unset on an init and an ephemeral container": {
			fill: func(s *inventory.Snapshot) {
				spec := wlSpec(readOnly(app, new(true)), readOnly(wlContainer("sidecar", "registry.example/proxy:2"), new(false)))
				spec.InitContainers = []corev1.Container{wlContainer("init", "registry.example/init:1")}
				spec.EphemeralContainers = []corev1.EphemeralContainer{wlEphemeral(wlContainer("debug", "busybox:1"))}
				s.Pods = []corev1.Pod{pod("shop", "web", spec)}
			},
			wantJudged: 1,
			wantFindings: []gotFinding{{Check: id, Object: wlPodRef("shop", "web"),
				Message: `container "sidecar" (containers[1]): securityContext.readOnlyRootFilesystem is false; ` +
					`container "init" (initContainers[0]): securityContext.readOnlyRootFilesystem is unset; ` +
					`container "debug" (ephemeralContainers[0]): securityContext.readOnlyRootFilesystem is unset`}},
		},
		"Windows pods are not judged": {
			fill: wlDeployments("shop", func() corev1.PodSpec {
				s := wlSpec(app)
				s.OS = &corev1.PodOS{Name: corev1.Windows}
				return s
			}()),
			wantJudged: 0,
		},
	}
	runWorkloadCases(t, id, testCases)
}

// Resources.

func TestWorkloadMissingResourceRequests(t *testing.T) {
	const id = "workload-missing-resource-requests"
	withResources := func(requests, limits corev1.ResourceList) corev1.Container {
		c := wlContainer("app", "registry.example/app:1.0")
		c.Resources = corev1.ResourceRequirements{Requests: requests, Limits: limits}
		return c
	}
	bare := withResources(nil, nil)
	both := "resources.requests.cpu and resources.requests.memory not set"
	testCases := map[string]wlCase{
		"no resources": {
			fill:         wlDeployments("shop", wlSpec(bare)),
			wantJudged:   1,
			wantFindings: []gotFinding{{Check: id, Object: wlDeployRef("shop", "app"), Message: `container "app" (containers[0]): ` + both}},
		},
		"requests set pass": {
			fill:       wlDeployments("shop", wlSpec(withResources(wlResources("cpu", "100m", "memory", "64Mi"), nil))),
			wantJudged: 1,
		},
		"limits alone pass: the API defaults requests to them": {
			fill:       wlDeployments("shop", wlSpec(withResources(nil, wlResources("cpu", "1", "memory", "1Gi")))),
			wantJudged: 1,
		},
		"memory missing": {
			fill:       wlDeployments("shop", wlSpec(withResources(wlResources("cpu", "100m"), nil))),
			wantJudged: 1,
			wantFindings: []gotFinding{{Check: id, Object: wlDeployRef("shop", "app"),
				Message: `container "app" (containers[0]): resources.requests.memory not set`}},
		},
		"LimitRange defaultRequest fills both": {
			fill: wlFills(wlDeployments("shop", wlSpec(bare)), func(s *inventory.Snapshot) {
				s.LimitRanges = []corev1.LimitRange{wlLimitRange("shop", "defaults", corev1.LimitRangeItem{
					Type: corev1.LimitTypeContainer, DefaultRequest: wlResources("cpu", "100m", "memory", "64Mi"),
				})}
			}),
			wantJudged: 1,
		},
		"LimitRange default limits also default the requests": {
			fill: wlFills(wlDeployments("shop", wlSpec(bare)), func(s *inventory.Snapshot) {
				s.LimitRanges = []corev1.LimitRange{wlLimitRange("shop", "defaults", corev1.LimitRangeItem{
					Type: corev1.LimitTypeContainer, Default: wlResources("cpu", "1", "memory", "1Gi"),
				})}
			}),
			wantJudged: 1,
		},
		"LimitRange max and min default the request, across two LimitRanges": {
			fill: wlFills(wlDeployments("shop", wlSpec(bare)), func(s *inventory.Snapshot) {
				s.LimitRanges = []corev1.LimitRange{
					wlLimitRange("shop", "max-cpu", corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Max: wlResources("cpu", "2")}),
					wlLimitRange("shop", "min-memory", corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Min: wlResources("memory", "16Mi")}),
				}
			}),
			wantJudged: 1,
		},
		"a Pod-type LimitRange and one in another namespace do not count": {
			fill: wlFills(wlDeployments("shop", wlSpec(bare)), func(s *inventory.Snapshot) {
				s.LimitRanges = []corev1.LimitRange{
					wlLimitRange("shop", "pod-max", corev1.LimitRangeItem{Type: corev1.LimitTypePod, Max: wlResources("cpu", "2", "memory", "2Gi")}),
					wlLimitRange("billing", "defaults", corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, DefaultRequest: wlResources("cpu", "100m", "memory", "64Mi")}),
				}
			}),
			wantJudged:   1,
			wantFindings: []gotFinding{{Check: id, Object: wlDeployRef("shop", "app"), Message: `container "app" (containers[0]): ` + both}},
		},
		"LimitRange in default covers a manifest without a namespace": {
			fill: wlFills(wlDeployments("", wlSpec(bare)), func(s *inventory.Snapshot) {
				s.LimitRanges = []corev1.LimitRange{wlLimitRange("default", "defaults", corev1.LimitRangeItem{
					Type: corev1.LimitTypeContainer, DefaultRequest: wlResources("cpu", "100m", "memory", "64Mi"),
				})}
			}),
			wantJudged: 1,
		},
		"pod-level requests pass": {
			fill: wlDeployments("shop", func() corev1.PodSpec {
				s := wlSpec(bare)
				s.Resources = &corev1.ResourceRequirements{Requests: wlResources("cpu", "1", "memory", "1Gi")}
				return s
			}()),
			wantJudged: 1,
		},
		"init container judged, ephemeral container not": {
			fill: func(s *inventory.Snapshot) {
				spec := wlSpec(withResources(wlResources("cpu", "100m", "memory", "64Mi"), nil))
				spec.InitContainers = []corev1.Container{wlContainer("init", "registry.example/init:1")}
				spec.EphemeralContainers = []corev1.EphemeralContainer{wlEphemeral(wlContainer("debug", "busybox:1"))}
				s.Pods = []corev1.Pod{pod("shop", "web", spec)}
			},
			wantJudged:   1,
			wantFindings: []gotFinding{{Check: id, Object: wlPodRef("shop", "web"), Message: `container "init" (initContainers[0]): ` + both}},
		},
		"LimitRanges not read": {
			unread:           []inventory.Kind{inventory.KindLimitRange},
			wantMissingKinds: []inventory.Kind{inventory.KindLimitRange},
		},
	}
	runWorkloadCases(t, id, testCases)
}

func TestWorkloadMissingResourceLimits(t *testing.T) {
	const id = "workload-missing-resource-limits"
	withResources := func(requests, limits corev1.ResourceList) corev1.Container {
		c := wlContainer("app", "registry.example/app:1.0")
		c.Resources = corev1.ResourceRequirements{Requests: requests, Limits: limits}
		return c
	}
	requestsOnly := withResources(wlResources("cpu", "100m", "memory", "64Mi"), nil)
	both := `container "app" (containers[0]): resources.limits.cpu and resources.limits.memory not set`
	testCases := map[string]wlCase{
		"requests do not count as limits": {
			fill:         wlDeployments("shop", wlSpec(requestsOnly)),
			wantJudged:   1,
			wantFindings: []gotFinding{{Check: id, Object: wlDeployRef("shop", "app"), Message: both}},
		},
		"limits set pass": {
			fill:       wlDeployments("shop", wlSpec(withResources(nil, wlResources("cpu", "1", "memory", "1Gi")))),
			wantJudged: 1,
		},
		"cpu limit missing": {
			fill:       wlDeployments("shop", wlSpec(withResources(nil, wlResources("memory", "1Gi")))),
			wantJudged: 1,
			wantFindings: []gotFinding{{Check: id, Object: wlDeployRef("shop", "app"),
				Message: `container "app" (containers[0]): resources.limits.cpu not set`}},
		},
		"LimitRange default and max fill limits": {
			fill: wlFills(wlDeployments("shop", wlSpec(requestsOnly)), func(s *inventory.Snapshot) {
				s.LimitRanges = []corev1.LimitRange{wlLimitRange("shop", "defaults",
					corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Default: wlResources("memory", "1Gi")},
					corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Max: wlResources("cpu", "2")},
				)}
			}),
			wantJudged: 1,
		},
		"LimitRange defaultRequest and min do not fill limits": {
			fill: wlFills(wlDeployments("shop", wlSpec(requestsOnly)), func(s *inventory.Snapshot) {
				s.LimitRanges = []corev1.LimitRange{wlLimitRange("shop", "defaults", corev1.LimitRangeItem{
					Type: corev1.LimitTypeContainer, DefaultRequest: wlResources("cpu", "100m", "memory", "64Mi"), Min: wlResources("cpu", "10m"),
				})}
			}),
			wantJudged:   1,
			wantFindings: []gotFinding{{Check: id, Object: wlDeployRef("shop", "app"), Message: both}},
		},
		"pod-level limits pass, pod-level requests do not": {
			fill: wlDeployments("shop",
				func() corev1.PodSpec {
					s := wlSpec(requestsOnly)
					s.Resources = &corev1.ResourceRequirements{Limits: wlResources("cpu", "1", "memory", "1Gi")}
					return s
				}(),
				func() corev1.PodSpec {
					s := wlSpec(requestsOnly)
					s.Resources = &corev1.ResourceRequirements{Requests: wlResources("cpu", "1", "memory", "1Gi")}
					return s
				}(),
			),
			wantJudged:   2,
			wantFindings: []gotFinding{{Check: id, Object: wlDeployRef("shop", "app-2"), Message: both}},
		},
	}
	runWorkloadCases(t, id, testCases)
}

// Images.

func TestParseImage(t *testing.T) {
	testCases := map[string]struct {
		want        imageRef
		wantMutable bool
		wantRepo    string
	}{
		"nginx":                           {imageRef{"docker.io", "nginx", "", ""}, true, "docker.io/library/nginx"},
		"nginx:latest":                    {imageRef{"docker.io", "nginx", "latest", ""}, true, "docker.io/library/nginx"},
		"nginx:1.25":                      {imageRef{"docker.io", "nginx", "1.25", ""}, false, "docker.io/library/nginx"},
		"bitnami/redis:7":                 {imageRef{"docker.io", "bitnami/redis", "7", ""}, false, "docker.io/bitnami/redis"},
		"docker.io/nginx":                 {imageRef{"docker.io", "nginx", "", ""}, true, "docker.io/library/nginx"},
		"index.docker.io/library/nginx":   {imageRef{"docker.io", "library/nginx", "", ""}, true, "docker.io/library/nginx"},
		"localhost:5000/app":              {imageRef{"localhost:5000", "app", "", ""}, true, "localhost:5000/app"},
		"localhost/app:2":                 {imageRef{"localhost", "app", "2", ""}, false, "localhost/app"},
		"registry:5000/team/app:1.2":      {imageRef{"registry:5000", "team/app", "1.2", ""}, false, "registry:5000/team/app"},
		"Registry/app":                    {imageRef{"Registry", "app", "", ""}, true, "registry/app"},
		"ghcr.io/acme/app@sha256:abc":     {imageRef{"ghcr.io", "acme/app", "", "sha256:abc"}, false, "ghcr.io/acme/app"},
		"app@sha256:abc":                  {imageRef{"docker.io", "app", "", "sha256:abc"}, false, "docker.io/library/app"},
		"nginx:latest@sha256:abc":         {imageRef{"docker.io", "nginx", "latest", "sha256:abc"}, false, "docker.io/library/nginx"},
		"quay.io:443/org/app:v1@sha256:d": {imageRef{"quay.io:443", "org/app", "v1", "sha256:d"}, false, "quay.io:443/org/app"},
	}
	for image, tc := range testCases {
		t.Run(image, func(t *testing.T) {
			got := parseImage(image)
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(imageRef{})); diff != "" {
				t.Errorf("parseImage(%q) mismatch (-want +got):\n%s", image, diff)
			}
			if got.mutable() != tc.wantMutable {
				t.Errorf("mutable() = %t, want %t", got.mutable(), tc.wantMutable)
			}
			if repo := got.repository(); repo != tc.wantRepo {
				t.Errorf("repository() = %q, want %q", repo, tc.wantRepo)
			}
		})
	}
}

// FuzzParseImage checks that parseImage never panics and only splits the
// reference into parts of it.
func FuzzParseImage(f *testing.F) {
	for _, seed := range []string{"nginx", "localhost:5000/app", "a/b:c@sha256:d", "@", ":", "/", "a:b/c", "::@@//", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, image string) {
		r := parseImage(image)
		if r.digest != "" && !strings.HasSuffix(image, "@"+r.digest) {
			t.Errorf("parseImage(%q): digest %q is not the reference's end", image, r.digest)
		}
		if strings.ContainsAny(r.tag, "/:@") {
			t.Errorf("parseImage(%q): tag %q contains a separator", image, r.tag)
		}
		if strings.Contains(r.path, "@") || !strings.Contains(image, r.path) {
			t.Errorf("parseImage(%q): path %q is not a part of the name", image, r.path)
		}
		if r.domain == "" {
			t.Errorf("parseImage(%q): empty domain", image)
		}
		if r.mutable() && r.digest != "" {
			t.Errorf("parseImage(%q): mutable with a digest", image)
		}
	})
}

func TestImageLatestTag(t *testing.T) {
	const id = "image-latest-tag"
	testCases := map[string]wlCase{
		"no tag, latest tag, and a registry port that is not a tag": {
			fill: wlDeployments("shop", wlSpec(
				wlContainer("web", "nginx"),
				wlContainer("api", "registry.example/api:latest"),
				wlContainer("local", "localhost:5000/app"),
			)),
			wantJudged: 1,
			wantFindings: []gotFinding{{Check: id, Object: wlDeployRef("shop", "app"),
				Message: `container "web" (containers[0]): image "nginx" has no tag (defaults to :latest) and no digest; ` +
					`container "api" (containers[1]): image "registry.example/api:latest" uses the :latest tag without a digest; ` +
					`container "local" (containers[2]): image "localhost:5000/app" has no tag (defaults to :latest) and no digest`}},
		},
		"version tags and digests pass": {
			fill: wlDeployments("shop", wlSpec(
				wlContainer("web", "nginx:1.25"),
				wlContainer("api", "registry:5000/api:1.2"),
				wlContainer("pinned", "nginx:latest@sha256:0123456789abcdef"),
				wlContainer("digest", "app@sha256:0123456789abcdef"),
			)),
			wantJudged: 1,
		},
		"init container, ephemeral container and image volume": {
			fill: func(s *inventory.Snapshot) {
				spec := wlSpec(wlContainer("app", "registry.example/app:1.0"))
				spec.InitContainers = []corev1.Container{wlContainer("init", "busybox")}
				spec.EphemeralContainers = []corev1.EphemeralContainer{wlEphemeral(wlContainer("debug", "busybox:latest"))}
				spec.Volumes = []corev1.Volume{
					{Name: "cache", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
					{Name: "models", VolumeSource: corev1.VolumeSource{Image: &corev1.ImageVolumeSource{Reference: "registry.example/models"}}},
				}
				s.Pods = []corev1.Pod{pod("shop", "web", spec)}
			},
			wantJudged: 1,
			wantFindings: []gotFinding{{Check: id, Object: wlPodRef("shop", "web"),
				Message: `container "init" (initContainers[0]): image "busybox" has no tag (defaults to :latest) and no digest; ` +
					`container "debug" (ephemeralContainers[0]): image "busybox:latest" uses the :latest tag without a digest; ` +
					`volume "models" (volumes[1]): image.reference "registry.example/models" has no tag (defaults to :latest) and no digest`}},
		},
		"a container with no image is not reported": {
			fill:       wlDeployments("shop", wlSpec(wlContainer("app", ""))),
			wantJudged: 1,
		},
	}
	runWorkloadCases(t, id, testCases)
}

func TestImageNotPinnedByDigest(t *testing.T) {
	const id = "image-not-pinned-by-digest"
	testCases := map[string]wlCase{
		"tags are not pins": {
			fill:       wlDeployments("shop", wlSpec(wlContainer("web", "nginx:1.25"), wlContainer("pinned", "ghcr.io/acme/app:1@sha256:0123456789abcdef"))),
			wantJudged: 1,
			wantFindings: []gotFinding{{Check: id, Object: wlDeployRef("shop", "app"),
				Message: `container "web" (containers[0]): image "nginx:1.25" is not pinned by digest`}},
		},
		"digests pass": {
			fill:       wlDeployments("shop", wlSpec(wlContainer("web", "nginx@sha256:0123456789abcdef"))),
			wantJudged: 1,
		},
	}
	runWorkloadCases(t, id, testCases)
}

func TestTrustedPrefixes(t *testing.T) {
	got := trustedPrefixes([]string{"registry.example.com/", "ghcr.io/acme", "bitnami", "index.docker.io/library", " ", "Quay.IO/Org/", "localhost:5000"})
	want := []string{"registry.example.com/", "ghcr.io/acme/", "docker.io/bitnami/", "docker.io/library/", "quay.io/org/", "localhost:5000/"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("trustedPrefixes mismatch (-want +got):\n%s", diff)
	}
}

func TestImageUntrustedRegistry(t *testing.T) {
	const id = "image-untrusted-registry"
	cfg := &Config{TrustedRegistries: []string{"registry.example.com/", "ghcr.io/acme", "docker.io/library"}}
	testCases := map[string]wlCase{
		"no trustedRegistries: not evaluated, nothing judged": {
			fill:             wlDeployments("shop", wlSpec(wlContainer("web", "evil.io/miner:1"))),
			cfg:              &Config{},
			wantNotEvaluated: "no trustedRegistries set in the ClusterScan spec",
		},
		"trusted images pass, Docker Hub official images through docker.io/library": {
			fill: wlDeployments("shop", wlSpec(
				wlContainer("a", "registry.example.com/team/app:1"),
				wlContainer("b", "ghcr.io/acme/app:1"),
				wlContainer("c", "nginx:1.25"),
				wlContainer("d", "index.docker.io/library/redis:7"),
				wlContainer("e", "REGISTRY.EXAMPLE.COM/app:1"),
			)),
			cfg:        cfg,
			wantJudged: 1,
		},
		"prefixes match whole path components": {
			fill: wlDeployments("shop", wlSpec(
				wlContainer("a", "registry.example.com.evil.io/app:1"),
				wlContainer("b", "ghcr.io/acme-evil/app:1"),
				wlContainer("c", "bitnami/redis:7"),
			)),
			cfg:        cfg,
			wantJudged: 1,
			wantFindings: []gotFinding{{Check: id, Object: wlDeployRef("shop", "app"),
				Message: `container "a" (containers[0]): image "registry.example.com.evil.io/app:1" resolves to registry.example.com.evil.io/app, under no trustedRegistries prefix; ` +
					`container "b" (containers[1]): image "ghcr.io/acme-evil/app:1" resolves to ghcr.io/acme-evil/app, under no trustedRegistries prefix; ` +
					`container "c" (containers[2]): image "bitnami/redis:7" resolves to docker.io/bitnami/redis, under no trustedRegistries prefix`}},
		},
	}
	runWorkloadCases(t, id, testCases)
}

func TestImagePullPolicy(t *testing.T) {
	const id = "image-pull-policy"
	withPolicy := func(name, image string, p corev1.PullPolicy) corev1.Container {
		c := wlContainer(name, image)
		c.ImagePullPolicy = p
		return c
	}
	testCases := map[string]wlCase{
		"mutable images not always pulled": {
			fill: wlDeployments("shop", wlSpec(
				withPolicy("a", "nginx:latest", corev1.PullIfNotPresent),
				withPolicy("b", "nginx", corev1.PullNever),
			)),
			wantJudged: 1,
			wantFindings: []gotFinding{{Check: id, Object: wlDeployRef("shop", "app"),
				Message: `container "a" (containers[0]): image "nginx:latest" is mutable and imagePullPolicy is IfNotPresent; ` +
					`container "b" (containers[1]): image "nginx" is mutable and imagePullPolicy is Never`}},
		},
		"omitted policy defaults to Always for latest; pinned images may be cached": {
			fill: wlDeployments("shop", wlSpec(
				withPolicy("a", "nginx:latest", ""),
				withPolicy("b", "nginx", corev1.PullAlways),
				withPolicy("c", "nginx:1.25", corev1.PullNever),
				withPolicy("d", "nginx@sha256:0123456789abcdef", corev1.PullIfNotPresent),
			)),
			wantJudged: 1,
		},
		"image volume": {
			fill: wlDeployments("shop", func() corev1.PodSpec {
				s := wlSpec(wlContainer("app", "registry.example/app:1.0"))
				s.Volumes = []corev1.Volume{{Name: "models", VolumeSource: corev1.VolumeSource{Image: &corev1.ImageVolumeSource{
					Reference: "registry.example/models:latest", PullPolicy: corev1.PullIfNotPresent,
				}}}}
				return s
			}()),
			wantJudged: 1,
			wantFindings: []gotFinding{{Check: id, Object: wlDeployRef("shop", "app"),
				Message: `volume "models" (volumes[0]): image.reference "registry.example/models:latest" is mutable and image.pullPolicy is IfNotPresent`}},
		},
	}
	runWorkloadCases(t, id, testCases)
}

// Service accounts.

func TestWorkloadServiceAccountTokenAutomount(t *testing.T) {
	const id = "workload-service-account-token-automount"
	app := wlContainer("app", "registry.example/app:1.0")
	spec := func(saName string, automount *bool) corev1.PodSpec {
		s := wlSpec(app)
		s.ServiceAccountName = saName
		s.AutomountServiceAccountToken = automount
		return s
	}
	withSAs := func(sas ...corev1.ServiceAccount) func(s *inventory.Snapshot) {
		return func(s *inventory.Snapshot) { s.ServiceAccounts = sas }
	}
	testCases := map[string]wlCase{
		"pod unset, ServiceAccount not in the snapshot: judged by the pod alone": {
			fill:       wlDeployments("shop", spec("api", nil)),
			wantJudged: 1,
			wantFindings: []gotFinding{{Check: id, Object: wlDeployRef("shop", "app"),
				Message: `spec.automountServiceAccountToken is unset and ServiceAccount "api" is not in the snapshot`}},
		},
		"pod unset, ServiceAccount false: not mounted": {
			fill:       wlFills(wlDeployments("shop", spec("api", nil)), withSAs(wlServiceAccount("shop", "api", new(false)))),
			wantJudged: 1,
		},
		"pod true wins over ServiceAccount false": {
			fill:       wlFills(wlDeployments("shop", spec("api", new(true))), withSAs(wlServiceAccount("shop", "api", new(false)))),
			wantJudged: 1,
			wantFindings: []gotFinding{{Check: id, Object: wlDeployRef("shop", "app"),
				Message: `spec.automountServiceAccountToken is true (ServiceAccount "api")`}},
		},
		"pod false wins over ServiceAccount true": {
			fill:       wlFills(wlDeployments("shop", spec("api", new(false))), withSAs(wlServiceAccount("shop", "api", new(true)))),
			wantJudged: 1,
		},
		"pod unset, ServiceAccount true or unset": {
			fill: wlFills(wlDeployments("shop", spec("api", nil), spec("", nil)),
				withSAs(wlServiceAccount("shop", "api", new(true)), wlServiceAccount("shop", "default", nil))),
			wantJudged: 2,
			wantFindings: []gotFinding{
				{Check: id, Object: wlDeployRef("shop", "app"), Message: `spec.automountServiceAccountToken is unset and ServiceAccount "api" sets automountServiceAccountToken: true`},
				{Check: id, Object: wlDeployRef("shop", "app-2"), Message: `spec.automountServiceAccountToken is unset and so is ServiceAccount "default"'s automountServiceAccountToken`},
			},
		},
		"the ServiceAccount of another namespace does not count": {
			fill:       wlFills(wlDeployments("shop", spec("", nil)), withSAs(wlServiceAccount("billing", "default", new(false)))),
			wantJudged: 1,
			wantFindings: []gotFinding{{Check: id, Object: wlDeployRef("shop", "app"),
				Message: `spec.automountServiceAccountToken is unset and ServiceAccount "default" is not in the snapshot`}},
		},
		"deprecated spec.serviceAccount names the ServiceAccount": {
			fill: wlFills(wlDeployments("shop", func() corev1.PodSpec {
				s := spec("", nil)
				s.DeprecatedServiceAccount = "api"
				return s
			}()), withSAs(wlServiceAccount("shop", "api", new(false)))),
			wantJudged: 1,
		},
		"mirror pods and kube-system add-ons are not judged": {
			fill: func(s *inventory.Snapshot) {
				s.Pods = []corev1.Pod{wlMirrorPod("kube-system", "etcd-node-1", map[string]string{"component": "etcd"}, spec("", nil))}
				dns := deployment("kube-system", "coredns", spec("coredns", nil))
				dns.Labels = map[string]string{"k8s-app": "kube-dns"}
				s.Deployments = append(s.Deployments, dns)
			},
			wantJudged: 0,
		},
		"ServiceAccounts not read": {
			unread:           []inventory.Kind{inventory.KindServiceAccount},
			wantMissingKinds: []inventory.Kind{inventory.KindServiceAccount},
		},
	}
	runWorkloadCases(t, id, testCases)
}

func TestWorkloadDefaultServiceAccount(t *testing.T) {
	const id = "workload-default-service-account"
	spec := func(saName, deprecated string) corev1.PodSpec {
		s := wlSpec(wlContainer("app", "registry.example/app:1.0"))
		s.ServiceAccountName = saName
		s.DeprecatedServiceAccount = deprecated
		return s
	}
	testCases := map[string]wlCase{
		"unset and explicit default fail, a dedicated account passes": {
			fill:       wlDeployments("shop", spec("", ""), spec("default", ""), spec("api", ""), spec("", "api")),
			wantJudged: 4,
			wantFindings: []gotFinding{
				{Check: id, Object: wlDeployRef("shop", "app"), Message: "spec.serviceAccountName is unset: the pod runs as the default ServiceAccount"},
				{Check: id, Object: wlDeployRef("shop", "app-2"), Message: `spec.serviceAccountName is "default"`},
			},
		},
		"user workloads in kube-system are judged; mirror pods are not": {
			fill: func(s *inventory.Snapshot) {
				s.Deployments = []appsv1.Deployment{deployment("kube-system", "tool", spec("", ""))}
				s.Pods = []corev1.Pod{wlMirrorPod("kube-system", "kube-scheduler-node-1", map[string]string{"component": "kube-scheduler"}, spec("", ""))}
			},
			wantJudged: 1,
			wantFindings: []gotFinding{{Check: id, Object: wlDeployRef("kube-system", "tool"),
				Message: "spec.serviceAccountName is unset: the pod runs as the default ServiceAccount"}},
		},
	}
	runWorkloadCases(t, id, testCases)
}

// Environment.

func TestWorkloadSecretEnvVars(t *testing.T) {
	const id = "workload-secret-env-vars"
	app := wlContainer("app", "registry.example/app:1.0")
	app.Env = []corev1.EnvVar{
		{Name: "LOG_LEVEL", Value: "debug"},
		{Name: "DB_PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "db"}, Key: "password",
		}}},
		{Name: "FEATURE", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "flags"}, Key: "feature",
		}}},
	}
	app.EnvFrom = []corev1.EnvFromSource{
		{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}}},
		{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "creds"}}},
	}
	initC := wlContainer("init", "registry.example/init:1")
	initC.EnvFrom = []corev1.EnvFromSource{{Prefix: "X_", SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "bootstrap"}}}}
	clean := wlContainer("app", "registry.example/app:1.0")
	clean.Env = []corev1.EnvVar{{Name: "LOG_LEVEL", Value: "debug"}}
	testCases := map[string]wlCase{
		"secretKeyRef and envFrom secretRef, init containers too": {
			fill: wlDeployments("shop", func() corev1.PodSpec {
				s := wlSpec(app)
				s.InitContainers = []corev1.Container{initC}
				return s
			}()),
			wantJudged: 1,
			wantFindings: []gotFinding{{Check: id, Object: wlDeployRef("shop", "app"),
				Message: `container "app" (containers[0]): env[1] "DB_PASSWORD" from Secret "db" key "password", envFrom[1] from Secret "creds"; ` +
					`container "init" (initContainers[0]): envFrom[0] from Secret "bootstrap"`}},
		},
		"literal values and configMaps pass": {
			fill:       wlDeployments("shop", wlSpec(clean)),
			wantJudged: 1,
		},
	}
	runWorkloadCases(t, id, testCases)
}

func TestIsCredentialName(t *testing.T) {
	testCases := map[string]bool{
		"PASSWORD":               true,
		"DB_PASSWORD":            true,
		"MYSQL_ROOT_PASSWORD":    true,
		"db_passwd":              true,
		"SMTP_PASS":              true,
		"DB_PWD":                 true,
		"dbPassword":             true,
		"GITHUB_TOKEN":           true,
		"apiToken":               true,
		"OAUTH2_TOKEN":           true,
		"CLIENT_SECRET":          true,
		"JWT_SECRET":             true,
		"API_KEY":                true,
		"APIKey":                 true,
		"STRIPE_APIKEY":          true,
		"AWS_SECRET_ACCESS_KEY":  true,
		"AWS_ACCESS_KEY":         true,
		"SSH_PRIVATE_KEY":        true,
		"DJANGO_SECRET_KEY":      true,
		"GOOGLE_CREDENTIALS":     true,
		"ADMIN_PASSWORD_2":       true,
		"my.secret":              true,
		"TOKEN_TTL":              false,
		"TOKEN_EXPIRY_SECONDS":   false,
		"PASSWORD_FILE":          false,
		"POSTGRES_PASSWORD_FILE": false,
		"SECRET_NAME":            false,
		"TLS_SECRET_NAME":        false,
		"PASSWORD_MIN_LENGTH":    false,
		"CACHE_KEY":              false,
		"SORT_KEY":               false,
		"KEY":                    false,
		"PWD":                    false,
		"OLDPWD":                 false,
		"AWS_ACCESS_KEY_ID":      false,
		"BYPASS":                 false,
		"TOKENIZER":              false,
		"AUTH_ENABLED":           false,
		"AUTH_URL":               false,
		"LOG_LEVEL":              false,
		"":                       false,
		"___":                    false,
		"123":                    false,
	}
	for name, want := range testCases {
		t.Run(name, func(t *testing.T) {
			if got := isCredentialName(name); got != want {
				prev, last := lastNameWords(name)
				t.Errorf("isCredentialName(%q) = %t, want %t (last words %q, %q)", name, got, want, prev, last)
			}
		})
	}
}

func TestWorkloadCredentialLiteralEnv(t *testing.T) {
	const id = "workload-credential-literal-env"
	const secretValue = "hunter2-s3cr3t"
	env := func(name, value string) corev1.EnvVar { return corev1.EnvVar{Name: name, Value: value} }
	app := wlContainer("app", "registry.example/app:1.0")
	app.Env = []corev1.EnvVar{
		env("LOG_LEVEL", "debug"),
		env("DB_PASSWORD", secretValue),
		env("TOKEN_TTL", "3600"),
		env("apiKey", secretValue),
		env("PASSWORD_FILE", "/run/secrets/db"),
		env("EMPTY_PASSWORD", ""),
		env("REF_PASSWORD", "$(DB_PASSWORD)"),
		env("TEMPLATED_TOKEN", "${TOKEN}"),
		env("REQUIRE_TOKEN", "true"),
		{Name: "FROM_SECRET_PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "db"}, Key: "password",
		}}},
	}
	debug := wlContainer("debug", "busybox:1")
	debug.Env = []corev1.EnvVar{env("AWS_SECRET_ACCESS_KEY", secretValue)}
	clean := wlContainer("app", "registry.example/app:1.0")
	clean.Env = []corev1.EnvVar{env("LOG_LEVEL", "debug"), env("SECRET_NAME", "db-credentials")}
	testCases := map[string]wlCase{
		"literal credentials are named, never shown": {
			fill: func(s *inventory.Snapshot) {
				spec := wlSpec(app)
				spec.EphemeralContainers = []corev1.EphemeralContainer{wlEphemeral(debug)}
				s.Pods = []corev1.Pod{pod("shop", "web", spec)}
			},
			wantJudged: 1,
			wantFindings: []gotFinding{{Check: id, Object: wlPodRef("shop", "web"),
				Message: `container "app" (containers[0]): env[1] "DB_PASSWORD", env[3] "apiKey" set to a literal value; ` +
					`container "debug" (ephemeralContainers[0]): env[0] "AWS_SECRET_ACCESS_KEY" set to a literal value`}},
		},
		"names that only mention a credential pass": {
			fill:       wlDeployments("shop", wlSpec(clean)),
			wantJudged: 1,
		},
	}
	runWorkloadCases(t, id, testCases)

	// Whatever the case, no message carries the value.
	s := readAll(func(s *inventory.Snapshot) { s.Pods = []corev1.Pod{pod("shop", "web", wlSpec(app, debug))} })
	for _, f := range runCheck(t, id, s, nil).Findings {
		if strings.Contains(f.Message, secretValue) {
			t.Errorf("message %q contains the env var's value", f.Message)
		}
	}
}

// Namespaces.

func TestWorkloadDefaultNamespace(t *testing.T) {
	const id = "workload-default-namespace"
	spec := wlSpec(wlContainer("app", "registry.example/app:1.0"))
	testCases := map[string]wlCase{
		"default and no namespace fail, others pass": {
			fill: func(s *inventory.Snapshot) {
				s.Deployments = []appsv1.Deployment{deployment("default", "web", spec), deployment("shop", "api", spec)}
				s.Pods = []corev1.Pod{pod("", "manifest-pod", spec)}
			},
			wantJudged: 3,
			wantFindings: []gotFinding{
				{Check: id, Object: wlDeployRef("default", "web"), Message: "runs in the default namespace"},
				{Check: id, Object: wlPodRef("", "manifest-pod"), Message: "runs in the default namespace"},
			},
		},
	}
	runWorkloadCases(t, id, testCases)
}

func TestWorkloadInKubeSystem(t *testing.T) {
	const id = "workload-in-kube-system"
	spec := wlSpec(wlContainer("app", "registry.example/app:1.0"))
	labelled := func(name string, labels map[string]string) appsv1.Deployment {
		d := deployment("kube-system", name, spec)
		d.Labels = labels
		return d
	}
	testCases := map[string]wlCase{
		"user workloads fail, cluster components pass": {
			fill: func(s *inventory.Snapshot) {
				critical := deployment("kube-system", "cni-agent", spec)
				critical.Spec.Template.Spec.PriorityClassName = "system-node-critical"
				templateLabelled := deployment("kube-system", "dns", spec)
				templateLabelled.Spec.Template.Labels = map[string]string{"k8s-app": "kube-dns"}
				s.Deployments = []appsv1.Deployment{
					labelled("tool", map[string]string{"app": "tool"}),
					labelled("coredns", map[string]string{"k8s-app": "kube-dns"}),
					labelled("metrics-server", map[string]string{"k8s-app": "metrics-server", "addonmanager.kubernetes.io/mode": "Reconcile"}),
					labelled("ebs-csi-controller", map[string]string{"app.kubernetes.io/name": "aws-ebs-csi-driver", "eks.amazonaws.com/component": "ebs-csi"}),
					critical,
					templateLabelled,
					deployment("shop", "web", spec),
				}
				s.Pods = []corev1.Pod{
					wlMirrorPod("kube-system", "kube-apiserver-node-1", map[string]string{"component": "kube-apiserver", "tier": "control-plane"}, spec),
					pod("kube-system", "debug", spec),
				}
			},
			wantJudged: 9,
			wantFindings: []gotFinding{
				{Check: id, Object: wlDeployRef("kube-system", "tool"), Message: "runs in kube-system and is neither a static pod nor labelled as a cluster add-on"},
				{Check: id, Object: wlPodRef("kube-system", "debug"), Message: "runs in kube-system and is neither a static pod nor labelled as a cluster add-on"},
			},
		},
	}
	runWorkloadCases(t, id, testCases)
}

// Reliability.

func TestWorkloadMissingProbes(t *testing.T) {
	const id = "workload-missing-probes"
	probe := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz"}}}
	probed := func(name string, liveness, readiness bool) corev1.Container {
		c := wlContainer(name, "registry.example/"+name+":1")
		if liveness {
			c.LivenessProbe = probe
		}
		if readiness {
			c.ReadinessProbe = probe
		}
		return c
	}
	testCases := map[string]wlCase{
		"containers missing one or both probes": {
			fill: wlDeployments("shop", func() corev1.PodSpec {
				s := wlSpec(probed("web", true, true), probed("proxy", false, true), probed("worker", true, false), probed("cron", false, false))
				s.InitContainers = []corev1.Container{probed("init", false, false)}
				return s
			}()),
			wantJudged: 1,
			wantFindings: []gotFinding{{Check: id, Object: wlDeployRef("shop", "app"),
				Message: `container "proxy" (containers[1]): no livenessProbe; ` +
					`container "worker" (containers[2]): no readinessProbe; ` +
					`container "cron" (containers[3]): no livenessProbe and no readinessProbe`}},
		},
		"StatefulSets and DaemonSets are judged; Jobs, CronJobs and bare pods are not": {
			fill: func(s *inventory.Snapshot) {
				bare := wlSpec(probed("app", false, false))
				s.StatefulSets = append(s.StatefulSets, wlStatefulSet("shop", "db", bare))
				s.DaemonSets = append(s.DaemonSets, wlDaemonSet("shop", "agent", wlSpec(probed("app", true, true))))
				s.Jobs = []batchv1.Job{job("shop", "migrate", bare)}
				s.CronJobs = []batchv1.CronJob{cronJob("shop", "report", bare)}
				s.Pods = []corev1.Pod{pod("shop", "scratch", bare)}
			},
			wantJudged: 2,
			wantFindings: []gotFinding{{Check: id, Object: objRef("apps/v1", "StatefulSet", "shop", "db"),
				Message: `container "app" (containers[0]): no livenessProbe and no readinessProbe`}},
		},
		"a ReplicaSet of a Deployment is judged on the Deployment only": {
			fill: func(s *inventory.Snapshot) {
				bare := wlSpec(probed("app", false, false))
				s.Deployments = append(s.Deployments, deployment("shop", "web", bare))
				s.ReplicaSets = append(s.ReplicaSets, replicaSet("shop", "web-5d8", bare, controllerRef("apps/v1", "Deployment", "web")))
			},
			wantJudged: 1,
			wantFindings: []gotFinding{{Check: id, Object: wlDeployRef("shop", "web"),
				Message: `container "app" (containers[0]): no livenessProbe and no readinessProbe`}},
		},
	}
	runWorkloadCases(t, id, testCases)
}

func FuzzIsCredentialName(f *testing.F) {
	for _, seed := range []string{"DB_PASSWORD", "APIKey", "a1B2c3", "_-._", "PASSWORD_2", "ÄPASSWORD", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, name string) {
		prev, last := lastNameWords(name)
		if last == "" && prev != "" {
			t.Errorf("lastNameWords(%q) = %q, %q: a previous word without a last one", name, prev, last)
		}
		_ = isCredentialName(name)
	})
}

// BenchmarkWorkloadChecks runs every workload check on 10,000 bare pods of
// three containers each, the shape of a large cluster.
func BenchmarkWorkloadChecks(b *testing.B) {
	spec := hardenedSpec("app", "proxy", "log")
	spec.Volumes = append(spec.Volumes, wlHostPath("logs", "/var/log"))
	spec.Containers[2] = wlMount(spec.Containers[2], "logs", true)
	spec.Containers[0].Env = []corev1.EnvVar{{Name: "DB_PASSWORD", Value: "x"}, {Name: "LOG_LEVEL", Value: "info"}}
	s := readAll(func(s *inventory.Snapshot) {
		for i := range 10000 {
			s.Pods = append(s.Pods, pod("ns-"+strconv.Itoa(i%50), "pod-"+strconv.Itoa(i), spec))
		}
	})
	cfg := &Config{TrustedRegistries: []string{"registry.example/"}}
	checks := workloadChecks()
	s.Workloads()
	b.ReportAllocs()
	for b.Loop() {
		Run(s, cfg, checks)
	}
}
