package controllers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	openreportsv1alpha1 "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	posturev1alpha1 "github.com/kubeposture/kubeposture/api/v1alpha1"
	"github.com/kubeposture/kubeposture/internal/engine"
	"github.com/kubeposture/kubeposture/internal/output"
	"github.com/kubeposture/kubeposture/internal/report"
)

// OpenReports: with spec.openReports.enabled, a scan also writes its
// findings as openreports.io/v1alpha1 objects, built by the CLI's converter
// (output.OpenReports): a Report per namespace with findings and one
// ClusterReport, named openReportName(scan), labelled with the scan and owned
// by it. They are bounded like the scan's ScanReports (maxFindingsPerReport
// results, report.MaxBytes of results), written whole (ObjectWriter) only
// when their content hash changed, and pruned when a namespace has no
// findings left. The objects are unstructured on the wire, so the manager
// needs no scheme for them, and a cluster without the CRDs is an answer
// (OpenReportsNotInstalled), not an error.

// +kubebuilder:rbac:groups=openreports.io,resources=reports;clusterreports,verbs=get;list;create;update;delete

var (
	openReportListGVK        = openreportsv1alpha1.SchemeGroupVersion.WithKind("ReportList")
	openClusterReportListGVK = openreportsv1alpha1.SchemeGroupVersion.WithKind("ClusterReportList")
)

// reconcileOpenReports writes the scan's OpenReports when
// spec.openReports.enabled and sets the OpenReports condition: True
// (OpenReportsWritten) once they are up to date; False
// (OpenReportsNotInstalled, OpenReportsForbidden) when the CRDs are not
// served or the manager may not write them, with a Warning event when that
// begins. The scan succeeds either way: the OpenReports are a copy of its
// findings, and neither cause is fixed by retrying. Any other error is
// returned and fails the scan, to be retried, like a failed ScanReport write.
//
// With the field off it deletes the OpenReports the scan wrote and removes
// the condition.
func (r *ClusterScanReconciler) reconcileOpenReports(ctx context.Context, scan *posturev1alpha1.ClusterScan, plan *scanPlan, result *engine.Result) error {
	if !scan.Spec.OpenReportsEnabled() {
		meta.RemoveStatusCondition(&scan.Status.Conditions, posturev1alpha1.ConditionOpenReports)
		return r.removeOpenReports(ctx, scan)
	}
	written, err := r.writeOpenReports(ctx, scan, plan, result)
	status, reason := metav1.ConditionTrue, posturev1alpha1.ReasonOpenReportsWritten
	var msg string
	switch {
	case openReportsNotServed(err):
		status, reason = metav1.ConditionFalse, posturev1alpha1.ReasonOpenReportsNotInstalled
		msg = "The openreports.io/v1alpha1 Report and ClusterReport CRDs are not installed: no OpenReports written (see docs/openreports.md)"
	case apierrors.IsForbidden(err):
		status, reason = metav1.ConditionFalse, posturev1alpha1.ReasonOpenReportsForbidden
		msg = "The manager may not write openreports.io Reports and ClusterReports: no OpenReports written (grant the verbs of config/rbac/role.yaml)"
	case err != nil:
		return err
	default:
		msg = fmt.Sprintf("ClusterReport %s and %d Reports up to date", openReportName(scan.Name), written.reports)
		if written.omitted > 0 {
			msg += fmt.Sprintf("; %d results left out to stay within maxFindingsPerReport and the size bound (annotation %s)", written.omitted, output.OmittedAnnotation)
		}
	}
	if status == metav1.ConditionFalse {
		log.FromContext(ctx).Info("OpenReports not written", "reason", reason, "error", err.Error())
		if prev := meta.FindStatusCondition(scan.Status.Conditions, posturev1alpha1.ConditionOpenReports); prev == nil || prev.Reason != reason {
			r.event(scan, corev1.EventTypeWarning, reason, "WriteOpenReports", "%s", msg)
		}
	}
	r.setCondition(scan, posturev1alpha1.ConditionOpenReports, status, reason, msg)
	return nil
}

type openReportsWritten struct {
	// reports is the number of namespaced Reports.
	reports int
	// omitted is the number of results left out of all objects.
	omitted int
}

// writeOpenReports writes every OpenReports object of the scan whose content
// changed and deletes the scan's Reports of namespaces with no findings left.
func (r *ClusterScanReconciler) writeOpenReports(ctx context.Context, scan *posturev1alpha1.ClusterScan, plan *scanPlan, result *engine.Result) (openReportsWritten, error) {
	existing, err := r.ownedOpenReports(ctx, scan)
	if err != nil {
		return openReportsWritten{}, err
	}
	stamp := r.Clock.Now()
	if t := scan.Status.LastScanTime; t != nil {
		stamp = t.Time
	}
	cluster, namespaced := output.OpenReports(&output.Report{Result: result}, output.OpenReportsOptions{
		Name:       openReportName(scan.Name),
		Labels:     map[string]string{posturev1alpha1.LabelScan: scan.Name},
		MaxResults: plan.maxFindings,
		MaxBytes:   report.MaxBytes,
		Now:        func() time.Time { return stamp },
	})
	owner := metav1.NewControllerRef(scan, posturev1alpha1.GroupVersion.WithKind("ClusterScan"))
	written := openReportsWritten{reports: len(namespaced)}

	cluster.Configuration = openReportsConfiguration(plan.maxFindings, openreportsv1alpha1.StatusFilter("fail"), openreportsv1alpha1.StatusFilter("skip"))
	setOpenReportHash(&cluster.ObjectMeta, scan.UID, cluster.Source, cluster.Configuration, cluster.Summary, cluster.Results)
	written.omitted += omitted(&cluster.ObjectMeta)
	key := "/" + cluster.Name
	if _, err := r.writeOwned(ctx, cluster, owner, existing[key]); err != nil {
		return written, fmt.Errorf("writing ClusterReport %s: %w", cluster.Name, err)
	}
	keep := map[string]bool{key: true}
	for _, rep := range namespaced {
		rep.Configuration = openReportsConfiguration(plan.maxFindings, openreportsv1alpha1.StatusFilter("fail"))
		setOpenReportHash(&rep.ObjectMeta, scan.UID, rep.Source, rep.Configuration, rep.Summary, rep.Results)
		written.omitted += omitted(&rep.ObjectMeta)
		key := rep.Namespace + "/" + rep.Name
		keep[key] = true
		if _, err := r.writeOwned(ctx, rep, owner, existing[key]); err != nil {
			if apierrors.IsNotFound(err) || apierrors.IsForbidden(err) && isTerminating(err) {
				written.reports--
				continue // the namespace went away during the scan
			}
			return written, fmt.Errorf("writing Report %s: %w", key, err)
		}
	}
	return written, r.deleteOpenReports(ctx, existing, keep)
}

// removeOpenReports deletes every OpenReports object the scan wrote, with a
// Normal event when there were any. A cluster without the CRDs, or a manager
// not allowed to read them, has none of the scan's to delete.
func (r *ClusterScanReconciler) removeOpenReports(ctx context.Context, scan *posturev1alpha1.ClusterScan) error {
	existing, err := r.ownedOpenReports(ctx, scan)
	switch {
	case openReportsNotServed(err), apierrors.IsForbidden(err):
		log.FromContext(ctx).V(1).Info("No OpenReports to remove", "reason", err.Error())
		return nil
	case err != nil:
		return err
	}
	if len(existing) == 0 {
		return nil
	}
	if err := r.deleteOpenReports(ctx, existing, nil); err != nil {
		return err
	}
	r.event(scan, corev1.EventTypeNormal, "OpenReportsRemoved", "DeleteOpenReports", "Deleted %d OpenReports objects: spec.openReports is not enabled", len(existing))
	return nil
}

// deleteOpenReports deletes the objects of existing not in keep, in key order;
// keys starting with "/" are ClusterReports.
func (r *ClusterScanReconciler) deleteOpenReports(ctx context.Context, existing map[string]*ownedObject, keep map[string]bool) error {
	keys := make([]string, 0, len(existing))
	for key := range existing {
		if !keep[key] {
			keys = append(keys, key)
		}
	}
	slices.Sort(keys)
	for _, key := range keys {
		ns, name, _ := strings.Cut(key, "/")
		obj := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
		obj.SetGroupVersionKind(openreportsv1alpha1.SchemeGroupVersion.WithKind("Report"))
		if ns == "" {
			obj.SetGroupVersionKind(openreportsv1alpha1.SchemeGroupVersion.WithKind("ClusterReport"))
		}
		if err := r.WriteLimiter.Wait(ctx); err != nil {
			return err
		}
		if err := r.Client.Delete(ctx, obj); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("deleting stale %s %s: %w", obj.Kind, key, err)
		}
	}
	return nil
}

// ownedOpenReports maps "namespace/name" ("/name" for a ClusterReport) of the
// scan's OpenReports objects to what the scan knows of them.
func (r *ClusterScanReconciler) ownedOpenReports(ctx context.Context, scan *posturev1alpha1.ClusterScan) (map[string]*ownedObject, error) {
	out := map[string]*ownedObject{}
	for _, gvk := range []schema.GroupVersionKind{openReportListGVK, openClusterReportListGVK} {
		if err := r.listOwned(ctx, gvk, scan, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// listOwned adds to out, by "namespace/name", every object of the list kind
// listGVK that carries the scan's label and an owner reference to a
// ClusterScan of its name (see ownedObject). It reads metadata only, in
// pages, from the API server: these objects are not cached.
func (r *ClusterScanReconciler) listOwned(ctx context.Context, listGVK schema.GroupVersionKind, scan *posturev1alpha1.ClusterScan, out map[string]*ownedObject) error {
	opts := []client.ListOption{client.MatchingLabels{posturev1alpha1.LabelScan: scan.Name}, client.Limit(500)}
	for {
		l := &metav1.PartialObjectMetadataList{}
		l.SetGroupVersionKind(listGVK)
		if err := r.APIReader.List(ctx, l, opts...); err != nil {
			return fmt.Errorf("listing %s of scan %s: %w", strings.TrimSuffix(listGVK.Kind, "List"), scan.Name, err)
		}
		for i := range l.Items {
			m := &l.Items[i]
			switch owned, current := ownership(m, scan); {
			case current:
				out[m.Namespace+"/"+m.Name] = &ownedObject{meta: m, hash: m.Annotations[report.ContentHashAnnotation]}
			case owned:
				// Left by an earlier ClusterScan of this name: the garbage
				// collector will delete it unless it is rewritten.
				out[m.Namespace+"/"+m.Name] = &ownedObject{meta: m}
			}
		}
		if l.Continue == "" {
			return nil
		}
		opts = append(opts[:2], client.Continue(l.Continue))
	}
}

// openReportsNotServed says whether err means that the API server does not
// serve the OpenReports kinds: the REST mapper knows no such kind, or the
// server answered NotFound for the resource (the CRD went away after the
// mapper learnt of it).
func openReportsNotServed(err error) bool {
	return err != nil && (meta.IsNoMatchError(err) || apierrors.IsNotFound(err))
}

// openReportName is "kubeposture-<scan>": the prefix keeps the scan from
// taking over another producer's report of the same name. A name over the
// limit is cut and ends in a hash of the scan's name, so it stays unique.
func openReportName(scanName string) string {
	name := output.OpenReportsName + "-" + scanName
	if len(name) <= validation.DNS1123SubdomainMaxLength {
		return name
	}
	sum := sha256.Sum256([]byte(scanName))
	suffix := "-" + hex.EncodeToString(sum[:4])
	return strings.TrimRight(name[:validation.DNS1123SubdomainMaxLength-len(suffix)], ".-") + suffix
}

// openReportsConfiguration tells consumers the bound on results and that only
// results of these statuses are reported (no pass results).
func openReportsConfiguration(maxResults int, statuses ...openreportsv1alpha1.StatusFilter) *openreportsv1alpha1.ReportConfiguration {
	if maxResults <= 0 {
		maxResults = report.DefaultMaxFindings
	}
	return &openreportsv1alpha1.ReportConfiguration{Limits: openreportsv1alpha1.Limits{MaxResults: maxResults, StatusFilter: statuses}}
}

// setOpenReportHash sets the content hash of an OpenReports object: its
// owner, metadata and content, but not the results' timestamps, which change
// on every scan. An unchanged report is not rewritten, so its timestamps are
// those of the scan that last changed it.
func setOpenReportHash(m *metav1.ObjectMeta, owner types.UID, source string, config *openreportsv1alpha1.ReportConfiguration,
	summary openreportsv1alpha1.ReportSummary, results []openreportsv1alpha1.ReportResult) {
	untimed := slices.Clone(results)
	for i := range untimed {
		untimed[i].Timestamp = metav1.Timestamp{}
	}
	data, err := json.Marshal([]any{owner, m.Name, m.Namespace, m.Labels, m.Annotations, source, config, summary, untimed})
	if err != nil {
		panic(err) // strings, numbers and string maps always marshal
	}
	sum := sha256.Sum256(data)
	if m.Annotations == nil {
		m.Annotations = map[string]string{}
	}
	m.Annotations[report.ContentHashAnnotation] = hex.EncodeToString(sum[:16])
}

// omitted is the number of results left out of an object.
func omitted(m *metav1.ObjectMeta) int {
	n, _ := strconv.Atoi(m.Annotations[output.OmittedAnnotation]) // absent: none
	return n
}
