package checks

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubeposture/kubeposture/internal/inventory"
)

// The flags kubeadm writes into its static pod manifests (v1.3x).
var (
	kubeadmAPIServerFlags = []string{
		"--advertise-address=172.18.0.2",
		"--allow-privileged=true",
		"--authorization-mode=Node,RBAC",
		"--client-ca-file=/etc/kubernetes/pki/ca.crt",
		"--enable-admission-plugins=NodeRestriction",
		"--enable-bootstrap-token-auth=true",
		"--etcd-cafile=/etc/kubernetes/pki/etcd/ca.crt",
		"--etcd-certfile=/etc/kubernetes/pki/apiserver-etcd-client.crt",
		"--etcd-keyfile=/etc/kubernetes/pki/apiserver-etcd-client.key",
		"--etcd-servers=https://127.0.0.1:2379",
		"--kubelet-client-certificate=/etc/kubernetes/pki/apiserver-kubelet-client.crt",
		"--kubelet-client-key=/etc/kubernetes/pki/apiserver-kubelet-client.key",
		"--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname",
		"--proxy-client-cert-file=/etc/kubernetes/pki/front-proxy-client.crt",
		"--proxy-client-key-file=/etc/kubernetes/pki/front-proxy-client.key",
		"--requestheader-allowed-names=front-proxy-client",
		"--requestheader-client-ca-file=/etc/kubernetes/pki/front-proxy-ca.crt",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-username-headers=X-Remote-User",
		"--secure-port=6443",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=/etc/kubernetes/pki/sa.pub",
		"--service-account-signing-key-file=/etc/kubernetes/pki/sa.key",
		"--service-cluster-ip-range=10.96.0.0/16",
		"--tls-cert-file=/etc/kubernetes/pki/apiserver.crt",
		"--tls-private-key-file=/etc/kubernetes/pki/apiserver.key",
	}
	// hardenedAPIServerFlags pass every API server check.
	hardenedAPIServerFlags = append(slices.Clone(kubeadmAPIServerFlags),
		"--anonymous-auth=false",
		"--audit-policy-file=/etc/kubernetes/audit/policy.yaml",
		"--audit-log-path=/var/log/kubernetes/audit/audit.log",
		"--encryption-provider-config=/etc/kubernetes/enc/config.yaml",
		"--profiling=false",
	)
	kubeadmEtcdFlags = []string{
		"--advertise-client-urls=https://172.18.0.2:2379",
		"--cert-file=/etc/kubernetes/pki/etcd/server.crt",
		"--client-cert-auth=true",
		"--data-dir=/var/lib/etcd",
		"--experimental-initial-corrupt-check=true",
		"--initial-advertise-peer-urls=https://172.18.0.2:2380",
		"--initial-cluster=cp1=https://172.18.0.2:2380",
		"--key-file=/etc/kubernetes/pki/etcd/server.key",
		"--listen-client-urls=https://127.0.0.1:2379,https://172.18.0.2:2379",
		"--listen-metrics-urls=http://127.0.0.1:2381",
		"--listen-peer-urls=https://172.18.0.2:2380",
		"--name=cp1",
		"--peer-cert-file=/etc/kubernetes/pki/etcd/peer.crt",
		"--peer-client-cert-auth=true",
		"--peer-key-file=/etc/kubernetes/pki/etcd/peer.key",
		"--peer-trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt",
		"--snapshot-count=10000",
		"--trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt",
	}
	kubeadmControllerManagerFlags = []string{
		"--allocate-node-cidrs=true",
		"--authentication-kubeconfig=/etc/kubernetes/controller-manager.conf",
		"--authorization-kubeconfig=/etc/kubernetes/controller-manager.conf",
		"--bind-address=127.0.0.1",
		"--client-ca-file=/etc/kubernetes/pki/ca.crt",
		"--cluster-signing-cert-file=/etc/kubernetes/pki/ca.crt",
		"--cluster-signing-key-file=/etc/kubernetes/pki/ca.key",
		"--controllers=*,bootstrapsigner,tokencleaner",
		"--kubeconfig=/etc/kubernetes/controller-manager.conf",
		"--leader-elect=true",
		"--root-ca-file=/etc/kubernetes/pki/ca.crt",
		"--service-account-private-key-file=/etc/kubernetes/pki/sa.key",
		"--use-service-account-credentials=true",
	}
	kubeadmSchedulerFlags = []string{
		"--authentication-kubeconfig=/etc/kubernetes/scheduler.conf",
		"--authorization-kubeconfig=/etc/kubernetes/scheduler.conf",
		"--bind-address=127.0.0.1",
		"--kubeconfig=/etc/kubernetes/scheduler.conf",
		"--leader-elect=true",
	}
)

// mirrorPod is a kubelet mirror pod of a kubeadm static pod on node cp1: in
// kube-system, labelled, annotated and owned by its Node.
func mirrorPod(component string, containers ...corev1.Container) corev1.Pod {
	name := component + "-cp1"
	p := pod(metav1.NamespaceSystem, name, corev1.PodSpec{Containers: containers},
		metav1.OwnerReference{APIVersion: "v1", Kind: "Node", Name: "cp1", UID: uid("cp1"), Controller: new(true)})
	p.Labels = map[string]string{"component": component, "tier": "control-plane"}
	p.Annotations = map[string]string{
		corev1.MirrorPodAnnotationKey: "0123456789abcdef",
		"kubernetes.io/config.source": "file",
	}
	return p
}

// componentContainer runs binary with flags in command, as kubeadm writes it.
func componentContainer(name, binary string, flags ...string) corev1.Container {
	return corev1.Container{Name: name, Image: "registry.k8s.io/" + name + ":v1.37.2", Command: append([]string{binary}, flags...)}
}

func kubeadmPod(component string, flags []string, extra ...string) corev1.Pod {
	return mirrorPod(component, componentContainer(component, component, append(slices.Clone(flags), extra...)...))
}

func apiServerPod(extra ...string) corev1.Pod {
	return kubeadmPod(componentAPIServer, kubeadmAPIServerFlags, extra...)
}

func hardenedAPIServerPod(extra ...string) corev1.Pod {
	return kubeadmPod(componentAPIServer, hardenedAPIServerFlags, extra...)
}

func etcdPod(extra ...string) corev1.Pod {
	return kubeadmPod(componentEtcd, kubeadmEtcdFlags, extra...)
}

// without returns flags without those starting with any of the prefixes.
func without(flags []string, prefixes ...string) []string {
	return slices.DeleteFunc(slices.Clone(flags), func(f string) bool {
		return slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(f, p) })
	})
}

func podRef(p corev1.Pod) inventory.ObjectRef {
	return objRef("v1", "Pod", p.Namespace, p.Name)
}

func cpFail(check string, p corev1.Pod, msg string) gotFinding {
	return gotFinding{Check: check, Object: podRef(p), Message: msg}
}

func TestControlPlaneChecks(t *testing.T) {
	const (
		anonymous   = "controlplane-anonymous-auth"
		alwaysAllow = "controlplane-authorization-always-allow"
		noRBAC      = "controlplane-authorization-no-rbac"
		audit       = "controlplane-audit-logging"
		encryption  = "controlplane-encryption-at-rest"
		profiling   = "controlplane-profiling"
		etcdClient  = "controlplane-etcd-client-tls"
		etcdPeer    = "controlplane-etcd-peer-tls"
		nodeRestr   = "controlplane-node-restriction"
		apiC        = `container "kube-apiserver" (containers[0]): `
		etcdC       = `container "etcd" (containers[0]): `
	)
	kubeadm := apiServerPod()
	hardened := hardenedAPIServerPod()
	managed := "no kube-apiserver static pod visible in kube-system (a managed control plane?)"

	testCases := map[string]struct {
		check            string
		pods             []corev1.Pod
		wantJudged       int
		wantFindings     []gotFinding
		wantNotEvaluated string
	}{
		// Not evaluated: never a pass.
		"managed cluster: no control-plane pod is not evaluated": {
			check:            anonymous,
			pods:             []corev1.Pod{pod("kube-system", "coredns-abc", hardenedSpec("coredns"))},
			wantNotEvaluated: managed,
		},
		"control-plane pod outside kube-system is not the control plane": {
			check: encryption,
			pods: []corev1.Pod{func() corev1.Pod {
				p := apiServerPod()
				p.Namespace = "default"
				return p
			}()},
			wantNotEvaluated: managed,
		},
		"etcd deployment in kube-system, neither labelled nor static, is not the control plane": {
			check: etcdPeer,
			pods: []corev1.Pod{pod("kube-system", "my-etcd-0",
				corev1.PodSpec{Containers: []corev1.Container{componentContainer("etcd", "/usr/local/bin/etcd")}},
				controllerRef("apps/v1", "StatefulSet", "my-etcd"))},
			wantNotEvaluated: "no etcd static pod visible in kube-system (a managed control plane?)",
		},
		"profiling with none of its components visible names all three": {
			check:            profiling,
			pods:             []corev1.Pod{etcdPod()},
			wantNotEvaluated: "no kube-apiserver, kube-controller-manager or kube-scheduler static pod visible in kube-system (a managed control plane?)",
		},
		"etcd client TLS with neither etcd nor the API server visible": {
			check:            etcdClient,
			wantNotEvaluated: "no kube-apiserver or etcd static pod visible in kube-system (a managed control plane?)",
		},

		// Anonymous auth.
		"kubeadm defaults leave anonymous auth on": {
			check: anonymous, pods: []corev1.Pod{kubeadm}, wantJudged: 1,
			wantFindings: []gotFinding{cpFail(anonymous, kubeadm, apiC+"--anonymous-auth is not set (defaults to true)")},
		},
		"anonymous auth explicitly true": {
			check: anonymous, pods: []corev1.Pod{apiServerPod("--anonymous-auth=true")}, wantJudged: 1,
			wantFindings: []gotFinding{cpFail(anonymous, kubeadm, apiC+"--anonymous-auth=true")},
		},
		"anonymous auth false passes": {
			check: anonymous, pods: []corev1.Pod{apiServerPod("--anonymous-auth=false")}, wantJudged: 1,
		},
		"the last occurrence of a flag wins": {
			check: anonymous, pods: []corev1.Pod{apiServerPod("--anonymous-auth=false", "--anonymous-auth=true")}, wantJudged: 1,
			wantFindings: []gotFinding{cpFail(anonymous, kubeadm, apiC+"--anonymous-auth=true")},
		},
		"a bare boolean flag is true and never takes the next argument": {
			check: anonymous, pods: []corev1.Pod{apiServerPod("--anonymous-auth", "false")}, wantJudged: 1,
			wantFindings: []gotFinding{cpFail(anonymous, kubeadm, apiC+"--anonymous-auth=true")},
		},
		"anonymous auth as a boolean spelled F passes": {
			check: anonymous, pods: []corev1.Pod{apiServerPod("--anonymous-auth=F")}, wantJudged: 1,
		},
		"authentication config without the flag cannot be judged": {
			check: anonymous, pods: []corev1.Pod{apiServerPod("--authentication-config=/etc/kubernetes/authn.yaml")},
			wantNotEvaluated: "no control-plane pod could be judged: kube-system/kube-apiserver-cp1: --authentication-config may " +
				"configure anonymous access in a file the scan cannot read, and --anonymous-auth is not set",
		},
		"authentication config with the flag: the flag decides (they are exclusive)": {
			check: anonymous, pods: []corev1.Pod{apiServerPod("--authentication-config=/etc/kubernetes/authn.yaml", "--anonymous-auth=true")},
			wantJudged:   1,
			wantFindings: []gotFinding{cpFail(anonymous, kubeadm, apiC+"--anonymous-auth=true")},
		},
		"AlwaysAllow turns anonymous auth off: reported by the authorization check only": {
			check: anonymous, pods: []corev1.Pod{apiServerPod("--authorization-mode=AlwaysAllow")}, wantJudged: 1,
		},

		// Authorization.
		"kubeadm's Node,RBAC passes always-allow": {check: alwaysAllow, pods: []corev1.Pod{kubeadm}, wantJudged: 1},
		"kubeadm's Node,RBAC passes no-rbac":      {check: noRBAC, pods: []corev1.Pod{kubeadm}, wantJudged: 1},
		"AlwaysAllow anywhere in the chain": {
			check: alwaysAllow, pods: []corev1.Pod{kubeadmPod(componentAPIServer, without(kubeadmAPIServerFlags, "--authorization-mode"),
				"--authorization-mode", "Node,AlwaysAllow")}, wantJudged: 1,
			wantFindings: []gotFinding{cpFail(alwaysAllow, kubeadm, apiC+"--authorization-mode=Node,AlwaysAllow includes AlwaysAllow")},
		},
		"no authorization mode defaults to AlwaysAllow": {
			check: alwaysAllow, pods: []corev1.Pod{kubeadmPod(componentAPIServer, without(kubeadmAPIServerFlags, "--authorization-mode"))}, wantJudged: 1,
			wantFindings: []gotFinding{cpFail(alwaysAllow, kubeadm, apiC+"--authorization-mode is not set (defaults to AlwaysAllow)")},
		},
		"an empty authorization mode defaults to AlwaysAllow, without RBAC": {
			check: noRBAC, pods: []corev1.Pod{kubeadmPod(componentAPIServer, without(kubeadmAPIServerFlags, "--authorization-mode"), "--authorization-mode=")}, wantJudged: 1,
			wantFindings: []gotFinding{cpFail(noRBAC, kubeadm, apiC+"--authorization-mode is not set (defaults to AlwaysAllow, without RBAC)")},
		},
		"repeated list flags accumulate (pflag string slices)": {
			check: noRBAC, pods: []corev1.Pod{kubeadmPod(componentAPIServer, without(kubeadmAPIServerFlags, "--authorization-mode"),
				"--authorization-mode=Node", "--authorization-mode=RBAC")}, wantJudged: 1,
		},
		"webhook authorization without RBAC": {
			check: noRBAC, pods: []corev1.Pod{kubeadmPod(componentAPIServer, without(kubeadmAPIServerFlags, "--authorization-mode"),
				"--authorization-mode=Node,Webhook", "--authorization-webhook-config-file=/etc/kubernetes/authz.yaml")}, wantJudged: 1,
			wantFindings: []gotFinding{cpFail(noRBAC, kubeadm, apiC+"--authorization-mode=Node,Webhook does not include RBAC")},
		},
		"authorization config file cannot be judged": {
			check: alwaysAllow, pods: []corev1.Pod{kubeadmPod(componentAPIServer, without(kubeadmAPIServerFlags, "--authorization-mode"),
				"--authorization-config=/etc/kubernetes/authz-config.yaml")},
			wantNotEvaluated: "no control-plane pod could be judged: kube-system/kube-apiserver-cp1: --authorization-config configures " +
				"the authorizers in a file the scan cannot read",
		},

		// Audit logging.
		"kubeadm defaults have no audit logging": {
			check: audit, pods: []corev1.Pod{kubeadm}, wantJudged: 1,
			wantFindings: []gotFinding{cpFail(audit, kubeadm, apiC+"--audit-policy-file is not set (no audit events are recorded); "+
				"neither --audit-log-path nor --audit-webhook-config-file is set (no audit backend)")},
		},
		"audit log without a policy records nothing": {
			check: audit, pods: []corev1.Pod{apiServerPod("--audit-log-path=/var/log/audit.log")}, wantJudged: 1,
			wantFindings: []gotFinding{cpFail(audit, kubeadm, apiC+"--audit-policy-file is not set (no audit events are recorded)")},
		},
		"audit policy with a webhook backend passes": {
			check: audit, pods: []corev1.Pod{apiServerPod("--audit-policy-file=/etc/audit/policy.yaml", "--audit-webhook-config-file=/etc/audit/webhook.yaml")}, wantJudged: 1,
		},
		"audit log to stdout, flag and value as two arguments, passes": {
			check: audit, pods: []corev1.Pod{apiServerPod("--audit-policy-file", "/etc/audit/policy.yaml", "--audit-log-path", "-")}, wantJudged: 1,
		},
		"audit log path set empty is no backend": {
			check: audit, pods: []corev1.Pod{apiServerPod("--audit-policy-file=/etc/audit/policy.yaml", "--audit-log-path=")}, wantJudged: 1,
			wantFindings: []gotFinding{cpFail(audit, kubeadm, apiC+"neither --audit-log-path nor --audit-webhook-config-file is set (no audit backend)")},
		},

		// Encryption at rest.
		"kubeadm defaults do not encrypt secrets": {
			check: encryption, pods: []corev1.Pod{kubeadm}, wantJudged: 1,
			wantFindings: []gotFinding{cpFail(encryption, kubeadm, apiC+"--encryption-provider-config is not set (Secrets are stored unencrypted in etcd)")},
		},
		"encryption provider config passes": {check: encryption, pods: []corev1.Pod{hardened}, wantJudged: 1},

		// Profiling, on three components; the scheduler's config file decides for it.
		"profiling on by default on every kubeadm component, etcd not judged": {
			check: profiling,
			pods: []corev1.Pod{
				etcdPod(), kubeadm,
				kubeadmPod(componentControllerManager, kubeadmControllerManagerFlags),
				kubeadmPod(componentScheduler, kubeadmSchedulerFlags),
			},
			wantJudged: 3,
			wantFindings: []gotFinding{
				cpFail(profiling, kubeadm, apiC+"--profiling is not set (defaults to true)"),
				cpFail(profiling, kubeadmPod(componentControllerManager, nil), `container "kube-controller-manager" (containers[0]): --profiling is not set (defaults to true)`),
				cpFail(profiling, kubeadmPod(componentScheduler, nil), `container "kube-scheduler" (containers[0]): --profiling is not set (defaults to true)`),
			},
		},
		"profiling off everywhere passes; a scheduler with --config is not judged": {
			check: profiling,
			pods: []corev1.Pod{
				hardened,
				kubeadmPod(componentControllerManager, kubeadmControllerManagerFlags, "--profiling=false"),
				kubeadmPod(componentScheduler, kubeadmSchedulerFlags, "--config=/etc/kubernetes/scheduler-config.yaml", "--profiling=true"),
			},
			wantJudged: 2,
		},
		"profiling explicitly true on the controller manager": {
			check:      profiling,
			pods:       []corev1.Pod{kubeadmPod(componentControllerManager, kubeadmControllerManagerFlags, "--profiling=true")},
			wantJudged: 1,
			wantFindings: []gotFinding{cpFail(profiling, kubeadmPod(componentControllerManager, nil),
				`container "kube-controller-manager" (containers[0]): --profiling=true`)},
		},

		// etcd client TLS, on etcd and on the API server's side.
		"kubeadm etcd and API server pass client TLS": {
			check: etcdClient, pods: []corev1.Pod{etcdPod(), kubeadm}, wantJudged: 2,
		},
		"external etcd: the API server alone is judged": {
			check: etcdClient, pods: []corev1.Pod{kubeadm}, wantJudged: 1,
		},
		"etcd without TLS flags: defaults are plaintext and unauthenticated": {
			check:      etcdClient,
			pods:       []corev1.Pod{kubeadmPod(componentEtcd, []string{"--data-dir=/var/lib/etcd", "--name=cp1"})},
			wantJudged: 1,
			wantFindings: []gotFinding{cpFail(etcdClient, etcdPod(), etcdC+"--cert-file is not set; --key-file is not set; "+
				"--client-cert-auth is not set (defaults to false); --listen-client-urls is not set (defaults to http://localhost:2379, no TLS)")},
		},
		"etcd with client-cert-auth off, auto TLS and a plaintext listener": {
			check: etcdClient,
			pods: []corev1.Pod{kubeadmPod(componentEtcd, without(kubeadmEtcdFlags, "--cert-file", "--key-file", "--client-cert-auth", "--listen-client-urls"),
				"--auto-tls", "--client-cert-auth=false", "--listen-client-urls=https://127.0.0.1:2379,http://user:pw@172.18.0.2:2379")},
			wantJudged: 1,
			wantFindings: []gotFinding{cpFail(etcdClient, etcdPod(), etcdC+"--cert-file is not set; --key-file is not set; "+
				"--auto-tls=true (self-signed certificates); --client-cert-auth=false; --listen-client-urls includes http://172.18.0.2:2379 (no TLS)")},
		},
		"API server without etcd client certificates, over http": {
			check: etcdClient,
			pods: []corev1.Pod{kubeadmPod(componentAPIServer, without(kubeadmAPIServerFlags, "--etcd-"),
				"--etcd-servers=http://10.0.0.5:2379,https://10.0.0.6:2379")},
			wantJudged: 1,
			wantFindings: []gotFinding{cpFail(etcdClient, kubeadm, apiC+"--etcd-certfile is not set; --etcd-keyfile is not set; "+
				"--etcd-cafile is not set; --etcd-servers includes http://10.0.0.5:2379 (no TLS)")},
		},
		"etcd configured through ETCD_* environment variables passes": {
			check: etcdClient,
			pods: []corev1.Pod{func() corev1.Pod {
				p := kubeadmPod(componentEtcd, []string{"--name=cp1"})
				p.Spec.Containers[0].Env = []corev1.EnvVar{
					{Name: "ETCD_CERT_FILE", Value: "/etc/etcd/server.crt"},
					{Name: "ETCD_KEY_FILE", Value: "/etc/etcd/server.key"},
					{Name: "ETCD_CLIENT_CERT_AUTH", Value: "true"},
					{Name: "ETCD_LISTEN_CLIENT_URLS", Value: "https://0.0.0.0:2379"},
				}
				return p
			}()},
			wantJudged: 1,
		},
		"ETCD_* values are never shown, and a flag overrides its variable": {
			check: etcdClient,
			pods: []corev1.Pod{func() corev1.Pod {
				p := kubeadmPod(componentEtcd, []string{"--name=cp1", "--key-file=/etc/etcd/server.key"})
				p.Spec.Containers[0].Env = []corev1.EnvVar{
					{Name: "ETCD_CERT_FILE", Value: "/etc/etcd/server.crt"},
					{Name: "ETCD_KEY_FILE", Value: ""},
					{Name: "ETCD_CLIENT_CERT_AUTH", Value: "false"},
					{Name: "ETCD_LISTEN_CLIENT_URLS", Value: "http://secret-host.internal:2379"},
				}
				return p
			}()},
			wantJudged: 1,
			wantFindings: []gotFinding{cpFail(etcdClient, etcdPod(), etcdC+`env ETCD_CLIENT_CERT_AUTH is not "true"; `+
				"env ETCD_LISTEN_CLIENT_URLS includes an http:// URL (no TLS)")},
		},
		"etcd with a config file is not judged": {
			check:            etcdPeer,
			pods:             []corev1.Pod{kubeadmPod(componentEtcd, []string{"--config-file=/etc/etcd/etcd.yaml"})},
			wantNotEvaluated: "no control-plane pod could be judged: kube-system/etcd-cp1: etcd --config-file sets the TLS settings in a file the scan cannot read",
		},
		"etcd setting from a valueFrom source is not judged": {
			check: etcdClient,
			pods: []corev1.Pod{func() corev1.Pod {
				p := kubeadmPod(componentEtcd, without(kubeadmEtcdFlags, "--client-cert-auth"))
				p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "ETCD_CLIENT_CERT_AUTH", ValueFrom: &corev1.EnvVarSource{
					ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "etcd"}, Key: "auth"},
				}}}
				return p
			}()},
			wantNotEvaluated: "no control-plane pod could be judged: kube-system/etcd-cp1: etcd's env ETCD_CLIENT_CERT_AUTH comes from " +
				"an env valueFrom or envFrom source the scan cannot read",
		},

		// etcd peer TLS.
		"kubeadm etcd passes peer TLS": {check: etcdPeer, pods: []corev1.Pod{etcdPod()}, wantJudged: 1},
		"single-member etcd without peer TLS is judged too": {
			check:      etcdPeer,
			pods:       []corev1.Pod{kubeadmPod(componentEtcd, without(kubeadmEtcdFlags, "--peer-", "--listen-peer-urls", "--initial-advertise-peer-urls"))},
			wantJudged: 1,
			wantFindings: []gotFinding{cpFail(etcdPeer, etcdPod(), etcdC+"--peer-cert-file is not set; --peer-key-file is not set; "+
				"--peer-client-cert-auth is not set (defaults to false); --listen-peer-urls is not set (defaults to http://localhost:2380, no TLS)")},
		},
		"etcd peers with certificates but no client-cert auth, single-dash flags": {
			check:        etcdPeer,
			pods:         []corev1.Pod{kubeadmPod(componentEtcd, without(kubeadmEtcdFlags, "--peer-client-cert-auth", "--peer-key-file"), "-peer-key-file", "/etc/etcd/peer.key", "-peer-auto-tls")},
			wantJudged:   1,
			wantFindings: []gotFinding{cpFail(etcdPeer, etcdPod(), etcdC+"--peer-client-cert-auth is not set (defaults to false)")},
		},

		// NodeRestriction.
		"kubeadm enables NodeRestriction": {check: nodeRestr, pods: []corev1.Pod{kubeadm}, wantJudged: 1},
		"no enabled plugins: NodeRestriction is off by default": {
			check: nodeRestr, pods: []corev1.Pod{kubeadmPod(componentAPIServer, without(kubeadmAPIServerFlags, "--enable-admission-plugins"))}, wantJudged: 1,
			wantFindings: []gotFinding{cpFail(nodeRestr, kubeadm, apiC+"--enable-admission-plugins is not set (NodeRestriction is off by default)")},
		},
		"enabled plugins without NodeRestriction": {
			check: nodeRestr, pods: []corev1.Pod{kubeadmPod(componentAPIServer, without(kubeadmAPIServerFlags, "--enable-admission-plugins"),
				"--enable-admission-plugins=PodSecurity, EventRateLimit")}, wantJudged: 1,
			wantFindings: []gotFinding{cpFail(nodeRestr, kubeadm, apiC+"--enable-admission-plugins=PodSecurity,EventRateLimit does not include NodeRestriction")},
		},
		"NodeRestriction disabled": {
			check: nodeRestr, pods: []corev1.Pod{apiServerPod("--disable-admission-plugins=NodeRestriction")}, wantJudged: 1,
			wantFindings: []gotFinding{cpFail(nodeRestr, kubeadm, apiC+"--disable-admission-plugins=NodeRestriction includes NodeRestriction")},
		},
		"NodeRestriction through the deprecated --admission-control": {
			check: nodeRestr, pods: []corev1.Pod{kubeadmPod(componentAPIServer, without(kubeadmAPIServerFlags, "--enable-admission-plugins"),
				"--admission-control=NamespaceLifecycle,NodeRestriction")}, wantJudged: 1,
		},

		// Hardened control plane passes every API server check.
		"hardened API server passes anonymous auth": {check: anonymous, pods: []corev1.Pod{hardened}, wantJudged: 1},
		"hardened API server passes audit logging":  {check: audit, pods: []corev1.Pod{hardened}, wantJudged: 1},
		"hardened API server passes profiling":      {check: profiling, pods: []corev1.Pod{hardened}, wantJudged: 1},

		// Several control-plane nodes: one finding per pod.
		"one finding per API server pod": {
			check: encryption,
			pods: []corev1.Pod{kubeadm, func() corev1.Pod {
				p := hardenedAPIServerPod()
				p.Name, p.UID = "kube-apiserver-cp2", uid("kube-apiserver-cp2")
				return p
			}(), func() corev1.Pod {
				p := apiServerPod()
				p.Name, p.UID = "kube-apiserver-cp3", uid("kube-apiserver-cp3")
				return p
			}()},
			wantJudged: 3,
			wantFindings: []gotFinding{
				cpFail(encryption, kubeadm, apiC+"--encryption-provider-config is not set (Secrets are stored unencrypted in etcd)"),
				{Check: encryption, Object: objRef("v1", "Pod", "kube-system", "kube-apiserver-cp3"),
					Message: apiC + "--encryption-provider-config is not set (Secrets are stored unencrypted in etcd)"},
			},
		},
	}
	for name, tc := range testCases {
		t.Run(name, func(t *testing.T) {
			s := readAll(func(s *inventory.Snapshot) { s.Pods = tc.pods })
			o := runCheck(t, tc.check, s, nil)
			wantEvaluated := tc.wantNotEvaluated == ""
			if o.Evaluated != wantEvaluated || o.NotEvaluatedReason != tc.wantNotEvaluated {
				t.Errorf("Evaluated=%t reason=%q, want %t %q", o.Evaluated, o.NotEvaluatedReason, wantEvaluated, tc.wantNotEvaluated)
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

// TestControlPlaneIdentification covers the ways a control-plane pod is
// recognised and its command line found.
func TestControlPlaneIdentification(t *testing.T) {
	const check = "controlplane-encryption-at-rest"
	unencrypted := "--encryption-provider-config is not set (Secrets are stored unencrypted in etcd)"
	bare := func(name string, spec corev1.PodSpec, edit func(*corev1.Pod)) corev1.Pod {
		p := pod(metav1.NamespaceSystem, name, spec)
		if edit != nil {
			edit(&p)
		}
		return p
	}
	containers := func(cs ...corev1.Container) corev1.PodSpec { return corev1.PodSpec{Containers: cs} }
	flags := func(extra ...string) []string { return append(slices.Clone(kubeadmAPIServerFlags), extra...) }

	testCases := map[string]struct {
		pod              corev1.Pod
		wantMessage      string // "" for a pass
		wantNotEvaluated string
	}{
		"mirror pod without labels, found by its binary": {
			pod: bare("apiserver-node1", containers(componentContainer("main", "/usr/local/bin/kube-apiserver", flags()...)), func(p *corev1.Pod) {
				p.Annotations = map[string]string{corev1.MirrorPodAnnotationKey: "x"}
			}),
			wantMessage: `container "main" (containers[0]): ` + unencrypted,
		},
		"pod owned by its Node, found by its binary": {
			pod: bare("apiserver-node1", containers(componentContainer("main", "kube-apiserver", flags()...)), func(p *corev1.Pod) {
				p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: "node1", Controller: new(true)}}
			}),
			wantMessage: `container "main" (containers[0]): ` + unencrypted,
		},
		"kOps k8s-app label, binary in a sh -c script": {
			pod: bare("kube-apiserver-ip-10-0-0-1", containers(corev1.Container{
				Name: "kube-apiserver", Command: []string{"/bin/sh", "-c",
					`mkdir -p /var/log && exec /usr/local/bin/kube-apiserver --allow-privileged=true --profiling="false"`},
			}), func(p *corev1.Pod) { p.Labels = map[string]string{"k8s-app": "kube-apiserver"} }),
			wantMessage: `container "kube-apiserver" (containers[0]): ` + unencrypted,
		},
		"exec inside sh -c, then the flags": {
			pod: bare("kube-apiserver-ip-10-0-0-1", containers(corev1.Container{
				Name: "kube-apiserver", Command: []string{"/bin/sh", "-c",
					`exec /usr/local/bin/kube-apiserver --encryption-provider-config='/srv/kubernetes/encryption config.yaml' --allow-privileged=true`},
			}), func(p *corev1.Pod) { p.Labels = map[string]string{"k8s-app": "kube-apiserver"} }),
		},
		"go-runner wrapper (kOps, registry.k8s.io images)": {
			pod: bare("kube-apiserver-ip-10-0-0-1", containers(componentContainer("kube-apiserver", "/go-runner",
				append([]string{"--log-file=/var/log/kube-apiserver.log", "--also-stdout", "/usr/local/bin/kube-apiserver"}, flags()...)...)),
				func(p *corev1.Pod) { p.Labels = map[string]string{"k8s-app": "kube-apiserver"} }),
			wantMessage: `container "kube-apiserver" (containers[0]): ` + unencrypted,
		},
		"hyperkube subcommand": {
			pod: bare("kube-apiserver-old", containers(componentContainer("apiserver", "/hyperkube", append([]string{"apiserver"}, flags("--encryption-provider-config=/etc/enc.yaml")...)...)), func(p *corev1.Pod) {
				p.Labels = map[string]string{"tier": "control-plane"}
			}),
		},
		"labelled pod whose image entrypoint runs the binary: the args are its flags": {
			pod: bare("kube-apiserver-cp1", containers(corev1.Container{Name: "kube-apiserver", Args: flags()}), func(p *corev1.Pod) {
				p.Labels = map[string]string{"component": "kube-apiserver"}
			}),
			wantMessage: `container "kube-apiserver" (containers[0]): ` + unencrypted,
		},
		"labelled pod with a sidecar: the component's container is judged": {
			pod: bare("kube-apiserver-cp1", containers(
				corev1.Container{Name: "log-shipper", Command: []string{"/fluent-bit", "-c", "/etc/kube-apiserver.conf"}},
				componentContainer("kube-apiserver", "kube-apiserver", flags()...),
			), func(p *corev1.Pod) { p.Labels = map[string]string{"component": "kube-apiserver"} }),
			wantMessage: `container "kube-apiserver" (containers[1]): ` + unencrypted,
		},
		"a flag value naming a binary is not the binary": {
			pod: bare("etcd-manager-main-ip-10-0-0-1", containers(corev1.Container{
				Name: "etcd-manager", Command: []string{"/etcd-manager", "--data-dir", "/var/lib/kube-apiserver"},
			}), func(p *corev1.Pod) {
				p.Labels = map[string]string{"k8s-app": "etcd-manager-main"}
				p.Annotations = map[string]string{corev1.MirrorPodAnnotationKey: "x"}
			}),
			wantNotEvaluated: "no kube-apiserver static pod visible in kube-system (a managed control plane?)",
		},
		"labelled pod whose wrapper hides the command line": {
			pod: bare("kube-apiserver-cp1", containers(corev1.Container{Name: "kube-apiserver", Command: []string{"/start-apiserver.sh"}}), func(p *corev1.Pod) {
				p.Labels = map[string]string{"component": "kube-apiserver"}
			}),
			wantNotEvaluated: `no control-plane pod could be judged: kube-system/kube-apiserver-cp1: the kube-apiserver command line is not visible in container "kube-apiserver"`,
		},
	}
	for name, tc := range testCases {
		t.Run(name, func(t *testing.T) {
			s := readAll(func(s *inventory.Snapshot) { s.Pods = []corev1.Pod{tc.pod} })
			o := runCheck(t, check, s, nil)
			if o.NotEvaluatedReason != tc.wantNotEvaluated {
				t.Fatalf("NotEvaluatedReason = %q, want %q", o.NotEvaluatedReason, tc.wantNotEvaluated)
			}
			var wantFindings []gotFinding
			wantJudged := 0
			if tc.wantNotEvaluated == "" {
				wantJudged = 1
				if tc.wantMessage != "" {
					wantFindings = []gotFinding{{Check: check, Object: podRef(tc.pod), Message: tc.wantMessage}}
				}
			}
			if o.Judged != wantJudged {
				t.Errorf("Judged = %d, want %d", o.Judged, wantJudged)
			}
			if diff := cmp.Diff(wantFindings, summarize(o.Findings)); diff != "" {
				t.Errorf("findings mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestControlPlaneNeedsPods checks that an unreadable Pod kind leaves every
// control-plane check not evaluated, and that each check declares it.
func TestControlPlaneNeedsPods(t *testing.T) {
	for _, c := range controlPlaneChecks() {
		t.Run(c.ID, func(t *testing.T) {
			s := readAll(func(s *inventory.Snapshot) { s.Pods = []corev1.Pod{apiServerPod(), etcdPod()} })
			s.MarkMissing(inventory.KindPod, inventory.MissingForbidden, "forbidden")
			o := runCheck(t, c.ID, s, nil)
			if o.Evaluated || o.Judged != 0 || len(o.Findings) != 0 {
				t.Errorf("Evaluated=%t Judged=%d findings=%v, want not evaluated", o.Evaluated, o.Judged, summarize(o.Findings))
			}
			if diff := cmp.Diff([]inventory.Kind{inventory.KindPod}, o.MissingKinds); diff != "" {
				t.Errorf("MissingKinds mismatch (-want +got):\n%s", diff)
			}
			if c.Evidence == "" || c.Category != CategoryControlPlane || !strings.HasPrefix(c.ID, "controlplane-") {
				t.Errorf("check %s: Evidence %q, Category %q: want evidence, control-plane, controlplane- prefix", c.ID, c.Evidence, c.Category)
			}
		})
	}
}

func TestShellCommands(t *testing.T) {
	testCases := map[string]struct {
		script string
		want   [][]string
	}{
		"plain words": {script: "exec etcd --name=a  --data-dir /x", want: [][]string{{"exec", "etcd", "--name=a", "--data-dir", "/x"}}},
		"quotes":      {script: `a --x="b c" --y='d "e"' f\ g`, want: [][]string{{"a", `--x=b c`, `--y=d "e"`, "f g"}}},
		"operators and new lines split commands": {
			script: "mkfifo /p; (cat /p | tee -a /l &) ; exec etcd --a=b > /p 2>&1\necho done",
			want:   [][]string{{"mkfifo", "/p"}, {"(cat", "/p"}, {"tee", "-a", "/l"}, {")"}, {"exec", "etcd", "--a=b", ">", "/p", "2>"}, {"1"}, {"echo", "done"}},
		},
		"line continuation": {script: "etcd \\\n --a=b", want: [][]string{{"etcd", "--a=b"}}},
	}
	for name, tc := range testCases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, shellCommands(tc.script)); diff != "" {
				t.Errorf("shellCommands mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
