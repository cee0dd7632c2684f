package output

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	openreportsv1alpha1 "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"

	"github.com/kubeposture/kubeposture/internal/checks"
)

// bigNamespace is a scan of one namespace with n findings of pss-privileged,
// each with a message of msgLen bytes.
func bigNamespace(t *testing.T, n, msgLen int) *Report {
	t.Helper()
	privileged := check(t, "pss-privileged")
	var fs []checks.Finding
	for i := range n {
		msg := fmt.Sprintf("%04d ", i) + strings.Repeat("x", msgLen)
		fs = append(fs, checks.Finding{Check: privileged, Object: deployment("big", fmt.Sprintf("d%04d", i)), Message: msg})
	}
	return &Report{Result: newResult([]checks.Outcome{
		{Check: privileged, Evaluated: true, Judged: n, JudgedIn: map[string]int{"big": n}, Findings: fs},
	})}
}

func jsonSize(t *testing.T, results []openreportsv1alpha1.ReportResult) int {
	t.Helper()
	data, err := json.Marshal(results)
	if err != nil {
		t.Fatal(err)
	}
	return len(data)
}

// TestOpenReportsByteBound: a report keeps the longest prefix of results
// whose JSON fits MaxBytes exactly; its summary counts them all.
func TestOpenReportsByteBound(t *testing.T) {
	const n = 40
	r := bigNamespace(t, n, 1000)
	_, all := OpenReports(r, OpenReportsOptions{Now: fixedNow})
	full := all[0].Results
	if len(full) != n {
		t.Fatalf("%d results without a byte bound, want %d", len(full), n)
	}
	for name, maxBytes := range map[string]int{
		"cut in a result":        jsonSize(t, full[:10]) + 500,
		"exactly ten results":    jsonSize(t, full[:10]),
		"one byte short of ten":  jsonSize(t, full[:10]) - 1,
		"everything fits":        jsonSize(t, full),
		"not even the first one": 100,
	} {
		t.Run(name, func(t *testing.T) {
			_, reps := OpenReports(r, OpenReportsOptions{Now: fixedNow, MaxBytes: maxBytes})
			rep := reps[0]
			kept := len(rep.Results)
			if kept > 0 && jsonSize(t, rep.Results) > maxBytes {
				t.Errorf("%d results take %d bytes, over the bound %d", kept, jsonSize(t, rep.Results), maxBytes)
			}
			if kept < n && jsonSize(t, full[:kept+1]) <= maxBytes {
				t.Errorf("kept %d results, but %d fit in %d bytes", kept, kept+1, maxBytes)
			}
			if diff := cmp.Diff(full[:kept], rep.Results); kept > 0 && diff != "" {
				t.Errorf("kept results are not the first ones (-want +got):\n%s", diff)
			}
			wantOmitted := ""
			if kept < n {
				wantOmitted = strconv.Itoa(n - kept)
			}
			if rep.Summary.Fail != n || rep.Annotations[OmittedAnnotation] != wantOmitted {
				t.Errorf("fail %d, omitted %q; want %d, %q", rep.Summary.Fail, rep.Annotations[OmittedAnnotation], n, wantOmitted)
			}
		})
	}
}

// TestOpenReportsOptions: the operator's name, labels and count bound.
func TestOpenReportsOptions(t *testing.T) {
	r := bigNamespace(t, 5, 10)
	cluster, reps := OpenReports(r, OpenReportsOptions{
		Name: "kubeposture-nightly", Labels: map[string]string{"posture.kubeposture.io/scan": "nightly"}, MaxResults: 2, Now: fixedNow,
	})
	wantLabels := map[string]string{"app.kubernetes.io/managed-by": "kubeposture", "posture.kubeposture.io/scan": "nightly"}
	for _, m := range []struct{ name, ns string }{{cluster.Name, cluster.Namespace}, {reps[0].Name, reps[0].Namespace}} {
		if m.name != "kubeposture-nightly" {
			t.Errorf("object %s/%s, want name kubeposture-nightly", m.ns, m.name)
		}
	}
	if diff := cmp.Diff(wantLabels, cluster.Labels); diff != "" {
		t.Errorf("ClusterReport labels (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantLabels, reps[0].Labels); diff != "" {
		t.Errorf("Report labels (-want +got):\n%s", diff)
	}
	reps[0].Labels["changed"] = "x"
	if _, shared := cluster.Labels["changed"]; shared {
		t.Error("objects share one labels map")
	}
	if got := reps[0]; len(got.Results) != 2 || got.Summary.Fail != 5 || got.Annotations[OmittedAnnotation] != "3" {
		t.Errorf("%d results, fail %d, omitted %q; want 2, 5, 3", len(got.Results), got.Summary.Fail, got.Annotations[OmittedAnnotation])
	}
}

// TestOpenReportsTruncatesMessages: a message is cut as the ScanReports cut it.
func TestOpenReportsTruncatesMessages(t *testing.T) {
	_, reps := OpenReports(bigNamespace(t, 1, 5000), OpenReportsOptions{Now: fixedNow})
	msg := reps[0].Results[0].Description
	if len(msg) != 2048 || !strings.HasSuffix(msg, "...") || !strings.HasPrefix(msg, "0000 xxx") {
		t.Errorf("message of %d bytes ending %q; want 2048 bytes ending ...", len(msg), msg[len(msg)-5:])
	}
}
