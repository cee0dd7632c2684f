package checks

import (
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/pod-security-admission/api"

	"github.com/kubeposture/kubeposture/internal/inventory"
)

const (
	enforceLabel        = "pod-security.kubernetes.io/enforce"
	enforceVersionLabel = "pod-security.kubernetes.io/enforce-version"
)

// noSeccompSpec passes baseline but not restricted: no seccomp profile anywhere.
func noSeccompSpec() corev1.PodSpec {
	return withSpec(func(s *corev1.PodSpec) {
		s.SecurityContext.SeccompProfile = nil
		s.Containers[0].SecurityContext.SeccompProfile = nil
	})
}

func inNamespaces(namespaces []corev1.Namespace, deployments ...appsv1.Deployment) func(s *inventory.Snapshot) {
	return func(s *inventory.Snapshot) {
		s.Namespaces = namespaces
		s.Deployments = deployments
	}
}

func TestNamespaceNoPSSEnforce(t *testing.T) {
	const id = "namespace-no-pss-enforce"
	web := deployment("shop", "web", hardenedSpec())
	fail := func(msg string) []gotFinding { return []gotFinding{{Check: id, Object: nsRefOf("shop"), Message: msg}} }
	runAreaCases(t, id, map[string]areaCase{
		"namespace without the label fails": {
			fill:       inNamespaces([]corev1.Namespace{namespace("shop")}, web),
			wantJudged: 1,
			wantFindings: fail(`metadata.labels["pod-security.kubernetes.io/enforce"] is not set: ` +
				`the cluster default (privileged unless configured otherwise) applies to its 1 workload(s)`),
		},
		"baseline enforced passes": {
			fill:       inNamespaces([]corev1.Namespace{labeledNamespace("shop", enforceLabel, "baseline")}, web),
			wantJudged: 1,
		},
		"restricted enforced at a pinned version passes": {
			fill:       inNamespaces([]corev1.Namespace{labeledNamespace("shop", enforceLabel, "restricted", enforceVersionLabel, "v1.30")}, web),
			wantJudged: 1,
		},
		"privileged enforced fails": {
			fill:         inNamespaces([]corev1.Namespace{labeledNamespace("shop", enforceLabel, "privileged")}, web),
			wantJudged:   1,
			wantFindings: fail(`metadata.labels["pod-security.kubernetes.io/enforce"] is "privileged": no Pod Security Standard is enforced on its 1 workload(s)`),
		},
		"an invalid level fails": {
			fill:       inNamespaces([]corev1.Namespace{labeledNamespace("shop", enforceLabel, "Baseline")}, web),
			wantJudged: 1,
			wantFindings: fail(`metadata.labels["pod-security.kubernetes.io/enforce"] is "Baseline", not privileged, baseline or restricted: ` +
				`admission falls back to restricted:latest for its 1 workload(s)`),
		},
		"only warn and audit labels do not enforce": {
			fill:       inNamespaces([]corev1.Namespace{labeledNamespace("shop", "pod-security.kubernetes.io/warn", "restricted", "pod-security.kubernetes.io/audit", "restricted")}, web),
			wantJudged: 1,
			wantFindings: fail(`metadata.labels["pod-security.kubernetes.io/enforce"] is not set: ` +
				`the cluster default (privileged unless configured otherwise) applies to its 1 workload(s)`),
		},
		"control-plane namespaces, namespaces without workloads and unread namespaces are not judged": {
			fill: inNamespaces([]corev1.Namespace{namespace("kube-system"), namespace("empty")},
				deployment("kube-system", "coredns", hardenedSpec()), deployment("unlisted", "web", hardenedSpec())),
			wantJudged: 0,
		},
	})
}

func TestNamespacePSSViolations(t *testing.T) {
	const id = "namespace-pss-violations"
	privileged := deployment("shop", "web", privilegedSpec("app"))
	runAreaCases(t, id, map[string]areaCase{
		"privileged workload in a baseline namespace fails": {
			fill:       inNamespaces([]corev1.Namespace{labeledNamespace("shop", enforceLabel, "baseline")}, privileged, deployment("shop", "api", hardenedSpec())),
			wantJudged: 2,
			wantFindings: []gotFinding{{Check: id, Object: deployRef("shop", "web"),
				Message: `violates PodSecurity "baseline:latest" enforced by namespace "shop": privileged (container "app" must not set securityContext.privileged=true)`}},
		},
		"restricted is judged at the enforce-version": {
			fill: inNamespaces([]corev1.Namespace{
				labeledNamespace("old", enforceLabel, "restricted", enforceVersionLabel, "v1.18"),
				labeledNamespace("shop", enforceLabel, "restricted"),
			}, deployment("old", "web", noSeccompSpec()), deployment("shop", "web", noSeccompSpec())),
			wantJudged: 2,
			wantFindings: []gotFinding{{Check: id, Object: deployRef("shop", "web"),
				Message: `violates PodSecurity "restricted:latest" enforced by namespace "shop": seccompProfile (pod or container "app" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")`}},
		},
		"an invalid level enforces restricted, as admission does": {
			fill:       inNamespaces([]corev1.Namespace{labeledNamespace("shop", enforceLabel, "Restricted")}, deployment("shop", "web", noSeccompSpec())),
			wantJudged: 1,
			wantFindings: []gotFinding{{Check: id, Object: deployRef("shop", "web"),
				Message: `violates PodSecurity "restricted:latest" enforced by namespace "shop": seccompProfile (pod or container "app" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")`}},
		},
		"CronJob templates and bare pods are judged": {
			fill: func(s *inventory.Snapshot) {
				s.Namespaces = []corev1.Namespace{labeledNamespace("shop", enforceLabel, "baseline")}
				s.CronJobs = []batchv1.CronJob{cronJob("shop", "report", privilegedSpec("job"))}
				s.Pods = []corev1.Pod{pod("shop", "debug", withSpec(func(s *corev1.PodSpec) { s.HostPID = true }))}
			},
			wantJudged: 2,
			wantFindings: []gotFinding{
				{Check: id, Object: objRef("batch/v1", "CronJob", "shop", "report"),
					Message: `violates PodSecurity "baseline:latest" enforced by namespace "shop": privileged (container "job" must not set securityContext.privileged=true)`},
				{Check: id, Object: objRef("v1", "Pod", "shop", "debug"),
					Message: `violates PodSecurity "baseline:latest" enforced by namespace "shop": host namespaces (hostPID=true)`},
			},
		},
		"namespaces enforcing privileged or nothing are not judged": {
			fill: inNamespaces([]corev1.Namespace{namespace("shop"), labeledNamespace("ops", enforceLabel, "privileged")},
				privileged, deployment("ops", "agent", privilegedSpec("agent"))),
			wantJudged: 0,
		},
	})
}

func TestNamespacePSSCouldBeStricter(t *testing.T) {
	const id = "namespace-pss-could-be-stricter"
	fail := func(msg string) []gotFinding { return []gotFinding{{Check: id, Object: nsRefOf("shop"), Message: msg}} }
	runAreaCases(t, id, map[string]areaCase{
		"unlabeled namespace whose workloads pass restricted": {
			fill:         inNamespaces([]corev1.Namespace{namespace("shop")}, deployment("shop", "web", hardenedSpec()), deployment("shop", "api", hardenedSpec())),
			wantJudged:   1,
			wantFindings: fail(`metadata.labels["pod-security.kubernetes.io/enforce"] is not set but all 2 workload(s) pass "restricted:latest": set it to restricted`),
		},
		"baseline namespace whose workloads pass restricted": {
			fill:         inNamespaces([]corev1.Namespace{labeledNamespace("shop", enforceLabel, "baseline")}, deployment("shop", "web", hardenedSpec())),
			wantJudged:   1,
			wantFindings: fail(`metadata.labels["pod-security.kubernetes.io/enforce"] is "baseline" but all 1 workload(s) pass "restricted:latest": set it to restricted`),
		},
		"privileged namespace whose workloads pass baseline only": {
			fill: inNamespaces([]corev1.Namespace{labeledNamespace("shop", enforceLabel, "privileged")},
				deployment("shop", "web", hardenedSpec()), deployment("shop", "api", noSeccompSpec())),
			wantJudged:   1,
			wantFindings: fail(`metadata.labels["pod-security.kubernetes.io/enforce"] is "privileged" but all 2 workload(s) pass "baseline:latest": set it to baseline`),
		},
		"judged at the scan's podSecurityVersion": {
			fill:         inNamespaces([]corev1.Namespace{labeledNamespace("shop", enforceLabel, "baseline")}, deployment("shop", "web", noSeccompSpec())),
			cfg:          &Config{PodSecurityVersion: api.MajorMinorVersion(1, 18)},
			wantJudged:   1,
			wantFindings: fail(`metadata.labels["pod-security.kubernetes.io/enforce"] is "baseline" but all 1 workload(s) pass "restricted:v1.18": set it to restricted`),
		},
		"baseline namespace whose workloads pass baseline only passes": {
			fill:       inNamespaces([]corev1.Namespace{labeledNamespace("shop", enforceLabel, "baseline")}, deployment("shop", "web", noSeccompSpec())),
			wantJudged: 1,
		},
		"one privileged workload keeps the namespace privileged": {
			fill:       inNamespaces([]corev1.Namespace{namespace("shop")}, deployment("shop", "web", hardenedSpec()), deployment("shop", "agent", privilegedSpec("agent"))),
			wantJudged: 1,
		},
		"restricted namespace passes": {
			fill:       inNamespaces([]corev1.Namespace{labeledNamespace("shop", enforceLabel, "restricted")}, deployment("shop", "web", hardenedSpec())),
			wantJudged: 1,
		},
		"control-plane namespaces are not judged": {
			fill:       inNamespaces([]corev1.Namespace{namespace("kube-system")}, deployment("kube-system", "coredns", hardenedSpec())),
			wantJudged: 0,
		},
	})
}

func TestNamespaceMissingLimitRange(t *testing.T) {
	const id = "namespace-missing-limitrange"
	containerDefaults := corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Default: corev1.ResourceList{corev1.ResourceMemory: nsQuantity("256Mi")}}
	with := func(ranges ...corev1.LimitRange) func(s *inventory.Snapshot) {
		return func(s *inventory.Snapshot) {
			inNamespaces([]corev1.Namespace{namespace("shop"), namespace("kube-system")},
				deployment("shop", "web", hardenedSpec()), deployment("kube-system", "coredns", hardenedSpec()))(s)
			s.LimitRanges = ranges
		}
	}
	runAreaCases(t, id, map[string]areaCase{
		"no LimitRange fails": {
			fill:         with(),
			wantJudged:   1,
			wantFindings: []gotFinding{{Check: id, Object: nsRefOf("shop"), Message: `namespace "shop" runs 1 workload(s) and has no LimitRange`}},
		},
		"container defaults pass": {
			fill:       with(limitRange("shop", "defaults", containerDefaults)),
			wantJudged: 1,
		},
		"empty and claim-only LimitRanges constrain nothing": {
			fill: with(limitRange("shop", "placeholder"), limitRange("shop", "claims", corev1.LimitRangeItem{
				Type: corev1.LimitTypePersistentVolumeClaim, Max: corev1.ResourceList{corev1.ResourceStorage: nsQuantity("10Gi")},
			})),
			wantJudged: 1,
			wantFindings: []gotFinding{{Check: id, Object: nsRefOf("shop"),
				Message: `namespace "shop" runs 1 workload(s); its LimitRange "claims", LimitRange "placeholder" sets no Container or Pod limits (spec.limits)`}},
		},
		"a LimitRange in another namespace does not count": {
			fill:         with(limitRange("billing", "defaults", containerDefaults)),
			wantJudged:   1,
			wantFindings: []gotFinding{{Check: id, Object: nsRefOf("shop"), Message: `namespace "shop" runs 1 workload(s) and has no LimitRange`}},
		},
	})
}

func TestNamespaceMissingResourceQuota(t *testing.T) {
	const id = "namespace-missing-resourcequota"
	with := func(quotas ...corev1.ResourceQuota) func(s *inventory.Snapshot) {
		return func(s *inventory.Snapshot) {
			inNamespaces([]corev1.Namespace{namespace("shop"), namespace("kube-system")},
				deployment("shop", "web", hardenedSpec()), deployment("kube-system", "coredns", hardenedSpec()))(s)
			s.ResourceQuotas = quotas
		}
	}
	runAreaCases(t, id, map[string]areaCase{
		"no ResourceQuota fails": {
			fill:         with(),
			wantJudged:   1,
			wantFindings: []gotFinding{{Check: id, Object: nsRefOf("shop"), Message: `namespace "shop" runs 1 workload(s) and has no ResourceQuota`}},
		},
		"a compute quota passes": {
			fill:       with(resourceQuota("shop", "compute", corev1.ResourceList{corev1.ResourceRequestsCPU: nsQuantity("4"), corev1.ResourceLimitsMemory: nsQuantity("8Gi")})),
			wantJudged: 1,
		},
		"a pod-count quota passes": {
			fill:       with(resourceQuota("shop", "pods", corev1.ResourceList{"count/pods": nsQuantity("20")})),
			wantJudged: 1,
		},
		"quotas bounding no compute resource do not count": {
			fill:       with(resourceQuota("shop", "objects", corev1.ResourceList{"count/configmaps": nsQuantity("50")}), resourceQuota("shop", "empty", nil)),
			wantJudged: 1,
			wantFindings: []gotFinding{{Check: id, Object: nsRefOf("shop"),
				Message: `namespace "shop" runs 1 workload(s); its ResourceQuota "empty", ResourceQuota "objects" bounds no compute resource or pod count (spec.hard)`}},
		},
	})
}

func TestAdmissionNoPolicyEngine(t *testing.T) {
	const id = "admission-no-policy-engine"
	const noneFound = `none of the 1 namespace(s) running workloads enforces a Pod Security Standard above privileged ` +
		`(metadata.labels["pod-security.kubernetes.io/enforce"]), no ValidatingWebhookConfiguration belongs to a known policy engine ` +
		`(Kyverno, Gatekeeper, Kubewarden, jsPolicy, Polaris), and no ValidatingAdmissionPolicyBinding has validationActions Deny`
	fail := []gotFinding{{Check: id, Object: ClusterRef, Message: noneFound}}
	type objects struct {
		namespaces []corev1.Namespace
		webhooks   []admissionregistrationv1.ValidatingWebhookConfiguration
		policies   []admissionregistrationv1.ValidatingAdmissionPolicy
		bindings   []admissionregistrationv1.ValidatingAdmissionPolicyBinding
	}
	with := func(o objects) func(s *inventory.Snapshot) {
		return func(s *inventory.Snapshot) {
			s.Namespaces = append([]corev1.Namespace{namespace("shop")}, o.namespaces...)
			s.Deployments = []appsv1.Deployment{deployment("shop", "web", hardenedSpec())}
			s.ValidatingWebhookConfigurations = o.webhooks
			s.ValidatingAdmissionPolicies = o.policies
			s.ValidatingAdmissionPolicyBindings = o.bindings
		}
	}
	runAreaCases(t, id, map[string]areaCase{
		"nothing at all fails on the cluster": {
			fill:         with(objects{}),
			wantJudged:   1,
			wantFindings: fail,
		},
		"an enforce label on a namespace running workloads passes": {
			fill: func(s *inventory.Snapshot) {
				with(objects{})(s)
				s.Namespaces[0] = labeledNamespace("shop", enforceLabel, "baseline")
			},
			wantJudged: 1,
		},
		"an enforce label on an empty namespace does not count": {
			fill:         with(objects{namespaces: []corev1.Namespace{labeledNamespace("decoy", enforceLabel, "restricted")}}),
			wantJudged:   1,
			wantFindings: fail,
		},
		"Kyverno resource webhooks pass": {
			fill: with(objects{webhooks: []admissionregistrationv1.ValidatingWebhookConfiguration{
				validatingWebhook("kyverno-resource-validating-webhook-cfg", "validate.kyverno.svc-fail", "kyverno", "kyverno-svc"),
			}}),
			wantJudged: 1,
		},
		"Kyverno's own policy webhook alone enforces nothing": {
			fill: with(objects{webhooks: []admissionregistrationv1.ValidatingWebhookConfiguration{
				validatingWebhook("kyverno-policy-validating-webhook-cfg", "validate-policy.kyverno.svc", "kyverno", "kyverno-svc"),
			}}),
			wantJudged:   1,
			wantFindings: fail,
		},
		"Gatekeeper recognised by its service passes": {
			fill: with(objects{webhooks: []admissionregistrationv1.ValidatingWebhookConfiguration{
				validatingWebhook("opa-gatekeeper", "validation.example", "opa", "gatekeeper-webhook-service"),
			}}),
			wantJudged: 1,
		},
		"Kubewarden policy webhooks pass": {
			fill: with(objects{webhooks: []admissionregistrationv1.ValidatingWebhookConfiguration{
				validatingWebhook("clusterwide-no-privileged-pod", "clusterwide-no-privileged-pod.kubewarden.admission", "kubewarden", "policy-server-default"),
			}}),
			wantJudged: 1,
		},
		"an unrelated webhook does not count": {
			fill: with(objects{webhooks: []admissionregistrationv1.ValidatingWebhookConfiguration{
				validatingWebhook("cert-manager-webhook", "webhook.cert-manager.io", "cert-manager", "cert-manager-webhook"),
			}}),
			wantJudged:   1,
			wantFindings: fail,
		},
		"a ValidatingAdmissionPolicy bound with Deny passes": {
			fill: with(objects{
				policies: []admissionregistrationv1.ValidatingAdmissionPolicy{admissionPolicy("no-privileged")},
				bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{admissionPolicyBinding("no-privileged", "no-privileged", admissionregistrationv1.Warn, admissionregistrationv1.Deny)},
			}),
			wantJudged: 1,
		},
		"a binding that only audits or binds a missing policy does not count": {
			fill: with(objects{
				policies: []admissionregistrationv1.ValidatingAdmissionPolicy{admissionPolicy("no-privileged")},
				bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{
					admissionPolicyBinding("audit", "no-privileged", admissionregistrationv1.Audit),
					admissionPolicyBinding("dangling", "deleted-policy", admissionregistrationv1.Deny),
				},
			}),
			wantJudged:   1,
			wantFindings: fail,
		},
	})
}

// TestAdmissionNoPolicyEngineMissingKinds checks the cases where the check
// reads ValidatingAdmissionPolicies that could not be read: not served means
// none exist; forbidden means the check cannot conclude.
func TestAdmissionNoPolicyEngineMissingKinds(t *testing.T) {
	const id = "admission-no-policy-engine"
	testCases := map[string]struct {
		reason        inventory.MissingReason
		labeled       bool
		wantEvaluated bool
		wantFindings  int
	}{
		"policies not served by an older API server: judged, fails": {reason: inventory.MissingNotServed, wantEvaluated: true, wantFindings: 1},
		"policies forbidden and nothing else found: not evaluated":  {reason: inventory.MissingForbidden},
		"policies forbidden but PSA enforced: passes":               {reason: inventory.MissingForbidden, labeled: true, wantEvaluated: true},
	}
	for name, tc := range testCases {
		t.Run(name, func(t *testing.T) {
			s := readAll(func(s *inventory.Snapshot) {
				s.Namespaces = []corev1.Namespace{namespace("shop")}
				if tc.labeled {
					s.Namespaces[0] = labeledNamespace("shop", enforceLabel, "restricted")
				}
				s.Deployments = []appsv1.Deployment{deployment("shop", "web", hardenedSpec())}
			})
			s.MarkMissing(inventory.KindValidatingAdmissionPolicy, tc.reason, "")
			s.MarkMissing(inventory.KindValidatingAdmissionPolicyBinding, tc.reason, "")
			o := runCheck(t, id, s, nil)
			if o.Evaluated != tc.wantEvaluated || len(o.Findings) != tc.wantFindings {
				t.Errorf("Evaluated=%t findings=%d (reason %q), want %t and %d", o.Evaluated, len(o.Findings), o.NotEvaluatedReason, tc.wantEvaluated, tc.wantFindings)
			}
			if !tc.wantEvaluated && o.Judged != 0 {
				t.Errorf("Judged = %d, want 0 when not evaluated", o.Judged)
			}
		})
	}
}
