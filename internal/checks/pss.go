package checks

import (
	"fmt"
	"strings"
	"unicode"

	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"

	"github.com/kubeposture/kubeposture/internal/inventory"
)

// pssMeta is what kubeposture adds to an upstream Pod Security Standards check.
type pssMeta struct {
	title    string
	severity Severity
	remedy   string
}

// pssCatalogue covers every check in policy.DefaultChecks(); a test fails if
// upstream adds one this table does not name.
var pssCatalogue = map[policy.CheckID]pssMeta{
	"privileged":                 {"Privileged containers", SeverityCritical, "Remove securityContext.privileged=true from every container."},
	"windowsHostProcess":         {"Windows HostProcess containers", SeverityCritical, "Remove securityContext.windowsOptions.hostProcess=true from the pod and its containers."},
	"hostNamespaces":             {"Host namespaces shared", SeverityHigh, "Remove hostNetwork, hostPID and hostIPC from the pod spec."},
	"hostPathVolumes":            {"HostPath volumes", SeverityHigh, "Replace hostPath volumes with persistent volumes, configMaps, secrets or emptyDir."},
	"capabilities_baseline":      {"Non-default capabilities added", SeverityHigh, "Remove capabilities beyond the runtime defaults from securityContext.capabilities.add."},
	"hostPorts":                  {"Host ports", SeverityMedium, "Remove hostPort from container ports; expose the workload through a Service."},
	"hostProbesAndHostLifecycle": {"Probes or lifecycle hooks targeting another host", SeverityMedium, "Remove the host field from probes and lifecycle handlers."},
	"appArmorProfile":            {"AppArmor profile overridden to unconfined", SeverityMedium, "Use the RuntimeDefault or a Localhost AppArmor profile."},
	"seLinuxOptions":             {"Custom SELinux options", SeverityMedium, "Remove seLinuxOptions type, user and role overrides outside the allowed types."},
	"procMount":                  {"Unmasked /proc mount", SeverityMedium, "Remove securityContext.procMount or set it to Default."},
	"seccompProfile_baseline":    {"Seccomp profile set to Unconfined", SeverityMedium, "Set seccompProfile.type to RuntimeDefault or Localhost."},
	"sysctls":                    {"Unsafe sysctls", SeverityMedium, "Remove sysctls outside the safe set from securityContext.sysctls."},
	"allowPrivilegeEscalation":   {"Privilege escalation allowed", SeverityMedium, "Set securityContext.allowPrivilegeEscalation=false on every container."},
	"capabilities_restricted":    {"Capabilities not dropped", SeverityMedium, "Set securityContext.capabilities.drop=[\"ALL\"] on every container; add back only NET_BIND_SERVICE."},
	"runAsNonRoot":               {"Containers may run as root", SeverityMedium, "Set securityContext.runAsNonRoot=true on the pod or every container."},
	"runAsUser":                  {"Containers run as UID 0", SeverityMedium, "Set securityContext.runAsUser to a non-zero UID, or leave it unset with runAsNonRoot=true."},
	"procMount_restricted":       {"Unmasked /proc mount (restricted)", SeverityMedium, "Remove securityContext.procMount or set it to Default."},
	"restrictedVolumes":          {"Volume types outside the restricted set", SeverityLow, "Use only configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected, secret and image volumes."},
	"seccompProfile_restricted":  {"Seccomp profile not set", SeverityLow, "Set securityContext.seccompProfile.type to RuntimeDefault (or Localhost) on the pod."},
}

// PSSCheckID is kubeposture's ID for an upstream Pod Security Standards check,
// such as pss-host-namespaces for hostNamespaces.
func PSSCheckID(id policy.CheckID) string {
	var b strings.Builder
	b.WriteString("pss-")
	prev := rune(0)
	for _, r := range string(id) {
		switch {
		case r == '_':
			b.WriteByte('-')
		case unicode.IsUpper(r):
			if prev != 0 && prev != '_' {
				b.WriteByte('-')
			}
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteRune(r)
		}
		prev = r
	}
	return b.String()
}

// pssChecks wraps every upstream check. Each is judged at the check's own
// level, so that each finding keeps its check ID and upstream's reason
// strings; the version a scan asks for is resolved as the API server's
// PodSecurity admission resolves it (see pssCheckAt).
func pssChecks() []*Check {
	var out []*Check
	for c, pc := range pssTable.checks {
		meta, ok := pssCatalogue[pc.ID]
		if !ok {
			continue // TestPSSCatalogueCoversUpstream fails on this
		}
		if _, err := policy.NewEvaluator([]policy.Check{pc}, nil); err != nil {
			panic(fmt.Sprintf("pod-security-admission check %s: %v", pc.ID, err))
		}
		out = append(out, &Check{
			ID:       PSSCheckID(pc.ID),
			Title:    meta.title,
			Severity: meta.severity,
			Category: CategoryWorkload,
			Description: fmt.Sprintf("The Pod Security Standards %s check %q, as the API server's PodSecurity admission evaluates it. "+
				"Judged on the pod template the user wrote, at the scan's podSecurityVersion.", pc.Level, pc.ID),
			Remediation: meta.remedy,
			Needs:       inventory.WorkloadKinds,
			PerTemplate: func(_ *inventory.Snapshot, cfg *Config, e *Emitter) func(w *inventory.Workload) {
				slot := pssTable.slotAt(c, cfg.PodSecurityVersion)
				if slot < 0 {
					return nil // the check does not exist at this version
				}
				return func(w *inventory.Workload) {
					e.Judge(w.Ref)
					// The namespace checks may have evaluated it on w already.
					switch r := e.scan.podSecurity(w, slot); {
					case r.Allowed:
					case r.ForbiddenDetail != "":
						e.fail(w.Ref, r.ForbiddenReason+" ("+r.ForbiddenDetail+")")
					default:
						e.fail(w.Ref, r.ForbiddenReason)
					}
				}
			},
		})
	}
	return out
}

// pssCheckAt returns the version of pc that judges pods at Pod Security
// version v, as policy.NewEvaluator([]policy.Check{pc}, nil) resolves it
// for pc's own level: the newest whose minimum version is not after v
// (latest, or a version after every one, gets the newest); nil when v
// predates the check.
func pssCheckAt(pc policy.Check, v api.Version) policy.CheckPodFn {
	if i := pssVersionAt(pc, v); i >= 0 {
		return pc.Versions[i].CheckPod
	}
	return nil
}

// pssVersionAt is pssCheckAt as an index into pc.Versions, or -1.
func pssVersionAt(pc policy.Check, v api.Version) int {
	i := -1
	for j, vc := range pc.Versions {
		if v.Older(vc.MinimumVersion) {
			break
		}
		i = j
	}
	return i
}
