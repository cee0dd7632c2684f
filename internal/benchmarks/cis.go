package benchmarks

// CIS returns CIS Kubernetes Benchmark v1.12, section 5 (Policies). Titles are
// paraphrased; the benchmark has the exact wording.
func CIS() *Framework {
	return &Framework{
		Name:  "cis-1.12",
		Title: "CIS Kubernetes Benchmark v1.12 (control plane as the API shows it, and section 5)",
		Ref:   func(c *Control) string { return "CIS 1.12 " + c.ID },
		Controls: []Control{
			// Sections 1-3 as far as the control plane's static pods show them (not evaluated on managed clusters).
			{ID: "1.2.1", Title: "Ensure that the --anonymous-auth argument is set to false", Checks: []string{"controlplane-anonymous-auth"}},
			{ID: "1.2.6", Title: "Ensure that the --authorization-mode argument is not set to AlwaysAllow", Checks: []string{"controlplane-authorization-always-allow"}},
			{ID: "1.2.8", Title: "Ensure that the --authorization-mode argument includes RBAC", Checks: []string{"controlplane-authorization-no-rbac"}},
			{ID: "1.2.14", Title: "Ensure that the admission control plugin NodeRestriction is set", Checks: []string{"controlplane-node-restriction"}},
			{ID: "1.2.15", Title: "Ensure that the --profiling argument is set to false", Checks: []string{"controlplane-profiling"}},
			{ID: "1.2.16", Title: "Ensure that the --audit-log-path argument is set", Checks: []string{"controlplane-audit-logging"}},
			{ID: "1.2.23", Title: "Ensure that the --etcd-certfile and --etcd-keyfile arguments are set as appropriate", Checks: []string{"controlplane-etcd-client-tls"}},
			{ID: "1.2.27", Title: "Ensure that the --encryption-provider-config argument is set as appropriate", Checks: []string{"controlplane-encryption-at-rest"}},
			{ID: "1.3.2", Title: "Ensure that the controller manager --profiling argument is set to false", Checks: []string{"controlplane-profiling"}},
			{ID: "1.4.1", Title: "Ensure that the scheduler --profiling argument is set to false", Checks: []string{"controlplane-profiling"}},
			{ID: "2.1", Title: "Ensure that the etcd --cert-file and --key-file arguments are set as appropriate", Checks: []string{"controlplane-etcd-client-tls"}},
			{ID: "2.2", Title: "Ensure that the etcd --client-cert-auth argument is set to true", Checks: []string{"controlplane-etcd-client-tls"}},
			{ID: "2.4", Title: "Ensure that the etcd --peer-cert-file and --peer-key-file arguments are set as appropriate", Checks: []string{"controlplane-etcd-peer-tls"}},
			{ID: "2.5", Title: "Ensure that the etcd --peer-client-cert-auth argument is set to true", Checks: []string{"controlplane-etcd-peer-tls"}},
			{ID: "5.1.1", Title: "Ensure that the cluster-admin role is only used where required", Checks: []string{"rbac-cluster-admin-binding"}},
			{ID: "5.1.2", Title: "Minimize access to secrets", Checks: []string{"rbac-secrets-access", "rbac-workload-cluster-takeover"}},
			{ID: "5.1.3", Title: "Minimize wildcard use in Roles and ClusterRoles", Checks: []string{"rbac-wildcard-rules"}},
			{ID: "5.1.4", Title: "Minimize access to create pods", Checks: []string{"rbac-create-pods"}},
			{ID: "5.1.5", Title: "Ensure that default service accounts are not actively used", Checks: []string{"rbac-default-service-account-bound", "workload-default-service-account"}},
			{ID: "5.1.6", Title: "Ensure that Service Account Tokens are only mounted where necessary", Checks: []string{"workload-service-account-token-automount"}},
			{ID: "5.1.7", Title: "Avoid use of system:masters group", Checks: []string{"rbac-system-masters"}},
			{ID: "5.1.8", Title: "Limit use of the Bind, Impersonate and Escalate permissions", Checks: []string{"rbac-bind-escalate-impersonate"}},
			{ID: "5.1.9", Title: "Minimize access to create persistent volumes", Checks: []string{"rbac-create-persistentvolumes"}},
			{ID: "5.1.10", Title: "Minimize access to the proxy sub-resource of nodes", Checks: []string{"rbac-nodes-proxy"}},
			{ID: "5.1.11", Title: "Minimize access to the approval sub-resource of certificatesigningrequests", Checks: []string{"rbac-csr-approval"}},
			{ID: "5.1.12", Title: "Minimize access to webhook configuration objects", Checks: []string{"rbac-webhook-configuration-write"}},
			{ID: "5.1.13", Title: "Minimize access to the service account token creation", Checks: []string{"rbac-serviceaccount-token-create"}},
			{ID: "5.2.1", Title: "Ensure that the cluster has at least one active policy control mechanism in place", Checks: []string{"admission-no-policy-engine", "namespace-no-pss-enforce", "namespace-pss-violations"}},
			{ID: "5.2.2", Title: "Minimize the admission of privileged containers", Checks: []string{"pss-privileged"}},
			{ID: "5.2.3", Title: "Minimize the admission of containers wishing to share the host process ID namespace", Checks: []string{"pss-host-namespaces"}},
			{ID: "5.2.4", Title: "Minimize the admission of containers wishing to share the host IPC namespace", Checks: []string{"pss-host-namespaces"}},
			{ID: "5.2.5", Title: "Minimize the admission of containers wishing to share the host network namespace", Checks: []string{"pss-host-namespaces"}},
			{ID: "5.2.6", Title: "Minimize the admission of containers with allowPrivilegeEscalation", Checks: []string{"pss-allow-privilege-escalation"}},
			{ID: "5.2.7", Title: "Minimize the admission of root containers", Checks: []string{"pss-run-as-non-root", "pss-run-as-user"}},
			{ID: "5.2.8", Title: "Minimize the admission of containers with the NET_RAW capability", Checks: []string{"pss-capabilities-restricted", "workload-capabilities-not-dropped"}},
			{ID: "5.2.9", Title: "Minimize the admission of containers with added capabilities", Checks: []string{"pss-capabilities-baseline", "workload-dangerous-capabilities"}},
			{ID: "5.2.10", Title: "Minimize the admission of Windows HostProcess containers", Checks: []string{"pss-windows-host-process"}},
			{ID: "5.2.11", Title: "Minimize the admission of HostPath volumes", Checks: []string{"pss-host-path-volumes", "workload-runtime-socket-mount", "workload-sensitive-host-path"}},
			{ID: "5.2.12", Title: "Minimize the admission of containers which use HostPorts", Checks: []string{"pss-host-ports"}},
			{ID: "5.3.1", Title: "Ensure that the CNI in use supports NetworkPolicies"},
			{ID: "5.3.2", Title: "Ensure that all Namespaces have NetworkPolicies defined", Checks: []string{"netpol-namespace-without-policy", "netpol-no-default-deny-ingress", "netpol-no-default-deny-egress", "netpol-workload-not-selected", "service-exposed-without-policy"}},
			{ID: "5.4.1", Title: "Prefer using Secrets as files over Secrets as environment variables", Checks: []string{"workload-secret-env-vars", "workload-credential-literal-env"}},
			{ID: "5.4.2", Title: "Consider external secret storage"},
			{ID: "5.5.1", Title: "Configure Image Provenance using ImagePolicyWebhook admission controller", Checks: []string{"image-untrusted-registry"}},
			{ID: "5.6.1", Title: "Create administrative boundaries between resources using namespaces"},
			{ID: "5.6.2", Title: "Ensure that the seccomp profile is set to RuntimeDefault in pod definitions", Checks: []string{"pss-seccomp-profile-restricted"}},
			{ID: "5.6.3", Title: "Apply Security Context to Your Pods and Containers", Checks: []string{"pss-run-as-non-root", "pss-allow-privilege-escalation", "pss-capabilities-restricted", "workload-writable-root-filesystem"}},
			{ID: "5.6.4", Title: "The default namespace should not be used", Checks: []string{"workload-default-namespace"}},
		},
	}
}

// NSACISA returns the API-visible parts of the NSA/CISA Kubernetes Hardening Guidance v1.2.
func NSACISA() *Framework {
	return &Framework{
		Name:  "nsa-cisa",
		Title: "NSA/CISA Kubernetes Hardening Guidance v1.2",
		Ref:   func(c *Control) string { return "NSA/CISA: " + c.Title },
		Controls: []Control{
			{ID: "pod-1", Title: "Use containers built to run applications as non-root users", Checks: []string{"pss-run-as-non-root", "pss-run-as-user"}},
			{ID: "pod-2", Title: "Run containers with immutable (read-only) root file systems", Checks: []string{"workload-writable-root-filesystem"}},
			{ID: "pod-3", Title: "Do not run privileged containers or allow privilege escalation", Checks: []string{"pss-privileged", "pss-allow-privilege-escalation"}},
			{ID: "pod-4", Title: "Do not share host namespaces", Checks: []string{"pss-host-namespaces", "workload-runtime-socket-mount", "workload-sensitive-host-path"}},
			{ID: "pod-5", Title: "Drop unneeded Linux capabilities", Checks: []string{"pss-capabilities-baseline", "pss-capabilities-restricted", "workload-dangerous-capabilities", "workload-capabilities-not-dropped"}},
			{ID: "pod-6", Title: "Confine containers with seccomp, AppArmor or SELinux", Checks: []string{"pss-seccomp-profile-restricted", "pss-app-armor-profile", "pss-se-linux-options"}},
			{ID: "pod-7", Title: "Use images from trusted registries, scanned and pinned", Checks: []string{"image-untrusted-registry", "image-latest-tag", "image-not-pinned-by-digest", "image-pull-policy"}},
			{ID: "net-1", Title: "Isolate namespaces with default-deny NetworkPolicies", Checks: []string{"netpol-namespace-without-policy", "netpol-no-default-deny-ingress", "netpol-no-default-deny-egress", "netpol-workload-not-selected", "service-exposed-without-policy"}},
			{ID: "net-2", Title: "Set LimitRanges and ResourceQuotas per namespace", Checks: []string{"namespace-missing-limitrange", "namespace-missing-resourcequota", "workload-missing-resource-requests", "workload-missing-resource-limits"}},
			{ID: "auth-1", Title: "Grant least privilege with RBAC", Checks: []string{"rbac-cluster-admin-binding", "rbac-secrets-access", "rbac-wildcard-rules", "rbac-create-pods", "rbac-bind-escalate-impersonate", "rbac-system-masters", "rbac-workload-cluster-takeover", "rbac-default-service-account-bound", "workload-service-account-token-automount", "controlplane-authorization-always-allow", "controlplane-authorization-no-rbac"}},
			{ID: "auth-2", Title: "Disable anonymous access", Checks: []string{"rbac-anonymous-access", "controlplane-anonymous-auth"}},
			{ID: "data-1", Title: "Encrypt Secrets at rest", Checks: []string{"controlplane-encryption-at-rest"}},
			{ID: "log-1", Title: "Enable audit logging", Checks: []string{"controlplane-audit-logging"}},
			{ID: "tls-1", Title: "Use TLS between control-plane components", Checks: []string{"controlplane-etcd-client-tls", "controlplane-etcd-peer-tls"}},
		},
	}
}
