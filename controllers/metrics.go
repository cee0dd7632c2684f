package controllers

// Prometheus metrics, served on the manager's metrics endpoint
// (controller-runtime's metrics.Registry). docs/metrics.md lists them.
//
// The metrics come from two sources, so that no series outlives what it
// describes:
//
//   - What a ClusterScan's status says (score, findings by severity,
//     frameworks, timestamps) is read from the manager's cache at every
//     scrape. A deleted ClusterScan has no series, and a restarted manager
//     exports every scan's results at once, without scanning again.
//   - What only a scan knows (findings by namespace and by check, its
//     duration, failures, report writes) is kept in memory from the scans
//     this process ran, per ClusterScan name and UID. A scrape that finds the
//     ClusterScan gone, or replaced by one with another UID, drops it.
//
// Labels are bounded: scan (ClusterScan names), namespace (at most
// MaxNamespaces per scan, the rest summed), check (the catalogue),
// framework, severity and a few fixed enums. No label holds an object name
// or anything read from an object's data.

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	posturev1alpha1 "github.com/kubeposture/kubeposture/api/v1alpha1"
	"github.com/kubeposture/kubeposture/internal/checks"
	"github.com/kubeposture/kubeposture/internal/inventory"
)

const (
	// ClusterScopedNamespace is the namespace label of findings about
	// cluster-scoped objects. It is not a valid namespace name, so it never
	// collides with one.
	ClusterScopedNamespace = "_cluster"
	// OtherNamespaces is the namespace label under which the findings of the
	// namespaces beyond MetricsOptions.MaxNamespaces are summed.
	OtherNamespaces = "_other"
	// DefaultMetricsMaxNamespaces is the default of MetricsOptions.MaxNamespaces.
	DefaultMetricsMaxNamespaces = 100

	// Operations of kubeposture_report_writes_total.
	opCreate = "create"
	opUpdate = "update"
	opDelete = "delete"
)

// severities in the order metrics list them, most severe first.
var severities = []checks.Severity{checks.SeverityCritical, checks.SeverityHigh, checks.SeverityMedium, checks.SeverityLow}

// severityCounts are finding counts in the order of severities.
type severityCounts [4]int

func (c *severityCounts) add(s checks.Severity) {
	if i := slices.Index(severities, s); i >= 0 {
		c[i]++
	}
}

func (c *severityCounts) plus(o severityCounts) {
	for i := range c {
		c[i] += o[i]
	}
}

// scanDetail is what one successful scan found, as only the scan knows it.
type scanDetail struct {
	// namespaces are the finding counts of each namespace with findings; "" is cluster-scoped objects.
	namespaces map[string]severityCounts
	// checks are the findings of every check that was evaluated, sorted by ID.
	checks []checkFindings
}

type checkFindings struct {
	id       string
	severity checks.Severity
	findings int
}

// newScanDetail counts the findings of evaluated checks, as the reports do.
func newScanDetail(outcomes []checks.Outcome) *scanDetail {
	d := &scanDetail{namespaces: map[string]severityCounts{}}
	for i := range outcomes {
		o := &outcomes[i]
		if !o.Evaluated {
			continue
		}
		d.checks = append(d.checks, checkFindings{id: o.Check.ID, severity: o.Check.Severity, findings: len(o.Findings)})
		for j := range o.Findings {
			ns := o.Findings[j].Object.Namespace
			c := d.namespaces[ns]
			c.add(o.Check.Severity)
			d.namespaces[ns] = c
		}
	}
	slices.SortFunc(d.checks, func(a, b checkFindings) int { return cmp.Compare(a.id, b.id) })
	return d
}

// namespaceSeries returns the namespace label and counts to export: the
// cluster-scoped findings, the max namespaces with the most severe findings,
// and the rest summed under OtherNamespaces. Deterministic: ties are broken
// by name.
func (d *scanDetail) namespaceSeries(maxNamespaces int) map[string]severityCounts {
	out := map[string]severityCounts{}
	names := make([]string, 0, len(d.namespaces))
	for ns, c := range d.namespaces {
		if ns == "" {
			out[ClusterScopedNamespace] = c
			continue
		}
		names = append(names, ns)
	}
	slices.SortFunc(names, func(a, b string) int {
		ca, cb := d.namespaces[a], d.namespaces[b]
		for i := range ca {
			if ca[i] != cb[i] {
				return cmp.Compare(cb[i], ca[i])
			}
		}
		return cmp.Compare(a, b)
	})
	var other severityCounts
	for i, ns := range names {
		if i < maxNamespaces {
			out[ns] = d.namespaces[ns]
			continue
		}
		other.plus(d.namespaces[ns])
	}
	if len(names) > max(maxNamespaces, 0) {
		out[OtherNamespaces] = other
	}
	return out
}

// scanRecord is what this process recorded about one ClusterScan.
type scanRecord struct {
	uid types.UID
	// detail is of the last successful scan; nil until one succeeded.
	detail *scanDetail
	// seq orders records against scrapes: see scanRecorder.prune.
	seq uint64
}

// scanRecorder keeps what the reconcilers record about scans until the
// collector exports it. One per process, as controller-runtime's own metrics.
type scanRecorder struct {
	mu    sync.Mutex
	seq   uint64
	scans map[string]*scanRecord

	duration     *prometheus.HistogramVec
	failures     *prometheus.CounterVec
	reportWrites *prometheus.CounterVec
}

var scanMetrics = newScanRecorder()

func newScanRecorder() *scanRecorder {
	return &scanRecorder{
		scans: map[string]*scanRecord{},
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "kubeposture_scan_duration_seconds",
			Help: "How long successful scans took, from reading the inventory to the last report written.",
			// 50ms to about 14 minutes.
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 15),
		}, []string{"scan"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kubeposture_scan_errors_total",
			Help: "Scan attempts that failed, by reason. Transient retries (a write conflict, the manager stopping) are not counted.",
		}, []string{"scan", "reason"}),
		reportWrites: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kubeposture_report_writes_total",
			Help: "Report writes to the API server, by report kind and operation (create, update, delete). An unchanged report is not written.",
		}, []string{"scan", "kind", "operation"}),
	}
}

// track returns the record of a scan, starting a new one (and deleting the
// series of the old) when the scan is new or was replaced. Call with mu held.
func (r *scanRecorder) track(scan *posturev1alpha1.ClusterScan) *scanRecord {
	r.seq++
	rec := r.scans[scan.Name]
	if rec == nil || rec.uid != scan.UID {
		if rec != nil {
			r.deleteSeries(scan.Name)
		}
		rec = &scanRecord{uid: scan.UID}
		r.scans[scan.Name] = rec
	}
	rec.seq = r.seq
	return rec
}

// scanSucceeded records a successful scan: its detail and duration.
func (r *scanRecorder) scanSucceeded(scan *posturev1alpha1.ClusterScan, detail *scanDetail, took time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.track(scan).detail = detail
	r.duration.WithLabelValues(scan.Name).Observe(took.Seconds())
}

// scanFailed counts a failed scan attempt.
func (r *scanRecorder) scanFailed(scan *posturev1alpha1.ClusterScan, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.track(scan)
	r.failures.WithLabelValues(scan.Name, reason).Inc()
}

// reportWritten counts a write of one report.
func (r *scanRecorder) reportWritten(scan *posturev1alpha1.ClusterScan, kind, operation string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.track(scan)
	r.reportWrites.WithLabelValues(scan.Name, kind, operation).Inc()
}

func (r *scanRecorder) deleteSeries(name string) {
	l := prometheus.Labels{"scan": name}
	r.duration.DeletePartialMatch(l)
	r.failures.DeletePartialMatch(l)
	r.reportWrites.DeletePartialMatch(l)
}

// sequence is the number of the last record; a scrape takes it before it
// lists ClusterScans.
func (r *scanRecorder) sequence() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seq
}

// prune forgets the scans that are not live (deleted, or replaced by a
// ClusterScan of the same name and another UID). A record written after
// the list was taken (seq > listed) is kept: the list may predate its scan.
func (r *scanRecorder) prune(live map[string]types.UID, listed uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for name, rec := range r.scans {
		if rec.seq <= listed && live[name] != rec.uid {
			r.deleteSeries(name)
			delete(r.scans, name)
		}
	}
}

// MetricsOptions configure the metrics.
type MetricsOptions struct {
	// MaxNamespaces is how many namespaces of each ClusterScan get their own
	// kubeposture_namespace_findings series: those with the most severe
	// findings. The findings of the rest are summed under
	// namespace="_other". 0 sums them all there.
	MaxNamespaces int
}

// NewMetricsCollector returns the collector of kubeposture's metrics. It
// reads ClusterScans from scans (the manager's cache) at every scrape, and
// what the reconcilers of this process recorded. Register it with
// controller-runtime's metrics.Registry.
func NewMetricsCollector(scans client.Reader, opts MetricsOptions) prometheus.Collector {
	return &metricsCollector{scans: scans, opts: opts, recorder: scanMetrics}
}

type metricsCollector struct {
	scans    client.Reader
	opts     MetricsOptions
	recorder *scanRecorder
}

var _ prometheus.Collector = (*metricsCollector)(nil)

// Descriptions of the metrics made at each scrape.
var (
	descScore = prometheus.NewDesc("kubeposture_score",
		"Score of the last successful scan, 0 (worst) to 100 (no findings); see docs/scoring.md.", []string{"scan"}, nil)
	descFindings = prometheus.NewDesc("kubeposture_findings",
		"Failed findings of the last successful scan, by severity.", []string{"scan", "severity"}, nil)
	descResources = prometheus.NewDesc("kubeposture_resources_scanned",
		"Objects the last successful scan read.", []string{"scan"}, nil)
	descChecks = prometheus.NewDesc("kubeposture_checks",
		"Checks of the last successful scan, by state: evaluated, or not-evaluated (an input kind could not be read, or the check could judge nothing, as control-plane checks where the control plane is not visible).", []string{"scan", "state"}, nil)
	descMissingKinds = prometheus.NewDesc("kubeposture_scan_missing_kinds",
		"Kinds the last successful scan could not read (status.coverage.missing).", []string{"scan"}, nil)
	descFrameworkScore = prometheus.NewDesc("kubeposture_framework_score",
		"Score of each framework in the last successful scan, 0 to 100.", []string{"scan", "framework"}, nil)
	descFrameworkCompliance = prometheus.NewDesc("kubeposture_framework_compliance_ratio",
		"Compliance of each framework in the last successful scan, 0 to 1: the share of judged objects that pass, averaged over the controls.", []string{"scan", "framework"}, nil)
	descFrameworkControls = prometheus.NewDesc("kubeposture_framework_controls",
		"Controls of each framework in the last successful scan, by result (pass, fail, manual, not-evaluated).", []string{"scan", "framework", "result"}, nil)
	descLastSuccess = prometheus.NewDesc("kubeposture_last_successful_scan_timestamp_seconds",
		"When the last successful scan started, in seconds since the epoch.", []string{"scan"}, nil)
	descNextScan = prometheus.NewDesc("kubeposture_next_scan_timestamp_seconds",
		"When the schedule runs the next scan, in seconds since the epoch; absent without a schedule or while suspended.", []string{"scan"}, nil)
	descFailing = prometheus.NewDesc("kubeposture_scan_failing",
		"1 while the ClusterScan's scans fail (Ready is False with reason ScanFailed or InvalidSpec), else 0.", []string{"scan"}, nil)
	descNamespaceFindings = prometheus.NewDesc("kubeposture_namespace_findings",
		`Failed findings of the last successful scan this manager ran, by namespace and severity; namespace="_cluster" for cluster-scoped objects, "_other" for the sum of the namespaces beyond --metrics-max-namespaces. Only counts above 0 are exported.`,
		[]string{"scan", "namespace", "severity"}, nil)
	descCheckFindings = prometheus.NewDesc("kubeposture_check_findings",
		"Failed findings of the last successful scan this manager ran, by check; every evaluated check is exported, with 0 when it found nothing.",
		[]string{"scan", "check", "severity"}, nil)
)

// Describe sends every description.
func (c *metricsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		descScore, descFindings, descResources, descChecks, descMissingKinds, descFrameworkScore, descFrameworkCompliance,
		descFrameworkControls, descLastSuccess, descNextScan, descFailing, descNamespaceFindings, descCheckFindings,
	} {
		ch <- d
	}
	c.recorder.duration.Describe(ch)
	c.recorder.failures.Describe(ch)
	c.recorder.reportWrites.Describe(ch)
}

// Collect lists the ClusterScans, exports their status, forgets the scans
// that are gone, and exports what was recorded of the live ones.
func (c *metricsCollector) Collect(ch chan<- prometheus.Metric) {
	listed := c.recorder.sequence()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	list := &posturev1alpha1.ClusterScanList{}
	var notCached *cache.ErrResourceNotCached
	switch err := c.scans.List(ctx, list); {
	case errors.As(err, &notCached):
		// The controller has not started its ClusterScan informer: this
		// replica is not (yet) the leader, and exports no scan.
	case err != nil:
		// A scrape must not fail for it: the handler would answer 500 and lose every other metric.
		ctrl.Log.WithName("metrics").Error(err, "Listing ClusterScans for metrics; exporting only what scans recorded")
	default:
		live := make(map[string]types.UID, len(list.Items))
		for i := range list.Items {
			live[list.Items[i].Name] = list.Items[i].UID
			collectStatus(ch, &list.Items[i])
		}
		c.recorder.prune(live, listed)
	}
	c.recorder.collect(ch, c.opts)
}

func gauge(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

// collectStatus exports what a ClusterScan's status says.
func collectStatus(ch chan<- prometheus.Metric, scan *posturev1alpha1.ClusterScan) {
	name, st := scan.Name, &scan.Status
	failing := 0.0
	if ready := meta.FindStatusCondition(st.Conditions, posturev1alpha1.ConditionReady); ready != nil && ready.Status != metav1.ConditionTrue &&
		(ready.Reason == posturev1alpha1.ReasonScanFailed || ready.Reason == posturev1alpha1.ReasonInvalidSpec) {
		failing = 1
	}
	gauge(ch, descFailing, failing, name)
	if st.LastSuccessfulScanTime != nil {
		gauge(ch, descLastSuccess, float64(st.LastSuccessfulScanTime.Unix()), name)
	}
	if st.NextScanTime != nil {
		gauge(ch, descNextScan, float64(st.NextScanTime.Unix()), name)
	}
	if s := st.Summary; s != nil {
		gauge(ch, descScore, float64(s.Score), name)
		gauge(ch, descResources, float64(s.ResourcesScanned), name)
		gauge(ch, descChecks, float64(s.ChecksEvaluated), name, "evaluated")
		gauge(ch, descChecks, float64(s.ChecksNotEvaluated), name, "not-evaluated")
		for i, n := range []int32{s.Critical, s.High, s.Medium, s.Low} {
			gauge(ch, descFindings, float64(n), name, string(severities[i]))
		}
	}
	if st.Coverage != nil {
		gauge(ch, descMissingKinds, float64(len(st.Coverage.Missing)), name)
	}
	for _, f := range st.Frameworks {
		fw := string(f.Name)
		gauge(ch, descFrameworkScore, float64(f.Score), name, fw)
		gauge(ch, descFrameworkCompliance, float64(f.Compliance)/100, name, fw)
		for result, n := range map[string]int32{"pass": f.Passed, "fail": f.Failed, "manual": f.Manual, "not-evaluated": f.NotEvaluated} {
			gauge(ch, descFrameworkControls, float64(n), name, fw, result)
		}
	}
}

// collect exports what was recorded.
func (r *scanRecorder) collect(ch chan<- prometheus.Metric, opts MetricsOptions) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for name, rec := range r.scans {
		if rec.detail == nil {
			continue
		}
		for ns, counts := range rec.detail.namespaceSeries(opts.MaxNamespaces) {
			for i, n := range counts {
				if n > 0 {
					gauge(ch, descNamespaceFindings, float64(n), name, ns, string(severities[i]))
				}
			}
		}
		for _, c := range rec.detail.checks {
			gauge(ch, descCheckFindings, float64(c.findings), name, c.id, string(c.severity))
		}
	}
	r.duration.Collect(ch)
	r.failures.Collect(ch)
	r.reportWrites.Collect(ch)
}

// failureReason is the reason label of kubeposture_scan_errors_total: a
// short, bounded name for why a scan failed.
func failureReason(err error) string {
	switch {
	case errors.Is(err, inventory.ErrNamespacesUnreadable):
		return "NamespacesUnreadable"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return "Timeout"
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		if reason := apierrors.ReasonForError(err); reason != "" {
			return string(reason)
		}
		return "APIError"
	}
	return "Internal"
}

// transient says whether a scan error is not a failure of the scan but a
// reason to retry it at once: a write conflict, or the manager stopping.
// Such an error sets no condition, records no event and counts no failure.
func transient(ctx context.Context, err error) bool {
	return apierrors.IsConflict(err) || ctx.Err() != nil && errors.Is(err, context.Canceled)
}
