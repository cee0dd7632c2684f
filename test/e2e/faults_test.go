//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	posturev1alpha1 "github.com/kubeposture/kubeposture/api/v1alpha1"
	"github.com/kubeposture/kubeposture/internal/report"
	"github.com/kubeposture/kubeposture/test/cluster"
)

// These tests break things while a scan runs: the manager is killed, the
// leader dies, kube-apiserver restarts. Each checks that the scan still
// completes once, and that the reports in the API are whole: one per
// namespace, owned by the scan, consistent with the scan's status, and what a
// clean scan would have written.

// faultClient is an admin client for reading what the manager wrote.
func faultClient(t *testing.T) client.Client {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := posturev1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	ctrllog.SetLogger(testr.New(t))
	cfg := *testCluster.Config
	cfg.QPS, cfg.Burst = 100, 200
	c, err := client.New(&cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// faultWorkloads applies n namespaces prefix-00..prefix-NN, each with one
// privileged Deployment, so that each gets a ScanReport.
func faultWorkloads(t *testing.T, prefix string, from, n int) []string {
	t.Helper()
	var b strings.Builder
	var names []string
	for i := from; i < from+n; i++ {
		ns := fmt.Sprintf("%s-%02d", prefix, i)
		names = append(names, ns)
		fmt.Fprintf(&b, `apiVersion: v1
kind: Namespace
metadata:
  name: %[1]s
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
  namespace: %[1]s
spec:
  replicas: 0
  selector:
    matchLabels: {app: app}
  template:
    metadata:
      labels: {app: app}
    spec:
      containers:
      - name: app
        image: nginx:1.27
        securityContext:
          privileged: true
---
`, ns)
	}
	kubectlWithInput(t, b.String(), "apply", "--server-side", "-f", "-")
	t.Cleanup(func() {
		_, _, _ = testCluster.Kubectl(append([]string{"delete", "namespace", "--ignore-not-found", "--wait=false"}, names...)...)
	})
	return names
}

// applyScan creates a ClusterScan limited to the namespaces matching glob.
func applyScan(t *testing.T, name, glob, schedule string) {
	t.Helper()
	spec := fmt.Sprintf("  includeNamespaces: [%q]\n", glob)
	if schedule != "" {
		spec += fmt.Sprintf("  schedule: %q\n", schedule)
	}
	kubectlWithInput(t, fmt.Sprintf("apiVersion: posture.kubeposture.io/v1alpha1\nkind: ClusterScan\nmetadata:\n  name: %s\nspec:\n%s", name, spec), "apply", "-f", "-")
	t.Cleanup(func() {
		_, _, _ = testCluster.Kubectl("delete", "clusterscan", name, "--ignore-not-found", "--wait=false")
	})
}

// reportCount counts the ScanReports of scan, reading metadata only.
func reportCount(ctx context.Context, c client.Client, scan string) (int, error) {
	l := &metav1.PartialObjectMetadataList{}
	l.SetGroupVersionKind(posturev1alpha1.GroupVersion.WithKind("ScanReportList"))
	if err := c.List(ctx, l, client.MatchingLabels{posturev1alpha1.LabelScan: scan}); err != nil {
		return 0, err
	}
	return len(l.Items), nil
}

// scanReady says whether the scan's last scan succeeded and is current.
func scanReady(ctx context.Context, c client.Client, name string) (*posturev1alpha1.ClusterScan, bool, error) {
	scan := &posturev1alpha1.ClusterScan{}
	if err := c.Get(ctx, client.ObjectKey{Name: name}, scan); err != nil {
		return nil, false, client.IgnoreNotFound(err)
	}
	ready := meta.FindStatusCondition(scan.Status.Conditions, posturev1alpha1.ConditionReady)
	return scan, ready != nil && ready.Status == metav1.ConditionTrue && ready.ObservedGeneration == scan.Generation &&
		scan.Status.LastSuccessfulScanTime != nil && !scan.Status.LastScanTime.After(scan.Status.LastSuccessfulScanTime.Time), nil
}

// checkReportsWhole asserts that scan's reports are exactly one ScanReport
// per namespace in want and one ClusterScanReport, all controlled by the
// current ClusterScan, each internally consistent and consistent with the
// scan's status. It returns the reports' resourceVersions by key.
func checkReportsWhole(t *testing.T, c client.Client, scanName string, want []string) map[string]string {
	t.Helper()
	ctx := t.Context()
	scan := &posturev1alpha1.ClusterScan{}
	if err := c.Get(ctx, client.ObjectKey{Name: scanName}, scan); err != nil {
		t.Fatal(err)
	}
	versions := map[string]string{}
	owned := func(m metav1.Object) {
		t.Helper()
		refs := m.GetOwnerReferences()
		if len(refs) != 1 || refs[0].UID != scan.UID || refs[0].Controller == nil || !*refs[0].Controller {
			t.Errorf("Report %s/%s: owner references %+v, want exactly the ClusterScan %s (uid %s) as controller", m.GetNamespace(), m.GetName(), refs, scanName, scan.UID)
		}
		if m.GetAnnotations()[report.ContentHashAnnotation] == "" {
			t.Errorf("Report %s/%s has no %s annotation", m.GetNamespace(), m.GetName(), report.ContentHashAnnotation)
		}
		versions[m.GetNamespace()+"/"+m.GetName()] = m.GetResourceVersion()
	}
	whole := func(key string, s posturev1alpha1.ReportSummary, findings int, mayBeEmpty bool) {
		t.Helper()
		if int(s.Findings) != findings+int(s.Omitted) || s.Findings == 0 && !mayBeEmpty {
			t.Errorf("Report %s: summary says %d findings, %d omitted, but it holds %d", key, s.Findings, s.Omitted, findings)
		}
	}

	reports := &posturev1alpha1.ScanReportList{}
	if err := c.List(ctx, reports, client.MatchingLabels{posturev1alpha1.LabelScan: scanName}); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	var nsFindings int32
	for i := range reports.Items {
		r := &reports.Items[i]
		seen[r.Namespace]++
		owned(r)
		whole(r.Namespace+"/"+r.Name, r.Summary, len(r.AllFindings()), false)
		nsFindings += r.Summary.Findings
		if r.Name != scanName || r.Scan != scanName {
			t.Errorf("ScanReport %s/%s: name or scan %q, want %s", r.Namespace, r.Name, r.Scan, scanName)
		}
	}
	for _, ns := range want {
		if seen[ns] != 1 {
			t.Errorf("Namespace %s has %d ScanReports of scan %s, want 1", ns, seen[ns], scanName)
		}
		delete(seen, ns)
	}
	for ns, n := range seen {
		t.Errorf("Namespace %s has %d ScanReports of scan %s, want none: it is not in the scan's scope", ns, n, scanName)
	}

	clusterReports := &posturev1alpha1.ClusterScanReportList{}
	if err := c.List(ctx, clusterReports, client.MatchingLabels{posturev1alpha1.LabelScan: scanName}); err != nil {
		t.Fatal(err)
	}
	if len(clusterReports.Items) != 1 {
		t.Fatalf("Scan %s has %d ClusterScanReports, want 1", scanName, len(clusterReports.Items))
	}
	cr := &clusterReports.Items[0]
	owned(cr)
	whole("/"+cr.Name, posturev1alpha1.ReportSummary{Findings: cr.Summary.Findings - nsFindings, Omitted: cr.Summary.Omitted}, len(cr.AllFindings()), true)
	if st := scan.Status.Summary; st == nil || st.Critical != cr.Summary.Critical || st.High != cr.Summary.High ||
		st.Medium != cr.Summary.Medium || st.Low != cr.Summary.Low || st.Score != cr.Summary.Score {
		t.Errorf("ClusterScan %s status summary %+v disagrees with its ClusterScanReport's %+v", scanName, st, cr.Summary.ScanSummary)
	}
	return versions
}

// requestScan sets the scan-requested-at annotation and waits for the scan
// it asks for to complete.
func requestScan(t *testing.T, c client.Client, name, value string) {
	t.Helper()
	kubectl(t, "annotate", "--overwrite", "clusterscan", name, posturev1alpha1.ScanRequestedAtAnnotation+"="+value)
	waitFor(t, 2*time.Minute, "the requested scan "+value+" of "+name, func() (bool, error) {
		scan, ready, err := scanReady(t.Context(), c, name)
		return err == nil && ready && scan.Status.LastScanRequest == value, err
	})
}

// TestE2EManagerKilledMidScanRepeatedly kills the manager with SIGKILL while
// it writes a scan's reports, three times at different points, as a crash
// loop would. The manager runs slowly (5 requests/s) so that writing the
// reports takes several seconds. After the last restart the scan completes,
// every namespace has exactly one whole report, and a rescan finds nothing
// to rewrite: what the crashes left is what a clean scan writes.
func TestE2EManagerKilledMidScanRepeatedly(t *testing.T) {
	requireManager(t)
	c := faultClient(t)
	ctx := t.Context()
	const n = 40
	namespaces := faultWorkloads(t, "e2e-kill", 0, n)
	applyScan(t, "e2e-kill", "e2e-kill-*", "")

	slow := []string{"--kube-api-qps=5", "--kube-api-burst=5"}
	for round, killAt := range []int{5, 15, 30} {
		m := startManager(t, slow...)
		var got int
		waitFor(t, 2*time.Minute, fmt.Sprintf("round %d: %d reports written before the kill", round+1, killAt), func() (bool, error) {
			if exited, err := m.Exited(); exited {
				return false, err
			}
			var err error
			got, err = reportCount(ctx, c, "e2e-kill")
			return got >= killAt, err
		})
		if got >= n {
			t.Fatalf("Round %d: all %d reports were written before the kill; the test needs a slower manager", round+1, got)
		}
		if err := m.Kill(); err != nil {
			t.Fatal(err)
		}
		if _, ready, err := scanReady(ctx, c, "e2e-kill"); err != nil || ready {
			t.Fatalf("Round %d: the scan is Ready after the manager was killed with %d of %d reports written (err %v)", round+1, got, n, err)
		}
		t.Logf("Round %d: killed the manager with %d of %d reports written", round+1, got, n)
	}

	m := startManager(t)
	waitFor(t, 2*time.Minute, "the scan to complete after the crashes", func() (bool, error) {
		if exited, err := m.Exited(); exited {
			return false, err
		}
		_, ready, err := scanReady(ctx, c, "e2e-kill")
		return ready, err
	})
	before := checkReportsWhole(t, c, "e2e-kill", namespaces)

	// A clean rescan writes nothing: every report already holds what it would write.
	requestScan(t, c, "e2e-kill", "after-crashes")
	after := checkReportsWhole(t, c, "e2e-kill", namespaces)
	for key, rv := range before {
		if after[key] != rv {
			t.Errorf("Report %s was rewritten by a clean rescan (resourceVersion %s -> %s): the crashes left it different from a clean scan's", key, rv, after[key])
		}
	}
}

// leaseLog is what a manager's log says about its leadership and scans.
type leaseLog struct {
	leader    bool
	scans     int
	scheduled int
}

// readLeaseLog reads a manager's JSON log lines.
func readLeaseLog(t *testing.T, path string) leaseLog {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out leaseLog
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var line struct {
			Msg    string `json:"msg"`
			Reason string `json:"reason"`
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			continue
		}
		switch {
		case strings.EqualFold(line.Msg, "successfully acquired lease"):
			out.leader = true
		case line.Msg == "Scan started":
			out.scans++
			if line.Reason == "scheduled" {
				out.scheduled++
			}
		}
	}
	return out
}

// TestE2ELeaderElectionTakeover runs two managers with leader election. Only
// the leader scans. The leader is killed (SIGKILL: no lease release) just
// before a scheduled scan is due; the other manager takes the lease once it
// expires and runs the missed scheduled scan exactly once.
func TestE2ELeaderElectionTakeover(t *testing.T) {
	requireManager(t)
	c := faultClient(t)
	ctx := t.Context()
	namespaces := faultWorkloads(t, "e2e-lease", 0, 2)
	kubectl(t, "create", "namespace", "e2e-lease-system")
	t.Cleanup(func() { _, _, _ = testCluster.Kubectl("delete", "namespace", "e2e-lease-system", "--wait=false") })

	args := []string{"--leader-elect=true", "--leader-election-namespace=e2e-lease-system"}
	a := startManager(t, args...)
	b := startManager(t, args...)
	logs := map[*cluster.Process]string{a: a.LogPath, b: b.LogPath}
	var leader, follower *cluster.Process
	waitFor(t, time.Minute, "one manager to become the leader", func() (bool, error) {
		for p, path := range logs {
			if readLeaseLog(t, path).leader {
				leader = p
			}
		}
		return leader != nil, nil
	})
	follower = a
	if leader == a {
		follower = b
	}

	// Wait for a moment when the next minute's scheduled scan is between 10
	// and 20 seconds away, then create the scan: the leader scans at once.
	waitFor(t, 70*time.Second, "10-20 s before a minute boundary", func() (bool, error) {
		s := time.Now().Second()
		return s >= 40 && s < 46, nil
	})
	applyScan(t, "e2e-lease", "e2e-lease-*", "* * * * *")
	waitFor(t, time.Minute, "the leader's first scan", func() (bool, error) {
		_, ready, err := scanReady(ctx, c, "e2e-lease")
		return ready, err
	})
	first, _, _ := scanReady(ctx, c, "e2e-lease")
	firstScan := first.Status.LastSuccessfulScanTime.Time
	tick := first.Status.NextScanTime
	if tick == nil {
		t.Fatalf("ClusterScan e2e-lease has no nextScanTime after its first scan")
	}
	if got := readLeaseLog(t, follower.LogPath); got.leader || got.scans != 0 {
		t.Fatalf("The follower's log shows leadership %v and %d scans; only the leader may scan", got.leader, got.scans)
	}
	if got := readLeaseLog(t, leader.LogPath); got.scans != 1 {
		t.Fatalf("The leader's log shows %d scans, want 1 (the first)", got.scans)
	}

	// The leader dies before the tick; the lease (15 s) outlives the tick, so
	// nobody runs the scan on time, and the new leader must catch up once.
	if err := leader.Kill(); err != nil {
		t.Fatal(err)
	}
	killedAt := time.Now()
	t.Logf("Killed the leader %s before the scheduled scan at %s", killedAt.Format(time.TimeOnly), tick.Format(time.TimeOnly))
	waitFor(t, 90*time.Second, "the follower to take over and run the missed scheduled scan", func() (bool, error) {
		if exited, err := follower.Exited(); exited {
			return false, err
		}
		scan, ready, err := scanReady(ctx, c, "e2e-lease")
		return ready && scan.Status.LastSuccessfulScanTime.After(firstScan), err
	})
	got := readLeaseLog(t, follower.LogPath)
	if !got.leader || got.scans != 1 || got.scheduled != 1 {
		t.Errorf("The follower's log: leader %v, %d scans, %d scheduled; want it to lead and scan once, on schedule", got.leader, got.scans, got.scheduled)
	}
	scan, _, _ := scanReady(ctx, c, "e2e-lease")
	if !scan.Status.LastScanTime.After(tick.Time) && !scan.Status.LastScanTime.Equal(tick) {
		t.Errorf("The catch-up scan ran at %s, before the tick at %s", scan.Status.LastScanTime, tick)
	}
	// Stay a few seconds: a second scan for the same tick would show now.
	time.Sleep(5 * time.Second)
	if again := readLeaseLog(t, follower.LogPath); again.scans != got.scans {
		t.Errorf("The follower scanned %d times after taking over, want once", again.scans)
	}
	checkReportsWhole(t, c, "e2e-lease", namespaces)
}

// TestE2EAPIServerRestartMidScan restarts kube-apiserver while a slow
// manager writes a scan's reports. The manager, never restarted itself,
// completes the scan once the API server is back, and its informers watch
// again: a namespace created after the restart is in the next scan.
func TestE2EAPIServerRestartMidScan(t *testing.T) {
	requireManager(t)
	c := faultClient(t)
	ctx := t.Context()
	const n = 30
	namespaces := faultWorkloads(t, "e2e-restart", 0, n)
	m := startManager(t, "--kube-api-qps=5", "--kube-api-burst=5")
	applyScan(t, "e2e-restart", "e2e-restart-*", "")

	var got int
	waitFor(t, 2*time.Minute, "the scan to be writing its reports", func() (bool, error) {
		var err error
		got, err = reportCount(ctx, c, "e2e-restart")
		return got >= 5, err
	})
	if got >= n {
		t.Fatalf("All %d reports were written before the restart; the test needs a slower manager", got)
	}
	pid := m.Pid()
	began := time.Now()
	if err := testCluster.RestartAPIServer(ctx, 3*time.Second); err != nil {
		t.Fatal(err)
	}
	t.Logf("Restarted kube-apiserver with %d of %d reports written; down for %s", got, n, time.Since(began).Round(time.Millisecond))

	waitFor(t, 3*time.Minute, "the scan to complete after the restart", func() (bool, error) {
		if exited, err := m.Exited(); exited {
			return false, err
		}
		_, ready, err := scanReady(ctx, c, "e2e-restart")
		if apierrors.IsServiceUnavailable(err) {
			return false, nil
		}
		return ready, err
	})
	if m.Pid() != pid {
		t.Fatalf("The manager's pid changed from %d to %d", pid, m.Pid())
	}
	checkReportsWhole(t, c, "e2e-restart", namespaces)

	// The informers watch again: a namespace made now is in the next scan.
	namespaces = append(namespaces, faultWorkloads(t, "e2e-restart", n, 1)...)
	waitFor(t, time.Minute, "the new namespace's Deployment in the API", func() (bool, error) {
		err := c.Get(ctx, client.ObjectKey{Name: namespaces[n]}, &corev1.Namespace{})
		return err == nil, client.IgnoreNotFound(err)
	})
	requestScan(t, c, "e2e-restart", "after-restart")
	checkReportsWhole(t, c, "e2e-restart", namespaces)
	if exited, err := m.Exited(); exited {
		t.Fatalf("The manager exited: %v", err)
	}
}
