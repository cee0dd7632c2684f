package checks

import (
	"fmt"
	"sort"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"

	"github.com/kubeposture/kubeposture/internal/inventory"
)

// ClusterRef is the object of findings about the cluster as a whole, such as
// admission-no-policy-engine: no API object stands for the cluster.
var ClusterRef = inventory.ObjectRef{Kind: "Cluster", Name: "cluster"}

// systemNamespaces belong to the control plane. They run the components that
// legitimately need privileges (kube-proxy, CNI and CSI node agents) and are
// usually exempt from PodSecurity admission in the API server's
// AdmissionConfiguration; they are not judged by the namespace hygiene
// checks (user workloads there are a workload check's business).
var systemNamespaces = map[string]bool{"kube-system": true, "kube-public": true, "kube-node-lease": true}

// psaDefaults is the API server's built-in PodSecurity default: a namespace
// without labels is privileged. A cluster may configure other defaults in
// its AdmissionConfiguration, which the API does not show.
var psaDefaults = api.Policy{
	Enforce: api.LevelVersion{Level: api.LevelPrivileged, Version: api.LatestVersion()},
	Audit:   api.LevelVersion{Level: api.LevelPrivileged, Version: api.LatestVersion()},
	Warn:    api.LevelVersion{Level: api.LevelPrivileged, Version: api.LatestVersion()},
}

// enforcePolicy returns the level and version PodSecurity admission enforces in
// a namespace, read from its labels exactly as admission reads them (an
// invalid level label enforces restricted), and whether the enforce level
// label is invalid.
func enforcePolicy(ns *corev1.Namespace) (lv api.LevelVersion, invalidLevel bool) {
	p, errs := api.PolicyToEvaluate(ns.Labels, psaDefaults)
	for _, err := range errs {
		if strings.HasSuffix(err.Field, "["+api.EnforceLevelLabel+"]") {
			invalidLevel = true
		}
	}
	return p.Enforce, invalidLevel
}

func enforceLabelPath() string { return fmt.Sprintf("metadata.labels[%q]", api.EnforceLevelLabel) }

// namespacesByName indexes the namespaces read.
func namespacesByName(s *inventory.Snapshot) map[string]*corev1.Namespace {
	out := make(map[string]*corev1.Namespace, len(s.Namespaces))
	for i := range s.Namespaces {
		out[s.Namespaces[i].Name] = &s.Namespaces[i]
	}
	return out
}

func namespaceChecks() []*Check {
	// The namespace checks judge pod templates as upstream's evaluator of
	// every default check does (pssTable.levelSlots): check that it accepts them.
	if _, err := policy.NewEvaluator(pssTable.checks, nil); err != nil {
		panic(fmt.Sprintf("pod-security-admission default checks: %v", err))
	}
	return []*Check{
		namespaceNoPSSEnforce(),
		namespacePSSViolations(),
		namespacePSSCouldBeStricter(),
		namespaceMissingLimitRange(),
		namespaceMissingResourceQuota(),
		admissionNoPolicyEngine(),
	}
}

func namespaceNoPSSEnforce() *Check {
	return &Check{
		ID:       "namespace-no-pss-enforce",
		Title:    "Namespace without an enforced Pod Security Standard",
		Severity: SeverityMedium,
		Category: CategoryAdmission,
		Description: "CIS 5.2.1 asks for an active policy control mechanism, and Pod Security admission is the built-in one: " +
			"it enforces the level named by the namespace's pod-security.kubernetes.io/enforce label. Without the label the " +
			"API server's default applies, which is privileged (nothing enforced) unless its AdmissionConfiguration sets " +
			"another default, which the API does not show; an explicit privileged enforces nothing; an invalid value makes " +
			"admission fall back to restricted:latest and record an error, which is rarely what was meant. Judged: every " +
			"namespace that runs workloads, except kube-system, kube-public and kube-node-lease, whose components " +
			"legitimately need privileges and which clusters exempt from Pod Security admission.",
		Remediation: "Label the namespace with pod-security.kubernetes.io/enforce=baseline or restricted (and " +
			"pod-security.kubernetes.io/enforce-version pinned to your cluster's minor version), after checking with " +
			"the warn and audit labels that its workloads pass.",
		Evidence: "The label metadata.labels[\"pod-security.kubernetes.io/enforce\"]: absent, privileged, or its invalid value, and the number of workloads in the namespace.",
		Needs:    append([]inventory.Kind{inventory.KindNamespace}, inventory.WorkloadKinds...),
		Run: func(s *inventory.Snapshot, _ *Config, e *Emitter) {
			namespaces := namespacesByName(s)
			order, workloads := e.scan.workloadNamespaces(s)
			for _, name := range order {
				ns := namespaces[name]
				if ns == nil || systemNamespaces[name] {
					continue // labels unknown, or a control-plane namespace
				}
				ref := inventory.Ref("v1", "Namespace", &ns.ObjectMeta)
				e.Judge(ref)
				value, set := ns.Labels[api.EnforceLevelLabel]
				lv, invalid := enforcePolicy(ns)
				switch {
				case !set:
					e.Fail(ref, "%s is not set: the cluster default (privileged unless configured otherwise) applies to its %d workload(s)", enforceLabelPath(), workloads[name])
				case invalid:
					e.Fail(ref, "%s is %q, not privileged, baseline or restricted: admission falls back to restricted:latest for its %d workload(s)", enforceLabelPath(), value, workloads[name])
				case lv.Level == api.LevelPrivileged:
					e.Fail(ref, "%s is %q: no Pod Security Standard is enforced on its %d workload(s)", enforceLabelPath(), value, workloads[name])
				}
			}
		},
	}
}

func namespacePSSViolations() *Check {
	return &Check{
		ID:       "namespace-pss-violations",
		Title:    "Workload violating the Pod Security Standard its namespace enforces",
		Severity: SeverityHigh,
		Category: CategoryAdmission,
		Description: "Pod Security admission judges pods when they are created, not the workloads that create them (it only " +
			"warns on those), nor pods that were running before the namespace's enforce label was set or tightened. A workload " +
			"whose pod template violates the enforced level shows the level is not what protects the namespace: its pods " +
			"either predate the label and keep running, or are rejected and the workload is broken. Each workload is " +
			"evaluated with the upstream PodSecurity evaluator at the namespace's enforce level and enforce-version, as " +
			"admission reads them (an invalid level label enforces restricted:latest). Namespaces enforcing privileged are not judged.",
		Remediation: "Change the workload's pod template so it meets the enforced level (the message lists what PodSecurity " +
			"admission would reject), then restart it so its pods are re-admitted; or, if the workload genuinely needs more, " +
			"move it to a namespace whose enforced level is meant for it.",
		Evidence: "The enforced level:version and PodSecurity admission's own forbidden reasons and details for the pod template.",
		Needs:    append([]inventory.Kind{inventory.KindNamespace}, inventory.WorkloadKinds...),
		// Judged one template at a time, so that the upstream checks
		// evaluated on a template are evaluated once for every check.
		PerTemplate: func(s *inventory.Snapshot, _ *Config, e *Emitter) func(w *inventory.Workload) {
			namespaces := namespacesByName(s)
			// enforced is what a namespace enforces: its level and version
			// and the check versions the evaluator runs at them. ns is nil
			// for a namespace not in the snapshot.
			type enforced struct {
				ns    *corev1.Namespace
				lv    api.LevelVersion
				slots []int
			}
			byName := map[string]*enforced{}
			var results []policy.CheckResult
			return func(w *inventory.Workload) {
				en := byName[w.Ref.Namespace]
				if en == nil {
					en = &enforced{ns: namespaces[w.Ref.Namespace]}
					if en.ns != nil {
						en.lv, _ = enforcePolicy(en.ns)
						en.slots = pssTable.levelSlots(en.lv)
					}
					byName[w.Ref.Namespace] = en
				}
				if en.ns == nil || en.lv.Level == api.LevelPrivileged {
					return
				}
				e.Judge(w.Ref)
				if e.scan.allowed(w, en.slots) {
					return
				}
				results = results[:0]
				for _, slot := range en.slots {
					results = append(results, *e.scan.podSecurity(w, slot))
				}
				res := policy.AggregateCheckResults(results)
				e.Fail(w.Ref, "violates PodSecurity %q enforced by namespace %q: %s", en.lv.String(), en.ns.Name, res.ForbiddenDetail())
			}
		},
	}
}

func namespacePSSCouldBeStricter() *Check {
	return &Check{
		ID:       "namespace-pss-could-be-stricter",
		Title:    "Namespace could enforce a stricter Pod Security Standard",
		Severity: SeverityLow,
		Category: CategoryAdmission,
		Description: "When every workload of a namespace already passes a stricter Pod Security Standard than the one its " +
			"pod-security.kubernetes.io/enforce label enforces (none, privileged or baseline), enforcing the stricter level " +
			"costs nothing today and stops the next workload from regressing (CIS 5.2, least privilege). Workloads are " +
			"evaluated with the upstream PodSecurity evaluator at the scan's podSecurityVersion. kube-system, kube-public " +
			"and kube-node-lease are not judged.",
		Remediation: "Set pod-security.kubernetes.io/enforce to the suggested level on the namespace (try it first with the " +
			"warn label, or kubectl label --dry-run=server, which lists the pods that would violate it).",
		Evidence: "The current enforce label (or its absence), the strictest level:version every workload passes, and the number of workloads.",
		Needs:    append([]inventory.Kind{inventory.KindNamespace}, inventory.WorkloadKinds...),
		// Judged one template at a time, so that the upstream checks
		// evaluated on a template are evaluated once for every check;
		// namespaces are reported once every template has been judged.
		PerTemplate: func(s *inventory.Snapshot, cfg *Config, e *Emitter) func(w *inventory.Workload) {
			namespaces := namespacesByName(s)
			restricted := pssTable.levelSlots(api.LevelVersion{Level: api.LevelRestricted, Version: cfg.PodSecurityVersion})
			baseline := pssTable.levelSlots(api.LevelVersion{Level: api.LevelBaseline, Version: cfg.PodSecurityVersion})
			// namespaceState is what the templates of a namespace add up
			// to; the levels are judged only in namespaces that are.
			type namespaceState struct {
				name    string
				ns      *corev1.Namespace
				current api.LevelVersion
				judged  bool
				// workloads is the number of templates; passRestricted and
				// passBaseline say whether all of them pass each level.
				workloads                    int
				passRestricted, passBaseline bool
			}
			byName := map[string]*namespaceState{}
			var order []*namespaceState
			e.atEnd(func() {
				for _, st := range order {
					if !st.judged {
						continue
					}
					ns := st.ns
					ref := inventory.Ref("v1", "Namespace", &ns.ObjectMeta)
					e.Judge(ref)
					var stricter api.Level
					switch {
					case st.current.Level == api.LevelRestricted:
						continue
					case st.passRestricted:
						stricter = api.LevelRestricted
					case st.current.Level == api.LevelPrivileged && st.passBaseline:
						stricter = api.LevelBaseline
					default:
						continue
					}
					now := "is not set"
					if v, ok := ns.Labels[api.EnforceLevelLabel]; ok {
						now = fmt.Sprintf("is %q", v)
					}
					e.Fail(ref, "%s %s but all %d workload(s) pass %q: set it to %s",
						enforceLabelPath(), now, st.workloads, api.LevelVersion{Level: stricter, Version: cfg.PodSecurityVersion}.String(), stricter)
				}
			})
			return func(w *inventory.Workload) {
				st := byName[w.Ref.Namespace]
				if st == nil {
					st = &namespaceState{name: w.Ref.Namespace, ns: namespaces[w.Ref.Namespace], passRestricted: true, passBaseline: true}
					st.judged = st.ns != nil && !systemNamespaces[st.name]
					if st.judged {
						st.current, _ = enforcePolicy(st.ns)
					}
					byName[st.name] = st
					order = append(order, st)
				}
				st.workloads++
				if !st.judged || st.current.Level == api.LevelRestricted {
					return
				}
				// Once a template fails a level, the namespace does; the
				// baseline level counts only for namespaces enforcing
				// privileged.
				if st.passRestricted && !e.scan.allowed(w, restricted) {
					st.passRestricted = false
				}
				if st.current.Level == api.LevelPrivileged && st.passBaseline && !e.scan.allowed(w, baseline) {
					st.passBaseline = false
				}
			}
		},
	}
}

// hasContainerLimits reports whether a LimitRange constrains containers or
// pods at all: an empty LimitRange, or one about PersistentVolumeClaims only,
// limits nothing a workload uses.
func hasContainerLimits(lr *corev1.LimitRange) bool {
	for _, item := range lr.Spec.Limits {
		if item.Type != corev1.LimitTypeContainer && item.Type != corev1.LimitTypePod {
			continue
		}
		if len(item.Max)+len(item.Min)+len(item.Default)+len(item.DefaultRequest)+len(item.MaxLimitRequestRatio) > 0 {
			return true
		}
	}
	return false
}

// quotaComputeResources are the ResourceQuota keys that bound what a
// namespace's pods can consume.
var quotaComputeResources = []corev1.ResourceName{
	corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourcePods,
	corev1.ResourceRequestsCPU, corev1.ResourceRequestsMemory, corev1.ResourceLimitsCPU, corev1.ResourceLimitsMemory,
	corev1.ResourceEphemeralStorage, corev1.ResourceRequestsEphemeralStorage, corev1.ResourceLimitsEphemeralStorage,
	"count/pods",
}

// hasComputeQuota reports whether a ResourceQuota bounds compute or the number
// of pods: an empty quota, or one counting ConfigMaps only, limits nothing.
func hasComputeQuota(q *corev1.ResourceQuota) bool {
	for _, r := range quotaComputeResources {
		if _, ok := q.Spec.Hard[r]; ok {
			return true
		}
	}
	return false
}

// namespaceResourceCheck judges namespaces running workloads for a kind of
// object that counts only when meaningful.
func namespaceResourceCheck(c *Check, names func(s *inventory.Snapshot) (meaningful map[string]bool, useless map[string][]string), missing, uselessWhy string) *Check {
	c.Run = func(s *inventory.Snapshot, _ *Config, e *Emitter) {
		meaningful, useless := names(s)
		order, workloads := e.scan.workloadNamespaces(s)
		nsRef := namespaceRef(s)
		for _, ns := range order {
			if systemNamespaces[ns] {
				continue
			}
			ref := nsRef(ns)
			e.Judge(ref)
			switch {
			case meaningful[ns]:
			case len(useless[ns]) > 0:
				sort.Strings(useless[ns])
				e.Fail(ref, "namespace %q runs %d workload(s); its %s %s", ns, workloads[ns], strings.Join(useless[ns], ", "), uselessWhy)
			default:
				e.Fail(ref, "namespace %q runs %d workload(s) and has no %s", ns, workloads[ns], missing)
			}
		}
	}
	return c
}

func namespaceMissingLimitRange() *Check {
	return namespaceResourceCheck(&Check{
		ID:       "namespace-missing-limitrange",
		Title:    "Namespace with workloads but no LimitRange",
		Severity: SeverityLow,
		Category: CategoryAdmission,
		Description: "The NSA/CISA guidance asks for a LimitRange in every namespace, so that containers that set no requests " +
			"or limits get defaults and none can claim a whole node, which limits the blast radius of a compromised or runaway " +
			"pod. A LimitRange counts only when it constrains containers or pods (spec.limits[] of type Container or Pod with " +
			"default, defaultRequest, min, max or maxLimitRequestRatio): an empty one, or one about PersistentVolumeClaims " +
			"only, does not. kube-system, kube-public and kube-node-lease are not judged.",
		Remediation: "Add a LimitRange with a spec.limits entry of type Container setting default and defaultRequest for cpu " +
			"and memory (and max where appropriate).",
		Evidence: "The namespace and its number of workloads; the names of LimitRanges present that constrain no container or pod.",
		Needs:    append([]inventory.Kind{inventory.KindLimitRange}, inventory.WorkloadKinds...),
	}, func(s *inventory.Snapshot) (map[string]bool, map[string][]string) {
		ok, useless := map[string]bool{}, map[string][]string{}
		for i := range s.LimitRanges {
			lr := &s.LimitRanges[i]
			if hasContainerLimits(lr) {
				ok[lr.Namespace] = true
			} else {
				useless[lr.Namespace] = append(useless[lr.Namespace], fmt.Sprintf("LimitRange %q", lr.Name))
			}
		}
		return ok, useless
	}, "LimitRange", "sets no Container or Pod limits (spec.limits)")
}

func namespaceMissingResourceQuota() *Check {
	return namespaceResourceCheck(&Check{
		ID:       "namespace-missing-resourcequota",
		Title:    "Namespace with workloads but no ResourceQuota",
		Severity: SeverityLow,
		Category: CategoryAdmission,
		Description: "The NSA/CISA guidance asks for a ResourceQuota in every namespace, so that one tenant or one compromised " +
			"workload cannot exhaust the cluster's CPU, memory or pod capacity. A ResourceQuota counts only when spec.hard " +
			"bounds compute or pods (cpu, memory, ephemeral-storage, their requests. and limits. forms, pods or count/pods): " +
			"an empty quota, or one counting other objects only, does not. kube-system, kube-public and kube-node-lease are not judged.",
		Remediation: "Add a ResourceQuota whose spec.hard sets requests.cpu, requests.memory, limits.cpu, limits.memory and " +
			"pods to what the namespace is meant to use.",
		Evidence: "The namespace and its number of workloads; the names of ResourceQuotas present that bound no compute resource.",
		Needs:    append([]inventory.Kind{inventory.KindResourceQuota}, inventory.WorkloadKinds...),
	}, func(s *inventory.Snapshot) (map[string]bool, map[string][]string) {
		ok, useless := map[string]bool{}, map[string][]string{}
		for i := range s.ResourceQuotas {
			q := &s.ResourceQuotas[i]
			if hasComputeQuota(q) {
				ok[q.Namespace] = true
			} else {
				useless[q.Namespace] = append(useless[q.Namespace], fmt.Sprintf("ResourceQuota %q", q.Name))
			}
		}
		return ok, useless
	}, "ResourceQuota", "bounds no compute resource or pod count (spec.hard)")
}

// policyEngine names the known policy engine a ValidatingWebhookConfiguration
// belongs to, or returns "". Engines are recognised by the names their
// controllers give the configuration, its webhooks, or the webhook Service.
// Kyverno's configurations that validate its own policies (not resources)
// do not count: they enforce nothing on workloads.
func policyEngine(c *admissionregistrationv1.ValidatingWebhookConfiguration) string {
	switch {
	case strings.HasPrefix(c.Name, "kyverno-resource-validating-webhook-cfg"):
		return "Kyverno"
	case c.Name == "gatekeeper-validating-webhook-configuration":
		return "Gatekeeper"
	}
	for _, w := range c.Webhooks {
		svc := ""
		if w.ClientConfig.Service != nil {
			svc = w.ClientConfig.Service.Name
		}
		switch {
		case strings.HasPrefix(w.Name, "validate.kyverno.svc"), strings.Contains(w.Name, ".validate.kyverno.svc"):
			return "Kyverno"
		case w.Name == "validation.gatekeeper.sh", svc == "gatekeeper-webhook-service":
			return "Gatekeeper"
		case strings.HasSuffix(w.Name, ".kubewarden.admission"):
			return "Kubewarden"
		case svc == "jspolicy":
			return "jsPolicy"
		case w.Name == "polaris.fairwinds.com", svc == "polaris-webhook":
			return "Polaris"
		}
	}
	return ""
}

func admissionNoPolicyEngine() *Check {
	return &Check{
		ID:       "admission-no-policy-engine",
		Title:    "No active policy control mechanism",
		Severity: SeverityMedium,
		Category: CategoryAdmission,
		Description: "CIS 5.2.1 asks that the cluster have at least one active policy control mechanism, so that privileged " +
			"or otherwise dangerous pods are refused at admission. The cluster passes when any of these is present: a " +
			"namespace running workloads whose pod-security.kubernetes.io/enforce label enforces more than privileged (a " +
			"label on a namespace running nothing does not count); a ValidatingWebhookConfiguration of a known policy " +
			"engine (Kyverno resource webhooks, Gatekeeper, Kubewarden policies, jsPolicy, Polaris); or a " +
			"ValidatingAdmissionPolicyBinding whose validationActions include Deny and whose policy exists. The finding is " +
			"about the cluster as a whole; its object is the pseudo-object Kind Cluster, name cluster. Cluster-wide " +
			"PodSecurity defaults set in the API server's AdmissionConfiguration are not visible through the API. When " +
			"ValidatingAdmissionPolicies could not be read (other than because the API server does not serve them) and " +
			"nothing else was found, the check is not evaluated.",
		Remediation: "Enforce Pod Security Standards with pod-security.kubernetes.io/enforce labels on every namespace running " +
			"workloads, or install a policy engine (Kyverno, Gatekeeper, Kubewarden) with policies in enforce mode, or " +
			"bind ValidatingAdmissionPolicies with validationActions [Deny].",
		Evidence: "What was looked for and not found: the number of namespaces running workloads without an enforce label above privileged.",
		Needs: append([]inventory.Kind{inventory.KindNamespace, inventory.KindValidatingWebhookConfiguration},
			inventory.WorkloadKinds...),
		Run: func(s *inventory.Snapshot, _ *Config, e *Emitter) {
			namespaces := namespacesByName(s)
			order, _ := e.scan.workloadNamespaces(s)
			if len(order) == 0 {
				return // nothing runs that a policy would protect
			}
			if s.Partial {
				// A set of manifests is part of a cluster: the policy engine, if any, lives elsewhere.
				e.NotEvaluated("the scan sees manifests, not the cluster's admission configuration")
				return
			}
			for _, name := range order {
				if ns := namespaces[name]; ns != nil {
					if lv, _ := enforcePolicy(ns); lv.Level != api.LevelPrivileged {
						e.Judge(ClusterRef)
						return
					}
				}
			}
			for i := range s.ValidatingWebhookConfigurations {
				if policyEngine(&s.ValidatingWebhookConfigurations[i]) != "" {
					e.Judge(ClusterRef)
					return
				}
			}
			for _, k := range []inventory.Kind{inventory.KindValidatingAdmissionPolicy, inventory.KindValidatingAdmissionPolicyBinding} {
				if !s.Has(k) && s.Missing[k].Reason != inventory.MissingNotServed {
					e.NotEvaluated(fmt.Sprintf("no PodSecurity enforcement or known policy engine webhook was found, and %s could not be read", k))
					return
				}
			}
			if denyingAdmissionPolicy(s) {
				e.Judge(ClusterRef)
				return
			}
			e.Judge(ClusterRef)
			e.Fail(ClusterRef, "none of the %d namespace(s) running workloads enforces a Pod Security Standard above privileged "+
				"(%s), no ValidatingWebhookConfiguration belongs to a known policy engine (Kyverno, Gatekeeper, Kubewarden, jsPolicy, Polaris), "+
				"and no ValidatingAdmissionPolicyBinding has validationActions Deny", len(order), enforceLabelPath())
		},
	}
}

// denyingAdmissionPolicy reports whether some ValidatingAdmissionPolicyBinding
// with validationActions Deny binds a policy that exists.
func denyingAdmissionPolicy(s *inventory.Snapshot) bool {
	policies := map[string]bool{}
	for i := range s.ValidatingAdmissionPolicies {
		policies[s.ValidatingAdmissionPolicies[i].Name] = true
	}
	for i := range s.ValidatingAdmissionPolicyBindings {
		b := &s.ValidatingAdmissionPolicyBindings[i]
		if !policies[b.Spec.PolicyName] {
			continue
		}
		for _, a := range b.Spec.ValidationActions {
			if a == admissionregistrationv1.Deny {
				return true
			}
		}
	}
	return false
}
