package checks

import (
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// labeledNamespace is a namespace with the given labels (key, value, ...).
func labeledNamespace(name string, kv ...string) corev1.Namespace {
	ns := namespace(name)
	ns.Labels = kvMap(kv...)
	return ns
}

func limitRange(ns, name string, items ...corev1.LimitRangeItem) corev1.LimitRange {
	return corev1.LimitRange{ObjectMeta: objectMeta(ns, name), Spec: corev1.LimitRangeSpec{Limits: items}}
}

func resourceQuota(ns, name string, hard corev1.ResourceList) corev1.ResourceQuota {
	return corev1.ResourceQuota{ObjectMeta: objectMeta(ns, name), Spec: corev1.ResourceQuotaSpec{Hard: hard}}
}

func nsQuantity(s string) resource.Quantity { return resource.MustParse(s) }

// validatingWebhook is a ValidatingWebhookConfiguration with one webhook
// calling the given service.
func validatingWebhook(name, webhook, svcNamespace, svcName string) admissionregistrationv1.ValidatingWebhookConfiguration {
	return admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: objectMeta("", name),
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name:         webhook,
			ClientConfig: admissionregistrationv1.WebhookClientConfig{Service: &admissionregistrationv1.ServiceReference{Namespace: svcNamespace, Name: svcName}},
		}},
	}
}

func admissionPolicy(name string) admissionregistrationv1.ValidatingAdmissionPolicy {
	return admissionregistrationv1.ValidatingAdmissionPolicy{ObjectMeta: objectMeta("", name)}
}

func admissionPolicyBinding(name, policy string, actions ...admissionregistrationv1.ValidationAction) admissionregistrationv1.ValidatingAdmissionPolicyBinding {
	return admissionregistrationv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: objectMeta("", name),
		Spec:       admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{PolicyName: policy, ValidationActions: actions},
	}
}
