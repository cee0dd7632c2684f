package checks

// The control-plane checks judge the command lines of the control plane's
// static pods, which the kubelet mirrors into kube-system in self-managed
// clusters (kubeadm, RKE2, kOps, ...). Managed control planes show no such
// pods: there the checks are not evaluated, never passed.
//
// Flags are read the way each component parses them. The Kubernetes
// components use pflag: `--flag=value` or `--flag value`, a bare boolean
// flag is true (`--profiling false` is --profiling=true and a stray
// argument), the last occurrence of a flag wins, except list flags
// (--authorization-mode, --enable-admission-plugins, ...) whose occurrences
// accumulate. etcd uses Go's flag package (`-flag` and `--flag` alike, the
// last occurrence wins) and reads an ETCD_<FLAG> environment variable for a
// flag not on the command line; with --config-file it ignores both.
//
// A pod whose setting lives in a file the scan cannot read (the API
// server's --authentication-config or --authorization-config, the
// scheduler's --config, etcd's --config-file) is not judged for that
// setting: neither passed nor failed. When no visible pod can be judged, the
// check is not evaluated and says why.

import (
	"fmt"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubeposture/kubeposture/internal/inventory"
)

// The control-plane components, by their binaries' names (kubeadm's
// `component` label values).
const (
	componentAPIServer         = "kube-apiserver"
	componentEtcd              = "etcd"
	componentControllerManager = "kube-controller-manager"
	componentScheduler         = "kube-scheduler"
)

var controlPlaneComponents = []string{componentAPIServer, componentEtcd, componentControllerManager, componentScheduler}

// hyperkubeCommands maps hyperkube's subcommands to the components they run.
var hyperkubeCommands = map[string]string{
	"kube-apiserver": componentAPIServer, "apiserver": componentAPIServer,
	"kube-controller-manager": componentControllerManager, "controller-manager": componentControllerManager,
	"kube-scheduler": componentScheduler, "scheduler": componentScheduler,
}

// boolFlags are the boolean flags the checks read: bare, they mean true and
// never take the next argument as their value.
var boolFlags = map[string]bool{
	"anonymous-auth": true, "profiling": true,
	"client-cert-auth": true, "peer-client-cert-auth": true, "auto-tls": true, "peer-auto-tls": true,
}

// valueFlags are the non-boolean flags the checks read: without `=` they
// take the next argument as their value, whatever it looks like, as pflag
// and Go's flag package do. A flag unknown to the checks takes the next
// argument only if that does not look like a flag.
var valueFlags = map[string]bool{
	"authorization-mode": true, "authorization-config": true, "authentication-config": true,
	"audit-log-path": true, "audit-policy-file": true, "audit-webhook-config-file": true,
	"encryption-provider-config": true,
	"enable-admission-plugins":   true, "disable-admission-plugins": true, "admission-control": true,
	"etcd-certfile": true, "etcd-keyfile": true, "etcd-cafile": true, "etcd-servers": true,
	"config": true, "config-file": true,
	"cert-file": true, "key-file": true, "listen-client-urls": true,
	"peer-cert-file": true, "peer-key-file": true, "listen-peer-urls": true,
}

// controlPlanePod is a pod of kube-system that runs control-plane components.
type controlPlanePod struct {
	ref        inventory.ObjectRef
	name       string // namespace/name, for not-evaluated reasons
	containers []controlPlaneContainer
}

// controlPlaneContainer is the container that runs one component.
type controlPlaneContainer struct {
	component string
	name      string
	path      string // relative to the pod spec: containers[i]
	// cmd is nil when the component's command line could not be found (a
	// wrapper script, or the image's entrypoint with no arguments).
	cmd *commandLine
}

// controlPlanePods returns the control-plane pods of the snapshot, in snapshot order.
//
// A pod of kube-system is one when its `component` (kubeadm, RKE2) or
// `k8s-app` (kOps) label names a component, or when it is a static pod (a
// mirror pod, a pod owned by its Node, or labelled tier=control-plane) one of
// whose containers runs a component's binary. Ordinary workloads in
// kube-system that happen to run etcd are not the control plane's.
func controlPlanePods(s *inventory.Snapshot) []controlPlanePod {
	var out []controlPlanePod
	for i := range s.Pods {
		p := &s.Pods[i]
		if p.Namespace != metav1.NamespaceSystem {
			continue
		}
		if cs := controlPlaneContainers(p); len(cs) > 0 {
			out = append(out, controlPlanePod{
				ref:        inventory.Ref("v1", "Pod", &p.ObjectMeta),
				name:       p.Namespace + "/" + p.Name,
				containers: cs,
			})
		}
	}
	return out
}

func controlPlaneContainers(p *corev1.Pod) []controlPlaneContainer {
	labelled := ""
	for _, key := range []string{"component", "k8s-app"} {
		if v := p.Labels[key]; slices.Contains(controlPlaneComponents, v) {
			labelled = v
			break
		}
	}
	if labelled == "" && !isStaticPod(p) {
		return nil
	}
	var out []controlPlaneContainer
	for i := range p.Spec.Containers {
		c := &p.Spec.Containers[i]
		component, args, ok := componentArgs(c)
		if !ok || (labelled != "" && component != labelled) {
			continue
		}
		out = append(out, controlPlaneContainer{
			component: component, name: c.Name, path: fmt.Sprintf("containers[%d]", i),
			cmd: parseCommandLine(component, args, c),
		})
		if labelled != "" {
			return out
		}
	}
	if labelled == "" || len(p.Spec.Containers) == 0 {
		return out
	}
	// A labelled pod whose binary is not named: the image's entrypoint runs
	// the component when the container sets args but no command.
	i := slices.IndexFunc(p.Spec.Containers, func(c corev1.Container) bool { return c.Name == labelled })
	if i < 0 {
		if len(p.Spec.Containers) > 1 {
			return nil
		}
		i = 0
	}
	c := &p.Spec.Containers[i]
	cc := controlPlaneContainer{component: labelled, name: c.Name, path: fmt.Sprintf("containers[%d]", i)}
	if len(c.Command) == 0 && len(c.Args) > 0 {
		cc.cmd = parseCommandLine(labelled, c.Args, c)
	}
	return []controlPlaneContainer{cc}
}

// isStaticPod reports whether a pod looks like the kubelet's mirror of a static pod.
func isStaticPod(p *corev1.Pod) bool {
	if _, ok := p.Annotations[corev1.MirrorPodAnnotationKey]; ok {
		return true
	}
	if p.Annotations["kubernetes.io/config.source"] == "file" || p.Labels["tier"] == "control-plane" {
		return true
	}
	if c := metav1.GetControllerOfNoCopy(p); c != nil && c.Kind == "Node" {
		return true
	}
	return false
}

// componentArgs finds the component a container runs and the arguments
// after its binary: `kube-apiserver --flag`, `/usr/local/bin/etcd --flag`,
// `hyperkube apiserver --flag`, or any of them after `exec`, `env`, a
// wrapper (go-runner, tini, dumb-init) or inside `sh -c "..."`. Only the
// program that runs is looked at, never a flag's value such as
// `--data-dir /var/lib/etcd`.
func componentArgs(c *corev1.Container) (component string, args []string, ok bool) {
	argv := append(slices.Clone(c.Command), c.Args...)
	if len(argv) >= 3 && isShell(argv[0]) && strings.HasPrefix(argv[1], "-") && strings.Contains(argv[1], "c") {
		for _, cmd := range shellCommands(argv[2]) {
			if component, args, ok := programArgs(cmd); ok {
				return component, args, true
			}
		}
		return "", nil, false
	}
	return programArgs(argv)
}

// programArgs finds the component binary at the start of one command.
func programArgs(argv []string) (component string, args []string, ok bool) {
	for i, word := range argv {
		base := path.Base(word)
		switch {
		case slices.Contains(controlPlaneComponents, base):
			return base, argv[i+1:], true
		case base == "hyperkube":
			if i+1 < len(argv) {
				if comp, ok := hyperkubeCommands[argv[i+1]]; ok {
					return comp, argv[i+2:], true
				}
			}
			return "", nil, false
		case i > 0 && (strings.HasPrefix(word, "-") || strings.Contains(word, "=")):
			// A wrapper's own flag, or an `env` assignment.
		case slices.Contains(commandWrappers, base):
		default:
			return "", nil, false
		}
	}
	return "", nil, false
}

// commandWrappers run the command that follows them (and their own flags).
var commandWrappers = []string{"exec", "env", "go-runner", "tini", "dumb-init", "catatonit"}

func isShell(word string) bool {
	switch path.Base(word) {
	case "sh", "bash", "ash", "dash", "zsh":
		return true
	}
	return false
}

// shellCommands splits a shell script into commands (at ;, &, | and new
// lines) and each command into words, with quotes and backslashes as the
// shell reads them. Parentheses and redirections are kept as words: they
// never look like a component's binary.
func shellCommands(script string) [][]string {
	var cmds [][]string
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	flushWord := func() {
		if inWord {
			words = append(words, cur.String())
			cur.Reset()
			inWord = false
		}
	}
	flushCmd := func() {
		flushWord()
		if len(words) > 0 {
			cmds = append(cmds, words)
			words = nil
		}
	}
	rs := []rune(script)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote == '"' && r == '\\' && i+1 < len(rs):
			i++
			cur.WriteRune(rs[i])
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == '\\' && i+1 < len(rs):
			i++
			if rs[i] != '\n' {
				cur.WriteRune(rs[i])
				inWord = true
			}
		case r == ' ' || r == '\t':
			flushWord()
		case r == ';' || r == '&' || r == '|' || r == '\n':
			flushCmd()
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	flushCmd()
	return cmds
}

// commandLine is a component's parsed flags.
type commandLine struct {
	component string
	flags     map[string][]string // every occurrence's value, in order
	env       map[string]corev1.EnvVar
	envFrom   bool
}

func parseCommandLine(component string, args []string, c *corev1.Container) *commandLine {
	cl := &commandLine{component: component, flags: map[string][]string{}}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			if component == componentEtcd {
				break // Go's flag package stops at the first non-flag argument
			}
			continue
		}
		name := strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		value, hasValue := "", false
		if k := strings.IndexByte(name, '='); k >= 0 {
			name, value, hasValue = name[:k], name[k+1:], true
		}
		switch {
		case hasValue:
		case boolFlags[name]:
			value = "true"
		case i+1 < len(args) && (valueFlags[name] || !strings.HasPrefix(args[i+1], "-")):
			i++
			value = args[i]
		}
		cl.flags[name] = append(cl.flags[name], value)
	}
	if component == componentEtcd {
		cl.env = map[string]corev1.EnvVar{}
		for _, ev := range c.Env {
			cl.env[ev.Name] = ev // the last definition of a name wins
		}
		cl.envFrom = len(c.EnvFrom) > 0
	}
	return cl
}

// setting is the value of one flag as the component sees it.
type setting struct {
	name    string // "--flag", or "env ETCD_FLAG"
	value   string
	set     bool
	fromEnv bool // an environment variable: its value is never shown
	unknown bool // set (or maybe set) from a source the scan cannot read
}

// String shows the setting for a message: the flag and its value, or the
// environment variable's name only.
func (s setting) String() string {
	if s.fromEnv {
		return s.name
	}
	return s.name + "=" + s.value
}

// get returns the last value of a flag; for etcd, the ETCD_* environment
// variable when the flag is not on the command line.
func (cl *commandLine) get(name string) setting {
	if vs, ok := cl.flags[name]; ok {
		return setting{name: "--" + name, value: vs[len(vs)-1], set: true}
	}
	if cl.component != componentEtcd {
		return setting{name: "--" + name}
	}
	envName := "ETCD_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
	ev, ok := cl.env[envName]
	switch {
	case ok && ev.ValueFrom != nil:
		return setting{name: "env " + envName, set: true, fromEnv: true, unknown: true}
	case ok:
		return setting{name: "env " + envName, value: ev.Value, set: true, fromEnv: true}
	case cl.envFrom:
		return setting{name: "env " + envName, fromEnv: true, unknown: true}
	}
	return setting{name: "--" + name}
}

// nonEmpty reports whether a flag is set to a non-empty value (a path, in practice).
func (cl *commandLine) nonEmpty(name string) (setting, bool) {
	s := cl.get(name)
	return s, s.set && (s.unknown || strings.TrimSpace(s.value) != "")
}

// list returns a pflag string-slice flag: every occurrence's comma-separated
// values, accumulated; set is false when the flag is absent.
func (cl *commandLine) list(name string) (values []string, set bool) {
	vs, ok := cl.flags[name]
	if !ok {
		return nil, false
	}
	for _, v := range vs {
		for _, item := range strings.Split(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				values = append(values, item)
			}
		}
	}
	return values, true
}

// boolIs reports whether a boolean setting is want: an unset flag has its
// default, and a value the component would not parse is not want.
func boolIs(s setting, def, want bool) bool {
	if !s.set {
		return def == want
	}
	b, err := strconv.ParseBool(s.value)
	return err == nil && b == want
}

// boolProblem describes a boolean setting that is not want, or "".
func boolProblem(s setting, def, want bool) string {
	switch {
	case boolIs(s, def, want):
		return ""
	case !s.set:
		return fmt.Sprintf("%s is not set (defaults to %t)", s.name, def)
	case s.fromEnv:
		return fmt.Sprintf("%s is not %q", s.name, strconv.FormatBool(want))
	}
	return s.String()
}

// unknownSetting is the not-judged reason for a setting the scan cannot read.
func unknownSetting(component string, s setting) string {
	return fmt.Sprintf("%s's %s comes from an env valueFrom or envFrom source the scan cannot read", component, s.name)
}

// plaintextURLs returns the http:// URLs of a comma-separated list, without
// any user information.
func plaintextURLs(list string) []string {
	var out []string
	for _, item := range strings.Split(list, ",") {
		u, err := url.Parse(strings.TrimSpace(item))
		if err != nil || u.Scheme != "http" {
			continue
		}
		out = append(out, "http://"+u.Host)
	}
	return out
}

// componentList names components for a message: "a", "a or b", "a, b or c".
func componentList(components []string) string {
	if len(components) == 1 {
		return components[0]
	}
	return strings.Join(components[:len(components)-1], ", ") + " or " + components[len(components)-1]
}

// controlPlaneJudge judges one component's command line: the problems found,
// or why the container cannot be judged.
type controlPlaneJudge func(c *controlPlaneContainer) (problems []string, notJudged string)

// runControlPlane judges every visible pod running one of the components,
// with one finding per pod. With no such pod it judges nothing: the check is
// not evaluated.
func runControlPlane(s *inventory.Snapshot, e *Emitter, components []string, judge controlPlaneJudge) {
	visible, judged := false, 0
	var notJudged []string
	for _, p := range controlPlanePods(s) {
		var msgs []string
		podJudged := false
		for i := range p.containers {
			c := &p.containers[i]
			if !slices.Contains(components, c.component) {
				continue
			}
			visible = true
			if c.cmd == nil {
				notJudged = append(notJudged, fmt.Sprintf("%s: the %s command line is not visible in container %q", p.name, c.component, c.name))
				continue
			}
			problems, reason := judge(c)
			if reason != "" {
				notJudged = append(notJudged, p.name+": "+reason)
				continue
			}
			podJudged = true
			if len(problems) > 0 {
				msgs = append(msgs, fmt.Sprintf("container %q (%s): %s", c.name, c.path, strings.Join(problems, "; ")))
			}
		}
		if !podJudged {
			continue
		}
		judged++
		e.Judge(p.ref)
		if len(msgs) > 0 {
			e.Fail(p.ref, "%s", strings.Join(msgs, "; "))
		}
	}
	switch {
	case !visible:
		e.NotEvaluated(fmt.Sprintf("no %s static pod visible in kube-system (a managed control plane?)", componentList(components)))
	case judged == 0:
		e.NotEvaluated("no control-plane pod could be judged: " + strings.Join(notJudged, "; "))
	}
}

// authorizationModes returns the API server's authorizer chain from
// --authorization-mode (AlwaysAllow when it is absent or empty: explicit is
// false), or ok=false when --authorization-config configures the chain in a
// file.
func authorizationModes(cl *commandLine) (modes []string, explicit, ok bool) {
	if _, set := cl.nonEmpty("authorization-config"); set {
		return nil, false, false
	}
	if modes, _ = cl.list("authorization-mode"); len(modes) == 0 {
		return []string{"AlwaysAllow"}, false, true
	}
	return modes, true, true
}

const authorizationConfigReason = "--authorization-config configures the authorizers in a file the scan cannot read"

func controlPlaneChecks() []*Check {
	pods := []inventory.Kind{inventory.KindPod}
	apiServer := []string{componentAPIServer}
	return []*Check{{
		ID:       "controlplane-anonymous-auth",
		Title:    "API server accepts anonymous requests",
		Severity: SeverityMedium,
		Category: CategoryControlPlane,
		Description: "With --anonymous-auth true (the default), requests that no authenticator accepts are served as the user " +
			"system:anonymous in the group system:unauthenticated, and any permission granted to those subjects is open to the network " +
			"(CIS 1.2.1; NSA/CISA: disable anonymous access). The API server turns anonymous access off itself when AlwaysAllow " +
			"authorization is on: that case is reported by controlplane-authorization-always-allow. When --authentication-config is " +
			"set and --anonymous-auth is not, the file decides and the pod is not judged.",
		Remediation: "Set --anonymous-auth=false in the kube-apiserver static pod manifest (/etc/kubernetes/manifests/kube-apiserver.yaml " +
			"with kubeadm), or set anonymous.enabled: false in the AuthenticationConfiguration file (with conditions for the health " +
			"endpoints your load balancer probes, if any).",
		Evidence: "The kube-apiserver container and its --anonymous-auth flag: its value, or that it is not set.",
		Needs:    pods,
		Run: func(s *inventory.Snapshot, _ *Config, e *Emitter) {
			runControlPlane(s, e, apiServer, func(c *controlPlaneContainer) ([]string, string) {
				if modes, _, ok := authorizationModes(c.cmd); ok && slices.Contains(modes, "AlwaysAllow") {
					return nil, "" // the API server resets anonymous-auth to false with AlwaysAllow
				}
				anon := c.cmd.get("anonymous-auth")
				if !anon.set {
					if _, ok := c.cmd.nonEmpty("authentication-config"); ok {
						return nil, "--authentication-config may configure anonymous access in a file the scan cannot read, and --anonymous-auth is not set"
					}
				}
				if p := boolProblem(anon, true, false); p != "" {
					return []string{p}, ""
				}
				return nil, ""
			})
		},
	}, {
		ID:       "controlplane-authorization-always-allow",
		Title:    "API server authorizes every request (AlwaysAllow)",
		Severity: SeverityCritical,
		Category: CategoryControlPlane,
		Description: "The AlwaysAllow authorizer allows every request that reaches it, so every authenticated user and service " +
			"account can do anything, including reading every Secret and running privileged pods on any node. It is the API " +
			"server's default when neither --authorization-mode nor --authorization-config is set (CIS 1.2.6). Pods whose " +
			"authorizers are configured by --authorization-config are not judged.",
		Remediation: "Set --authorization-mode=Node,RBAC in the kube-apiserver static pod manifest, without AlwaysAllow.",
		Evidence:    "The kube-apiserver container and its --authorization-mode list, or that the flag is not set.",
		Needs:       pods,
		Run: func(s *inventory.Snapshot, _ *Config, e *Emitter) {
			runControlPlane(s, e, apiServer, func(c *controlPlaneContainer) ([]string, string) {
				modes, explicit, ok := authorizationModes(c.cmd)
				switch {
				case !ok:
					return nil, authorizationConfigReason
				case !explicit:
					return []string{"--authorization-mode is not set (defaults to AlwaysAllow)"}, ""
				case slices.Contains(modes, "AlwaysAllow"):
					return []string{"--authorization-mode=" + strings.Join(modes, ",") + " includes AlwaysAllow"}, ""
				}
				return nil, ""
			})
		},
	}, {
		ID:       "controlplane-authorization-no-rbac",
		Title:    "API server authorization does not include RBAC",
		Severity: SeverityMedium,
		Category: CategoryControlPlane,
		Description: "Without the RBAC authorizer, Roles and RoleBindings grant nothing, and access is decided by a legacy ABAC " +
			"policy file, a webhook, or not at all (CIS 1.2.8). Pods whose authorizers are configured by --authorization-config " +
			"are not judged.",
		Remediation: "Include RBAC in --authorization-mode (for example --authorization-mode=Node,RBAC) in the kube-apiserver static pod manifest.",
		Evidence:    "The kube-apiserver container and its --authorization-mode list, or that the flag is not set.",
		Needs:       pods,
		Run: func(s *inventory.Snapshot, _ *Config, e *Emitter) {
			runControlPlane(s, e, apiServer, func(c *controlPlaneContainer) ([]string, string) {
				modes, explicit, ok := authorizationModes(c.cmd)
				switch {
				case !ok:
					return nil, authorizationConfigReason
				case !explicit:
					return []string{"--authorization-mode is not set (defaults to AlwaysAllow, without RBAC)"}, ""
				case !slices.Contains(modes, "RBAC"):
					return []string{"--authorization-mode=" + strings.Join(modes, ",") + " does not include RBAC"}, ""
				}
				return nil, ""
			})
		},
	}, {
		ID:       "controlplane-audit-logging",
		Title:    "API server audit logging not configured",
		Severity: SeverityMedium,
		Category: CategoryControlPlane,
		Description: "The API server records audit events only with an audit policy (--audit-policy-file) and a backend: a log " +
			"file (--audit-log-path) or a webhook (--audit-webhook-config-file). Without them there is no record of who read or " +
			"changed what (CIS 1.2.16, 3.2.1; NSA/CISA: enable audit logging). Whether the policy covers the key security " +
			"concerns (CIS 3.2.2) cannot be seen from the API.",
		Remediation: "Write an audit policy, mount it into the kube-apiserver static pod and set --audit-policy-file to it, and set " +
			"--audit-log-path (with --audit-log-maxage, --audit-log-maxbackup and --audit-log-maxsize) or --audit-webhook-config-file.",
		Evidence: "The kube-apiserver container and which of --audit-policy-file and the audit backends (--audit-log-path, --audit-webhook-config-file) are not set.",
		Needs:    pods,
		Run: func(s *inventory.Snapshot, _ *Config, e *Emitter) {
			runControlPlane(s, e, apiServer, func(c *controlPlaneContainer) ([]string, string) {
				var problems []string
				if _, ok := c.cmd.nonEmpty("audit-policy-file"); !ok {
					problems = append(problems, "--audit-policy-file is not set (no audit events are recorded)")
				}
				_, logs := c.cmd.nonEmpty("audit-log-path")
				_, webhook := c.cmd.nonEmpty("audit-webhook-config-file")
				if !logs && !webhook {
					problems = append(problems, "neither --audit-log-path nor --audit-webhook-config-file is set (no audit backend)")
				}
				return problems, ""
			})
		},
	}, {
		ID:       "controlplane-encryption-at-rest",
		Title:    "Secrets not encrypted at rest in etcd",
		Severity: SeverityHigh,
		Category: CategoryControlPlane,
		Description: "Without --encryption-provider-config the API server stores Secrets in etcd in plain text: anyone who reads " +
			"etcd, its data directory or a backup reads every Secret (CIS 1.2.27; NSA/CISA: encrypt Secrets at rest). The file " +
			"itself cannot be read from the API: a configuration whose first provider is identity still stores plain text " +
			"(CIS 1.2.28 stays manual).",
		Remediation: "Write an EncryptionConfiguration for secrets with a kms (v2), aescbc or secretbox provider first, mount it " +
			"into the kube-apiserver static pod, set --encryption-provider-config to it, and rewrite existing Secrets " +
			"(kubectl get secrets -A -o json | kubectl replace -f -).",
		Evidence: "The kube-apiserver container and that --encryption-provider-config is not set.",
		Needs:    pods,
		Run: func(s *inventory.Snapshot, _ *Config, e *Emitter) {
			runControlPlane(s, e, apiServer, func(c *controlPlaneContainer) ([]string, string) {
				if _, ok := c.cmd.nonEmpty("encryption-provider-config"); !ok {
					return []string{"--encryption-provider-config is not set (Secrets are stored unencrypted in etcd)"}, ""
				}
				return nil, ""
			})
		},
	}, {
		ID:       "controlplane-profiling",
		Title:    "Control-plane profiling endpoints enabled",
		Severity: SeverityLow,
		Category: CategoryControlPlane,
		Description: "kube-apiserver, kube-controller-manager and kube-scheduler serve /debug/pprof unless --profiling=false " +
			"(the default is true). Profiles reveal details of the program and its load, and can be used to slow the " +
			"component down (CIS 1.2.15, 1.3.2, 1.4.1). A kube-scheduler started with --config takes enableProfiling from that " +
			"file and ignores the flag: it is not judged.",
		Remediation: "Set --profiling=false in the kube-apiserver, kube-controller-manager and kube-scheduler static pod manifests " +
			"(enableProfiling: false in a KubeSchedulerConfiguration file).",
		Evidence: "Each component's container and its --profiling flag: its value, or that it is not set.",
		Needs:    pods,
		Run: func(s *inventory.Snapshot, _ *Config, e *Emitter) {
			components := []string{componentAPIServer, componentControllerManager, componentScheduler}
			runControlPlane(s, e, components, func(c *controlPlaneContainer) ([]string, string) {
				if c.component == componentScheduler {
					if _, ok := c.cmd.nonEmpty("config"); ok {
						return nil, "kube-scheduler --config sets enableProfiling in a file the scan cannot read"
					}
				}
				if p := boolProblem(c.cmd.get("profiling"), true, false); p != "" {
					return []string{p}, ""
				}
				return nil, ""
			})
		},
	}, {
		ID:       "controlplane-etcd-client-tls",
		Title:    "etcd client connections without TLS or client certificates",
		Severity: SeverityHigh,
		Category: CategoryControlPlane,
		Description: "etcd holds every object of the cluster, Secrets included. It must serve clients over TLS (--cert-file, " +
			"--key-file, only https:// in --listen-client-urls, whose default is http://localhost:2379) and accept only clients " +
			"with a certificate from its CA (--client-cert-auth=true); otherwise anything that reaches the port, a hostNetwork " +
			"pod on the node included, reads and writes the whole cluster. The API server must in turn connect with a client " +
			"certificate and verify etcd's (--etcd-certfile, --etcd-keyfile, --etcd-cafile, https:// --etcd-servers) " +
			"(CIS 1.2.23, 1.2.26, 2.1, 2.2, 2.3; NSA/CISA: TLS between control-plane components). etcd pods started with " +
			"--config-file are not judged.",
		Remediation: "In the etcd static pod set --cert-file, --key-file, --trusted-ca-file, --client-cert-auth=true and https:// " +
			"--listen-client-urls (and no --auto-tls); in the kube-apiserver static pod set --etcd-certfile, --etcd-keyfile, " +
			"--etcd-cafile and https:// --etcd-servers.",
		Evidence: "The etcd or kube-apiserver container and each flag (or ETCD_* environment variable, by name only) that is not set, " +
			"has an unsafe value, or names a plaintext http:// URL.",
		Needs: pods,
		Run: func(s *inventory.Snapshot, _ *Config, e *Emitter) {
			runControlPlane(s, e, []string{componentAPIServer, componentEtcd}, func(c *controlPlaneContainer) ([]string, string) {
				if c.component == componentAPIServer {
					return apiServerEtcdProblems(c.cmd), ""
				}
				return etcdTLSProblems(c.cmd, "", "client-cert-auth", "listen-client-urls", "http://localhost:2379")
			})
		},
	}, {
		ID:       "controlplane-etcd-peer-tls",
		Title:    "etcd peer connections without TLS or client certificates",
		Severity: SeverityMedium,
		Category: CategoryControlPlane,
		Description: "etcd members replicate every object, Secrets included, over the peer port. It must serve peers over TLS " +
			"(--peer-cert-file, --peer-key-file, only https:// in --listen-peer-urls, whose default is http://localhost:2380) " +
			"and accept only peers with a certificate from its CA (--peer-client-cert-auth=true) (CIS 2.4, 2.5, 2.6; NSA/CISA: " +
			"TLS between control-plane components). A single-member etcd is judged too: its peer port still listens, and a " +
			"member added later inherits the setting. etcd pods started with --config-file are not judged.",
		Remediation: "In the etcd static pod set --peer-cert-file, --peer-key-file, --peer-trusted-ca-file, " +
			"--peer-client-cert-auth=true and https:// --listen-peer-urls (and no --peer-auto-tls).",
		Evidence: "The etcd container and each peer flag (or ETCD_* environment variable, by name only) that is not set, has an " +
			"unsafe value, or names a plaintext http:// URL.",
		Needs: pods,
		Run: func(s *inventory.Snapshot, _ *Config, e *Emitter) {
			runControlPlane(s, e, []string{componentEtcd}, func(c *controlPlaneContainer) ([]string, string) {
				return etcdTLSProblems(c.cmd, "peer-", "peer-client-cert-auth", "listen-peer-urls", "http://localhost:2380")
			})
		},
	}, {
		ID:       "controlplane-node-restriction",
		Title:    "NodeRestriction admission plugin not enabled",
		Severity: SeverityMedium,
		Category: CategoryControlPlane,
		Description: "The NodeRestriction admission plugin (off by default) limits each kubelet to its own Node object and the " +
			"pods bound to it. Without it, a compromised node's credentials can label or modify other Nodes and their pods, " +
			"for example to attract sensitive workloads (CIS 1.2.14).",
		Remediation: "Add NodeRestriction to --enable-admission-plugins (and keep it out of --disable-admission-plugins) in the " +
			"kube-apiserver static pod manifest, with --authorization-mode including Node.",
		Evidence: "The kube-apiserver container and its --enable-admission-plugins (or --disable-admission-plugins) list.",
		Needs:    pods,
		Run: func(s *inventory.Snapshot, _ *Config, e *Emitter) {
			runControlPlane(s, e, apiServer, func(c *controlPlaneContainer) ([]string, string) {
				const plugin = "NodeRestriction"
				if disabled, _ := c.cmd.list("disable-admission-plugins"); slices.Contains(disabled, plugin) {
					return []string{"--disable-admission-plugins=" + strings.Join(disabled, ",") + " includes " + plugin}, ""
				}
				// The deprecated --admission-control lists every plugin to run;
				// the API server refuses it together with the newer flags.
				flag := "admission-control"
				enabled, set := c.cmd.list(flag)
				if !set {
					flag = "enable-admission-plugins"
					enabled, set = c.cmd.list(flag)
				}
				switch {
				case slices.Contains(enabled, plugin):
					return nil, ""
				case !set:
					return []string{"--enable-admission-plugins is not set (" + plugin + " is off by default)"}, ""
				}
				return []string{"--" + flag + "=" + strings.Join(enabled, ",") + " does not include " + plugin}, ""
			})
		},
	}}
}

// apiServerEtcdProblems judges how the API server connects to etcd.
func apiServerEtcdProblems(cl *commandLine) []string {
	var problems []string
	for _, name := range []string{"etcd-certfile", "etcd-keyfile", "etcd-cafile"} {
		if s, ok := cl.nonEmpty(name); !ok {
			problems = append(problems, s.name+" is not set")
		}
	}
	if servers := cl.get("etcd-servers"); servers.set {
		if urls := plaintextURLs(servers.value); len(urls) > 0 {
			problems = append(problems, "--etcd-servers includes "+strings.Join(urls, ", ")+" (no TLS)")
		}
	}
	return problems
}

// etcdTLSProblems judges one of etcd's listeners: prefix is "" for clients
// and "peer-" for peers.
func etcdTLSProblems(cl *commandLine, prefix, certAuthFlag, listenFlag, listenDefault string) ([]string, string) {
	if s, ok := cl.nonEmpty("config-file"); ok {
		if s.unknown {
			return nil, unknownSetting(componentEtcd, s)
		}
		return nil, "etcd --config-file sets the TLS settings in a file the scan cannot read"
	}
	var problems []string
	certSet := false
	for _, name := range []string{prefix + "cert-file", prefix + "key-file"} {
		s, ok := cl.nonEmpty(name)
		if s.unknown && !ok {
			return nil, unknownSetting(componentEtcd, s)
		}
		if !ok {
			problems = append(problems, s.name+" is not set")
		} else if name == prefix+"cert-file" {
			certSet = true
		}
	}
	if !certSet {
		// Without certificates etcd generates self-signed ones with auto TLS.
		if auto := cl.get(prefix + "auto-tls"); auto.unknown {
			return nil, unknownSetting(componentEtcd, auto)
		} else if boolIs(auto, false, true) {
			problems = append(problems, auto.String()+" (self-signed certificates)")
		}
	}
	auth := cl.get(certAuthFlag)
	if auth.unknown {
		return nil, unknownSetting(componentEtcd, auth)
	}
	if p := boolProblem(auth, false, true); p != "" {
		problems = append(problems, p)
	}
	listen := cl.get(listenFlag)
	switch {
	case listen.unknown:
		return nil, unknownSetting(componentEtcd, listen)
	case !listen.set:
		problems = append(problems, fmt.Sprintf("--%s is not set (defaults to %s, no TLS)", listenFlag, listenDefault))
	default:
		if urls := plaintextURLs(listen.value); len(urls) > 0 {
			where := listen.name + " includes " + strings.Join(urls, ", ")
			if listen.fromEnv {
				where = listen.name + " includes an http:// URL"
			}
			problems = append(problems, where+" (no TLS)")
		}
	}
	return problems, ""
}
