package inventory

import (
	"context"
	"fmt"

	authorizationv1 "k8s.io/api/authorization/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// SelfAccess answers Access with SelfSubjectAccessReviews: may the
// manager list and watch a kind cluster-wide?
type SelfAccess struct {
	Client client.Client
}

var _ Access = (*SelfAccess)(nil)

// CanList reports whether the manager may list and watch kind k in all namespaces.
func (a *SelfAccess) CanList(ctx context.Context, k Kind) (bool, string, error) {
	resource, ok := resources[k]
	if !ok {
		return false, "", fmt.Errorf("no resource known for kind %s", k)
	}
	gvk := GVK(k)
	for _, verb := range []string{"list", "watch"} {
		review := &authorizationv1.SelfSubjectAccessReview{
			Spec: authorizationv1.SelfSubjectAccessReviewSpec{
				ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: verb, Group: gvk.Group, Resource: resource},
			},
		}
		if err := a.Client.Create(ctx, review); err != nil {
			return false, "", fmt.Errorf("reviewing access to %s: %w", k, err)
		}
		if !review.Status.Allowed {
			return false, fmt.Sprintf("forbidden: cannot %s %s", verb, resource), nil
		}
	}
	return true, "", nil
}

// resources are the plural names that inventory kinds are served as.
var resources = map[Kind]string{
	KindNamespace:          "namespaces",
	KindPod:                "pods",
	KindService:            "services",
	KindServiceAccount:     "serviceaccounts",
	KindSecret:             "secrets",
	KindDeployment:         "deployments",
	KindReplicaSet:         "replicasets",
	KindStatefulSet:        "statefulsets",
	KindDaemonSet:          "daemonsets",
	KindJob:                "jobs",
	KindCronJob:            "cronjobs",
	KindIngress:            "ingresses",
	KindNetworkPolicy:      "networkpolicies",
	KindRole:               "roles",
	KindClusterRole:        "clusterroles",
	KindRoleBinding:        "rolebindings",
	KindClusterRoleBinding: "clusterrolebindings",
	KindLimitRange:         "limitranges",
	KindResourceQuota:      "resourcequotas",
	KindStorageClass:       "storageclasses",

	KindValidatingWebhookConfiguration:   "validatingwebhookconfigurations",
	KindMutatingWebhookConfiguration:     "mutatingwebhookconfigurations",
	KindValidatingAdmissionPolicy:        "validatingadmissionpolicies",
	KindValidatingAdmissionPolicyBinding: "validatingadmissionpolicybindings",
}

// Resource returns the plural resource name a kind is served as.
func Resource(k Kind) (string, bool) {
	r, ok := resources[k]
	return r, ok
}
