package output

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	openreportsv1alpha1 "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/kubeposture/kubeposture/internal/report"
)

const (
	// OpenReportsName is the name of every Report and of the ClusterReport the CLI writes.
	OpenReportsName = "kubeposture"
	// OpenReportsSource is the results' source.
	OpenReportsSource = "kubeposture"
	// MaxOpenReportsResults bounds the results of one Report, as the operator bounds its reports.
	MaxOpenReportsResults = report.DefaultMaxFindings
	// MaxOpenReportsBytes bounds the size of one Report's results in JSON, as
	// the operator bounds its reports: well under etcd's request limit.
	MaxOpenReportsBytes = report.MaxBytes

	// OmittedAnnotation holds the number of results left out of a report to keep it within its bounds.
	OmittedAnnotation = "posture.kubeposture.io/omitted-results"
	// ScoreAnnotation and GradeAnnotation carry the whole scan's score and grade on the ClusterReport.
	ScoreAnnotation = "posture.kubeposture.io/score"
	GradeAnnotation = "posture.kubeposture.io/grade"

	// managedByLabel marks every OpenReports object as kubeposture's.
	managedByLabel = "app.kubernetes.io/managed-by"
)

// OpenReportsOptions say how to name, label and bound OpenReports objects.
type OpenReportsOptions struct {
	// Name of every Report and of the ClusterReport; empty means OpenReportsName.
	Name string
	// Labels are added to every object, besides app.kubernetes.io/managed-by.
	Labels map[string]string
	// MaxResults caps the results of one object; 0 means MaxOpenReportsResults.
	MaxResults int
	// MaxBytes caps the size of one object's results as JSON; 0 means MaxOpenReportsBytes.
	MaxBytes int
	// Now gives the results' timestamp; nil means time.Now.
	Now func() time.Time
}

// BuildOpenReports returns the scan as the CLI writes it: OpenReports with
// the default name and bounds.
func BuildOpenReports(r *Report, opts Options) (*openreportsv1alpha1.ClusterReport, []*openreportsv1alpha1.Report) {
	return OpenReports(r, OpenReportsOptions{Now: opts.Now})
}

// OpenReports returns the scan as openreports.io/v1alpha1 objects: one
// Report per namespace with findings, in namespace order, and a ClusterReport
// with the findings about cluster-scoped objects and a skip result for every
// check that was not evaluated. Each result's policy is the check ID; its
// properties hold the title, benchmarks, remediation and, for manifests, the
// file and line. The CLI and the operator share it.
//
// Each object keeps the most severe results that fit both MaxResults and
// MaxBytes (the exact size of its results in JSON). Its summary counts every
// result, and OmittedAnnotation says how many were left out.
func OpenReports(r *Report, opts OpenReportsOptions) (*openreportsv1alpha1.ClusterReport, []*openreportsv1alpha1.Report) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Name == "" {
		opts.Name = OpenReportsName
	}
	if opts.MaxResults <= 0 {
		opts.MaxResults = MaxOpenReportsResults
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = MaxOpenReportsBytes
	}
	ts := opts.Now()
	stamp := metav1.Timestamp{Seconds: ts.Unix(), Nanos: int32(ts.Nanosecond())}
	byNS := map[string][]openreportsv1alpha1.ReportResult{}
	for _, f := range findings(r) {
		c := f.Check
		props := map[string]string{"title": c.Title, "remediation": report.Truncate(c.Remediation, 1024)}
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
			Description: report.Truncate(f.Message, 2048),
			Properties:  props,
		})
	}

	labels := map[string]string{managedByLabel: "kubeposture"}
	maps.Copy(labels, opts.Labels)
	meta := func(ns string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: opts.Name, Namespace: ns, Labels: maps.Clone(labels)}
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
			Description: report.Truncate(reason(o), 2048),
			Properties:  props,
		})
		cluster.Summary.Skip++
	}
	s := r.Result.Summary
	cluster.Annotations = map[string]string{ScoreAnnotation: strconv.Itoa(s.Score), GradeAnnotation: s.Grade}
	cluster.Results = bound(&cluster.ObjectMeta, results, opts.MaxResults, opts.MaxBytes)

	var namespaced []*openreportsv1alpha1.Report
	for _, ns := range slices.Sorted(maps.Keys(byNS)) {
		if ns == "" {
			continue
		}
		rep := &openreportsv1alpha1.Report{
			TypeMeta:   metav1.TypeMeta{APIVersion: openreportsv1alpha1.SchemeGroupVersion.String(), Kind: "Report"},
			ObjectMeta: meta(ns),
			Source:     OpenReportsSource,
		}
		rep.Summary.Fail = len(byNS[ns])
		rep.Results = bound(&rep.ObjectMeta, byNS[ns], opts.MaxResults, opts.MaxBytes)
		namespaced = append(namespaced, rep)
	}
	return cluster, namespaced
}

// bound keeps the longest prefix of results (they come most severe first)
// of at most maxResults results whose JSON array takes at most maxBytes, and
// records how many were left out.
func bound(m *metav1.ObjectMeta, results []openreportsv1alpha1.ReportResult, maxResults, maxBytes int) []openreportsv1alpha1.ReportResult {
	kept, size := 0, len("[]")
	for kept < len(results) && kept < maxResults {
		data, err := json.Marshal(&results[kept])
		if err != nil {
			panic(err) // strings, numbers and string maps always marshal
		}
		n := len(data)
		if kept > 0 {
			n++ // the comma
		}
		if size+n > maxBytes {
			break
		}
		size += n
		kept++
	}
	if kept == len(results) {
		return results
	}
	if m.Annotations == nil {
		m.Annotations = map[string]string{}
	}
	m.Annotations[OmittedAnnotation] = strconv.Itoa(len(results) - kept)
	if kept == 0 {
		return nil
	}
	return slices.Clip(results[:kept])
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
