package checks

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"

	"github.com/kubeposture/kubeposture/internal/inventory"
)

// TestPSSCatalogueCoversUpstream fails when pod-security-admission adds a
// check that kubeposture does not wrap, or when the catalogue names a check
// upstream no longer has.
func TestPSSCatalogueCoversUpstream(t *testing.T) {
	upstream := map[policy.CheckID]bool{}
	for _, pc := range policy.DefaultChecks() {
		upstream[pc.ID] = true
		if _, ok := pssCatalogue[pc.ID]; !ok {
			t.Errorf("upstream check %q has no entry in pssCatalogue", pc.ID)
		}
		c := Default.Get(PSSCheckID(pc.ID))
		if c == nil {
			t.Errorf("upstream check %q has no registered check %q", pc.ID, PSSCheckID(pc.ID))
			continue
		}
		if c.Category != CategoryWorkload {
			t.Errorf("check %q: category %q, want %q", c.ID, c.Category, CategoryWorkload)
		}
		if diff := cmp.Diff(inventory.WorkloadKinds, c.Needs); diff != "" {
			t.Errorf("check %q: Needs mismatch (-want +got):\n%s", c.ID, diff)
		}
	}
	for id := range pssCatalogue {
		if !upstream[id] {
			t.Errorf("pssCatalogue entry %q is not an upstream default check", id)
		}
	}
	var registered int
	for _, c := range Default.All() {
		if strings.HasPrefix(c.ID, "pss-") {
			registered++
		}
	}
	if registered != len(upstream) {
		t.Errorf("Default registers %d pss- checks, want one per upstream check (%d)", registered, len(upstream))
	}
}

func TestPSSCheckID(t *testing.T) {
	testCases := map[policy.CheckID]string{
		"hostNamespaces":             "pss-host-namespaces",
		"capabilities_baseline":      "pss-capabilities-baseline",
		"hostProbesAndHostLifecycle": "pss-host-probes-and-host-lifecycle",
		"seccompProfile_restricted":  "pss-seccomp-profile-restricted",
		"privileged":                 "pss-privileged",
		"allowPrivilegeEscalation":   "pss-allow-privilege-escalation",
		"procMount_restricted":       "pss-proc-mount-restricted",
	}
	for id, want := range testCases {
		t.Run(string(id), func(t *testing.T) {
			if got := PSSCheckID(id); got != want {
				t.Errorf("PSSCheckID(%q) = %q, want %q", id, got, want)
			}
		})
	}
}

func pssChecksOf(r *Registry) []*Check {
	var out []*Check
	for _, c := range r.All() {
		if strings.HasPrefix(c.ID, "pss-") {
			out = append(out, c)
		}
	}
	return out
}

// TestPSSChecks judges one Pod against every pss check. Each case changes one
// thing about a pod that meets the restricted profile; wantFailures names
// every check that must fail, with its exact message. Every other pss check
// must pass.
func TestPSSChecks(t *testing.T) {
	const ns = "shop"
	privileged := func(c *corev1.Container) { c.SecurityContext.Privileged = new(true) }
	testCases := map[string]struct {
		spec         corev1.PodSpec
		wantFailures map[string]string
	}{
		"hardened restricted pod passes every check": {
			spec: hardenedSpec(),
		},
		"privileged container": {
			spec: withSpec(func(s *corev1.PodSpec) { privileged(&s.Containers[0]) }),
			wantFailures: map[string]string{
				"pss-privileged": `privileged (container "app" must not set securityContext.privileged=true)`,
			},
		},
		"privileged init container": {
			spec: withSpec(func(s *corev1.PodSpec) {
				c := hardenedContainer("init")
				privileged(&c)
				s.InitContainers = []corev1.Container{c}
			}),
			wantFailures: map[string]string{
				"pss-privileged": `privileged (container "init" must not set securityContext.privileged=true)`,
			},
		},
		"privileged ephemeral container": {
			spec: withSpec(func(s *corev1.PodSpec) {
				c := hardenedContainer("debug")
				privileged(&c)
				s.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon(c)}}
			}),
			wantFailures: map[string]string{
				"pss-privileged": `privileged (container "debug" must not set securityContext.privileged=true)`,
			},
		},
		"hostNetwork": {
			spec:         withSpec(func(s *corev1.PodSpec) { s.HostNetwork = true }),
			wantFailures: map[string]string{"pss-host-namespaces": "host namespaces (hostNetwork=true)"},
		},
		"hostPID": {
			spec:         withSpec(func(s *corev1.PodSpec) { s.HostPID = true }),
			wantFailures: map[string]string{"pss-host-namespaces": "host namespaces (hostPID=true)"},
		},
		"hostPath volume fails baseline and restricted volume checks": {
			spec: withSpec(func(s *corev1.PodSpec) {
				s.Volumes = append(s.Volumes, corev1.Volume{Name: "host-root", VolumeSource: corev1.VolumeSource{
					HostPath: &corev1.HostPathVolumeSource{Path: "/"},
				}})
			}),
			wantFailures: map[string]string{
				"pss-host-path-volumes":  `hostPath volumes (volume "host-root")`,
				"pss-restricted-volumes": `restricted volume types (volume "host-root" uses restricted volume type "hostPath")`,
			},
		},
		"added capability SYS_ADMIN": {
			spec: withSpec(func(s *corev1.PodSpec) {
				s.Containers[0].SecurityContext.Capabilities.Add = []corev1.Capability{"SYS_ADMIN"}
			}),
			wantFailures: map[string]string{
				"pss-capabilities-baseline":   `non-default capabilities (container "app" must not include "SYS_ADMIN" in securityContext.capabilities.add)`,
				"pss-capabilities-restricted": `unrestricted capabilities (container "app" must not include "SYS_ADMIN" in securityContext.capabilities.add)`,
			},
		},
		"added capability NET_BIND_SERVICE is allowed": {
			spec: withSpec(func(s *corev1.PodSpec) {
				s.Containers[0].SecurityContext.Capabilities.Add = []corev1.Capability{"NET_BIND_SERVICE"}
			}),
		},
		"allowPrivilegeEscalation unset": {
			spec: withSpec(func(s *corev1.PodSpec) { s.Containers[0].SecurityContext.AllowPrivilegeEscalation = nil }),
			wantFailures: map[string]string{
				"pss-allow-privilege-escalation": `allowPrivilegeEscalation != false (container "app" must set securityContext.allowPrivilegeEscalation=false)`,
			},
		},
		"runAsNonRoot true at pod level only": {
			spec: withSpec(func(s *corev1.PodSpec) { s.Containers[0].SecurityContext.RunAsNonRoot = nil }),
		},
		"runAsNonRoot false on container overrides pod level true": {
			spec: withSpec(func(s *corev1.PodSpec) { s.Containers[0].SecurityContext.RunAsNonRoot = new(false) }),
			wantFailures: map[string]string{
				"pss-run-as-non-root": `runAsNonRoot != true (container "app" must not set securityContext.runAsNonRoot=false)`,
			},
		},
		"runAsNonRoot set nowhere": {
			spec: withSpec(func(s *corev1.PodSpec) {
				s.SecurityContext.RunAsNonRoot = nil
				s.Containers[0].SecurityContext.RunAsNonRoot = nil
			}),
			wantFailures: map[string]string{
				"pss-run-as-non-root": `runAsNonRoot != true (pod or container "app" must set securityContext.runAsNonRoot=true)`,
			},
		},
		"seccomp RuntimeDefault at pod level only": {
			spec: withSpec(func(s *corev1.PodSpec) { s.Containers[0].SecurityContext.SeccompProfile = nil }),
		},
		"seccomp set nowhere": {
			spec: withSpec(func(s *corev1.PodSpec) {
				s.SecurityContext.SeccompProfile = nil
				s.Containers[0].SecurityContext.SeccompProfile = nil
			}),
			wantFailures: map[string]string{
				"pss-seccomp-profile-restricted": `seccompProfile (pod or container "app" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")`,
			},
		},
		"seccomp Unconfined at pod level": {
			spec: withSpec(func(s *corev1.PodSpec) {
				s.SecurityContext.SeccompProfile.Type = corev1.SeccompProfileTypeUnconfined
			}),
			wantFailures: map[string]string{
				"pss-seccomp-profile-baseline":   `seccompProfile (pod must not set securityContext.seccompProfile.type to "Unconfined")`,
				"pss-seccomp-profile-restricted": `seccompProfile (pod must not set securityContext.seccompProfile.type to "Unconfined")`,
			},
		},
		"windows HostProcess pod": {
			spec: withSpec(func(s *corev1.PodSpec) {
				s.OS = &corev1.PodOS{Name: corev1.Windows}
				s.HostNetwork = true
				s.SecurityContext.WindowsOptions = &corev1.WindowsSecurityContextOptions{HostProcess: new(true)}
			}),
			wantFailures: map[string]string{
				"pss-windows-host-process": "hostProcess (pod must not set securityContext.windowsOptions.hostProcess=true)",
				"pss-host-namespaces":      "host namespaces (hostNetwork=true)",
			},
		},
		"probe targeting another host": {
			spec: withSpec(func(s *corev1.PodSpec) {
				s.Containers[0].LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
					HTTPGet: &corev1.HTTPGetAction{Host: "10.0.0.1", Path: "/healthz"},
				}}
			}),
			wantFailures: map[string]string{
				"pss-host-probes-and-host-lifecycle": `probe or lifecycle host (container "app" uses probe or lifecycle host "10.0.0.1")`,
			},
		},
	}
	all := pssChecksOf(Default)
	for name, tc := range testCases {
		t.Run(name, func(t *testing.T) {
			s := readAll(func(s *inventory.Snapshot) { s.Pods = []corev1.Pod{pod(ns, "subject", tc.spec)} })
			gotFailures := map[string]string{}
			for _, o := range Run(s, DefaultConfig(), all) {
				if !o.Evaluated || o.Judged != 1 {
					t.Errorf("check %s: Evaluated=%t Judged=%d, want true and 1", o.Check.ID, o.Evaluated, o.Judged)
				}
				if len(o.Findings) > 1 {
					t.Errorf("check %s: %d findings on one pod, want at most 1: %v", o.Check.ID, len(o.Findings), summarize(o.Findings))
				}
				for _, f := range o.Findings {
					if diff := cmp.Diff(objRef("v1", "Pod", ns, "subject"), f.Object); diff != "" {
						t.Errorf("check %s: finding object mismatch (-want +got):\n%s", o.Check.ID, diff)
					}
					gotFailures[o.Check.ID] = f.Message
				}
			}
			want := tc.wantFailures
			if want == nil {
				want = map[string]string{}
			}
			if diff := cmp.Diff(want, gotFailures); diff != "" {
				t.Errorf("failed checks and messages mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPSSJudgesTheWorkloadTheUserWrote checks that templates are judged on
// the controller the user wrote, once, and that CronJob templates are judged.
func TestPSSJudgesTheWorkloadTheUserWrote(t *testing.T) {
	const ns = "batch"
	bad := privilegedSpec("app")
	s := readAll(func(s *inventory.Snapshot) {
		s.Deployments = []appsv1.Deployment{deployment(ns, "web", bad)}
		s.ReplicaSets = []appsv1.ReplicaSet{replicaSet(ns, "web-6f7c", bad, controllerRef("apps/v1", "Deployment", "web"))}
		s.CronJobs = []batchv1.CronJob{cronJob(ns, "nightly", bad)}
		s.Jobs = []batchv1.Job{job(ns, "nightly-2901", bad, controllerRef("batch/v1", "CronJob", "nightly"))}
		s.Pods = []corev1.Pod{
			pod(ns, "web-6f7c-q", bad, controllerRef("apps/v1", "ReplicaSet", "web-6f7c")),
			pod(ns, "nightly-2901-z", bad, controllerRef("batch/v1", "Job", "nightly-2901")),
			pod(ns, "bare", hardenedSpec()),
		}
	})
	const msg = `privileged (container "app" must not set securityContext.privileged=true)`
	wantFindings := []gotFinding{
		{Check: "pss-privileged", Object: objRef("apps/v1", "Deployment", ns, "web"), Message: msg},
		{Check: "pss-privileged", Object: objRef("batch/v1", "CronJob", ns, "nightly"), Message: msg},
	}

	o := runCheck(t, "pss-privileged", s, nil)
	if diff := cmp.Diff(map[string]int{ns: 3}, o.JudgedIn); diff != "" {
		t.Errorf("JudgedIn mismatch, want the Deployment, CronJob and bare Pod (-want +got):\n%s", diff)
	}
	if got := o.Passed(); got != 1 {
		t.Errorf("Passed() = %d, want 1", got)
	}
	if diff := cmp.Diff(wantFindings, summarize(o.Findings)); diff != "" {
		t.Errorf("findings mismatch (-want +got):\n%s", diff)
	}
}

func TestPSSOneFindingPerObject(t *testing.T) {
	s := readAll(func(s *inventory.Snapshot) {
		s.Pods = []corev1.Pod{pod("shop", "triple", privilegedSpec("a", "b", "c"))}
	})
	wantFindings := []gotFinding{{
		Check:   "pss-privileged",
		Object:  objRef("v1", "Pod", "shop", "triple"),
		Message: `privileged (containers "a", "b", "c" must not set securityContext.privileged=true)`,
	}}

	o := runCheck(t, "pss-privileged", s, nil)
	if diff := cmp.Diff(wantFindings, summarize(o.Findings)); diff != "" {
		t.Errorf("findings mismatch (-want +got):\n%s", diff)
	}
	if o.Judged != 1 || o.Passed() != 0 {
		t.Errorf("Judged=%d Passed=%d, want 1 and 0", o.Judged, o.Passed())
	}
}

// TestPSSVersion checks that a check judges nothing at a Pod Security
// Standards version that predates it, and judges at the versions that have it.
func TestPSSVersion(t *testing.T) {
	hostProbe := withSpec(func(s *corev1.PodSpec) {
		s.Containers[0].ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
			TCPSocket: &corev1.TCPSocketAction{Host: "169.254.169.254"},
		}}
	})
	escalation := withSpec(func(s *corev1.PodSpec) { s.Containers[0].SecurityContext.AllowPrivilegeEscalation = new(true) })
	testCases := map[string]struct {
		check        string
		spec         corev1.PodSpec
		version      api.Version
		wantJudged   int
		wantFindings int
	}{
		"host probes before v1.34 judges nothing": {
			check: "pss-host-probes-and-host-lifecycle", spec: hostProbe, version: api.MajorMinorVersion(1, 33),
			wantJudged: 0, wantFindings: 0,
		},
		"host probes at v1.34": {
			check: "pss-host-probes-and-host-lifecycle", spec: hostProbe, version: api.MajorMinorVersion(1, 34),
			wantJudged: 1, wantFindings: 1,
		},
		"host probes at latest": {
			check: "pss-host-probes-and-host-lifecycle", spec: hostProbe, version: api.LatestVersion(),
			wantJudged: 1, wantFindings: 1,
		},
		"host probes at latest passes a pod without host": {
			check: "pss-host-probes-and-host-lifecycle", spec: hardenedSpec(), version: api.LatestVersion(),
			wantJudged: 1, wantFindings: 0,
		},
		"allowPrivilegeEscalation before v1.8 judges nothing": {
			check: "pss-allow-privilege-escalation", spec: escalation, version: api.MajorMinorVersion(1, 7),
			wantJudged: 0, wantFindings: 0,
		},
		"allowPrivilegeEscalation at v1.8": {
			check: "pss-allow-privilege-escalation", spec: escalation, version: api.MajorMinorVersion(1, 8),
			wantJudged: 1, wantFindings: 1,
		},
		"privileged exists from v1.0": {
			check: "pss-privileged", spec: privilegedSpec("app"), version: api.MajorMinorVersion(1, 0),
			wantJudged: 1, wantFindings: 1,
		},
	}
	for name, tc := range testCases {
		t.Run(name, func(t *testing.T) {
			s := readAll(func(s *inventory.Snapshot) { s.Pods = []corev1.Pod{pod("shop", "p", tc.spec)} })
			o := runCheck(t, tc.check, s, &Config{PodSecurityVersion: tc.version})
			if !o.Evaluated {
				t.Fatalf("Evaluated = false, want true (missing %v)", o.MissingKinds)
			}
			if o.Judged != tc.wantJudged {
				t.Errorf("Judged = %d, want %d", o.Judged, tc.wantJudged)
			}
			if len(o.Findings) != tc.wantFindings {
				t.Errorf("got %d findings, want %d: %v", len(o.Findings), tc.wantFindings, summarize(o.Findings))
			}
		})
	}
}

// TestPSSNotEvaluatedWithoutWorkloads checks that a pss check whose workload
// input could not be read is not evaluated, rather than passing.
func TestPSSNotEvaluatedWithoutWorkloads(t *testing.T) {
	s := readAll(func(s *inventory.Snapshot) { s.Pods = []corev1.Pod{pod("shop", "p", privilegedSpec("app"))} })
	s.MarkMissing(inventory.KindPod, inventory.MissingForbidden, "pods is forbidden")

	for _, c := range pssChecksOf(Default) {
		o := Run(s, nil, []*Check{c})[0]
		if o.Evaluated || o.Judged != 0 || len(o.Findings) != 0 {
			t.Errorf("check %s: Evaluated=%t Judged=%d findings=%d, want false, 0, 0", c.ID, o.Evaluated, o.Judged, len(o.Findings))
		}
		if !slices.Equal(o.MissingKinds, []inventory.Kind{inventory.KindPod}) {
			t.Errorf("check %s: MissingKinds = %v, want [%s]", c.ID, o.MissingKinds, inventory.KindPod)
		}
	}
}

// evaluatorTestPods are pods that pass and pods that fail each upstream
// check in its various versions, for the tests that hold kubeposture's
// ways of running the checks to upstream's evaluator.
func evaluatorTestPods() (*metav1.ObjectMeta, map[string]corev1.PodSpec) {
	insecure := withSpec(func(s *corev1.PodSpec) {
		s.HostNetwork, s.HostPID, s.HostIPC = true, true, true
		s.SecurityContext = &corev1.PodSecurityContext{
			RunAsUser:       new(int64(0)),
			SeccompProfile:  &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined},
			SELinuxOptions:  &corev1.SELinuxOptions{Type: "spc_t", User: "root"},
			Sysctls:         []corev1.Sysctl{{Name: "kernel.shm_rmid_forced", Value: "1"}, {Name: "net.ipv4.ip_local_reserved_ports", Value: "1"}, {Name: "kernel.msgmax", Value: "1"}},
			AppArmorProfile: &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeUnconfined},
			WindowsOptions:  &corev1.WindowsSecurityContextOptions{HostProcess: new(true)},
		}
		s.Volumes = append(s.Volumes,
			corev1.Volume{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}},
			corev1.Volume{Name: "nfs", VolumeSource: corev1.VolumeSource{NFS: &corev1.NFSVolumeSource{Server: "nfs", Path: "/"}}})
		c := &s.Containers[0]
		c.SecurityContext = &corev1.SecurityContext{
			Privileged:               new(true),
			AllowPrivilegeEscalation: new(true),
			RunAsNonRoot:             new(false),
			RunAsUser:                new(int64(0)),
			ProcMount:                new(corev1.UnmaskedProcMount),
			Capabilities:             &corev1.Capabilities{Add: []corev1.Capability{"SYS_ADMIN", "NET_BIND_SERVICE"}},
		}
		c.Ports = []corev1.ContainerPort{{ContainerPort: 80, HostPort: 80}}
		c.LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Host: "169.254.169.254"}}}
		s.InitContainers = []corev1.Container{{Name: "init", Image: "init"}}
	})
	bare := corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "app"}}}
	specs := map[string]corev1.PodSpec{"hardened": hardenedSpec("app", "sidecar"), "insecure": insecure, "bare": bare}
	meta := &metav1.ObjectMeta{Name: "p", Namespace: "shop", Annotations: map[string]string{
		"container.apparmor.security.beta.kubernetes.io/app": "unconfined",
	}}
	return meta, specs
}

// evaluatorTestVersions are every Pod Security version from v1.0 to past
// the newest check's, and latest.
func evaluatorTestVersions() []api.Version {
	var newest api.Version
	for _, pc := range policy.DefaultChecks() {
		if v := pc.Versions[len(pc.Versions)-1].MinimumVersion; newest.Older(v) {
			newest = v
		}
	}
	versions := []api.Version{api.LatestVersion()}
	for minor := 0; minor <= newest.Minor()+2; minor++ {
		versions = append(versions, api.MajorMinorVersion(1, minor))
	}
	return versions
}

// TestPSSCheckAtResolvesLikeTheEvaluator holds pssCheckAt to what upstream's
// evaluator does with the same check: at every version from v1.0 to past the
// newest, and latest, both judge nothing or both give the same result, on
// pods that pass and pods that fail each check in its various versions.
func TestPSSCheckAtResolvesLikeTheEvaluator(t *testing.T) {
	meta, specs := evaluatorTestPods()
	versions := evaluatorTestVersions()
	for _, pc := range policy.DefaultChecks() {
		evaluator, err := policy.NewEvaluator([]policy.Check{pc}, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range versions {
			check := pssCheckAt(pc, v)
			for name, spec := range specs {
				want := evaluator.EvaluatePod(api.LevelVersion{Level: pc.Level, Version: v}, meta, &spec)
				switch {
				case len(want) == 0 && check != nil:
					t.Errorf("%s at %s: pssCheckAt returned a check, the evaluator judges nothing", pc.ID, v)
				case len(want) == 0:
				case check == nil:
					t.Errorf("%s at %s: pssCheckAt returned no check, the evaluator judges", pc.ID, v)
				case len(want) != 1:
					t.Errorf("%s at %s: the evaluator gave %d results, want 1", pc.ID, v, len(want))
				default:
					if diff := cmp.Diff(want[0], check(meta, &spec)); diff != "" {
						t.Errorf("%s at %s on %s pod: result mismatch (-evaluator +pssCheckAt):\n%s", pc.ID, v, name, diff)
					}
				}
			}
		}
	}
}
