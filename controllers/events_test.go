package controllers_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	posturev1alpha1 "github.com/kubeposture/kubeposture/api/v1alpha1"
	"github.com/kubeposture/kubeposture/controllers"
	"github.com/kubeposture/kubeposture/internal/inventory"
)

// scanEvents returns the events.k8s.io Events about a ClusterScan.
func scanEvents(name string) ([]eventsv1.Event, error) {
	l := &eventsv1.EventList{}
	if err := k8sClient.List(testCtx, l); err != nil {
		return nil, err
	}
	return slices.DeleteFunc(l.Items, func(e eventsv1.Event) bool {
		return e.Regarding.Kind != "ClusterScan" || e.Regarding.Name != name
	}), nil
}

// occurrences counts how often events of a reason were recorded: an Event
// recorded again with the same note becomes a series on the first.
func occurrences(evs []eventsv1.Event, reason string) int {
	n := 0
	for _, e := range evs {
		if e.Reason != reason {
			continue
		}
		if e.Series != nil {
			n += int(e.Series.Count)
		} else {
			n++
		}
	}
	return n
}

func findEvent(evs []eventsv1.Event, reason string) *eventsv1.Event {
	for i := range evs {
		if evs[i].Reason == reason {
			return &evs[i]
		}
	}
	return nil
}

// withoutNamespaceAccess takes namespaces out of the manager's ClusterRole
// and returns a function that puts them back (also run at cleanup).
func withoutNamespaceAccess(t *testing.T) (restore func()) {
	t.Helper()
	role := &rbacv1.ClusterRole{}
	if err := k8sClient.Get(testCtx, types.NamespacedName{Name: "kubeposture-manager"}, role); err != nil {
		t.Fatal(err)
	}
	original := role.DeepCopy()
	for i := range role.Rules {
		role.Rules[i].Resources = slices.DeleteFunc(slices.Clone(role.Rules[i].Resources), func(r string) bool { return r == "namespaces" })
	}
	if err := k8sClient.Update(testCtx, role); err != nil {
		t.Fatal(err)
	}
	restored := false
	restore = func() {
		if restored {
			return
		}
		current := &rbacv1.ClusterRole{}
		if err := k8sClient.Get(testCtx, types.NamespacedName{Name: original.Name}, current); err != nil {
			t.Errorf("restoring the manager's ClusterRole: %v", err)
			return
		}
		current.Rules = original.Rules
		if err := k8sClient.Update(testCtx, current); err != nil {
			t.Errorf("restoring the manager's ClusterRole: %v", err)
			return
		}
		restored = true
	}
	t.Cleanup(restore)
	return restore
}

// TestEventsOnScanStartCompletionAndFailure follows the Events the suite's
// manager records, as a user reads them: a scan that starts and completes,
// then fails (namespaces become unreadable while a namespace selector needs
// them) and recovers. The retries of the failing scan record no event.
func TestEventsOnScanStartCompletionAndFailure(t *testing.T) {
	ns := "events-shop"
	ensureNamespace(t, ns, map[string]string{"events-test": "yes"})
	create(t, privilegedDeployment(ns, "web"))
	scan := &posturev1alpha1.ClusterScan{
		ObjectMeta: metav1.ObjectMeta{Name: "events"},
		Spec:       posturev1alpha1.ClusterScanSpec{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"events-test": "yes"}}},
	}
	create(t, scan)
	scan = waitScanned(t, "events", nil)
	ready := meta.FindStatusCondition(scan.Status.Conditions, posturev1alpha1.ConditionReady)

	eventually(t, scanTimeout, func() error {
		evs, err := scanEvents("events")
		if err != nil {
			return err
		}
		started, completed := findEvent(evs, "ScanStarted"), findEvent(evs, "ScanCompleted")
		switch {
		case started == nil || completed == nil:
			return fmt.Errorf("want ScanStarted and ScanCompleted, have %d events", len(evs))
		case started.Type != corev1.EventTypeNormal || started.Note != "Scan started (first scan)" || started.Action != "Scan" || started.ReportingController != "kubeposture":
			return fmt.Errorf("ScanStarted = type %s, note %q, action %q, controller %q", started.Type, started.Note, started.Action, started.ReportingController)
		case completed.Type != corev1.EventTypeNormal || completed.Note != ready.Message || !strings.Contains(completed.Note, "critical"):
			return fmt.Errorf("ScanCompleted = type %s, note %q; want the Ready message %q", completed.Type, completed.Note, ready.Message)
		case completed.Regarding.UID != scan.UID:
			return fmt.Errorf("ScanCompleted is about UID %s, want %s", completed.Regarding.UID, scan.UID)
		}
		return nil
	})

	// The scan fails: one ScanFailed saying why, however often it is retried.
	restore := withoutNamespaceAccess(t)
	requestScan(t, "events", "fail")
	const why = "Scan failed: " + "spec.namespaceSelector is set but namespaces cannot be read"
	eventually(t, scanTimeout, func() error {
		got := scrape(t, 10, "events")
		if v, _ := find(got["kubeposture_scan_errors_total"], map[string]string{"reason": "NamespacesUnreadable"}); v < 2 {
			return fmt.Errorf("kubeposture_scan_errors_total{reason=NamespacesUnreadable} = %v, want at least 2 (a retry)", v)
		}
		if v, _ := find(got["kubeposture_scan_failing"], map[string]string{}); v != 1 {
			return fmt.Errorf("kubeposture_scan_failing = %v, want 1", v)
		}
		evs, err := scanEvents("events")
		if err != nil {
			return err
		}
		if failed := findEvent(evs, "ScanFailed"); failed == nil || failed.Type != corev1.EventTypeWarning || failed.Note != why {
			return fmt.Errorf("ScanFailed = %+v, want a Warning with note %q", failed, why)
		}
		return nil
	})
	consistently(t, time.Second, func() error { // an event recorded twice would become a series
		evs, err := scanEvents("events")
		if err != nil {
			return err
		}
		if n := occurrences(evs, "ScanFailed"); n != 1 {
			return fmt.Errorf("ScanFailed recorded %d times, want once for the failure and none for its retries", n)
		}
		for _, e := range evs {
			if e.Reason == "ScanStarted" && strings.Contains(e.Note, "retrying") {
				return fmt.Errorf("ScanStarted recorded for a retry: %q", e.Note)
			}
		}
		return nil
	})

	// It recovers: ScanCompleted again, and the failing gauge is back to 0.
	prev := getScan(t, "events").Status.LastSuccessfulScanTime
	restore()
	waitScanned(t, "events", prev)
	eventually(t, scanTimeout, func() error {
		evs, err := scanEvents("events")
		if err != nil {
			return err
		}
		if n := occurrences(evs, "ScanCompleted"); n != 2 {
			return fmt.Errorf("ScanCompleted recorded %d times, want 2", n)
		}
		if n := occurrences(evs, "ScanStarted"); n != 2 {
			return fmt.Errorf("ScanStarted recorded %d times, want 2 (the first scan, the requested one)", n)
		}
		if v, _ := find(scrape(t, 10, "events")["kubeposture_scan_failing"], map[string]string{}); v != 0 {
			return fmt.Errorf("kubeposture_scan_failing = %v after recovery, want 0", v)
		}
		return nil
	})
}

// noWatch lets the interceptor, which wraps a client.WithWatch, wrap the
// suite's client; nothing here watches.
type noWatch struct{ client.Client }

func (noWatch) Watch(context.Context, client.ObjectList, ...client.ListOption) (watch.Interface, error) {
	return nil, errors.New("watch is not used")
}

// injectingWriter returns *inject from every write while it is set.
type injectingWriter struct {
	controllers.ObjectWriter
	inject *error
}

func (w *injectingWriter) Create(ctx context.Context, obj client.Object) error {
	if *w.inject != nil {
		return *w.inject
	}
	return w.ObjectWriter.Create(ctx, obj)
}

func (w *injectingWriter) Update(ctx context.Context, obj client.Object) error {
	if *w.inject != nil {
		return *w.inject
	}
	return w.ObjectWriter.Update(ctx, obj)
}

// TestEventsNotForTransientRetries drives a reconciler of its own against
// the real API server, injecting errors into its report writes: a conflict
// is a transient retry (no condition, no event, no failure counted), a
// forbidden write a failed scan (one ScanFailed, however often retried).
//
// The scan is suspended, so the suite's manager leaves it alone; this
// reconciler's reads see it unsuspended, so it alone scans it.
func TestEventsNotForTransientRetries(t *testing.T) {
	ns := "transient-shop"
	ensureNamespace(t, ns, nil)
	create(t, privilegedDeployment(ns, "web"))
	scan := newScan("transient", ns)
	scan.Spec.Suspend = true
	create(t, scan)
	eventually(t, scanTimeout, func() error {
		c := meta.FindStatusCondition(getScan(t, "transient").Status.Conditions, posturev1alpha1.ConditionReconciling)
		if c == nil || c.Reason != posturev1alpha1.ReasonSuspended {
			return fmt.Errorf("Reconciling = %+v, want Suspended by the suite's manager", c)
		}
		return nil
	})

	var inject error // returned by report writes while set
	c := interceptor.NewClient(noWatch{k8sClient}, interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			if err := c.Get(ctx, key, obj, opts...); err != nil {
				return err
			}
			if s, ok := obj.(*posturev1alpha1.ClusterScan); ok && s.Name == "transient" {
				s.Spec.Suspend = false
			}
			return nil
		},
	})
	recorder := events.NewFakeRecorder(100)
	clock := clocktesting.NewFakeClock(time.Now())
	r := &controllers.ClusterScanReconciler{
		Client: c, APIReader: k8sClient, Inventory: managerReader, Access: &inventory.SelfAccess{Client: k8sClient},
		Kinds: inventory.AllKinds, Clock: clock, Recorder: recorder,
		Writer: &injectingWriter{ObjectWriter: newWriter(t), inject: &inject},
	}

	reports := posturev1alpha1.GroupVersion.WithResource("scanreports").GroupResource()
	conflict := apierrors.NewConflict(reports, "transient", errors.New("the object has been modified"))
	forbidden := apierrors.NewForbidden(reports, "transient", errors.New("denied"))
	steps := []struct {
		name       string
		inject     error
		wantEvents []string // prefixes, in order
		wantReady  string
		wantErrors float64
	}{
		{name: "a conflict interrupts the first scan", inject: conflict,
			wantEvents: []string{"Normal ScanStarted Scan started (first scan)"}, wantReady: posturev1alpha1.ReasonSuspended},
		{name: "a forbidden write fails the retry", inject: forbidden,
			wantEvents: []string{"Warning ScanFailed Scan failed: the API server answered Forbidden"}, wantReady: posturev1alpha1.ReasonScanFailed, wantErrors: 1},
		{name: "the same failure again records no event", inject: forbidden, wantReady: posturev1alpha1.ReasonScanFailed, wantErrors: 2},
		{name: "a conflict while failing changes nothing", inject: conflict, wantReady: posturev1alpha1.ReasonScanFailed, wantErrors: 2},
		{name: "the retry succeeds", wantEvents: []string{"Normal ScanCompleted Scanned "}, wantReady: posturev1alpha1.ReasonScanSucceeded, wantErrors: 2},
	}
	for _, step := range steps {
		clock.Step(time.Second)
		inject = step.inject
		_, err := r.Reconcile(testCtx, ctrl.Request{NamespacedName: types.NamespacedName{Name: "transient"}})
		if (err != nil) != (step.inject != nil) {
			t.Fatalf("%s: Reconcile error = %v, want an error: %t", step.name, err, step.inject != nil)
		}
		var got []string
		for len(recorder.Events) > 0 {
			got = append(got, <-recorder.Events)
		}
		if len(got) != len(step.wantEvents) {
			t.Errorf("%s: events %q, want %q", step.name, got, step.wantEvents)
		} else {
			for i := range got {
				if !strings.HasPrefix(got[i], step.wantEvents[i]) {
					t.Errorf("%s: event %q, want it to start with %q", step.name, got[i], step.wantEvents[i])
				}
			}
		}
		if ready := meta.FindStatusCondition(getScan(t, "transient").Status.Conditions, posturev1alpha1.ConditionReady); ready == nil || ready.Reason != step.wantReady {
			t.Errorf("%s: Ready = %+v, want reason %s", step.name, ready, step.wantReady)
		}
		var failures float64
		for _, s := range scrape(t, 10, "transient")["kubeposture_scan_errors_total"] {
			failures += s.value
		}
		if failures != step.wantErrors {
			t.Errorf("%s: kubeposture_scan_errors_total = %v, want %v", step.name, failures, step.wantErrors)
		}
	}
}
