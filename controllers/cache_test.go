package controllers_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
)

// The manager's cache holds Secrets as metadata only: the canary planted in a
// Secret's data is nowhere in it, and a typed read of Secrets fails instead
// of starting a full Secret informer.
func TestCacheNeverHoldsSecretData(t *testing.T) {
	const canary = "kubeposture-canary-7f3a9c"
	ns := "cache-secrets"
	ensureNamespace(t, ns, nil)
	create(t, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "db", Annotations: map[string]string{
			"kubectl.kubernetes.io/last-applied-configuration": `{"data":{"password":"` + canary + `"}}`,
		}},
		StringData: map[string]string{"password": canary},
		Data:       map[string][]byte{"token": []byte(canary)},
	})

	secretMeta := &metav1.PartialObjectMetadata{}
	secretMeta.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	informer, err := managerCache.GetInformer(testCtx, secretMeta)
	if err != nil {
		t.Fatal(err)
	}
	store := informer.(toolscache.SharedIndexInformer).GetStore()
	eventually(t, scanTimeout, func() error {
		if _, ok, _ := store.GetByKey(ns + "/db"); !ok {
			return errors.New("the metadata informer has not seen the secret yet")
		}
		return nil
	})
	for _, obj := range store.List() {
		if _, ok := obj.(*metav1.PartialObjectMetadata); !ok {
			t.Fatalf("the Secret informer holds %T, want *metav1.PartialObjectMetadata", obj)
		}
		data, err := json.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(data), canary) {
			t.Errorf("cached Secret metadata holds the canary: %s", data)
		}
	}
	// The transform also strips last-applied (which can hold a Secret's data) and managedFields.
	obj, _, _ := store.GetByKey(ns + "/db")
	if m := obj.(*metav1.PartialObjectMetadata); len(m.ManagedFields) != 0 || m.Annotations["kubectl.kubernetes.io/last-applied-configuration"] != "" {
		t.Errorf("cached metadata keeps managedFields or last-applied: %+v", m.ObjectMeta)
	}

	// No typed Secret informer exists, and reading Secrets typed through the cache fails.
	err = managerCache.List(testCtx, &corev1.SecretList{})
	var notCached *cache.ErrResourceNotCached
	if !errors.As(err, &notCached) {
		t.Errorf("typed List of Secrets from the cache: err = %v, want ErrResourceNotCached", err)
	}
}
