package engine

import (
	"slices"
	"strings"
	"testing"

	"github.com/kubeposture/kubeposture/internal/benchmarks"
	"github.com/kubeposture/kubeposture/internal/checks"
)

func ids(p *Plan) []string {
	var out []string
	for _, c := range p.Checks {
		out = append(out, c.ID)
	}
	return out
}

func TestNewPlanSelectsChecks(t *testing.T) {
	all := len(checks.Default.All())
	baseline := benchmarks.PSS("baseline").CheckIDs()
	tcs := map[string]struct {
		opts      Options
		wantCount int
		wantHas   []string
		wantNot   []string
	}{
		"no frameworks: every check": {opts: Options{}, wantCount: all, wantHas: []string{"pss-privileged", "rbac-cluster-admin-binding"}},
		"one framework: its checks only": {
			opts: Options{Frameworks: []string{"pss-baseline"}}, wantCount: len(baseline),
			wantHas: []string{"pss-privileged"}, wantNot: []string{"pss-run-as-non-root", "rbac-cluster-admin-binding"},
		},
		"checks: only those": {
			opts: Options{Checks: []string{"pss-privileged", "netpol-namespace-without-policy"}}, wantCount: 2,
			wantHas: []string{"pss-privileged", "netpol-namespace-without-policy"},
		},
		"skip checks": {
			opts: Options{SkipChecks: []string{"pss-privileged"}}, wantCount: all - 1, wantNot: []string{"pss-privileged"},
		},
		"a named check outside the framework still runs": {
			opts: Options{Frameworks: []string{"pss-baseline"}, Checks: []string{"rbac-cluster-admin-binding"}}, wantCount: 1,
			wantHas: []string{"rbac-cluster-admin-binding"},
		},
	}
	for name, tc := range tcs {
		t.Run(name, func(t *testing.T) {
			p, err := NewPlan(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			got := ids(p)
			if len(got) != tc.wantCount {
				t.Errorf("%d checks %v, want %d", len(got), got, tc.wantCount)
			}
			for _, id := range tc.wantHas {
				if !slices.Contains(got, id) {
					t.Errorf("plan lacks %s", id)
				}
			}
			for _, id := range tc.wantNot {
				if slices.Contains(got, id) {
					t.Errorf("plan has %s", id)
				}
			}
		})
	}
}

func TestNewPlanRejectsUnknownNames(t *testing.T) {
	cli := FieldNames{Frameworks: "--framework", Checks: "--checks", SkipChecks: "--skip-checks", PodSecurityVersion: "--pss-version"}
	tcs := map[string]struct {
		opts    Options
		wantErr string
	}{
		"framework":               {opts: Options{Frameworks: []string{"pss-baseline", "cis-1.8"}}, wantErr: `spec.frameworks[1]: unknown framework "cis-1.8"`},
		"framework in wrong case": {opts: Options{Frameworks: []string{"CIS-1.12"}}, wantErr: `spec.frameworks[0]: unknown framework "CIS-1.12"`},
		"check":                   {opts: Options{Checks: []string{"pss-privileged-typo"}}, wantErr: `spec.checks[0]: unknown check "pss-privileged-typo"`},
		"skipped check":           {opts: Options{SkipChecks: []string{"nope"}}, wantErr: `spec.skipChecks[0]: unknown check "nope"`},
		"version":                 {opts: Options{PodSecurityVersion: "1.30"}, wantErr: "spec.podSecurityVersion:"},
		"CLI names":               {opts: Options{Checks: []string{"x"}, FieldNames: cli}, wantErr: `--checks[0]: unknown check "x"`},
	}
	for name, tc := range tcs {
		t.Run(name, func(t *testing.T) {
			_, err := NewPlan(tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("NewPlan() error = %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}
