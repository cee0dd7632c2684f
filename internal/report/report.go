// Package report turns a scan's outcomes into ScanReport objects (one per
// namespace with findings) and one ClusterScanReport. Output is
// deterministic: findings are sorted, and each report carries a hash of its
// content so that an unchanged cluster causes no write. Findings are grouped
// by object, and each check a report mentions is described once, so that a
// report is as small for the API server to validate and store as it can be.
// Every report is bounded: at most MaxFindings findings and about MaxBytes
// in all, the most severe kept, the number left out recorded.
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
	"github.com/kubeposture/kubeposture/internal/inventory"
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
	byNS := map[string][]*checks.Finding{}
	for i := range outcomes {
		o := &outcomes[i]
		if !o.Evaluated {
			continue // a check that could not judge reports no failures
		}
		for j := range o.Findings {
			f := &o.Findings[j]
			byNS[f.Object.Namespace] = append(byNS[f.Object.Namespace], f)
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
	var kept int
	cluster.Checks, cluster.Objects, kept = bound(byNS[""], opts.MaxFindings)
	cluster.Summary = posturev1alpha1.ReportSummary{
		ScanSummary: APISummary(all, opts.TotalResources),
		Findings:    int32(all.Findings),
		Omitted:     int32(len(byNS[""]) - kept),
	}
	setHash(&cluster.ObjectMeta, cluster.Scan, cluster.Summary, cluster.Namespaces, cluster.Checks, cluster.Objects)
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
		r.Checks, r.Objects, kept = bound(byNS[ns], opts.MaxFindings)
		r.Summary = posturev1alpha1.ReportSummary{
			ScanSummary: APISummary(summaries[ns], opts.Resources[ns]),
			Findings:    int32(len(byNS[ns])),
			Omitted:     int32(len(byNS[ns]) - kept),
		}
		setHash(&r.ObjectMeta, r.Scan, r.Summary, 0, r.Checks, r.Objects)
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

// MaxFindingsPerObject bounds the findings listed under one object, as the
// CRD does; any more are left out and counted as omitted.
const MaxFindingsPerObject = 256

// bound describes the checks that failed, and keeps the most severe findings
// that fit (at most maxFindings, about MaxBytes in all), grouped by object:
// objects in the order of their most severe finding, each object's findings
// most severe first. It returns how many findings it kept.
func bound(findings []*checks.Finding, maxFindings int) ([]posturev1alpha1.ReportCheck, []posturev1alpha1.ObjectFindings, int) {
	if len(findings) == 0 {
		return nil, nil, 0
	}
	slices.SortFunc(findings, compareFindings)
	described := describeChecks(findings)
	size := 0
	for i := range described {
		size += checkSize(&described[i])
	}

	var objects []posturev1alpha1.ObjectFindings
	at := map[inventory.ObjectRef]int{} // index in objects
	kept := 0
	for _, f := range findings {
		if kept == maxFindings {
			break
		}
		i, listed := at[f.Object]
		if listed && len(objects[i].Findings) == MaxFindingsPerObject {
			continue
		}
		add := findingSize(f)
		if !listed {
			add += objectSize(&f.Object)
		}
		if size+add > MaxBytes {
			break
		}
		size += add
		if !listed {
			i = len(objects)
			at[f.Object] = i
			objects = append(objects, posturev1alpha1.ObjectFindings{Object: apiRef(&f.Object)})
		}
		objects[i].Findings = append(objects[i].Findings, posturev1alpha1.Finding{
			CheckID:  f.Check.ID,
			Severity: posturev1alpha1.Severity(f.Check.Severity),
			Message:  Truncate(f.Message, 2048),
		})
		kept++
	}
	return described, objects, kept
}

// describeChecks describes every check of findings (sorted by
// compareFindings, so most severe first) once, with the number of objects
// it failed on.
func describeChecks(findings []*checks.Finding) []posturev1alpha1.ReportCheck {
	var out []posturev1alpha1.ReportCheck
	objects := map[inventory.ObjectRef]bool{}
	for _, f := range findings {
		if n := len(out); n == 0 || out[n-1].ID != f.Check.ID {
			c := f.Check
			out = append(out, posturev1alpha1.ReportCheck{
				ID:          c.ID,
				Title:       Truncate(c.Title, 256),
				Severity:    posturev1alpha1.Severity(c.Severity),
				Category:    string(c.Category),
				Benchmarks:  benchmarks.References(c.ID),
				Remediation: Truncate(c.Remediation, 1024),
			})
			clear(objects)
		}
		if !objects[f.Object] {
			objects[f.Object] = true
			out[len(out)-1].Failed++
		}
	}
	return out
}

func compareFindings(a, b *checks.Finding) int {
	return cmp.Or(
		cmp.Compare(b.Check.Severity.Rank(), a.Check.Severity.Rank()),
		cmp.Compare(a.Check.ID, b.Check.ID),
		cmp.Compare(a.Object.Namespace, b.Object.Namespace),
		cmp.Compare(a.Object.Kind, b.Object.Kind),
		cmp.Compare(a.Object.Name, b.Object.Name),
		cmp.Compare(a.Object.APIVersion, b.Object.APIVersion),
		cmp.Compare(a.Object.UID, b.Object.UID),
		cmp.Compare(a.Message, b.Message),
	)
}

func apiRef(o *inventory.ObjectRef) posturev1alpha1.ObjectReference {
	return posturev1alpha1.ObjectReference{APIVersion: o.APIVersion, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name, UID: string(o.UID)}
}

// findingSize, objectSize and checkSize are upper bounds of the size in
// JSON of a finding, of an object's entry without its findings, and of a
// check's description.
func findingSize(f *checks.Finding) int {
	return 64 + jsonLen(f.Check.ID) + min(jsonLen(f.Message), 6*2048)
}

func objectSize(o *inventory.ObjectRef) int {
	return 128 + jsonLen(o.APIVersion) + jsonLen(o.Kind) + jsonLen(o.Namespace) + jsonLen(o.Name) + jsonLen(string(o.UID))
}

func checkSize(c *posturev1alpha1.ReportCheck) int {
	n := 160 + jsonLen(c.ID) + jsonLen(c.Title) + jsonLen(c.Category) + jsonLen(c.Remediation)
	for _, b := range c.Benchmarks {
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
