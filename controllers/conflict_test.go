package controllers_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	posturev1alpha1 "github.com/kubeposture/kubeposture/api/v1alpha1"
	"github.com/kubeposture/kubeposture/controllers"
	"github.com/kubeposture/kubeposture/internal/report"
)

// scanEventReasons counts the events recorded about ClusterScan name, by
// reason. Events about a cluster-scoped object are in the default namespace;
// all namespaces are listed so that none is missed.
func scanEventReasons(t *testing.T, name string) map[string]int32 {
	t.Helper()
	var l eventsv1.EventList
	if err := k8sClient.List(testCtx, &l); err != nil {
		t.Fatalf("listing events: %v", err)
	}
	out := map[string]int32{}
	for _, e := range l.Items {
		if e.Regarding.Kind != "ClusterScan" || e.Regarding.Name != name {
			continue
		}
		n := int32(1)
		if e.Series != nil {
			n = e.Series.Count
		}
		out[e.Reason] += n
	}
	return out
}

// failureWatch polls a ClusterScan's conditions until stopped and records
// every ScanFailed condition it sees.
type failureWatch struct {
	stop     context.CancelFunc
	done     chan struct{}
	mu       sync.Mutex
	failures []string
	polls    int
}

func watchForFailures(t *testing.T, name string) *failureWatch {
	t.Helper()
	ctx, stop := context.WithCancel(testCtx)
	w := &failureWatch{stop: stop, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for ctx.Err() == nil {
			scan := &posturev1alpha1.ClusterScan{}
			if err := k8sClient.Get(ctx, types.NamespacedName{Name: name}, scan); err == nil {
				w.mu.Lock()
				w.polls++
				for _, c := range scan.Status.Conditions {
					if c.Reason == posturev1alpha1.ReasonScanFailed || strings.Contains(c.Message, "onflict") {
						w.failures = append(w.failures, fmt.Sprintf("%s=%s %s: %s", c.Type, c.Status, c.Reason, c.Message))
					}
				}
				w.mu.Unlock()
			}
			select {
			case <-ctx.Done():
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return w
}

// check stops the watch and fails the test if it saw a failure.
func (w *failureWatch) check(t *testing.T) {
	t.Helper()
	w.stop()
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.polls == 0 {
		t.Fatal("the failure watch never read the scan")
	}
	if len(w.failures) > 0 {
		t.Errorf("a failure surfaced as a condition (%d of %d polls): %v", len(w.failures), w.polls, w.failures[0])
	}
}

// noScanFailedEvent fails if any ScanFailed event was recorded about the
// scan, once a ScanCompleted event shows that its events are being listed.
func noScanFailedEvent(t *testing.T, name string) {
	t.Helper()
	var reasons map[string]int32
	eventually(t, scanTimeout, func() error {
		reasons = scanEventReasons(t, name)
		if reasons["ScanCompleted"] == 0 {
			return fmt.Errorf("no ScanCompleted event yet: %v", reasons)
		}
		return nil
	})
	if n := reasons[posturev1alpha1.ReasonScanFailed]; n > 0 {
		t.Errorf("%d ScanFailed events: %v", n, reasons)
	}
}

// churn calls write every few milliseconds until ctx is done, and counts the
// writes that succeeded. A writer's own conflicts are its business: they are
// counted apart, never fatal.
type churn struct {
	ok, conflicts atomic.Int64
}

func (c *churn) run(ctx context.Context, wg *sync.WaitGroup, write func(i int) error) {
	wg.Go(func() {
		for i := 0; ctx.Err() == nil; i++ {
			switch err := write(i); {
			case err == nil:
				c.ok.Add(1)
			case apierrors.IsConflict(err):
				c.conflicts.Add(1)
			case ctx.Err() == nil:
				panic(fmt.Sprintf("churn write: %v", err)) // a broken test, not a finding
			}
			select {
			case <-ctx.Done():
			case <-time.After(10 * time.Millisecond):
			}
		}
	})
}

// While scans run, other clients keep writing the ClusterScan's labels and
// annotations, its status (a condition of their own, with optimistic
// locking), and the scan's reports (tampering with their content hash, so
// that every scan must write them again). The reconciler's writes never
// surface a conflict (status as merge patches without a resourceVersion,
// reports replaced at the resourceVersion read, read again after a
// conflict): every scan completes, and no ScanFailed condition or event ever
// appears.
func TestConflictingWritesNeverSurface(t *testing.T) {
	const name, ns, scans = "conflict", "conflict-shop", 8
	ensureNamespace(t, ns, nil)
	create(t, privilegedDeployment(ns, "web"), privilegedDeployment(ns, "api"))
	create(t, newScan(name, ns))
	waitScanned(t, name, nil)

	watch := watchForFailures(t, name)
	ctx, stop := context.WithCancel(testCtx)
	var wg sync.WaitGroup
	var labels, status, reports churn
	labels.run(ctx, &wg, func(i int) error {
		scan := &posturev1alpha1.ClusterScan{}
		if err := k8sClient.Get(ctx, types.NamespacedName{Name: name}, scan); err != nil {
			return err
		}
		scan.Labels = map[string]string{"test/churn": fmt.Sprint(i)}
		if scan.Annotations == nil {
			scan.Annotations = map[string]string{}
		}
		scan.Annotations["test/churn"] = fmt.Sprint(i)
		return k8sClient.Update(ctx, scan) // optimistic: conflicts with the status writes
	})
	status.run(ctx, &wg, func(i int) error {
		scan := &posturev1alpha1.ClusterScan{}
		if err := k8sClient.Get(ctx, types.NamespacedName{Name: name}, scan); err != nil {
			return err
		}
		meta.SetStatusCondition(&scan.Status.Conditions, metav1.Condition{
			Type: "ExternalAudit", Status: metav1.ConditionTrue, Reason: "Audited", Message: fmt.Sprintf("audit %d", i), ObservedGeneration: scan.Generation,
		})
		return k8sClient.Status().Update(ctx, scan)
	})
	reports.run(ctx, &wg, func(i int) error {
		rep := &posturev1alpha1.ScanReport{}
		if err := k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, rep); err != nil {
			return err
		}
		rep.Annotations[report.ContentHashAnnotation] = fmt.Sprintf("tampered-%d", i)
		rep.Labels["test/churn"] = fmt.Sprint(i)
		return k8sClient.Update(ctx, rep)
	})

	for i := range scans {
		prev := getScan(t, name).Status.LastSuccessfulScanTime
		requestScan(t, name, fmt.Sprintf("conflict-%d", i))
		waitScanned(t, name, prev)
	}
	stop()
	wg.Wait()
	watch.check(t)
	t.Logf("writes by other clients during %d scans: labels %d (%d conflicts), status %d (%d conflicts), reports %d (%d conflicts)",
		scans, labels.ok.Load(), labels.conflicts.Load(), status.ok.Load(), status.conflicts.Load(), reports.ok.Load(), reports.conflicts.Load())
	for what, c := range map[string]*churn{"labels": &labels, "status": &status, "reports": &reports} {
		if c.ok.Load() < scans {
			t.Errorf("only %d %s writes succeeded during %d scans: the test did not race the reconciler", c.ok.Load(), what, scans)
		}
	}

	// Every requested scan ran, and the last one wrote the report again over the tampering.
	scan := getScan(t, name)
	if scan.Status.LastScanRequest != fmt.Sprintf("conflict-%d", scans-1) {
		t.Errorf("lastScanRequest = %q, want the last request", scan.Status.LastScanRequest)
	}
	prev := scan.Status.LastSuccessfulScanTime
	requestScan(t, name, "conflict-final")
	waitScanned(t, name, prev)
	if h := getReport(t, ns, name).Annotations[report.ContentHashAnnotation]; strings.HasPrefix(h, "tampered-") {
		t.Errorf("the scan after the churn did not rewrite the tampered report: content hash %q", h)
	}
	noScanFailedEvent(t, name)
}

// The two writes the reconciler makes on objects others also write, made
// from a stale copy (an old resourceVersion): a merge patch of status built
// with client.MergeFrom, which succeeds, and a report's replace, which
// conflicts and is retried on fresh metadata. The same writes with optimistic
// locking from the stale copy conflict, which shows that it really was stale.
func TestConflictStaleWritesOfTheReconcilerSucceed(t *testing.T) {
	const name, ns = "conflict-stale", "conflict-stale"
	scannedShop(t, name, ns)

	// Status: a stale copy, then someone else's write.
	stale := getScan(t, name)
	touch(t, name, "stale")
	base := stale.DeepCopy()
	meta.SetStatusCondition(&stale.Status.Conditions, metav1.Condition{
		Type: "ExternalAudit", Status: metav1.ConditionTrue, Reason: "Audited", Message: "from a stale copy", ObservedGeneration: stale.Generation,
	})
	locked := stale.DeepCopy()
	if err := k8sClient.Status().Patch(testCtx, locked, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); !apierrors.IsConflict(err) {
		t.Fatalf("optimistically locked status patch from a stale copy: err = %v, want a conflict", err)
	}
	if err := k8sClient.Status().Patch(testCtx, stale, client.MergeFrom(base)); err != nil {
		t.Errorf("status merge patch from a stale copy, as the reconciler makes it: %v", err)
	}

	// Reports: the metadata a scan read, then someone else's write, then
	// the scan's replace from what it read: it conflicts, reads the
	// metadata again, and lands, keeping the other writer's label.
	rep := getReport(t, ns, name)
	read := &metav1.PartialObjectMetadata{ObjectMeta: *rep.ObjectMeta.DeepCopy()}
	staleRep := rep.DeepCopy()
	rep.Labels["test/other-writer"] = "yes"
	if err := k8sClient.Update(testCtx, rep); err != nil {
		t.Fatal(err)
	}
	if err := k8sClient.Update(testCtx, staleRep.DeepCopy()); !apierrors.IsConflict(err) {
		t.Fatalf("update of a stale report: err = %v, want a conflict", err)
	}
	w := &countingWriter{ObjectWriter: newWriter(t)}
	r := &controllers.ClusterScanReconciler{APIReader: k8sClient, Writer: w}
	changed := &posturev1alpha1.ScanReport{
		TypeMeta: metav1.TypeMeta{APIVersion: posturev1alpha1.GroupVersion.String(), Kind: "ScanReport"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{posturev1alpha1.LabelScan: name},
			Annotations: map[string]string{report.ContentHashAnnotation: "changed"}},
		Scan: staleRep.Scan, Summary: staleRep.Summary, Checks: staleRep.Checks, Objects: staleRep.Objects,
	}
	op, err := r.WriteOwned(testCtx, changed, metav1.GetControllerOf(staleRep), read)
	if err != nil {
		t.Fatalf("the scan's replace after another writer changed the report: %v", err)
	}
	if op != "update" || w.updates.Load() != 2 || w.creates.Load() != 0 {
		t.Errorf("op %q after %d updates and %d creates, want an update landing on the second attempt", op, w.updates.Load(), w.creates.Load())
	}
	got := getReport(t, ns, name)
	if got.Annotations[report.ContentHashAnnotation] != "changed" || got.Labels["test/other-writer"] != "yes" {
		t.Errorf("after the replace: content hash %q, labels %v; want the scan's content and the other writer's label", got.Annotations[report.ContentHashAnnotation], got.Labels)
	}

}
