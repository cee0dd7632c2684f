// Package report turns a scan's outcomes into ScanReport objects (one per
// namespace with findings) and one ClusterScanReport. Output is
// deterministic: findings are sorted, and each report carries a hash of its
// content so that an unchanged cluster causes no write. Every report is
// bounded: at most MaxFindings findings and about MaxBytes of findings, the
// most severe kept, the number left out recorded.
package report

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	posturev1alpha1 "github.com/kubeposture/kubeposture/api/v1alpha1"
	"github.com/kubeposture/kubeposture/internal/benchmarks"
	"github.com/kubeposture/kubeposture/internal/checks"
	"github.com/kubeposture/kubeposture/internal/score"
)

const (
	// ContentHashAnnotation holds the hash of a report's content.
	ContentHashAnnotation = "posture.kubeposture.io/content-hash"

	// MaxBytes bounds the findings of one report, well under etcd's 1.5 MiB request limit.
	MaxBytes = 768 * 1024

	// DefaultMaxFindings is the cap when the spec sets none.
	DefaultMaxFindings = 500
)

// Set is every report one scan writes.
type Set struct {
	Cluster    *posturev1alpha1.ClusterScanReport
	Namespaced []*posturev1alpha1.ScanReport
}

// Options say how to build a scan's reports.
type Options struct {
	// MaxFindings caps the findings of each report.
	MaxFindings int
	// Resources are the objects scanned per namespace ("" for cluster-scoped), and in all.
	Resources      map[string]int
	TotalResources int
	// Namespaces is the number of namespaces in scope.
	Namespaces int
}

// Build makes the reports of one scan. Reports carry the scan's name and label;
// the caller sets owner references.
func Build(scan *posturev1alpha1.ClusterScan, outcomes []checks.Outcome, opts Options) Set {
	if opts.MaxFindings <= 0 {
		opts.MaxFindings = DefaultMaxFindings
	}
	byNS := map[string][]posturev1alpha1.Finding{}
	for i := range outcomes {
		o := &outcomes[i]
		if !o.Evaluated {
			continue // a check that could not judge reports no failures
		}
		for j := range o.Findings {
			f := &o.Findings[j]
			byNS[f.Object.Namespace] = append(byNS[f.Object.Namespace], toAPI(f))
		}
	}

	set := Set{}
	all := score.Summarize(outcomes, score.All)
	cluster := &posturev1alpha1.ClusterScanReport{
		TypeMeta:   metav1.TypeMeta{APIVersion: posturev1alpha1.GroupVersion.String(), Kind: "ClusterScanReport"},
		ObjectMeta: metav1.ObjectMeta{Name: scan.Name, Labels: map[string]string{posturev1alpha1.LabelScan: scan.Name}},
		Scan:       scan.Name,
		Namespaces: int32(opts.Namespaces),
	}
	// The cluster report's summary is of the whole scan; its findings are the cluster-scoped ones.
	cluster.Findings, cluster.Summary = bound(byNS[""], all, opts.TotalResources, opts.MaxFindings)
	cluster.Summary.Findings = int32(all.Findings)
	cluster.Summary.Omitted = int32(len(byNS[""]) - len(cluster.Findings))
	setHash(&cluster.ObjectMeta, cluster.Scan, cluster.Summary, cluster.Namespaces, cluster.Findings)
	set.Cluster = cluster

	namespaces := make([]string, 0, len(byNS))
	for ns := range byNS {
		if ns != "" {
			namespaces = append(namespaces, ns)
		}
	}
	slices.Sort(namespaces)
	summaries := score.SummarizeNamespaces(outcomes)
	for _, ns := range namespaces {
		r := &posturev1alpha1.ScanReport{
			TypeMeta:   metav1.TypeMeta{APIVersion: posturev1alpha1.GroupVersion.String(), Kind: "ScanReport"},
			ObjectMeta: metav1.ObjectMeta{Name: scan.Name, Namespace: ns, Labels: map[string]string{posturev1alpha1.LabelScan: scan.Name}},
			Scan:       scan.Name,
		}
		r.Findings, r.Summary = bound(byNS[ns], summaries[ns], opts.Resources[ns], opts.MaxFindings)
		setHash(&r.ObjectMeta, r.Scan, r.Summary, 0, r.Findings)
		set.Namespaced = append(set.Namespaced, r)
	}
	return set
}

// APISummary converts a score summary to its API form.
func APISummary(s score.Summary, resources int) posturev1alpha1.ScanSummary {
	return posturev1alpha1.ScanSummary{
		Score:              int32(s.Score),
		Grade:              s.Grade,
		Critical:           int32(s.Critical),
		High:               int32(s.High),
		Medium:             int32(s.Medium),
		Low:                int32(s.Low),
		ResourcesScanned:   int32(resources),
		ChecksEvaluated:    int32(s.Evaluated),
		ChecksNotEvaluated: int32(s.NotEvaluated),
	}
}

// bound sorts findings most severe first and keeps what fits.
func bound(findings []posturev1alpha1.Finding, s score.Summary, resources, maxFindings int) ([]posturev1alpha1.Finding, posturev1alpha1.ReportSummary) {
	slices.SortFunc(findings, compareFindings)
	kept, size := 0, 0
	for kept < len(findings) && kept < maxFindings {
		size += approxSize(&findings[kept])
		if size > MaxBytes {
			break
		}
		kept++
	}
	sum := posturev1alpha1.ReportSummary{
		ScanSummary: APISummary(s, resources),
		Findings:    int32(len(findings)),
		Omitted:     int32(len(findings) - kept),
	}
	if kept == 0 {
		return nil, sum
	}
	return slices.Clip(findings[:kept]), sum
}

func severityRank(s posturev1alpha1.Severity) int {
	return checks.Severity(s).Rank()
}

func compareFindings(a, b posturev1alpha1.Finding) int {
	return cmp.Or(
		cmp.Compare(severityRank(b.Severity), severityRank(a.Severity)),
		cmp.Compare(a.CheckID, b.CheckID),
		cmp.Compare(a.Object.Namespace, b.Object.Namespace),
		cmp.Compare(a.Object.Kind, b.Object.Kind),
		cmp.Compare(a.Object.Name, b.Object.Name),
		cmp.Compare(a.Object.APIVersion, b.Object.APIVersion),
		cmp.Compare(a.Object.UID, b.Object.UID),
		cmp.Compare(a.Message, b.Message),
	)
}

// approxSize is an upper bound of a finding's size in JSON.
func approxSize(f *posturev1alpha1.Finding) int {
	n := 256 + jsonLen(f.CheckID) + jsonLen(f.Title) + jsonLen(f.Category) + jsonLen(f.Message) + jsonLen(f.Remediation) +
		jsonLen(f.Object.APIVersion) + jsonLen(f.Object.Kind) + jsonLen(f.Object.Namespace) + jsonLen(f.Object.Name) + jsonLen(f.Object.UID)
	for _, b := range f.Benchmarks {
		n += jsonLen(b) + 4
	}
	return n
}

// jsonLen is the length of s as encoding/json writes it (quotes excluded):
// '"' and '\\' take 2 bytes, control characters and the HTML-escaped <, >, &
// (and U+2028, U+2029) take 6.
func jsonLen(s string) int {
	n := len(s)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			n++
		case c < 0x20 || c == '<' || c == '>' || c == '&':
			n += 5
		case c == 0xE2 && i+2 < len(s) && s[i+1] == 0x80 && (s[i+2] == 0xA8 || s[i+2] == 0xA9):
			n += 3 // 3 bytes written as 6
		}
	}
	return n
}

func toAPI(f *checks.Finding) posturev1alpha1.Finding {
	c := f.Check
	return posturev1alpha1.Finding{
		CheckID:    c.ID,
		Title:      c.Title,
		Severity:   posturev1alpha1.Severity(c.Severity),
		Category:   string(c.Category),
		Result:     posturev1alpha1.ResultFail,
		Benchmarks: benchmarks.References(c.ID),
		Object: posturev1alpha1.ObjectReference{
			APIVersion: f.Object.APIVersion,
			Kind:       f.Object.Kind,
			Namespace:  f.Object.Namespace,
			Name:       f.Object.Name,
			UID:        string(f.Object.UID),
		},
		Message:     Truncate(f.Message, 2048),
		Remediation: Truncate(c.Remediation, 1024),
	}
}

// Truncate shortens s to at most n bytes, cut on a rune boundary, marking the cut with "...".
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary.
	cut := n - len("...")
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "..."
}

func setHash(m *metav1.ObjectMeta, parts ...any) {
	data, err := json.Marshal(parts)
	if err != nil {
		panic(err) // plain structs of strings and numbers always marshal
	}
	sum := sha256.Sum256(data)
	if m.Annotations == nil {
		m.Annotations = map[string]string{}
	}
	m.Annotations[ContentHashAnnotation] = hex.EncodeToString(sum[:16])
}
