package controllers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"github.com/kubeposture/kubeposture/internal/inventory"
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
	// APIReader reads from the API server itself (Fetch).
	APIReader client.Reader
	// SyncTimeout bounds the wait for a new informer to sync; 0 means
	// DefaultInformerSyncTimeout.
	SyncTimeout time.Duration
}

var (
	_ client.Reader     = (*InformerReader)(nil)
	_ inventory.Visitor = (*InformerReader)(nil)
)

// Get reads one object from the cache, starting its informer if needed.
func (r *InformerReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if _, err := r.ensure(ctx, obj); err != nil {
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
	if _, err := r.ensure(ctx, item); err != nil {
		return err
	}
	return r.Cache.List(ctx, list, opts...)
}

// Visit calls fn with each object the cache holds of obj's kind, as the
// cache holds it (never copied: fn must not mutate it), starting the kind's
// informer if needed. Of Pods, ReplicaSets and Jobs the cache holds
// identities (*metav1.PartialObjectMetadata) beside typed objects
// (inventory.Trim), which List cannot put in a typed list.
func (r *InformerReader) Visit(ctx context.Context, obj client.Object, fn func(runtime.Object)) error {
	informer, err := r.ensure(ctx, obj)
	if err != nil {
		return err
	}
	store, ok := informer.(interface{ GetStore() toolscache.Store })
	if !ok {
		return fmt.Errorf("the informer for %T is a %T, which gives no access to its store", obj, informer)
	}
	for _, item := range store.GetStore().List() {
		o, ok := item.(runtime.Object)
		if !ok {
			return fmt.Errorf("the cache of %T holds a %T, which is not an object", obj, item)
		}
		fn(o)
	}
	return nil
}

// Fetch reads the object that the cache holds as identity id whole, from
// the API server (not through the cache, which holds only id), or nil if
// it no longer exists.
func (r *InformerReader) Fetch(ctx context.Context, id *metav1.PartialObjectMetadata) (runtime.Object, error) {
	if r.APIReader == nil {
		return nil, errors.New("no API reader to read objects whole")
	}
	o, err := r.Scheme.New(id.GroupVersionKind())
	if err != nil {
		return nil, err
	}
	obj, ok := o.(client.Object)
	if !ok {
		return nil, fmt.Errorf("%s is not an object", id.GroupVersionKind())
	}
	switch err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: id.Namespace, Name: id.Name}, obj); {
	case apierrors.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, err
	}
	if obj.GetUID() != id.UID {
		return nil, nil // deleted and created anew: the new one is in the cache, or soon will be
	}
	return obj, nil
}

// ensure starts obj's informer (metadata-only for PartialObjectMetadata),
// waits until it has synced, and returns it.
func (r *InformerReader) ensure(ctx context.Context, obj client.Object) (cache.Informer, error) {
	timeout := r.SyncTimeout
	if timeout == 0 {
		timeout = DefaultInformerSyncTimeout
	}
	syncCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	informer, err := r.Cache.GetInformer(syncCtx, obj, cache.BlockUntilSynced(true))
	if err != nil {
		gvk, _ := apiutil.GVKForObject(obj, r.Scheme)
		if syncCtx.Err() != nil && ctx.Err() == nil {
			return nil, fmt.Errorf("the informer for %s did not sync within %s", gvk.Kind, timeout)
		}
		return nil, fmt.Errorf("starting the informer for %s: %w", gvk.Kind, err)
	}
	return informer, nil
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
