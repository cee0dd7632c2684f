package checks

// The workload checks beyond the Pod Security Standards. Each judges every
// pod template the user wrote (inventory.Workloads) once and reports one
// finding per workload that lists every affected container or volume, with
// its field path relative to the pod spec.
//
// They follow the API's own semantics rather than the literal manifest:
// defaults the API server applies at admission (imagePullPolicy for :latest,
// requests defaulted from limits, LimitRange defaults, the ServiceAccount's
// automount setting) count as set, and fields the API forbids in a context
// (resources and probes on ephemeral containers, Linux security settings on
// Windows pods) are not asked for there. They run on every template of large
// clusters, so lookup tables are built once and messages only on failure.

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubeposture/kubeposture/internal/inventory"
)

func workloadChecks() []*Check {
	return []*Check{
		runtimeSocketMountCheck(),
		sensitiveHostPathCheck(),
		dangerousCapabilitiesCheck(),
		capabilitiesNotDroppedCheck(),
		writableRootFilesystemCheck(),
		missingResourcesCheck(false),
		missingResourcesCheck(true),
		imageLatestTagCheck(),
		imageNotPinnedCheck(),
		imageUntrustedRegistryCheck(),
		imagePullPolicyCheck(),
		serviceAccountTokenAutomountCheck(),
		defaultServiceAccountCheck(),
		secretEnvVarsCheck(),
		credentialLiteralEnvCheck(),
		defaultNamespaceCheck(),
		kubeSystemWorkloadCheck(),
		missingProbesCheck(),
	}
}

// workloadNeeds returns the workload kinds plus extra, in a new slice.
func workloadNeeds(extra ...inventory.Kind) []inventory.Kind {
	out := make([]inventory.Kind, 0, len(inventory.WorkloadKinds)+len(extra))
	out = append(out, inventory.WorkloadKinds...)
	return append(out, extra...)
}

// judgeWorkloads returns a Check.PerTemplate judge that judges every
// workload for which skip (if non-nil) is false and reports one finding per
// workload for which problems returns anything, its problems joined by "; ".
func judgeWorkloads(e *Emitter, skip func(w *inventory.Workload) bool, problems func(w *inventory.Workload) []string) func(w *inventory.Workload) {
	return func(w *inventory.Workload) {
		if skip != nil && skip(w) {
			return
		}
		e.Judge(w.Ref)
		if p := problems(w); len(p) > 0 {
			e.fail(w.Ref, strings.Join(p, "; "))
		}
	}
}

// judgeContainers returns a Check.PerTemplate judge like judgeWorkloads
// whose problems are per container: appendProblem appends to b what is
// wrong with one container of kinds (nothing when nothing is), and the
// message lists `container "app" (containers[0]): problem` for each, joined
// by "; ". The message and each problem are built in buffers reused from
// template to template.
func judgeContainers(e *Emitter, skip func(w *inventory.Workload) bool, kinds containerKind, appendProblem func(b []byte, c podContainer) []byte) func(w *inventory.Workload) {
	var msg, problem []byte
	return func(w *inventory.Workload) {
		if skip != nil && skip(w) {
			return
		}
		e.Judge(w.Ref)
		msg = msg[:0]
		// yieldContainers rather than a range over containersOf: the
		// loop's state would be allocated on every template.
		yieldContainers(w.Spec, kinds, func(c podContainer) bool {
			if problem = appendProblem(problem[:0], c); len(problem) > 0 {
				if len(msg) > 0 {
					msg = append(msg, "; "...)
				}
				msg = append(append(c.appendTo(msg), ": "...), problem...)
			}
			return true
		})
		if len(msg) > 0 {
			e.fail(w.Ref, string(msg))
		}
	}
}

// namespaceOf is the namespace a workload runs in: manifests without one
// are created in "default".
func namespaceOf(ns string) string {
	if ns == "" {
		return metav1.NamespaceDefault
	}
	return ns
}

// Host paths.

// runtimeSockets are the container runtime API endpoints on Linux nodes.
// Whoever can connect to one can start a privileged container on the node;
// a read-only mount does not stop connect(2).
var runtimeSockets = []string{
	"/var/run/docker.sock", "/run/docker.sock",
	"/var/run/dockershim.sock", "/run/dockershim.sock",
	"/var/run/cri-dockerd.sock", "/run/cri-dockerd.sock",
	"/var/run/docker/containerd/containerd.sock",
	"/var/run/containerd/containerd.sock", "/run/containerd/containerd.sock",
	"/var/run/containerd/containerd.sock.ttrpc", "/run/containerd/containerd.sock.ttrpc",
	"/var/run/crio/crio.sock", "/run/crio/crio.sock",
	"/run/k3s/containerd/containerd.sock",
	"/var/snap/microk8s/common/run/containerd.sock",
	"/var/run/podman/podman.sock", "/run/podman/podman.sock",
}

// windowsRuntimePipes are the named pipes of the runtimes on Windows nodes, lower-cased.
var windowsRuntimePipes = map[string]bool{
	`\\.\pipe\docker_engine`:         true,
	`\\.\pipe\containerd-containerd`: true,
	`//./pipe/docker_engine`:         true,
	`//./pipe/containerd-containerd`: true,
}

// runtimeSocketPaths maps every runtime socket and every directory that
// holds one (up to /) to whether it is the socket itself.
var runtimeSocketPaths = func() map[string]bool {
	m := map[string]bool{}
	for _, p := range runtimeSockets {
		m[p] = true
		for d := path.Dir(p); ; d = path.Dir(d) {
			if _, ok := m[d]; !ok {
				m[d] = false
			}
			if d == "/" {
				break
			}
		}
	}
	return m
}()

// sensitiveSubtrees are host paths under which everything is sensitive:
// credentials (kubelet, etcd, control-plane PKI, SSH, users' homes), the
// runtimes' state, kernel interfaces, logs (a writable /var/log lets a pod
// make the kubelet follow symlinks), and directories of binaries and
// configuration that root processes on the node execute or read.
var sensitiveSubtrees = []string{
	"/etc/kubernetes", "/var/lib/kubelet", "/var/lib/etcd",
	"/etc/rancher", "/var/lib/rancher",
	"/proc", "/sys", "/root", "/home", "/boot",
	"/var/lib/docker", "/var/lib/containerd", "/var/lib/containers",
	"/var/log",
	"/etc/ssh", "/etc/sudoers.d", "/etc/cni", "/opt/cni", "/etc/containerd", "/etc/crio",
	"/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin",
}

// sensitiveExact are host paths that are sensitive themselves (not every
// path below them: /etc/ssl/certs, /dev/fuse and /run/xtables.lock are
// routinely mounted and harmless).
var sensitiveExact = []string{
	"/etc", "/dev", "/var/run", "/run",
	"/etc/shadow", "/etc/gshadow", "/etc/passwd", "/etc/sudoers",
}

// sensitivePaths holds the subtree roots (true), and the exact paths and
// every ancestor of a sensitive path (false): mounting /var exposes
// /var/lib/kubelet.
var sensitivePaths = func() map[string]bool {
	m := map[string]bool{}
	addAncestors := func(p string) {
		for d := path.Dir(p); ; d = path.Dir(d) {
			if _, ok := m[d]; !ok {
				m[d] = false
			}
			if d == "/" {
				return
			}
		}
	}
	for _, p := range sensitiveExact {
		if _, ok := m[p]; !ok {
			m[p] = false
		}
		addAncestors(p)
	}
	for _, p := range sensitiveSubtrees {
		m[p] = true
		addAncestors(p)
	}
	return m
}()

// cleanHostPath normalises a Linux host path: duplicate and trailing
// slashes and dot segments removed. It does not allocate for clean paths.
func cleanHostPath(p string) string {
	if p == "" || p[0] != '/' {
		return p
	}
	return path.Clean(p)
}

// isSensitiveHostPath reports whether p (clean) is a sensitive path, under a
// sensitive subtree, or an ancestor of a sensitive path.
func isSensitiveHostPath(p string) bool {
	if !strings.HasPrefix(p, "/") {
		return false
	}
	if _, ok := sensitivePaths[p]; ok {
		return true
	}
	for d := p; d != "/"; {
		i := strings.LastIndexByte(d, '/')
		if i <= 0 {
			d = "/"
		} else {
			d = d[:i]
		}
		if sensitivePaths[d] {
			return true
		}
	}
	return false
}

// hostPathUse describes how the containers of a pod mount one volume:
// `container "app" (containers[0]) read-write, ...`. It is empty when no
// container mounts the volume.
func hostPathUse(spec *corev1.PodSpec, volume string) string {
	var uses []string
	for c := range containersOf(spec, allContainers) {
		for _, m := range c.VolumeMounts {
			if m.Name != volume {
				continue
			}
			mode := "read-write"
			if m.ReadOnly {
				mode = "read-only"
			}
			uses = append(uses, c.String()+" "+mode)
			break
		}
	}
	return strings.Join(uses, ", ")
}

func runtimeSocketMountCheck() *Check {
	return &Check{
		ID:       "workload-runtime-socket-mount",
		Title:    "Container runtime socket mounted",
		Severity: SeverityCritical,
		Category: CategoryWorkload,
		Description: "A hostPath volume that is a container runtime socket (Docker, containerd, CRI-O, cri-dockerd, Podman, " +
			"or the Windows runtime named pipes), or a directory that holds one such as /var/run or /run/containerd, " +
			"lets the pod drive the node's runtime: start a privileged container with the host's root filesystem " +
			"and take over the node and every secret on it. A read-only mount does not help: connecting to a " +
			"socket is not a write. Volumes no container mounts are not reported.",
		Remediation: "Remove the hostPath volume. Build images with a daemonless builder (BuildKit rootless, Kaniko, Buildah) " +
			"and read container metadata through the Kubernetes API or the kubelet's metrics instead of the runtime socket.",
		Evidence: "The volume (volumes[i]), its hostPath.path, and each container that mounts it, read-only or read-write.",
		Needs:    workloadNeeds(),
		PerTemplate: func(_ *inventory.Snapshot, _ *Config, e *Emitter) func(w *inventory.Workload) {
			return judgeWorkloads(e, nil, func(w *inventory.Workload) []string {
				var out []string
				for i := range w.Spec.Volumes {
					v := &w.Spec.Volumes[i]
					if v.HostPath == nil {
						continue
					}
					what := ""
					if isSocket, ok := runtimeSocketPaths[cleanHostPath(v.HostPath.Path)]; ok {
						what = "a directory holding container runtime sockets"
						if isSocket {
							what = "a container runtime socket"
						}
					} else if windowsRuntimePipes[strings.ToLower(v.HostPath.Path)] {
						what = "a container runtime named pipe"
					} else {
						continue
					}
					use := hostPathUse(w.Spec, v.Name)
					if use == "" {
						continue
					}
					out = append(out, fmt.Sprintf("volumes[%d] %q: hostPath.path %q is %s, mounted by %s", i, v.Name, v.HostPath.Path, what, use))
				}
				return out
			})
		},
	}
}

func sensitiveHostPathCheck() *Check {
	return &Check{
		ID:       "workload-sensitive-host-path",
		Title:    "Sensitive host path mounted",
		Severity: SeverityHigh,
		Category: CategoryWorkload,
		Description: "A hostPath volume exposes a sensitive part of the node: its root or /etc, the kubelet's and etcd's data " +
			"(every pod's secrets, the node's credentials), the control plane's PKI, /proc, /sys, /dev, /root, /home, " +
			"/boot, the runtimes' state, logs, or directories of binaries root runs. Read-only mounts still leak " +
			"credentials; writable ones lead to code execution on the node. Any ancestor of such a path (/, /var, " +
			"/var/lib) counts. Volumes no container mounts are not reported, nor are the control plane's own static pods.",
		Remediation: "Remove the hostPath volume or narrow it to the single file or directory the workload needs, mounted " +
			"readOnly; prefer configMaps, secrets, projected volumes, emptyDir or a CSI driver.",
		Evidence: "The volume (volumes[i]), its hostPath.path, and each container that mounts it, read-only or read-write.",
		Needs:    workloadNeeds(),
		PerTemplate: func(_ *inventory.Snapshot, _ *Config, e *Emitter) func(w *inventory.Workload) {
			return judgeWorkloads(e, isControlPlaneStaticPod, func(w *inventory.Workload) []string {
				var out []string
				for i := range w.Spec.Volumes {
					v := &w.Spec.Volumes[i]
					if v.HostPath == nil || !isSensitiveHostPath(cleanHostPath(v.HostPath.Path)) {
						continue
					}
					use := hostPathUse(w.Spec, v.Name)
					if use == "" {
						continue
					}
					out = append(out, fmt.Sprintf("volumes[%d] %q: hostPath.path %q mounted by %s", i, v.Name, v.HostPath.Path, use))
				}
				return out
			})
		},
	}
}

// Capabilities.

// dangerousCapabilities give a short path out of the container or over the
// node's kernel, network or other processes. Capabilities in the runtimes'
// default set (CHOWN, DAC_OVERRIDE, SETUID, MKNOD, ...) are not listed:
// adding them changes nothing; pss-capabilities-baseline reports every
// capability beyond that set.
var dangerousCapabilities = map[string]bool{
	"ALL":             true, // every capability
	"SYS_ADMIN":       true, // mount, namespaces, cgroups release_agent: the classic escape
	"SYS_MODULE":      true, // load kernel modules
	"SYS_RAWIO":       true, // raw I/O ports, /dev/mem
	"SYS_PTRACE":      true, // trace and inject into other processes (the host's with hostPID)
	"SYS_BOOT":        true, // reboot, kexec_load
	"SYS_TIME":        true, // the clock is not namespaced: sets the node's time
	"DAC_READ_SEARCH": true, // open_by_handle_at: read any host file ("shocker")
	"NET_ADMIN":       true, // routes, iptables, interfaces: intercept or redirect traffic
	"NET_RAW":         true, // raw sockets: ARP and DNS spoofing of neighbours (CIS 5.2.8)
	"BPF":             true, // load eBPF programs
	"PERFMON":         true, // with BPF: kernel tracing and memory reads
	"SYSLOG":          true, // kernel log: kernel addresses that defeat KASLR
	"MAC_ADMIN":       true, // reconfigure AppArmor/SELinux
	"MAC_OVERRIDE":    true, // bypass AppArmor/SELinux
}

// capabilityName returns a capability as the runtimes read it: upper-case,
// without a CAP_ prefix. It does not allocate for canonical names.
func capabilityName(c corev1.Capability) string {
	s := string(c)
	if len(s) > 4 && strings.EqualFold(s[:4], "CAP_") {
		s = s[4:]
	}
	return strings.ToUpper(s)
}

func hasCapability(list []corev1.Capability, name string) bool {
	for _, c := range list {
		if capabilityName(c) == name {
			return true
		}
	}
	return false
}

func quotedCapabilities(list []corev1.Capability) string {
	q := make([]string, len(list))
	for i, c := range list {
		q[i] = strconv.Quote(string(c))
	}
	slices.Sort(q)
	return "[" + strings.Join(q, ", ") + "]"
}

func dangerousCapabilitiesCheck() *Check {
	return &Check{
		ID:       "workload-dangerous-capabilities",
		Title:    "Dangerous capabilities added",
		Severity: SeverityHigh,
		Category: CategoryWorkload,
		Description: "Containers add Linux capabilities that give a short path to the node: ALL, SYS_ADMIN, SYS_MODULE, " +
			"SYS_RAWIO, SYS_PTRACE, SYS_BOOT, SYS_TIME, DAC_READ_SEARCH, NET_ADMIN, NET_RAW, BPF, PERFMON, SYSLOG, " +
			"MAC_ADMIN or MAC_OVERRIDE (with or without the CAP_ prefix, in any case). CIS 5.2.8 and 5.2.9 ask to " +
			"minimise added capabilities; NSA/CISA to drop unneeded ones. Init and ephemeral containers are judged; " +
			"Windows pods have no Linux capabilities and are not.",
		Remediation: "Remove these capabilities from securityContext.capabilities.add; if one is truly needed, run the " +
			"workload in a dedicated namespace whose admission policy allows only it.",
		Evidence: "Each container (containers[i], initContainers[i], ephemeralContainers[i]) and the dangerous capabilities in its securityContext.capabilities.add.",
		Needs:    workloadNeeds(),
		PerTemplate: func(_ *inventory.Snapshot, _ *Config, e *Emitter) func(w *inventory.Workload) {
			return judgeContainers(e, e.scan.notOnWindows, allContainers, func(b []byte, c podContainer) []byte {
				if c.SecurityContext == nil || c.SecurityContext.Capabilities == nil {
					return b
				}
				var bad []corev1.Capability
				for _, cp := range c.SecurityContext.Capabilities.Add {
					if dangerousCapabilities[capabilityName(cp)] {
						bad = append(bad, cp)
					}
				}
				if len(bad) == 0 {
					return b
				}
				return append(append(b, "securityContext.capabilities.add includes "...), quotedCapabilities(bad)...)
			})
		},
	}
}

func capabilitiesNotDroppedCheck() *Check {
	return &Check{
		ID:       "workload-capabilities-not-dropped",
		Title:    "NET_RAW capability not dropped",
		Severity: SeverityMedium,
		Category: CategoryWorkload,
		Description: "containerd and Docker grant NET_RAW to every container by default: a compromised container can " +
			"craft raw packets to spoof ARP and DNS answers to its neighbours or probe the node's network. CIS 5.2.8 " +
			"asks that containers drop it. A container keeps NET_RAW unless securityContext.capabilities.drop names " +
			"NET_RAW or ALL and add does not put it back; privileged containers keep every capability whatever they " +
			"drop. Narrower than pss-capabilities-restricted, which asks to drop ALL. Windows pods are not judged.",
		Remediation: "Set securityContext.capabilities.drop: [\"ALL\"] (or at least NET_RAW) on every container, and do not " +
			"add NET_RAW back.",
		Evidence: "Each container (containers[i], initContainers[i], ephemeralContainers[i]) that keeps NET_RAW, and why.",
		Needs:    workloadNeeds(),
		PerTemplate: func(_ *inventory.Snapshot, _ *Config, e *Emitter) func(w *inventory.Workload) {
			return judgeContainers(e, e.scan.notOnWindows, allContainers, func(b []byte, c podContainer) []byte {
				sc := c.SecurityContext
				var caps *corev1.Capabilities
				if sc != nil {
					caps = sc.Capabilities
				}
				switch {
				case sc != nil && sc.Privileged != nil && *sc.Privileged:
					return append(b, "securityContext.privileged is true, which grants NET_RAW whatever is dropped"...)
				case caps != nil && (hasCapability(caps.Add, "NET_RAW") || hasCapability(caps.Add, "ALL")):
					return append(b, "securityContext.capabilities.add puts NET_RAW back"...)
				case caps == nil || !hasCapability(caps.Drop, "NET_RAW") && !hasCapability(caps.Drop, "ALL"):
					return append(b, "securityContext.capabilities.drop includes neither NET_RAW nor ALL"...)
				}
				return b
			})
		},
	}
}

func writableRootFilesystemCheck() *Check {
	return &Check{
		ID:       "workload-writable-root-filesystem",
		Title:    "Root filesystem writable",
		Severity: SeverityLow,
		Category: CategoryWorkload,
		Description: "NSA/CISA recommend immutable container filesystems: with securityContext.readOnlyRootFilesystem " +
			"unset or false, whoever gains code execution in the container can drop tools, alter the application's " +
			"binaries and configuration, and persist until the container restarts. It limits what a compromise can " +
			"do rather than preventing one. Init and ephemeral containers are judged (the API lets ephemeral " +
			"containers set securityContext); Windows pods, which do not support the field, are not.",
		Remediation: "Set securityContext.readOnlyRootFilesystem: true on every container and mount emptyDir volumes at the " +
			"paths the application writes to (/tmp, caches).",
		Evidence: "Each container (containers[i], initContainers[i], ephemeralContainers[i]) and whether the field is unset or false.",
		Needs:    workloadNeeds(),
		PerTemplate: func(_ *inventory.Snapshot, _ *Config, e *Emitter) func(w *inventory.Workload) {
			return judgeContainers(e, e.scan.notOnWindows, allContainers, func(b []byte, c podContainer) []byte {
				switch sc := c.SecurityContext; {
				case sc == nil || sc.ReadOnlyRootFilesystem == nil:
					return append(b, "securityContext.readOnlyRootFilesystem is unset"...)
				case !*sc.ReadOnlyRootFilesystem:
					return append(b, "securityContext.readOnlyRootFilesystem is false"...)
				}
				return b
			})
		},
	}
}

// Resources.

// resourceDefaults says, per resource (cpu, memory), whether a namespace's
// LimitRanges give containers a default request and a default limit.
type resourceDefaults struct {
	request, limit [2]bool
}

var judgedResources = [2]corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory}

// limitRangeDefaults reads the Container items of every LimitRange as the
// API server defaults them (SetDefaults_LimitRangeItem: default from max,
// defaultRequest from default, then from min), so that LimitRanges read
// from manifests count as they will once created. The LimitRanger
// admission plugin fills a container's missing request or limit from them.
func limitRangeDefaults(s *inventory.Snapshot) map[string]resourceDefaults {
	out := map[string]resourceDefaults{}
	for i := range s.LimitRanges {
		lr := &s.LimitRanges[i]
		ns := namespaceOf(lr.Namespace)
		d := out[ns]
		for _, item := range lr.Spec.Limits {
			if item.Type != corev1.LimitTypeContainer {
				continue
			}
			for j, r := range judgedResources {
				limit := hasResource(item.Default, r) || hasResource(item.Max, r)
				d.limit[j] = d.limit[j] || limit
				d.request[j] = d.request[j] || limit || hasResource(item.DefaultRequest, r) || hasResource(item.Min, r)
			}
		}
		out[ns] = d
	}
	return out
}

func hasResource(l corev1.ResourceList, r corev1.ResourceName) bool {
	_, ok := l[r]
	return ok
}

func missingResourcesCheck(limits bool) *Check {
	c := &Check{
		ID:       "workload-missing-resource-requests",
		Title:    "CPU or memory requests missing",
		Severity: SeverityLow,
		Category: CategoryWorkload,
		Description: "Containers without CPU or memory requests are scheduled as if they needed nothing and are the first " +
			"evicted under pressure; a noisy or compromised workload starves its neighbours. NSA/CISA recommend " +
			"resource policies per namespace. A request counts as set when the container sets it, when it sets a " +
			"limit for the resource (the API defaults the request to it), when pod-level resources set it, or when a " +
			"LimitRange of type Container in the namespace gives a default (defaultRequest, default, max or min). " +
			"Containers and init containers are judged; ephemeral containers cannot set resources.",
		Remediation: "Set resources.requests.cpu and resources.requests.memory on every container, or add a LimitRange " +
			"with defaultRequest to the namespace.",
		Evidence: "Each container (containers[i], initContainers[i]) and the requests it lacks.",
		Needs:    workloadNeeds(inventory.KindLimitRange),
	}
	field := "requests"
	if limits {
		field = "limits"
		c.ID = "workload-missing-resource-limits"
		c.Title = "CPU or memory limits missing"
		c.Description = "Containers without CPU or memory limits can use all of a node's CPU and memory: a leak, a noisy " +
			"neighbour or a compromised workload (cryptomining) degrades every pod on the node and can get the node's " +
			"own daemons killed. NSA/CISA recommend limits through LimitRanges and ResourceQuotas. A limit counts as " +
			"set when the container sets it, when pod-level resources set it, or when a LimitRange of type " +
			"Container in the namespace gives a default (default or max). Containers and init containers are " +
			"judged; ephemeral containers cannot set resources."
		c.Remediation = "Set resources.limits.memory and resources.limits.cpu on every container (or pod-level " +
			"resources.limits), or add a LimitRange with default limits to the namespace."
		c.Evidence = "Each container (containers[i], initContainers[i]) and the limits it lacks."
	}
	c.PerTemplate = func(s *inventory.Snapshot, _ *Config, e *Emitter) func(w *inventory.Workload) {
		defaults := limitRangeDefaults(s)
		return judgeWorkloads(e, nil, func(w *inventory.Workload) []string {
			nsDefaults := defaults[namespaceOf(w.Ref.Namespace)]
			var covered [2]bool
			for j, r := range judgedResources {
				covered[j] = nsDefaults.request[j]
				if limits {
					covered[j] = nsDefaults.limit[j]
				}
				if pr := w.Spec.Resources; pr != nil {
					covered[j] = covered[j] || hasResource(pr.Limits, r) || (!limits && hasResource(pr.Requests, r))
				}
			}
			if covered[0] && covered[1] {
				return nil
			}
			var out []string
			for c := range containersOf(w.Spec, regularContainer|initContainer) {
				var missing []string
				for j, r := range judgedResources {
					set := covered[j] || hasResource(c.Resources.Limits, r) || (!limits && hasResource(c.Resources.Requests, r))
					if !set {
						missing = append(missing, "resources."+field+"."+string(r))
					}
				}
				if len(missing) > 0 {
					out = append(out, c.String()+": "+strings.Join(missing, " and ")+" not set")
				}
			}
			return out
		})
	}
	return c
}

// Images.

// imageRef is an image reference split as the container runtimes read it
// (github.com/distribution/reference's normalisation), without validation.
type imageRef struct {
	domain, path, tag, digest string
}

// parseImage splits an image reference: [domain/]path[:tag][@digest]. The
// first component is a domain when it contains "." or ":", is "localhost",
// or has upper-case letters; otherwise the image is on Docker Hub.
// "localhost:5000/app" has no tag; "app@sha256:..." has a digest.
func parseImage(image string) imageRef {
	var r imageRef
	name := image
	if i := strings.IndexByte(name, '@'); i >= 0 {
		r.digest = name[i+1:]
		name = name[:i]
	}
	if i := strings.LastIndexByte(name, ':'); i >= 0 && i > strings.LastIndexByte(name, '/') {
		r.tag = name[i+1:]
		name = name[:i]
	}
	i := strings.IndexByte(name, '/')
	if i < 0 || (!strings.ContainsAny(name[:i], ".:") && name[:i] != "localhost" && strings.ToLower(name[:i]) == name[:i]) {
		r.domain, r.path = "docker.io", name
	} else {
		r.domain, r.path = name[:i], name[i+1:]
	}
	if r.domain == "index.docker.io" {
		r.domain = "docker.io"
	}
	return r
}

// mutable reports whether the reference names a moving target: no digest
// and the latest tag, or no tag (which means latest).
func (r imageRef) mutable() bool {
	return r.digest == "" && (r.tag == "" || r.tag == "latest")
}

// repository is the fully qualified repository, such as
// docker.io/library/nginx for "nginx", with the domain lower-cased.
func (r imageRef) repository() string {
	p := r.path
	if r.domain == "docker.io" && !strings.Contains(p, "/") {
		p = "library/" + p
	}
	return strings.ToLower(r.domain) + "/" + p
}

// underPrefix reports whether the repository is p or below it; p is a
// trustedPrefixes entry (lower-case, ending with "/"). It does not allocate.
func (r imageRef) underPrefix(p string) bool {
	lib := ""
	if r.domain == "docker.io" && !strings.Contains(r.path, "/") {
		lib = "library/"
	}
	for _, part := range [...]string{r.domain, "/", lib, r.path, "/"} {
		n := min(len(part), len(p))
		if !strings.EqualFold(part[:n], p[:n]) {
			return false
		}
		if p = p[n:]; p == "" {
			return true
		}
	}
	return false
}

// imageUse is an image a pod pulls: a container's image or an image volume's reference.
type imageUse struct {
	container  podContainer
	volume     *corev1.Volume
	volIndex   int
	image      string
	pullPolicy corev1.PullPolicy
}

// appendDescription appends where the image is set to b:
// `container "app" (containers[0]): image "nginx"`.
func (u imageUse) appendDescription(b []byte) []byte {
	if u.volume != nil {
		b = appendQuoted(append(b, "volume "...), u.volume.Name)
		b = strconv.AppendInt(append(b, " (volumes["...), int64(u.volIndex), 10)
		return appendQuoted(append(b, "]): image.reference "...), u.image)
	}
	return appendQuoted(append(u.container.appendTo(b), ": image "...), u.image)
}

// imagesOf yields every image a pod spec pulls, containers first, then image volumes.
func imagesOf(spec *corev1.PodSpec, yield func(u imageUse)) {
	for c := range containersOf(spec, allContainers) {
		if c.Image != "" {
			yield(imageUse{container: c, image: c.Image, pullPolicy: c.ImagePullPolicy})
		}
	}
	for i := range spec.Volumes {
		v := &spec.Volumes[i]
		if v.Image != nil && v.Image.Reference != "" {
			yield(imageUse{volume: v, volIndex: i, image: v.Image.Reference, pullPolicy: v.Image.PullPolicy})
		}
	}
}

// judgeImages returns a Check.PerTemplate judge of every workload that
// reports the images fail describes, joined by "; ", in one buffer reused
// from template to template. The images of a template are parsed once for
// every image check (scan.imagesOf).
func judgeImages(e *Emitter, fail func(u imageUse, r imageRef) string) func(w *inventory.Workload) {
	var msg []byte
	return func(w *inventory.Workload) {
		e.Judge(w.Ref)
		msg = msg[:0]
		for _, img := range e.scan.imagesOf(w) {
			problem := fail(img.use, img.ref)
			if problem == "" {
				continue
			}
			if len(msg) > 0 {
				msg = append(msg, "; "...)
			}
			msg = append(append(img.use.appendDescription(msg), ' '), problem...)
		}
		if len(msg) > 0 {
			e.fail(w.Ref, string(msg))
		}
	}
}

const imageEvidence = "Each container (containers[i], initContainers[i], ephemeralContainers[i]) or image volume (volumes[i]) and its image reference."

func imageLatestTagCheck() *Check {
	return &Check{
		ID:       "image-latest-tag",
		Title:    "Image uses the latest tag or no tag",
		Severity: SeverityMedium,
		Category: CategoryImages,
		Description: "An image with the :latest tag, or with no tag (which means :latest), and no digest can change under a " +
			"running workload: nodes may run different code, a rollback cannot restore what ran before, and whoever can " +
			"push the tag changes what runs. NSA/CISA ask for images from trusted registries, scanned and pinned. " +
			"Registry ports are not tags (localhost:5000/app has no tag); a digest pins the image whatever the tag.",
		Remediation: "Reference an immutable version tag, and preferably a digest (image: registry.example/app:1.4.2@sha256:...).",
		Evidence:    imageEvidence,
		Needs:       workloadNeeds(),
		PerTemplate: func(_ *inventory.Snapshot, _ *Config, e *Emitter) func(w *inventory.Workload) {
			return judgeImages(e, func(_ imageUse, r imageRef) string {
				switch {
				case !r.mutable():
					return ""
				case r.tag == "":
					return "has no tag (defaults to :latest) and no digest"
				}
				return "uses the :latest tag without a digest"
			})
		},
	}
}

func imageNotPinnedCheck() *Check {
	return &Check{
		ID:       "image-not-pinned-by-digest",
		Title:    "Image not pinned by digest",
		Severity: SeverityLow,
		Category: CategoryImages,
		Description: "Tags are mutable: unless an image is referenced by digest (@sha256:...), whoever can push to the " +
			"repository can change what the workload runs, and the image scanned is not necessarily the image that " +
			"runs. NSA/CISA ask for pinned images from trusted registries.",
		Remediation: "Reference images by digest (image: registry.example/app:1.4.2@sha256:...), for example by resolving tags in CI.",
		Evidence:    imageEvidence,
		Needs:       workloadNeeds(),
		PerTemplate: func(_ *inventory.Snapshot, _ *Config, e *Emitter) func(w *inventory.Workload) {
			return judgeImages(e, func(_ imageUse, r imageRef) string {
				if r.digest != "" {
					return ""
				}
				return "is not pinned by digest"
			})
		},
	}
}

// trustedPrefixes normalises the scan's trustedRegistries like image names:
// Docker Hub's default domain added, index.docker.io read as docker.io,
// lower-cased, and ended with "/" so that they match whole path components.
func trustedPrefixes(registries []string) []string {
	var out []string
	for _, p := range registries {
		p = strings.ToLower(strings.TrimRight(strings.TrimSpace(p), "/"))
		if p == "" {
			continue
		}
		first, _, _ := strings.Cut(p, "/")
		if !strings.ContainsAny(first, ".:") && first != "localhost" {
			p = "docker.io/" + p
		}
		if rest, ok := strings.CutPrefix(p, "index.docker.io"); ok && (rest == "" || rest[0] == '/') {
			p = "docker.io" + rest
		}
		out = append(out, p+"/")
	}
	return out
}

func imageUntrustedRegistryCheck() *Check {
	return &Check{
		ID:       "image-untrusted-registry",
		Title:    "Image from an untrusted registry",
		Severity: SeverityHigh,
		Category: CategoryImages,
		Description: "Images should come only from the registries the organisation trusts and scans (NSA/CISA; the intent of " +
			"CIS 5.5.1). An image is trusted when its fully qualified repository (nginx is docker.io/library/nginx) " +
			"starts with one of the scan's trustedRegistries prefixes, compared on whole path components: " +
			"registry.example.com does not trust registry.example.com.evil.io. Not evaluated when the scan sets no " +
			"trustedRegistries.",
		Remediation: "Mirror the image into a trusted registry and reference it from there, or add its registry to the " +
			"ClusterScan's trustedRegistries if it is trusted.",
		Evidence: imageEvidence + " The message shows the repository it resolves to.",
		Needs:    workloadNeeds(),
		PerTemplate: func(_ *inventory.Snapshot, cfg *Config, e *Emitter) func(w *inventory.Workload) {
			prefixes := trustedPrefixes(cfg.TrustedRegistries)
			if len(prefixes) == 0 {
				e.NotEvaluated("no trustedRegistries set in the ClusterScan spec")
				return nil
			}
			return judgeImages(e, func(_ imageUse, r imageRef) string {
				for _, p := range prefixes {
					if r.underPrefix(p) {
						return ""
					}
				}
				return "resolves to " + r.repository() + ", under no trustedRegistries prefix"
			})
		},
	}
}

func imagePullPolicyCheck() *Check {
	return &Check{
		ID:       "image-pull-policy",
		Title:    "Mutable image tag not always pulled",
		Severity: SeverityLow,
		Category: CategoryImages,
		Description: "With a :latest or missing tag and imagePullPolicy IfNotPresent or Never, each node runs whatever " +
			"version it cached, possibly one planted or pulled earlier with another pod's credentials. An omitted " +
			"imagePullPolicy is not reported: the API server defaults it to Always for such images.",
		Remediation: "Pin the image to a version or digest; otherwise set imagePullPolicy: Always or leave it unset.",
		Evidence:    imageEvidence + " The message shows the pull policy.",
		Needs:       workloadNeeds(),
		PerTemplate: func(_ *inventory.Snapshot, _ *Config, e *Emitter) func(w *inventory.Workload) {
			return judgeImages(e, func(u imageUse, r imageRef) string {
				if !r.mutable() || u.pullPolicy == "" || u.pullPolicy == corev1.PullAlways {
					return ""
				}
				field := "imagePullPolicy"
				if u.volume != nil {
					field = "image.pullPolicy"
				}
				return "is mutable and " + field + " is " + string(u.pullPolicy)
			})
		},
	}
}

// Service accounts.

// isMirrorPod reports whether a workload is the mirror of a static pod:
// the kubelet's annotation, or a Pod controlled by its Node. Static pods
// cannot use service accounts.
func isMirrorPod(w *inventory.Workload) bool {
	if w.Ref.Kind != "Pod" {
		return false
	}
	if _, ok := w.Meta.Annotations[corev1.MirrorPodAnnotationKey]; ok {
		return true
	}
	c := metav1.GetControllerOfNoCopy(w.Meta)
	return c != nil && c.Kind == "Node"
}

// controlPlaneComponentNames are the `component` label values of the control plane's static pods (kubeadm, RKE2).
var controlPlaneComponentNames = map[string]bool{
	"kube-apiserver": true, "kube-controller-manager": true, "kube-scheduler": true, "etcd": true,
	"cloud-controller-manager": true,
}

// isControlPlaneStaticPod reports whether a workload is a static pod of the
// control plane in kube-system, whose host mounts are its function.
func isControlPlaneStaticPod(w *inventory.Workload) bool {
	if w.Ref.Namespace != metav1.NamespaceSystem || !isMirrorPod(w) {
		return false
	}
	l := w.Meta.Labels
	return l["tier"] == "control-plane" || controlPlaneComponentNames[l["component"]]
}

// clusterAddonApps are k8s-app label values of add-ons that cluster
// installers and managed services deploy to kube-system.
var clusterAddonApps = map[string]bool{
	"kube-dns": true, "coredns": true, "kube-proxy": true, "metrics-server": true, "kube-dns-autoscaler": true,
	"node-local-dns": true, "konnectivity-agent": true, "calico-node": true, "calico-kube-controllers": true,
	"calico-typha": true, "cilium": true, "cilium-operator": true, "hubble-relay": true, "aws-node": true,
	"kindnet": true, "flannel": true, "weave-net": true, "ip-masq-agent": true, "glbc": true,
	"cluster-autoscaler": true,
}

// isClusterComponent reports whether a workload in kube-system belongs to
// the cluster itself rather than to its users: static control-plane pods,
// and add-ons marked as such by the conventions installers and managed
// services follow (addon-manager and cluster-service labels, the well-known
// k8s-app names, the system-*-critical priority classes only kube-system
// may use by default, EKS and AKS management labels).
func isClusterComponent(w *inventory.Workload) bool {
	if w.Ref.Namespace != metav1.NamespaceSystem {
		return false
	}
	if isMirrorPod(w) {
		return true
	}
	switch w.Spec.PriorityClassName {
	case "system-cluster-critical", "system-node-critical":
		return true
	}
	for _, l := range []map[string]string{w.Labels, w.Meta.Labels} {
		if l["tier"] == "control-plane" || controlPlaneComponentNames[l["component"]] || clusterAddonApps[l["k8s-app"]] ||
			l["kubernetes.io/cluster-service"] == "true" || l["kubernetes.azure.com/managedby"] == "aks" {
			return true
		}
		if _, ok := l["addonmanager.kubernetes.io/mode"]; ok {
			return true
		}
		if _, ok := l["eks.amazonaws.com/component"]; ok {
			return true
		}
	}
	return false
}

// skipServiceAccountChecks leaves out mirror pods (they never get a service
// account) and the cluster's own components (their API access is their
// function).
func skipServiceAccountChecks(w *inventory.Workload) bool {
	return isMirrorPod(w) || isClusterComponent(w)
}

type serviceAccountKey struct{ namespace, name string }

// serviceAccounts indexes the snapshot's ServiceAccounts by namespace and name.
type serviceAccounts map[serviceAccountKey]*corev1.ServiceAccount

func indexServiceAccounts(s *inventory.Snapshot) serviceAccounts {
	out := make(serviceAccounts, len(s.ServiceAccounts))
	for i := range s.ServiceAccounts {
		sa := &s.ServiceAccounts[i]
		out[serviceAccountKey{namespaceOf(sa.Namespace), sa.Name}] = sa
	}
	return out
}

// of is the ServiceAccount name of namespace namespace ("" for default), or
// nil when it is not in the snapshot.
func (x serviceAccounts) of(namespace, name string) *corev1.ServiceAccount {
	return x[serviceAccountKey{namespaceOf(namespace), name}]
}

func serviceAccountTokenAutomountCheck() *Check {
	return &Check{
		ID:       "workload-service-account-token-automount",
		Title:    "Service account token automounted",
		Severity: SeverityLow,
		Category: CategoryWorkload,
		Description: "CIS 5.1.6: service account tokens should be mounted only where the workload talks to the API. A " +
			"mounted token is a credential any code in the pod (or anyone who compromises it) can use with all the " +
			"service account's permissions. The token is mounted when the pod sets automountServiceAccountToken: " +
			"true, or leaves it unset and its ServiceAccount does not set it to false (the pod's setting wins). When " +
			"the ServiceAccount is not in the snapshot, the pod's setting alone decides. Static pods and the cluster's " +
			"own add-ons in kube-system are not judged.",
		Remediation: "Set automountServiceAccountToken: false on the ServiceAccount (or the pod template) of workloads that " +
			"do not call the Kubernetes API; those that do can keep it, or mount a projected serviceAccountToken volume " +
			"with a short expiry and an audience.",
		Evidence: "spec.automountServiceAccountToken and the ServiceAccount's automountServiceAccountToken, with the ServiceAccount's name.",
		Needs:    workloadNeeds(inventory.KindServiceAccount),
		PerTemplate: func(s *inventory.Snapshot, _ *Config, e *Emitter) func(w *inventory.Workload) {
			sas := indexServiceAccounts(s)
			return judgeWorkloads(e, skipServiceAccountChecks, func(w *inventory.Workload) []string {
				name := serviceAccountName(w.Spec)
				if a := w.Spec.AutomountServiceAccountToken; a != nil {
					if *a {
						return []string{"spec.automountServiceAccountToken is true (ServiceAccount " + strconv.Quote(name) + ")"}
					}
					return nil
				}
				sa := sas.of(w.Ref.Namespace, name)
				switch {
				case sa == nil:
					return []string{"spec.automountServiceAccountToken is unset and ServiceAccount " + strconv.Quote(name) + " is not in the snapshot"}
				case sa.AutomountServiceAccountToken == nil:
					return []string{"spec.automountServiceAccountToken is unset and so is ServiceAccount " + strconv.Quote(name) + "'s automountServiceAccountToken"}
				case *sa.AutomountServiceAccountToken:
					return []string{"spec.automountServiceAccountToken is unset and ServiceAccount " + strconv.Quote(name) + " sets automountServiceAccountToken: true"}
				}
				return nil
			})
		},
	}
}

func defaultServiceAccountCheck() *Check {
	return &Check{
		ID:       "workload-default-service-account",
		Title:    "Runs as the default service account",
		Severity: SeverityLow,
		Category: CategoryWorkload,
		Description: "CIS 5.1.5: the default ServiceAccount of a namespace is shared by every pod that names none, so any " +
			"permission granted to it is granted to all of them, and their API requests cannot be told apart. An " +
			"empty serviceAccountName means default. Static pods (which never get a service account) and the " +
			"cluster's own add-ons in kube-system are not judged; other kube-system workloads are, as sharing that " +
			"namespace's default account is worse, not better.",
		Remediation: "Create a ServiceAccount per workload, set spec.serviceAccountName to it, and set " +
			"automountServiceAccountToken: false on the namespace's default ServiceAccount.",
		Evidence: "spec.serviceAccountName, or that it is unset.",
		Needs:    workloadNeeds(),
		PerTemplate: func(_ *inventory.Snapshot, _ *Config, e *Emitter) func(w *inventory.Workload) {
			return judgeWorkloads(e, skipServiceAccountChecks, func(w *inventory.Workload) []string {
				switch {
				case w.Spec.ServiceAccountName == "default", w.Spec.ServiceAccountName == "" && w.Spec.DeprecatedServiceAccount == "default":
					return []string{`spec.serviceAccountName is "default"`}
				case serviceAccountName(w.Spec) == "default":
					return []string{"spec.serviceAccountName is unset: the pod runs as the default ServiceAccount"}
				}
				return nil
			})
		},
	}
}

// Environment.

func secretEnvVarsCheck() *Check {
	return &Check{
		ID:       "workload-secret-env-vars",
		Title:    "Secrets passed as environment variables",
		Severity: SeverityLow,
		Category: CategorySecrets,
		Description: "CIS 5.4.1 prefers secrets mounted as files: environment variables are inherited by every child " +
			"process, end up in crash dumps, debug endpoints and logs, and cannot be rotated without a restart. Reported " +
			"for env[].valueFrom.secretKeyRef and envFrom[].secretRef in every container, init and ephemeral " +
			"containers included. Only names are shown, never values.",
		Remediation: "Mount the Secret as a volume (secret or projected) and have the application read the file; keep env " +
			"for non-sensitive settings.",
		Evidence: "Each container, and the env var names and envFrom entries with the Secret names (and keys) they read.",
		Needs:    workloadNeeds(),
		PerTemplate: func(_ *inventory.Snapshot, _ *Config, e *Emitter) func(w *inventory.Workload) {
			return judgeContainers(e, nil, allContainers, func(refs []byte, c podContainer) []byte {
				start := len(refs)
				for i := range c.Env {
					env := &c.Env[i]
					if env.ValueFrom == nil || env.ValueFrom.SecretKeyRef == nil {
						continue
					}
					ref := env.ValueFrom.SecretKeyRef
					if len(refs) > start {
						refs = append(refs, ", "...)
					}
					refs = append(refs, "env["...)
					refs = strconv.AppendInt(refs, int64(i), 10)
					refs = append(refs, "] "...)
					refs = appendQuoted(refs, env.Name)
					refs = append(refs, " from Secret "...)
					refs = appendQuoted(refs, ref.Name)
					refs = append(refs, " key "...)
					refs = appendQuoted(refs, ref.Key)
				}
				for i := range c.EnvFrom {
					if from := &c.EnvFrom[i]; from.SecretRef != nil {
						if len(refs) > start {
							refs = append(refs, ", "...)
						}
						refs = append(refs, "envFrom["...)
						refs = strconv.AppendInt(refs, int64(i), 10)
						refs = append(refs, "] from Secret "...)
						refs = appendQuoted(refs, from.SecretRef.Name)
					}
				}
				return refs
			})
		},
	}
}

// credentialWords are the last words of env var names that hold a
// credential: DB_PASSWORD, GITHUB_TOKEN, CLIENT_SECRET, dbPassword.
var credentialWords = map[string]bool{
	"PASSWORD": true, "PASSWD": true, "PASS": true, "PASSPHRASE": true,
	"SECRET": true, "TOKEN": true, "APIKEY": true, "CREDENTIAL": true, "CREDENTIALS": true,
	"PRIVATEKEY": true, "SECRETKEY": true, "ACCESSKEY": true,
}

// credentialKeyQualifiers are the words before KEY that make it a
// credential: API_KEY, AWS_SECRET_ACCESS_KEY; not CACHE_KEY or SORT_KEY.
var credentialKeyQualifiers = map[string]bool{
	"API": true, "ACCESS": true, "SECRET": true, "PRIVATE": true, "AUTH": true, "ENCRYPTION": true,
	"SIGNING": true, "MASTER": true, "ACCOUNT": true, "LICENSE": true, "HMAC": true, "SHARED": true,
}

// lastNameWords returns the last two words of an env var name, upper-cased:
// words are separated by non-alphanumerics, letter/digit changes and
// lower-to-upper case changes ("APIKey" is API, KEY), and words of digits
// only (PASSWORD_2) are skipped.
func lastNameWords(name string) (prev, last string) {
	type span struct{ start, end int }
	var words [2]span // words[1] is the last
	n := 0
	start := -1
	class := func(b byte) byte {
		switch {
		case b >= 'a' && b <= 'z':
			return 'l'
		case b >= 'A' && b <= 'Z':
			return 'u'
		case b >= '0' && b <= '9':
			return 'd'
		}
		return 0
	}
	flush := func(end int) {
		if start < 0 {
			return
		}
		allDigits := true
		for i := start; i < end; i++ {
			if class(name[i]) != 'd' {
				allDigits = false
				break
			}
		}
		if !allDigits {
			words[0], words[1] = words[1], span{start, end}
			n++
		}
		start = -1
	}
	for i := 0; i < len(name); i++ {
		c := class(name[i])
		if c == 0 {
			flush(i)
			continue
		}
		if start >= 0 {
			p := class(name[i-1])
			boundary := (p == 'd') != (c == 'd') || // letters and digits
				(p == 'l' && c == 'u') || // dbPassword
				(p == 'u' && c == 'u' && i+1 < len(name) && class(name[i+1]) == 'l') // APIKey
			if boundary {
				flush(i)
			}
		}
		if start < 0 {
			start = i
		}
	}
	flush(len(name))
	if n >= 2 {
		prev = strings.ToUpper(name[words[0].start:words[0].end])
	}
	if n >= 1 {
		last = strings.ToUpper(name[words[1].start:words[1].end])
	}
	return prev, last
}

// isCredentialName reports whether an env var name ends with a credential
// word: DB_PASSWORD, API_KEY, AWS_SECRET_ACCESS_KEY and apiToken do;
// TOKEN_TTL, PASSWORD_FILE, SECRET_NAME, CACHE_KEY and PWD do not.
func isCredentialName(name string) bool {
	prev, last := lastNameWords(name)
	switch {
	case credentialWords[last]:
		return true
	case last == "KEY":
		return credentialKeyQualifiers[prev]
	case last == "PWD":
		return prev != "" && prev != "OLD" // DB_PWD, not the shell's PWD or OLDPWD
	}
	return false
}

// isLiteralCredential reports whether a literal env value could be a
// credential: not empty, not a $(VAR) reference the kubelet expands, not an
// unrendered ${VAR} or {{ template }} placeholder, not a boolean switch.
func isLiteralCredential(value string) bool {
	switch {
	case strings.TrimSpace(value) == "",
		strings.HasPrefix(value, "$("), strings.HasPrefix(value, "${"), strings.HasPrefix(value, "{{"),
		strings.EqualFold(value, "true"), strings.EqualFold(value, "false"):
		return false
	}
	return true
}

func credentialLiteralEnvCheck() *Check {
	return &Check{
		ID:       "workload-credential-literal-env",
		Title:    "Credential-like env var with a literal value",
		Severity: SeverityHigh,
		Category: CategorySecrets,
		Description: "An env var whose name says it holds a credential (…_PASSWORD, …_TOKEN, …_SECRET, API_KEY, " +
			"…_ACCESS_KEY, …_PRIVATE_KEY, …_CREDENTIALS) has a literal value in the pod spec: anyone who can read the " +
			"workload (get on Deployments, no access to Secrets needed), its manifests in Git, or its last-applied " +
			"annotation has the credential. Names are matched on their last words, so TOKEN_TTL, PASSWORD_FILE and " +
			"SECRET_NAME are not reported, nor are empty values, $(VAR) references, unrendered ${VAR} or {{ }} " +
			"placeholders, or true/false switches. Only the name is shown, never the value.",
		Remediation: "Move the value into a Secret (ideally managed by an external secret store) and mount it as a file; " +
			"rotate the credential, since it has been exposed.",
		Evidence: "Each container and the names (env[i]) of its credential-like env vars with literal values; never the values.",
		Needs:    workloadNeeds(),
		PerTemplate: func(_ *inventory.Snapshot, _ *Config, e *Emitter) func(w *inventory.Workload) {
			// The same names recur from template to template: each is read once a scan.
			credential := map[string]bool{}
			return judgeContainers(e, nil, allContainers, func(names []byte, c podContainer) []byte {
				start := len(names)
				for i := range c.Env {
					env := &c.Env[i]
					if env.ValueFrom != nil {
						continue
					}
					// The name first: most are not credentials, and then
					// the value is not read.
					isCredential, ok := credential[env.Name]
					if !ok {
						isCredential = isCredentialName(env.Name)
						credential[env.Name] = isCredential
					}
					if !isCredential || !isLiteralCredential(env.Value) {
						continue
					}
					if len(names) > start {
						names = append(names, ", "...)
					}
					names = strconv.AppendInt(append(names, "env["...), int64(i), 10)
					names = appendQuoted(append(names, "] "...), env.Name)
				}
				if len(names) == start {
					return names
				}
				return append(names, " set to a literal value"...)
			})
		},
	}
}

// Namespaces.

func defaultNamespaceCheck() *Check {
	return &Check{
		ID:       "workload-default-namespace",
		Title:    "Workload in the default namespace",
		Severity: SeverityLow,
		Category: CategoryWorkload,
		Description: "CIS 5.6.4: the default namespace is where everything lands that names no namespace; workloads there " +
			"share it with whatever else was created by mistake, and policies, quotas and RBAC scoped to it are rarely " +
			"deliberate. Manifests without a namespace count as default.",
		Remediation: "Create a namespace per application or team, with its own RBAC, NetworkPolicies, LimitRange, " +
			"ResourceQuota and Pod Security labels, and move the workload there.",
		Evidence: "The workload's namespace.",
		Needs:    workloadNeeds(),
		PerTemplate: func(_ *inventory.Snapshot, _ *Config, e *Emitter) func(w *inventory.Workload) {
			return judgeWorkloads(e, nil, func(w *inventory.Workload) []string {
				if namespaceOf(w.Ref.Namespace) != metav1.NamespaceDefault {
					return nil
				}
				return []string{"runs in the default namespace"}
			})
		},
	}
}

func kubeSystemWorkloadCheck() *Check {
	return &Check{
		ID:       "workload-in-kube-system",
		Title:    "User workload in kube-system",
		Severity: SeverityMedium,
		Category: CategoryWorkload,
		Description: "kube-system holds the control plane's service accounts, secrets and bootstrap tokens, is usually " +
			"exempt from Pod Security admission and policy engines, and its RBAC is broad: a user workload there " +
			"escapes the controls other namespaces have and sits next to the cluster's most powerful credentials. " +
			"The cluster's own components are not reported: mirror pods of static pods, pods controlled by a Node, " +
			"and add-ons recognised by their labels (tier=control-plane, component, k8s-app names such as kube-dns " +
			"and kube-proxy, addonmanager.kubernetes.io/mode, kubernetes.io/cluster-service, EKS and AKS " +
			"management labels) or by the system-cluster-critical and system-node-critical priority classes.",
		Remediation: "Move the workload to a namespace of its own, with its own RBAC and Pod Security labels.",
		Evidence:    "The workload's namespace; the message says which exemptions it did not meet.",
		Needs:       workloadNeeds(),
		PerTemplate: func(_ *inventory.Snapshot, _ *Config, e *Emitter) func(w *inventory.Workload) {
			return judgeWorkloads(e, nil, func(w *inventory.Workload) []string {
				if w.Ref.Namespace != metav1.NamespaceSystem || isClusterComponent(w) {
					return nil
				}
				return []string{"runs in kube-system and is neither a static pod nor labelled as a cluster add-on"}
			})
		},
	}
}

// Reliability.

// probedKinds are the long-running workload kinds probes are judged on:
// Jobs and CronJobs run to completion, and bare pods are restarted by no
// controller a probe could inform.
var probedKinds = map[string]bool{"Deployment": true, "StatefulSet": true, "DaemonSet": true, "ReplicaSet": true}

func missingProbesCheck() *Check {
	return &Check{
		ID:       "workload-missing-probes",
		Title:    "Liveness or readiness probe missing",
		Severity: SeverityLow,
		Category: CategoryReliability,
		Description: "Without a readinessProbe a container receives traffic before it can serve it and rollouts proceed " +
			"past broken versions; without a livenessProbe a hung process is never restarted. Judged on the " +
			"containers of Deployments, StatefulSets, DaemonSets and ReplicaSets: Jobs, CronJobs and bare pods run " +
			"to completion or have no controller to act on probes, init containers finish before the pod is ready, " +
			"and ephemeral containers cannot have probes.",
		Remediation: "Add a readinessProbe and a livenessProbe (httpGet, grpc, tcpSocket or exec) to each container; use a " +
			"startupProbe for slow starters rather than a long initialDelaySeconds.",
		Evidence: "Each container (containers[i]) and the probes it lacks.",
		Needs:    workloadNeeds(),
		PerTemplate: func(_ *inventory.Snapshot, _ *Config, e *Emitter) func(w *inventory.Workload) {
			notLongRunning := func(w *inventory.Workload) bool { return !probedKinds[w.Ref.Kind] }
			return judgeContainers(e, notLongRunning, regularContainer, func(b []byte, c podContainer) []byte {
				switch {
				case c.LivenessProbe == nil && c.ReadinessProbe == nil:
					return append(b, "no livenessProbe and no readinessProbe"...)
				case c.LivenessProbe == nil:
					return append(b, "no livenessProbe"...)
				case c.ReadinessProbe == nil:
					return append(b, "no readinessProbe"...)
				}
				return b
			})
		},
	}
}
