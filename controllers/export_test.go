package controllers

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubeposture/kubeposture/internal/report"
)

// WriteOwned writes obj as a scan writes its reports, given the metadata the
// scan read of the object there (nil: none), and returns the operation that
// landed.
func (r *ClusterScanReconciler) WriteOwned(ctx context.Context, obj client.Object, owner *metav1.OwnerReference, prev *metav1.PartialObjectMetadata) (string, error) {
	var p *ownedObject
	if prev != nil {
		p = &ownedObject{meta: prev, hash: prev.Annotations[report.ContentHashAnnotation]}
	}
	return r.writeOwned(ctx, obj, owner, p)
}
