package controllers

import (
	"context"
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
)

// DefaultInformerSyncTimeout bounds how long a scan waits for a kind's
// informer to sync before it records the kind as missing.
const DefaultInformerSyncTimeout = 5 * time.Minute

// InformerReader reads the scanned kinds from the manager's cache, starting
// each kind's informer on its first read and waiting for it to sync.
//
// Informers are started lazily, by a scan that has just checked (with a
// SelfSubjectAccessReview) that it may list and watch the kind, rather than
// all at the manager's start: the manager waits for every informer
// registered before it starts to sync, and an informer for a kind its RBAC
// forbids never syncs, so one missing permission would stop every scan. A
// kind granted later is read by the next scan without a restart.
type InformerReader struct {
	// Cache is the manager's cache (CacheOptions).
	Cache cache.Cache
	// Scheme maps list types to their item types.
	Scheme *runtime.Scheme
	// SyncTimeout bounds the wait for a new informer to sync; 0 means
	// DefaultInformerSyncTimeout.
	SyncTimeout time.Duration
}

var _ client.Reader = (*InformerReader)(nil)

// Get reads one object from the cache, starting its informer if needed.
func (r *InformerReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if err := r.ensure(ctx, obj); err != nil {
		return err
	}
	return r.Cache.Get(ctx, key, obj, opts...)
}

// List reads a list from the cache, starting the informer of its items if needed.
func (r *InformerReader) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	item, err := r.itemOf(list)
	if err != nil {
		return err
	}
	if err := r.ensure(ctx, item); err != nil {
		return err
	}
	return r.Cache.List(ctx, list, opts...)
}

// ensure starts obj's informer (metadata-only for PartialObjectMetadata)
// and waits until it has synced.
func (r *InformerReader) ensure(ctx context.Context, obj client.Object) error {
	timeout := r.SyncTimeout
	if timeout == 0 {
		timeout = DefaultInformerSyncTimeout
	}
	syncCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if _, err := r.Cache.GetInformer(syncCtx, obj, cache.BlockUntilSynced(true)); err != nil {
		gvk, _ := apiutil.GVKForObject(obj, r.Scheme)
		if syncCtx.Err() != nil && ctx.Err() == nil {
			return fmt.Errorf("the informer for %s did not sync within %s", gvk.Kind, timeout)
		}
		return fmt.Errorf("starting the informer for %s: %w", gvk.Kind, err)
	}
	return nil
}

// itemOf returns an empty item of list's kind: a PartialObjectMetadata for
// a metadata list, else a typed object from the scheme.
func (r *InformerReader) itemOf(list client.ObjectList) (client.Object, error) {
	gvk, err := apiutil.GVKForObject(list, r.Scheme)
	if err != nil {
		return nil, err
	}
	gvk.Kind = strings.TrimSuffix(gvk.Kind, "List")
	if _, ok := list.(*metav1.PartialObjectMetadataList); ok {
		m := &metav1.PartialObjectMetadata{}
		m.SetGroupVersionKind(gvk)
		return m, nil
	}
	o, err := r.Scheme.New(gvk)
	if err != nil {
		return nil, fmt.Errorf("no type for %s: %w", gvk, err)
	}
	obj, ok := o.(client.Object)
	if !ok {
		return nil, fmt.Errorf("%s is not an object", gvk)
	}
	return obj, nil
}
