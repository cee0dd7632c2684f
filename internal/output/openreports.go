package output

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	openreportsv1alpha1 "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

const (
	// OpenReportsName is the name of every Report and of the ClusterReport.
	OpenReportsName = "kubeposture"
	// OpenReportsSource is the results' source.
	OpenReportsSource = "kubeposture"
	// MaxOpenReportsResults bounds the results of one Report, as the operator bounds its reports.
	MaxOpenReportsResults = 500

	// OmittedAnnotation holds the number of results left out of a report to keep it under MaxOpenReportsResults.
	OmittedAnnotation = "posture.kubeposture.io/omitted-results"
	// ScoreAnnotation and GradeAnnotation carry the whole scan's score and grade on the ClusterReport.
	ScoreAnnotation = "posture.kubeposture.io/score"
	GradeAnnotation = "posture.kubeposture.io/grade"
)

// BuildOpenReports returns the scan as openreports.io/v1alpha1 objects: one
// Report per namespace with findings, in namespace order, and a ClusterReport
// with the findings about cluster-scoped objects and a skip result for every
// check that was not evaluated. Each result's policy is the check ID; its
// properties hold the title, benchmarks, remediation and, for manifests, the
// file and line. A report keeps at most MaxOpenReportsResults results, the
// most severe; its summary counts them all and OmittedAnnotation the rest.
func BuildOpenReports(r *Report, opts Options) (*openreportsv1alpha1.ClusterReport, []*openreportsv1alpha1.Report) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	ts := opts.Now()
	stamp := metav1.Timestamp{Seconds: ts.Unix(), Nanos: int32(ts.Nanosecond())}
	byNS := map[string][]openreportsv1alpha1.ReportResult{}
	for _, f := range findings(r) {
		c := f.Check
		props := map[string]string{"title": c.Title, "remediation": c.Remediation}
		if len(f.benchmarks) > 0 {
			props["benchmarks"] = strings.Join(f.benchmarks, "; ")
		}
		if f.source != nil && f.source.File != "" {
			props["file"] = f.source.File
			if f.source.Line > 0 {
				props["line"] = strconv.Itoa(f.source.Line)
			}
		}
		o := f.Object
		byNS[o.Namespace] = append(byNS[o.Namespace], openreportsv1alpha1.ReportResult{
			Source:      OpenReportsSource,
			Policy:      c.ID,
			Category:    string(c.Category),
			Severity:    openreportsv1alpha1.ResultSeverity(c.Severity),
			Timestamp:   stamp,
			Result:      "fail",
			Scored:      true,
			Subjects:    []corev1.ObjectReference{{APIVersion: o.APIVersion, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name, UID: o.UID}},
			Description: f.Message,
			Properties:  props,
		})
	}

	meta := func(ns string) metav1.ObjectMeta {
		return metav1.ObjectMeta{
			Name: OpenReportsName, Namespace: ns,
			Labels: map[string]string{"app.kubernetes.io/managed-by": "kubeposture"},
		}
	}

	cluster := &openreportsv1alpha1.ClusterReport{
		TypeMeta:   metav1.TypeMeta{APIVersion: openreportsv1alpha1.SchemeGroupVersion.String(), Kind: "ClusterReport"},
		ObjectMeta: meta(""),
		Source:     OpenReportsSource,
	}
	results := byNS[""]
	cluster.Summary.Fail = len(results)
	for _, o := range notEvaluated(r) {
		c := o.Check
		props := map[string]string{"title": c.Title}
		if len(o.MissingKinds) > 0 {
			props["missingKinds"] = strings.Join(kindStrings(o.MissingKinds), ", ")
		}
		results = append(results, openreportsv1alpha1.ReportResult{
			Source:      OpenReportsSource,
			Policy:      c.ID,
			Category:    string(c.Category),
			Severity:    openreportsv1alpha1.ResultSeverity(c.Severity),
			Timestamp:   stamp,
			Result:      "skip",
			Description: reason(o),
			Properties:  props,
		})
		cluster.Summary.Skip++
	}
	s := r.Result.Summary
	cluster.Annotations = map[string]string{ScoreAnnotation: strconv.Itoa(s.Score), GradeAnnotation: s.Grade}
	cluster.Results = bound(&cluster.ObjectMeta, results)

	var namespaced []*openreportsv1alpha1.Report
	namespaces := sortedKeys(byNS)
	for _, ns := range namespaces {
		if ns == "" {
			continue
		}
		rep := &openreportsv1alpha1.Report{
			TypeMeta:   metav1.TypeMeta{APIVersion: openreportsv1alpha1.SchemeGroupVersion.String(), Kind: "Report"},
			ObjectMeta: meta(ns),
			Source:     OpenReportsSource,
		}
		rep.Summary.Fail = len(byNS[ns])
		rep.Results = bound(&rep.ObjectMeta, byNS[ns])
		namespaced = append(namespaced, rep)
	}
	return cluster, namespaced
}

// bound keeps the first MaxOpenReportsResults results (they come most severe
// first) and records how many were left out.
func bound(m *metav1.ObjectMeta, results []openreportsv1alpha1.ReportResult) []openreportsv1alpha1.ReportResult {
	if len(results) <= MaxOpenReportsResults {
		return results
	}
	if m.Annotations == nil {
		m.Annotations = map[string]string{}
	}
	m.Annotations[OmittedAnnotation] = strconv.Itoa(len(results) - MaxOpenReportsResults)
	return slices.Clip(results[:MaxOpenReportsResults])
}

// writeOpenReports writes the objects as a YAML stream (kubectl apply -f
// takes it): the ClusterReport first, then the Reports by namespace.
func writeOpenReports(w io.Writer, r *Report, opts Options) error {
	cluster, namespaced := BuildOpenReports(r, opts)
	objs := []any{cluster}
	for _, rep := range namespaced {
		objs = append(objs, rep)
	}
	for i, obj := range objs {
		data, err := yaml.Marshal(obj)
		if err != nil {
			return fmt.Errorf("marshal report %d: %w", i, err)
		}
		if _, err := fmt.Fprintf(w, "---\n%s", data); err != nil {
			return err
		}
	}
	return nil
}
