package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	posturev1alpha1 "github.com/kubeposture/kubeposture/api/v1alpha1"
	"github.com/kubeposture/kubeposture/internal/report"
)

// Reports are written whole: a create (POST) when the scan has none there, a
// replace (PUT) at the resourceVersion the scan last read when its content
// changed. Both cost the API server less than a server-side apply of the same
// report (measured on a 10,000-Pod cluster's 100 reports, 6.4 MB of JSON, in
// docs/performance.md): an apply body is decoded as YAML and merged field by
// field under the field manager, a create or a replace is decoded as JSON and
// recorded under the field manager whole. A replace keeps what others added
// to the report's metadata (see ownedMeta), which an apply would also keep.

// ObjectWriter writes whole objects: Create makes one, Update replaces one at
// the resourceVersion it carries. Both report failures as API errors
// (apierrors.IsConflict and the like).
type ObjectWriter interface {
	Create(ctx context.Context, obj client.Object) error
	Update(ctx context.Context, obj client.Object) error
}

// metadataOnly asks the API server to answer a write with the written
// object's metadata, not the whole object: a report's answer would be as
// large as the report, encoded by the API server and decoded here for
// nothing.
const metadataOnly = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"

// NewObjectWriter returns an ObjectWriter that sends an object as JSON, with
// the operator's field manager, to the resource the REST mapper names for
// its apiVersion and kind (which the object must carry), and reads back only
// the written object's metadata: its resourceVersion and uid are set on obj.
// The object's type need not be in any scheme.
func NewObjectWriter(cfg *rest.Config, httpClient *http.Client, mapper meta.RESTMapper) ObjectWriter {
	return &restWriter{cfg: cfg, http: httpClient, mapper: mapper, clients: map[schema.GroupVersion]rest.Interface{}}
}

type restWriter struct {
	cfg    *rest.Config
	http   *http.Client
	mapper meta.RESTMapper

	mu      sync.Mutex
	clients map[schema.GroupVersion]rest.Interface
}

func (w *restWriter) Create(ctx context.Context, obj client.Object) error {
	return w.write(ctx, obj, http.MethodPost)
}

func (w *restWriter) Update(ctx context.Context, obj client.Object) error {
	return w.write(ctx, obj, http.MethodPut)
}

func (w *restWriter) write(ctx context.Context, obj client.Object, method string) error {
	gvk := obj.GetObjectKind().GroupVersionKind()
	if gvk.Kind == "" || gvk.Version == "" {
		return fmt.Errorf("writing %s/%s: the object carries no apiVersion and kind", obj.GetNamespace(), obj.GetName())
	}
	mapping, err := w.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return err
	}
	rc, err := w.client(gvk)
	if err != nil {
		return err
	}
	body, err := json.Marshal(obj)
	if err != nil {
		return fmt.Errorf("encoding %s %s/%s: %w", gvk.Kind, obj.GetNamespace(), obj.GetName(), err)
	}
	req := rc.Verb(method).
		NamespaceIfScoped(obj.GetNamespace(), mapping.Scope.Name() == meta.RESTScopeNameNamespace).
		Resource(mapping.Resource.Resource).
		Param("fieldManager", FieldOwner).
		SetHeader("Content-Type", runtime.ContentTypeJSON).
		SetHeader("Accept", metadataOnly).
		Body(body)
	if method == http.MethodPut {
		req = req.Name(obj.GetName())
	}
	raw, err := req.Do(ctx).Raw()
	if err != nil {
		return apiError(raw, err)
	}
	var written metav1.PartialObjectMetadata
	if err := json.Unmarshal(raw, &written); err != nil {
		return fmt.Errorf("reading the API server's answer to writing %s %s/%s: %w", gvk.Kind, obj.GetNamespace(), obj.GetName(), err)
	}
	obj.SetResourceVersion(written.ResourceVersion)
	obj.SetUID(written.UID)
	return nil
}

// apiError is the API server's Status in body, when it is one, as an API
// error. client-go does not decode the Status of an answer whose content
// type carries the metadataOnly parameters, and its own error has the status
// code's reason but not the message ("... because it is being terminated").
func apiError(body []byte, err error) error {
	var st metav1.Status
	if json.Unmarshal(body, &st) != nil || st.Kind != "Status" || st.Status != metav1.StatusFailure {
		return err
	}
	return &apierrors.StatusError{ErrStatus: st}
}

// client is a REST client for gvk's group and version, made once.
func (w *restWriter) client(gvk schema.GroupVersionKind) (rest.Interface, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if rc, ok := w.clients[gvk.GroupVersion()]; ok {
		return rc, nil
	}
	// JSON both ways: custom resources have no protobuf, and the Status of
	// an error decodes with client-go's codecs.
	rc, err := apiutil.RESTClientForGVK(gvk, true, false, w.cfg, clientgoscheme.Codecs, w.http)
	if err != nil {
		return nil, fmt.Errorf("REST client for %s: %w", gvk.GroupVersion(), err)
	}
	w.clients[gvk.GroupVersion()] = rc
	return rc, nil
}

// ownedObject is what a scan knows of an object it wrote before, from a
// metadata list: its metadata, and its content hash ("" when an earlier
// ClusterScan of the same name wrote it, so that it is written again).
type ownedObject struct {
	meta *metav1.PartialObjectMetadata
	hash string
}

// maxWriteAttempts bounds the writes of one object that others keep
// changing (each attempt reads its metadata again).
const maxWriteAttempts = 8

// writeOwned writes obj, controlled by owner, unless prev (the object there,
// from the scan's list; nil when there was none) already has obj's content
// hash. It creates obj, or replaces prev at its resourceVersion keeping what
// others added to its metadata (ownedMeta). When the object changed since it
// was read (a conflict), appeared (already exists) or went away (not found),
// it reads the object's metadata again and retries, paced by the write
// limiter. It returns the operation that landed (opCreate, opUpdate) or ""
// when nothing was written.
func (r *ClusterScanReconciler) writeOwned(ctx context.Context, obj client.Object, owner *metav1.OwnerReference, prev *ownedObject) (string, error) {
	if prev != nil && prev.hash != "" && prev.hash == obj.GetAnnotations()[report.ContentHashAnnotation] {
		return "", nil // unchanged: no write
	}
	if r.Writer == nil {
		return "", fmt.Errorf("writing %s/%s: the reconciler has no ObjectWriter (SetupWithManager sets one)", obj.GetNamespace(), obj.GetName())
	}
	var last *metav1.PartialObjectMetadata
	if prev != nil {
		last = prev.meta
	}
	labels, annotations := maps.Clone(obj.GetLabels()), maps.Clone(obj.GetAnnotations())
	for attempt := 1; ; attempt++ {
		if err := r.WriteLimiter.Wait(ctx); err != nil {
			return "", err
		}
		ownedMeta(obj, labels, annotations, owner, last)
		op, err := opUpdate, error(nil)
		if last == nil {
			op, err = opCreate, r.Writer.Create(ctx, obj)
		} else {
			err = r.Writer.Update(ctx, obj)
		}
		retry := apierrors.IsConflict(err) || op == opCreate && apierrors.IsAlreadyExists(err) || op == opUpdate && apierrors.IsNotFound(err)
		if !retry {
			if err != nil {
				return "", err
			}
			return op, nil
		}
		if attempt == maxWriteAttempts {
			return "", fmt.Errorf("%d attempts: %w", attempt, err)
		}
		m := &metav1.PartialObjectMetadata{}
		m.SetGroupVersionKind(obj.GetObjectKind().GroupVersionKind())
		switch err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(obj), m); {
		case apierrors.IsNotFound(err):
			last = nil
		case err != nil:
			return "", err
		default:
			last = m
		}
	}
}

// ownedMeta sets obj's metadata for a write: the labels and annotations the
// scan sets and its owner reference, and, replacing prev (nil for a create),
// prev's resourceVersion and what other writers put there: finalizers, owner
// references to anything but a ClusterScan, and labels and annotations the
// scan does not set, except those under posture.kubeposture.io/, which are
// the operator's alone (so that one it stops setting goes away).
func ownedMeta(obj client.Object, labels, annotations map[string]string, owner *metav1.OwnerReference, prev *metav1.PartialObjectMetadata) {
	refs := []metav1.OwnerReference{*owner}
	if prev == nil {
		obj.SetLabels(labels)
		obj.SetAnnotations(annotations)
		obj.SetOwnerReferences(refs)
		obj.SetFinalizers(nil)
		obj.SetResourceVersion("")
		return
	}
	obj.SetLabels(keepOthers(labels, prev.Labels))
	obj.SetAnnotations(keepOthers(annotations, prev.Annotations))
	for _, ref := range prev.OwnerReferences {
		if !isClusterScanRef(ref) {
			refs = append(refs, ref)
		}
	}
	obj.SetOwnerReferences(refs)
	obj.SetFinalizers(prev.Finalizers)
	obj.SetResourceVersion(prev.ResourceVersion)
}

// keepOthers is ours plus the keys of theirs that ours lacks and that are
// not under the operator's prefix.
func keepOthers(ours, theirs map[string]string) map[string]string {
	out := maps.Clone(ours)
	for k, v := range theirs {
		if _, set := ours[k]; set || strings.HasPrefix(k, posturev1alpha1.GroupVersion.Group+"/") {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[k] = v
	}
	return out
}

// isClusterScanRef says whether ref is to a ClusterScan.
func isClusterScanRef(ref metav1.OwnerReference) bool {
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	return err == nil && gv.Group == posturev1alpha1.GroupVersion.Group && ref.Kind == "ClusterScan"
}
