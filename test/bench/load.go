package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/kubeposture/kubeposture/test/bench/synth"
	"github.com/kubeposture/kubeposture/test/cluster"
)

// createRetryFor is how long a create is retried when the API server says
// "not yet" (a namespace's default ServiceAccount not made yet, throttling).
const createRetryFor = time.Minute

// load creates the cluster's objects with parallel creates, in three waves:
// namespaces and cluster-scoped objects; namespaced objects that own
// nothing and are owned by nothing but Pods; then bare Pods (once
// ServiceAccounts exist) and owned objects, whose owner references are
// rewritten to the UIDs the API server gave their owners.
func load(ctx context.Context, c client.Client, objs []client.Object, workers int) error {
	var waves [3][]client.Object
	for _, o := range objs {
		switch {
		case o.GetNamespace() == "":
			waves[0] = append(waves[0], o)
		case len(o.GetOwnerReferences()) > 0, isPod(o):
			waves[2] = append(waves[2], o)
		default:
			waves[1] = append(waves[1], o)
		}
	}
	var uids sync.Map // generated UID -> the API server's
	for _, wave := range waves {
		err := parallel(ctx, workers, wave, func(ctx context.Context, o client.Object) error {
			o = o.DeepCopyObject().(client.Object)
			generated := o.GetUID()
			o.SetUID("")
			refs := o.GetOwnerReferences()
			for i := range refs {
				given, ok := uids.Load(refs[i].UID)
				if !ok {
					return fmt.Errorf("%s %s/%s: owner %s %s was not created", kindOf(o), o.GetNamespace(), o.GetName(), refs[i].Kind, refs[i].Name)
				}
				refs[i].UID = given.(types.UID)
			}
			o.SetOwnerReferences(refs)
			if err := create(ctx, c, o); err != nil {
				return err
			}
			if generated != "" {
				uids.Store(generated, o.GetUID())
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// parallel calls fn for every item with at most workers calls at once, and
// returns the first error; the first error cancels the calls to come.
func parallel[T any](ctx context.Context, workers int, items []T, fn func(context.Context, T) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sem := make(chan struct{}, max(1, workers))
	var wg sync.WaitGroup
	for _, item := range items {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := fn(ctx, item); err != nil {
				cancel(err)
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}

func isPod(o client.Object) bool { _, ok := o.(*corev1.Pod); return ok }

func kindOf(o client.Object) string {
	return strings.TrimPrefix(fmt.Sprintf("%T", o), "*")
}

// create creates o, retrying while the API server answers "not yet".
func create(ctx context.Context, c client.Client, o client.Object) error {
	deadline := time.Now().Add(createRetryFor)
	for {
		err := c.Create(ctx, o)
		switch {
		case err == nil, apierrors.IsAlreadyExists(err):
			return nil
		case time.Now().After(deadline) || !retriable(err):
			return fmt.Errorf("creating %s %s/%s: %w", kindOf(o), o.GetNamespace(), o.GetName(), err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func retriable(err error) bool {
	return apierrors.IsTooManyRequests(err) || apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) ||
		apierrors.IsServiceUnavailable(err) || apierrors.IsInternalError(err) ||
		// The ServiceAccount admission plugin rejects Pods until the namespace's ServiceAccount exists.
		apierrors.IsForbidden(err) && strings.Contains(err.Error(), "service account")
}

// waitForControllers waits until kube-controller-manager has made every Pod
// and ReplicaSet, and the Deployments' status says so.
func waitForControllers(ctx context.Context, c client.Client, want *synth.Cluster) error {
	timeout := 3*time.Minute + time.Duration(want.Pods)*30*time.Millisecond
	var last string
	err := cluster.WaitFor(ctx, timeout, func() (bool, error) {
		pods, err := count(ctx, c, corev1.SchemeGroupVersion.WithKind("PodList"))
		if err != nil {
			return false, err
		}
		rss, err := count(ctx, c, appsv1.SchemeGroupVersion.WithKind("ReplicaSetList"))
		if err != nil {
			return false, err
		}
		last = fmt.Sprintf("%d of %d Pods, %d of %d ReplicaSets", pods, want.Pods, rss, want.ReplicaSets)
		if pods < want.Pods || rss < want.ReplicaSets {
			return false, nil
		}
		var deps appsv1.DeploymentList
		if err := c.List(ctx, &deps); err != nil {
			return false, err
		}
		for _, d := range deps.Items {
			if d.Status.ObservedGeneration != d.Generation || d.Status.Replicas != *d.Spec.Replicas {
				last = fmt.Sprintf("Deployment %s/%s not synced", d.Namespace, d.Name)
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for kube-controller-manager (%s): %w", last, err)
	}
	return nil
}

// count counts objects with a metadata-only paginated list.
func count(ctx context.Context, c client.Reader, listGVK schema.GroupVersionKind) (int, error) {
	n := 0
	opts := []client.ListOption{client.Limit(500)}
	for {
		l := &metav1.PartialObjectMetadataList{}
		l.SetGroupVersionKind(listGVK)
		if err := c.List(ctx, l, opts...); err != nil {
			return 0, fmt.Errorf("counting %s: %w", listGVK.Kind, err)
		}
		n += len(l.Items)
		if l.Continue == "" {
			return n, nil
		}
		opts = []client.ListOption{client.Limit(500), client.Continue(l.Continue)}
	}
}

// writeManifests writes objects as multi-document YAML, one file per kind,
// without managedFields (as kubectl get shows them). It returns the bytes written.
func writeManifests(dir string, objs []client.Object) (int64, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, fmt.Errorf("creating %s: %w", dir, err)
	}
	files := map[string]*bufio.Writer{}
	var closers []*os.File
	defer func() {
		for _, f := range closers {
			_ = f.Close()
		}
	}()
	var total int64
	for _, o := range objs {
		kind := o.GetObjectKind().GroupVersionKind().Kind
		if kind == "" {
			return 0, fmt.Errorf("%s %s/%s has no kind", kindOf(o), o.GetNamespace(), o.GetName())
		}
		w, ok := files[kind]
		if !ok {
			f, err := os.Create(filepath.Join(dir, strings.ToLower(kind)+".yaml"))
			if err != nil {
				return 0, fmt.Errorf("creating a manifest file: %w", err)
			}
			closers = append(closers, f)
			w = bufio.NewWriterSize(f, 1<<20)
			files[kind] = w
		}
		o.SetManagedFields(nil)
		data, err := yaml.Marshal(o)
		if err != nil {
			return 0, fmt.Errorf("encoding %s %s/%s: %w", kind, o.GetNamespace(), o.GetName(), err)
		}
		n, _ := w.WriteString("---\n")
		m, err := w.Write(data)
		if err != nil {
			return 0, fmt.Errorf("writing %s: %w", dir, err)
		}
		total += int64(n + m)
	}
	for kind, w := range files {
		if err := w.Flush(); err != nil {
			return 0, fmt.Errorf("writing %s manifests in %s: %w", kind, dir, err)
		}
	}
	for _, f := range closers {
		if err := f.Close(); err != nil {
			return 0, fmt.Errorf("writing %s: %w", f.Name(), err)
		}
	}
	closers = nil
	return total, nil
}
