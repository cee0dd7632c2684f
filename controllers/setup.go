package controllers

import (
	"context"
	"errors"
	"fmt"

	openreportsv1alpha1 "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	posturev1alpha1 "github.com/kubeposture/kubeposture/api/v1alpha1"
	"github.com/kubeposture/kubeposture/internal/inventory"
)

// AddToScheme registers every type the manager's client reads or writes:
// the built-in kinds, kubeposture's, and the OpenReports kinds (applied
// typed, which needs their group's options registered).
func AddToScheme(s *runtime.Scheme) error {
	return errors.Join(clientgoscheme.AddToScheme(s), posturev1alpha1.AddToScheme(s), openreportsv1alpha1.Install(s))
}

// CacheOptions configures the manager's cache for scanning: objects trimmed
// to what the checks read (inventory.Trim: controlled Pods, ReplicaSets and
// Jobs as identities only; no managedFields, last-applied annotation or
// status; repeated strings held once), and a read of a kind no informer was
// started for is an error, not a second full cache started in secret.
func CacheOptions() cache.Options {
	return cache.Options{
		DefaultTransform:            inventory.Trim,
		ReaderFailOnMissingInformer: true,
	}
}

// ClientOptions makes the manager's client never cache Secrets: it reads
// them only as metadata, through the cache's metadata informer.
func ClientOptions() client.Options {
	return client.Options{Cache: &client.CacheOptions{DisableFor: []client.Object{&corev1.Secret{}}}}
}

// StartInformers registers an informer for every kind a scan reads (Secrets
// as metadata only) without waiting for them to sync: a kind the manager is
// forbidden to list must not block the manager's start.
func StartInformers(ctx context.Context, c cache.Cache, kinds []inventory.Kind) error {
	for _, k := range kinds {
		if _, err := c.GetInformer(ctx, inventory.Object(k), cache.BlockUntilSynced(false)); err != nil {
			return fmt.Errorf("starting informer for %s: %w", k, err)
		}
	}
	return nil
}
