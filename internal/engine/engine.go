// Package engine is the scan pipeline the operator and the CLI share: it
// turns options (frameworks, check selection, Pod Security version, trusted
// registries) into a validated Plan, and a Plan and a Snapshot into a
// Result. It knows nothing of controllers or command lines, so both give
// the same answer for the same objects.
package engine

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/pod-security-admission/api"

	"github.com/kubeposture/kubeposture/internal/benchmarks"
	"github.com/kubeposture/kubeposture/internal/checks"
	"github.com/kubeposture/kubeposture/internal/inventory"
	"github.com/kubeposture/kubeposture/internal/score"
)

// Options select what a scan judges and how. Field names in errors are
// given by FieldNames, so that the operator can name spec fields and the
// CLI its flags.
type Options struct {
	// Frameworks to evaluate; empty means all, and then every check runs.
	Frameworks []string
	// Checks, when set, limits the scan to these check IDs.
	Checks []string
	// SkipChecks removes these check IDs.
	SkipChecks []string
	// PodSecurityVersion is "latest" or "v1.N"; empty means latest.
	PodSecurityVersion string
	// TrustedRegistries are image prefixes images may come from.
	TrustedRegistries []string
	// Registry is the catalogue; nil means checks.Default.
	Registry *checks.Registry
	// FieldNames name the options in errors.
	FieldNames FieldNames
}

// FieldNames are what errors call each option.
type FieldNames struct {
	Frameworks, Checks, SkipChecks, PodSecurityVersion string
}

// SpecFields names the options as ClusterScan spec fields.
var SpecFields = FieldNames{
	Frameworks: "spec.frameworks", Checks: "spec.checks", SkipChecks: "spec.skipChecks", PodSecurityVersion: "spec.podSecurityVersion",
}

// Plan is validated Options.
type Plan struct {
	Config     *checks.Config
	Frameworks []*benchmarks.Framework
	Checks     []*checks.Check
}

// NewPlan validates options. An unknown framework or check ID is an error,
// never a silently empty scan.
func NewPlan(o Options) (*Plan, error) {
	registry := o.Registry
	if registry == nil {
		registry = checks.Default
	}
	names := o.FieldNames
	if names == (FieldNames{}) {
		names = SpecFields
	}
	p := &Plan{Config: checks.DefaultConfig()}
	if v := o.PodSecurityVersion; v != "" {
		pv, err := api.ParseVersion(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", names.PodSecurityVersion, err)
		}
		p.Config.PodSecurityVersion = pv
	}
	p.Config.TrustedRegistries = o.TrustedRegistries

	frameworks := o.Frameworks
	if len(frameworks) == 0 {
		for _, f := range benchmarks.All() {
			frameworks = append(frameworks, f.Name)
		}
	}
	wanted := map[string]bool{}
	for i, n := range frameworks {
		f := benchmarks.ByName(n)
		if f == nil {
			return nil, fmt.Errorf("%s[%d]: unknown framework %q (known: %s)", names.Frameworks, i, n, strings.Join(frameworkNames(), ", "))
		}
		p.Frameworks = append(p.Frameworks, f)
		for _, id := range f.CheckIDs() {
			wanted[id] = true
		}
	}
	for field, ids := range map[string][]string{names.Checks: o.Checks, names.SkipChecks: o.SkipChecks} {
		for i, id := range ids {
			if registry.Get(id) == nil {
				return nil, fmt.Errorf("%s[%d]: unknown check %q (kubeposture checks lists them)", field, i, id)
			}
		}
	}
	for _, c := range registry.All() {
		switch {
		case len(o.Checks) > 0 && !slices.Contains(o.Checks, c.ID):
		case slices.Contains(o.SkipChecks, c.ID):
		case len(o.Frameworks) > 0 && !wanted[c.ID] && !slices.Contains(o.Checks, c.ID):
		default:
			p.Checks = append(p.Checks, c)
		}
	}
	return p, nil
}

func frameworkNames() []string {
	var out []string
	for _, f := range benchmarks.All() {
		out = append(out, f.Name)
	}
	return out
}

// Result is what a scan found.
type Result struct {
	Outcomes   []checks.Outcome
	Summary    score.Summary
	Frameworks []score.FrameworkResult
}

// Run judges the snapshot.
func (p *Plan) Run(s *inventory.Snapshot) *Result {
	r := &Result{Outcomes: checks.Run(s, p.Config, p.Checks)}
	r.Summary, r.Frameworks = score.Evaluate(r.Outcomes, p.Frameworks)
	return r
}
