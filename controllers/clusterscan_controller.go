// Package controllers holds the reconcilers: thin plumbing around the engine
// (inventory -> checks -> score -> report).
package controllers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	posturev1alpha1 "github.com/kubeposture/kubeposture/api/v1alpha1"
	"github.com/kubeposture/kubeposture/internal/checks"
	"github.com/kubeposture/kubeposture/internal/engine"
	"github.com/kubeposture/kubeposture/internal/inventory"
	"github.com/kubeposture/kubeposture/internal/report"
)

// reportWriteWorkers is how many namespaced reports a scan writes at once.
const reportWriteWorkers = 4

// FieldOwner is the field manager of everything the operator writes.
const FieldOwner = "kubeposture"

// ClusterScanReconciler scans the cluster as a ClusterScan asks and writes
// its reports.
type ClusterScanReconciler struct {
	// Client writes reports and status; it reads ClusterScans from the cache.
	Client client.Client
	// APIReader reads report metadata straight from the API server: reports are not cached.
	APIReader client.Reader
	// Inventory reads the scanned kinds, normally an InformerReader on the
	// manager's cache.
	Inventory client.Reader
	// Access says which kinds the manager may read.
	Access inventory.Access
	// Kinds are the kinds a scan reads (nil: inventory.DefaultKinds).
	Kinds []inventory.Kind
	// Clock is injected so that tests can move time.
	Clock clock.PassiveClock
	// Recorder records scan events on the ClusterScan.
	Recorder recorder.EventRecorder
	// WriteLimiter paces report writes (creates, replaces and deletes, ours
	// and OpenReports); nil means unpaced.
	WriteLimiter *WriteLimiter
	// Writer writes reports whole; SetupWithManager sets NewObjectWriter on
	// the manager's connection when it is nil.
	Writer ObjectWriter
	// Registry is the check catalogue; nil means checks.Default.
	Registry *checks.Registry
}

var _ reconcile.Reconciler = (*ClusterScanReconciler)(nil)

// +kubebuilder:rbac:groups=posture.kubeposture.io,resources=clusterscans,verbs=get;list;watch
// +kubebuilder:rbac:groups=posture.kubeposture.io,resources=clusterscans/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=posture.kubeposture.io,resources=clusterscans/finalizers,verbs=update
// +kubebuilder:rbac:groups=posture.kubeposture.io,resources=scanreports;clusterscanreports,verbs=get;list;create;update;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=authorization.k8s.io,resources=selfsubjectaccessreviews,verbs=create
// +kubebuilder:rbac:groups="",resources=namespaces;pods;services;serviceaccounts;limitranges;resourcequotas,verbs=get;list;watch
// +kubebuilder:rbac:groups=apps,resources=deployments;replicasets;statefulsets;daemonsets,verbs=get;list;watch
// +kubebuilder:rbac:groups=batch,resources=jobs;cronjobs,verbs=get;list;watch
// +kubebuilder:rbac:groups=networking.k8s.io,resources=ingresses;networkpolicies,verbs=get;list;watch
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=roles;clusterroles;rolebindings;clusterrolebindings,verbs=get;list;watch
// +kubebuilder:rbac:groups=storage.k8s.io,resources=storageclasses,verbs=get;list;watch
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=validatingwebhookconfigurations;mutatingwebhookconfigurations;validatingadmissionpolicies;validatingadmissionpolicybindings,verbs=get;list;watch

// Reconcile scans when a scan is due (creation, a spec change, the
// scan-requested-at annotation, the schedule) and otherwise requeues for the
// next scheduled scan.
func (r *ClusterScanReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	scan := &posturev1alpha1.ClusterScan{}
	if err := r.Client.Get(ctx, req.NamespacedName, scan); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !scan.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil // owner references remove the reports
	}

	base := scan.DeepCopy()
	defer func() {
		if equality.Semantic.DeepEqual(base.Status, scan.Status) {
			return
		}
		if err := r.Client.Status().Patch(ctx, scan, client.MergeFrom(base)); err != nil && !apierrors.IsNotFound(err) {
			retErr = kerrors.NewAggregate([]error{retErr, fmt.Errorf("patching status: %w", err)})
		}
	}()

	plan, err := r.reconcileSpec(scan)
	if err != nil {
		return ctrl.Result{}, reconcile.TerminalError(err)
	}
	if scan.Spec.Suspend {
		r.reconcileSuspend(scan)
		return ctrl.Result{}, nil
	}
	now := r.Clock.Now()
	if due, why := r.due(scan, plan, now); due {
		if err := r.reconcileScan(ctx, scan, base, plan, why); err != nil {
			return ctrl.Result{}, err
		}
	}
	return r.reconcileSchedule(scan, plan, now), nil
}

// scanPlan is a validated spec.
type scanPlan struct {
	*engine.Plan
	schedule    cron.Schedule
	scope       inventory.Scope
	maxFindings int
}

// reconcileSpec validates what the CRD schema cannot (the cron expression,
// globs, the label selector) and sets Stalled with the field when it is
// invalid. A valid spec clears Stalled.
func (r *ClusterScanReconciler) reconcileSpec(scan *posturev1alpha1.ClusterScan) (*scanPlan, error) {
	plan, err := r.plan(scan)
	if err != nil {
		r.setCondition(scan, posturev1alpha1.ConditionStalled, metav1.ConditionTrue, posturev1alpha1.ReasonInvalidSpec, err.Error())
		r.setCondition(scan, posturev1alpha1.ConditionReady, metav1.ConditionFalse, posturev1alpha1.ReasonInvalidSpec, err.Error())
		r.setCondition(scan, posturev1alpha1.ConditionReconciling, metav1.ConditionFalse, posturev1alpha1.ReasonInvalidSpec, "The spec must be fixed before the scan can run")
		r.event(scan, corev1.EventTypeWarning, posturev1alpha1.ReasonInvalidSpec, "Validate", "Invalid spec: %s", err)
		return nil, err
	}
	meta.RemoveStatusCondition(&scan.Status.Conditions, posturev1alpha1.ConditionStalled)
	return plan, nil
}

func (r *ClusterScanReconciler) plan(scan *posturev1alpha1.ClusterScan) (*scanPlan, error) {
	spec := &scan.Spec
	p := &scanPlan{maxFindings: int(spec.MaxFindingsPerReport)}
	if spec.Schedule != "" {
		s, err := cron.ParseStandard(spec.Schedule)
		if err != nil {
			return nil, fmt.Errorf("spec.schedule: invalid cron expression %q: %w", spec.Schedule, err)
		}
		p.schedule = s
	}
	scope, err := inventory.NewScope(spec.NamespaceSelector, spec.IncludeNamespaces, spec.ExcludeNamespaces)
	if err != nil {
		return nil, err
	}
	p.scope = scope
	frameworks := make([]string, 0, len(spec.Frameworks))
	for _, f := range spec.Frameworks {
		frameworks = append(frameworks, string(f))
	}
	p.Plan, err = engine.NewPlan(engine.Options{
		Frameworks:         frameworks,
		PodSecurityVersion: spec.PodSecurityVersion,
		TrustedRegistries:  spec.TrustedRegistries,
		Registry:           r.Registry,
		FieldNames:         engine.SpecFields,
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// reconcileSuspend records that scans are suspended: no next scan.
func (r *ClusterScanReconciler) reconcileSuspend(scan *posturev1alpha1.ClusterScan) {
	scan.Status.NextScanTime = nil
	r.setCondition(scan, posturev1alpha1.ConditionReconciling, metav1.ConditionFalse, posturev1alpha1.ReasonSuspended, "Scans are suspended")
	if meta.FindStatusCondition(scan.Status.Conditions, posturev1alpha1.ConditionReady) == nil {
		r.setCondition(scan, posturev1alpha1.ConditionReady, metav1.ConditionFalse, posturev1alpha1.ReasonSuspended, "Scans are suspended and none has run")
	}
}

// due says whether a scan should run now, and why.
func (r *ClusterScanReconciler) due(scan *posturev1alpha1.ClusterScan, plan *scanPlan, now time.Time) (bool, string) {
	st := &scan.Status
	switch {
	case st.LastScanTime == nil:
		return true, "first scan"
	case st.LastSuccessfulScanTime == nil || st.LastScanTime.After(st.LastSuccessfulScanTime.Time):
		return true, "retrying the failed scan"
	case scan.Generation != st.ObservedGeneration:
		return true, "spec changed"
	case scan.Annotations[posturev1alpha1.ScanRequestedAtAnnotation] != st.LastScanRequest:
		return true, "requested by annotation"
	case plan.schedule != nil && !now.Before(plan.schedule.Next(st.LastSuccessfulScanTime.Time)):
		return true, "scheduled"
	}
	return false, ""
}

// reconcileSchedule sets nextScanTime and requeues for it.
func (r *ClusterScanReconciler) reconcileSchedule(scan *posturev1alpha1.ClusterScan, plan *scanPlan, now time.Time) ctrl.Result {
	if plan.schedule == nil || scan.Status.LastSuccessfulScanTime == nil {
		scan.Status.NextScanTime = nil
		return ctrl.Result{}
	}
	next := plan.schedule.Next(scan.Status.LastSuccessfulScanTime.Time)
	scan.Status.NextScanTime = &metav1.Time{Time: next}
	return ctrl.Result{RequeueAfter: max(next.Sub(now), time.Second)}
}

// reconcileScan runs one scan and writes its reports. It sets Reconciling
// while it runs, then Ready (ScanSucceeded, or ScanIncomplete when kinds
// could not be read) or, on failure, Ready=False with ScanFailed.
func (r *ClusterScanReconciler) reconcileScan(ctx context.Context, scan, base *posturev1alpha1.ClusterScan, plan *scanPlan, why string) error {
	logger := log.FromContext(ctx)
	start := r.Clock.Now()
	requested := scan.Annotations[posturev1alpha1.ScanRequestedAtAnnotation]
	// A retry of an attempt that failed, or was interrupted, is the same scan to the user: no second ScanStarted.
	retry := lastAttemptUnfinished(&scan.Status)

	// Show that a scan is under way before it starts: scans of large clusters take a while.
	r.setCondition(scan, posturev1alpha1.ConditionReconciling, metav1.ConditionTrue, posturev1alpha1.ReasonScanning, "Scan in progress ("+why+")")
	scan.Status.LastScanTime = &metav1.Time{Time: start}
	if err := r.Client.Status().Patch(ctx, scan, client.MergeFrom(base)); err != nil {
		return fmt.Errorf("marking scan in progress: %w", err)
	}
	*base = *scan.DeepCopy()
	logger.Info("Scan started", "reason", why)
	if !retry {
		r.event(scan, corev1.EventTypeNormal, "ScanStarted", "Scan", "Scan started (%s)", why)
	}

	result, err := r.scan(ctx, scan, plan)
	if err != nil {
		if transient(ctx, err) {
			// Not a failed scan: retried with backoff, with no condition, event or failure counted.
			logger.V(1).Info("Scan interrupted; retrying", "error", err.Error())
			return err
		}
		msg := "Scan failed: " + reasonOf(err)
		// The same failure as the last attempt's (a retry with backoff) records no second event.
		repeated := failedWith(scan, msg)
		r.setCondition(scan, posturev1alpha1.ConditionReady, metav1.ConditionFalse, posturev1alpha1.ReasonScanFailed, msg)
		r.setCondition(scan, posturev1alpha1.ConditionReconciling, metav1.ConditionTrue, posturev1alpha1.ReasonScanFailed, "Retrying the scan")
		scanMetrics.scanFailed(scan, failureReason(err))
		if !repeated {
			r.event(scan, corev1.EventTypeWarning, posturev1alpha1.ReasonScanFailed, "Scan", "%s", msg)
		}
		return err
	}

	took := r.Clock.Since(start)
	st := &scan.Status
	st.LastSuccessfulScanTime = &metav1.Time{Time: start}
	st.LastScanDuration = &metav1.Duration{Duration: took.Round(time.Millisecond)}
	st.LastScanRequest = requested
	st.ObservedGeneration = scan.Generation
	st.Summary = &result.summary
	st.Frameworks = result.frameworks
	st.Coverage = &result.coverage

	reason, msg := posturev1alpha1.ReasonScanSucceeded, fmt.Sprintf("Scanned %d objects: score %d (%s), %d critical, %d high, %d medium, %d low",
		result.summary.ResourcesScanned, result.summary.Score, result.summary.Grade,
		result.summary.Critical, result.summary.High, result.summary.Medium, result.summary.Low)
	if len(result.coverage.Missing) > 0 {
		kinds := make([]string, 0, len(result.coverage.Missing))
		for _, m := range result.coverage.Missing {
			kinds = append(kinds, fmt.Sprintf("%s (%s)", m.Kind, m.Reason))
		}
		reason = posturev1alpha1.ReasonScanIncomplete
		msg += fmt.Sprintf("; could not read %s, so %d checks were not evaluated", strings.Join(kinds, ", "), result.summary.ChecksNotEvaluated)
	}
	r.setCondition(scan, posturev1alpha1.ConditionReady, metav1.ConditionTrue, reason, msg)
	r.setCondition(scan, posturev1alpha1.ConditionReconciling, metav1.ConditionFalse, reason, "Scan complete")
	logger.Info("Scan completed", "score", result.summary.Score, "findings", result.findings, "duration", st.LastScanDuration.Duration,
		"read", result.read.Round(time.Millisecond), "judge", result.judge.Round(time.Millisecond), "write", result.write.Round(time.Millisecond),
		"missingKinds", len(result.coverage.Missing))
	scanMetrics.scanSucceeded(scan, result.detail, took)
	r.event(scan, corev1.EventTypeNormal, "ScanCompleted", "Scan", "%s", msg)
	return nil
}

// lastAttemptUnfinished says whether the last scan attempt did not succeed:
// it failed, or was interrupted (a transient error, the manager stopping).
func lastAttemptUnfinished(st *posturev1alpha1.ClusterScanStatus) bool {
	return st.LastScanTime != nil && (st.LastSuccessfulScanTime == nil || st.LastScanTime.After(st.LastSuccessfulScanTime.Time))
}

// failedWith says whether the scan's Ready condition already reports this failure.
func failedWith(scan *posturev1alpha1.ClusterScan, msg string) bool {
	ready := meta.FindStatusCondition(scan.Status.Conditions, posturev1alpha1.ConditionReady)
	return ready != nil && ready.Status == metav1.ConditionFalse && ready.Reason == posturev1alpha1.ReasonScanFailed &&
		ready.Message == report.Truncate(msg, 1024)
}

type scanResult struct {
	summary    posturev1alpha1.ScanSummary
	frameworks []posturev1alpha1.FrameworkResult
	coverage   posturev1alpha1.Coverage
	findings   int
	// detail is what the metrics export by namespace and check.
	detail *scanDetail
	// read, judge and write are how long the scan spent reading the
	// inventory, running the checks and building the reports, and writing
	// them (the log of a completed scan says, to show where time goes).
	read, judge, write time.Duration
}

// scan reads the inventory, runs the checks, and writes the reports.
func (r *ClusterScanReconciler) scan(ctx context.Context, scan *posturev1alpha1.ClusterScan, plan *scanPlan) (*scanResult, error) {
	began := r.Clock.Now()
	snap, err := inventory.FromReader(ctx, r.Inventory, r.Access, plan.scope, r.Kinds)
	if err != nil {
		return nil, fmt.Errorf("reading inventory: %w", err)
	}
	read := r.Clock.Now()
	result := plan.Run(snap)
	perNS, total := snap.Count()
	set := report.Build(scan, result.Outcomes, report.Options{
		MaxFindings: plan.maxFindings, Resources: perNS, TotalResources: total, Namespaces: len(snap.Namespaces),
	})
	judged := r.Clock.Now()
	if err := r.writeReports(ctx, scan, set); err != nil {
		return nil, err
	}
	if err := r.reconcileOpenReports(ctx, scan, plan, result); err != nil {
		return nil, err
	}

	res := &scanResult{
		summary: report.APISummary(result.Summary, total), findings: result.Summary.Findings, detail: newScanDetail(result.Outcomes),
		read: read.Sub(began), judge: judged.Sub(read), write: r.Clock.Since(judged),
	}
	for _, fr := range result.Frameworks {
		res.frameworks = append(res.frameworks, posturev1alpha1.FrameworkResult{
			Name: posturev1alpha1.Framework(fr.Name), Score: int32(fr.Score), Compliance: int32(fr.Compliance),
			Passed: int32(fr.Passed), Failed: int32(fr.Failed), Manual: int32(fr.Manual), NotEvaluated: int32(fr.NotEvaluated),
		})
	}
	for _, k := range snap.ReadKinds() {
		res.coverage.Read = append(res.coverage.Read, string(k))
	}
	for _, k := range snap.MissingKinds() {
		m := snap.Missing[k]
		res.coverage.Missing = append(res.coverage.Missing, posturev1alpha1.MissingKind{Kind: string(k), Reason: string(m.Reason), Message: report.Truncate(m.Message, 1024)})
	}
	return res, nil
}

// writeReports writes every report whose content changed, and deletes this
// scan's reports of namespaces that no longer have findings. Existing reports
// are read as metadata only, one paginated list, never cached.
func (r *ClusterScanReconciler) writeReports(ctx context.Context, scan *posturev1alpha1.ClusterScan, set report.Set) error {
	owner := metav1.OwnerReference{
		APIVersion: posturev1alpha1.GroupVersion.String(), Kind: "ClusterScan", Name: scan.Name, UID: scan.UID,
		Controller: ptrTo(true), BlockOwnerDeletion: ptrTo(true),
	}
	existing, err := r.existingReports(ctx, scan)
	if err != nil {
		return err
	}

	write := func(ctx context.Context, obj client.Object, key string) error {
		op, err := r.writeOwned(ctx, obj, &owner, existing[key])
		if err != nil {
			return fmt.Errorf("writing report %s: %w", key, err)
		}
		if op != "" {
			scanMetrics.reportWritten(scan, obj.GetObjectKind().GroupVersionKind().Kind, op)
		}
		return nil
	}
	if err := write(ctx, set.Cluster, "/"+set.Cluster.Name); err != nil {
		return err
	}
	// Namespaced reports go a few at a time: each write waits a round trip
	// (tens of ms), and the API server writes them in parallel. The write
	// limiter still paces them all.
	keep := map[string]bool{"/" + set.Cluster.Name: true}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(reportWriteWorkers)
	for _, rep := range set.Namespaced {
		key := rep.Namespace + "/" + rep.Name
		keep[key] = true
		g.Go(func() error {
			err := write(gctx, rep, key)
			if apierrors.IsNotFound(err) || apierrors.IsForbidden(err) && isTerminating(err) {
				return nil // the namespace went away during the scan
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	keys := make([]string, 0, len(existing))
	for key := range existing {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	for _, key := range keys {
		if keep[key] || !strings.Contains(key, "/") || strings.HasPrefix(key, "/") {
			continue
		}
		ns, name, _ := strings.Cut(key, "/")
		stale := &posturev1alpha1.ScanReport{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
		if err := r.WriteLimiter.Wait(ctx); err != nil {
			return err
		}
		switch err := r.Client.Delete(ctx, stale); {
		case apierrors.IsNotFound(err):
		case err != nil:
			return fmt.Errorf("deleting stale report %s: %w", key, err)
		default:
			scanMetrics.reportWritten(scan, "ScanReport", opDelete)
		}
	}
	return nil
}

// existingReports maps "namespace/name" ("/name" for the cluster report) of
// this scan's reports to what the scan knows of them.
func (r *ClusterScanReconciler) existingReports(ctx context.Context, scan *posturev1alpha1.ClusterScan) (map[string]*ownedObject, error) {
	out := map[string]*ownedObject{}
	for _, kind := range []string{"ScanReportList", "ClusterScanReportList"} {
		if err := r.listOwned(ctx, posturev1alpha1.GroupVersion.WithKind(kind), scan, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ownership says whether m is owned by a ClusterScan named like scan, and
// whether by this one (same UID) or by an earlier one of that name.
func ownership(m *metav1.PartialObjectMetadata, scan *posturev1alpha1.ClusterScan) (owned, current bool) {
	for _, ref := range m.OwnerReferences {
		if ref.Kind == "ClusterScan" && ref.Name == scan.Name {
			return true, ref.UID == scan.UID
		}
	}
	return false, false
}

func isTerminating(err error) bool {
	return strings.Contains(err.Error(), "being terminated")
}

func (r *ClusterScanReconciler) setCondition(scan *posturev1alpha1.ClusterScan, t string, status metav1.ConditionStatus, reason, msg string) {
	meta.SetStatusCondition(&scan.Status.Conditions, metav1.Condition{
		Type: t, Status: status, Reason: reason, Message: report.Truncate(msg, 1024), ObservedGeneration: scan.Generation,
	})
}

func (r *ClusterScanReconciler) event(scan *posturev1alpha1.ClusterScan, eventType, reason, action, note string, args ...any) {
	if r.Recorder != nil {
		r.Recorder.Eventf(scan, nil, eventType, reason, action, note, args...)
	}
}

// reasonOf describes an error without transient detail, so that condition
// messages do not flap between retries.
func reasonOf(err error) string {
	var status apierrors.APIStatus
	switch {
	case errors.Is(err, inventory.ErrNamespacesUnreadable):
		return inventory.ErrNamespacesUnreadable.Error()
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return "timed out"
	case errors.As(err, &status):
		return fmt.Sprintf("the API server answered %s", apierrors.ReasonForError(err))
	}
	return "internal error; see the manager's log"
}

func ptrTo[T any](v T) *T { return &v }

// SetupWithManager registers the reconciler. It reconciles on spec, label and
// annotation changes of a ClusterScan; never on its own status writes.
func (r *ClusterScanReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Writer == nil {
		r.Writer = NewObjectWriter(mgr.GetConfig(), mgr.GetHTTPClient(), mgr.GetRESTMapper())
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&posturev1alpha1.ClusterScan{}, builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}, predicate.LabelChangedPredicate{}))).
		Named("clusterscan").
		Complete(r)
}
