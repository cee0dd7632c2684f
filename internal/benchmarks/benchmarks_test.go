package benchmarks

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"

	posturev1alpha1 "github.com/kubeposture/kubeposture/api/v1alpha1"
	"github.com/kubeposture/kubeposture/internal/checks"
)

// TestAllValidate is the guard that no framework maps a control to a check
// the catalogue does not have: such a control would silently pass.
func TestAllValidate(t *testing.T) {
	for _, f := range All() {
		t.Run(f.Name, func(t *testing.T) {
			if err := f.Validate(checks.Default); err != nil {
				t.Errorf("Validate(checks.Default) = %v, want nil", err)
			}
			if len(f.Controls) == 0 {
				t.Errorf("framework %s has no controls", f.Name)
			}
		})
	}
}

func TestAllNamesMatchAPI(t *testing.T) {
	var gotNames []posturev1alpha1.Framework
	for _, f := range All() {
		gotNames = append(gotNames, posturev1alpha1.Framework(f.Name))
	}
	if diff := cmp.Diff(posturev1alpha1.AllFrameworks, gotNames); diff != "" {
		t.Errorf("All() names mismatch with api AllFrameworks (-want +got):\n%s", diff)
	}
}

func TestByName(t *testing.T) {
	testCases := map[string]struct {
		name    string
		wantNil bool
	}{
		"unknown":           {name: "cis-1.11", wantNil: true},
		"empty":             {name: "", wantNil: true},
		"wrong case":        {name: "CIS-1.12", wantNil: true},
		"level without pss": {name: "baseline", wantNil: true},
	}
	for _, fw := range posturev1alpha1.AllFrameworks {
		testCases[string(fw)] = struct {
			name    string
			wantNil bool
		}{name: string(fw)}
	}
	for name, tc := range testCases {
		t.Run(name, func(t *testing.T) {
			got := ByName(tc.name)
			switch {
			case tc.wantNil && got != nil:
				t.Errorf("ByName(%q) = %s, want nil", tc.name, got.Name)
			case !tc.wantNil && got == nil:
				t.Errorf("ByName(%q) = nil, want a framework", tc.name)
			case !tc.wantNil && got.Name != tc.name:
				t.Errorf("ByName(%q).Name = %q, want %q", tc.name, got.Name, tc.name)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	testCases := map[string]struct {
		controls []Control
		// wantErr is the exact error; empty means none.
		wantErr string
	}{
		"known checks": {
			controls: []Control{
				{ID: "1", Checks: []string{"pss-privileged"}},
				{ID: "2", Checks: []string{"pss-privileged", "rbac-cluster-admin-binding"}},
			},
		},
		"manual controls only": {
			controls: []Control{{ID: "1"}, {ID: "2"}},
		},
		"no controls": {},
		"unknown check": {
			controls: []Control{
				{ID: "1", Checks: []string{"pss-privileged"}},
				{ID: "2", Checks: []string{"pss-privileged", "pss-no-such-check"}},
			},
			wantErr: `framework test: control 2 names unknown check "pss-no-such-check"`,
		},
		"check ID in the wrong case": {
			controls: []Control{{ID: "1", Checks: []string{"PSS-Privileged"}}},
			wantErr:  `framework test: control 1 names unknown check "PSS-Privileged"`,
		},
		"duplicate control": {
			controls: []Control{
				{ID: "5.1.1", Checks: []string{"pss-privileged"}},
				{ID: "5.1.2"},
				{ID: "5.1.1"},
			},
			wantErr: "framework test: duplicate control 5.1.1",
		},
	}
	for name, tc := range testCases {
		t.Run(name, func(t *testing.T) {
			f := &Framework{Name: "test", Controls: tc.controls}
			err := f.Validate(checks.Default)
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if gotErr != tc.wantErr {
				t.Errorf("Validate() error = %q, want %q", gotErr, tc.wantErr)
			}
		})
	}
}

func TestPSS(t *testing.T) {
	upstreamLevel := map[string]api.Level{} // kubeposture check ID -> upstream level
	var all, baseline []string
	for _, pc := range policy.DefaultChecks() {
		id := checks.PSSCheckID(pc.ID)
		upstreamLevel[id] = pc.Level
		all = append(all, id)
		if pc.Level == api.LevelBaseline {
			baseline = append(baseline, id)
		}
	}
	if len(baseline) == 0 || len(baseline) == len(all) {
		t.Fatalf("upstream has %d baseline checks of %d; the test needs both levels", len(baseline), len(all))
	}
	testCases := map[string]struct {
		level        api.Level
		wantName     string
		wantCheckIDs []string
	}{
		"baseline":                     {level: api.LevelBaseline, wantName: "pss-baseline", wantCheckIDs: baseline},
		"restricted includes baseline": {level: api.LevelRestricted, wantName: "pss-restricted", wantCheckIDs: all},
	}
	for name, tc := range testCases {
		t.Run(name, func(t *testing.T) {
			f := PSS(tc.level)
			if f.Name != tc.wantName {
				t.Errorf("Name = %q, want %q", f.Name, tc.wantName)
			}
			if diff := cmp.Diff(tc.wantCheckIDs, f.CheckIDs()); diff != "" {
				t.Errorf("CheckIDs() mismatch (-want +got):\n%s", diff)
			}
			for _, c := range f.Controls {
				if len(c.Checks) != 1 {
					t.Errorf("control %s maps %d checks, want 1", c.ID, len(c.Checks))
					continue
				}
				if tc.level == api.LevelBaseline && upstreamLevel[c.Checks[0]] != api.LevelBaseline {
					t.Errorf("control %s: check %s is at level %q, want only baseline checks", c.ID, c.Checks[0], upstreamLevel[c.Checks[0]])
				}
				if checks.Default.Get(c.Checks[0]) == nil {
					t.Errorf("control %s: check %s is not in the catalogue", c.ID, c.Checks[0])
				}
			}
		})
	}
}

func TestCISControlIDs(t *testing.T) {
	var wantIDs []string
	for _, sec := range []struct {
		prefix string
		n      int
	}{{"5.1.", 13}, {"5.2.", 12}, {"5.3.", 2}, {"5.4.", 2}, {"5.5.", 1}, {"5.6.", 4}} {
		for i := 1; i <= sec.n; i++ {
			wantIDs = append(wantIDs, sec.prefix+strconv.Itoa(i))
		}
	}
	if len(wantIDs) != 34 {
		t.Fatalf("built %d wanted IDs, want 34", len(wantIDs))
	}
	f := CIS()
	var gotIDs, manual []string
	for _, c := range f.Controls {
		if strings.HasPrefix(c.ID, "5.") {
			gotIDs = append(gotIDs, c.ID)
		}
		if c.Manual() {
			manual = append(manual, c.ID)
		}
	}
	if diff := cmp.Diff(wantIDs, gotIDs); diff != "" {
		t.Errorf("CIS() section 5 control IDs mismatch (-want +got):\n%s", diff)
	}
	// Every section 5 control the API can show has a check; these three cannot be judged from it.
	if diff := cmp.Diff([]string{"5.3.1", "5.4.2", "5.6.1"}, manual); diff != "" {
		t.Errorf("manual CIS controls (-want +got):\n%s", diff)
	}
	if f.Name != string(posturev1alpha1.FrameworkCIS) {
		t.Errorf("CIS().Name = %q, want %q", f.Name, posturev1alpha1.FrameworkCIS)
	}
}

func TestCheckIDs(t *testing.T) {
	testCases := map[string]struct {
		framework    *Framework
		wantCheckIDs []string
	}{
		"each check once, in control order": {
			framework: &Framework{Controls: []Control{
				{ID: "1", Checks: []string{"b", "a"}},
				{ID: "2"},
				{ID: "3", Checks: []string{"a", "c", "b"}},
			}},
			wantCheckIDs: []string{"b", "a", "c"},
		},
		"manual only": {
			framework:    &Framework{Controls: []Control{{ID: "1"}}},
			wantCheckIDs: nil,
		},
	}
	for name, tc := range testCases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.wantCheckIDs, tc.framework.CheckIDs()); diff != "" {
				t.Errorf("CheckIDs() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestManual(t *testing.T) {
	testCases := map[string]struct {
		control    Control
		wantManual bool
	}{
		"no checks":  {control: Control{ID: "1"}, wantManual: true},
		"empty list": {control: Control{ID: "1", Checks: []string{}}, wantManual: true},
		"one check":  {control: Control{ID: "1", Checks: []string{"pss-privileged"}}, wantManual: false},
	}
	for name, tc := range testCases {
		t.Run(name, func(t *testing.T) {
			if got := tc.control.Manual(); got != tc.wantManual {
				t.Errorf("Manual() = %v, want %v", got, tc.wantManual)
			}
		})
	}
}

// TestAllFresh checks that All returns new frameworks each call, so a caller
// that edits one cannot change another's.
func TestAllFresh(t *testing.T) {
	a := All()
	a[0].Controls[0].Checks = append(a[0].Controls[0].Checks, "edited")
	a[0].Controls = a[0].Controls[:1]
	b := All()
	if slices.Contains(b[0].Controls[0].Checks, "edited") || len(b[0].Controls) == 1 {
		t.Errorf("All() returned a framework changed by an earlier caller")
	}
}

func TestReferences(t *testing.T) {
	testCases := map[string]struct {
		checkID  string
		wantRefs []string
	}{
		"baseline check is referenced at baseline only": {
			checkID: "pss-privileged",
			wantRefs: []string{
				"CIS 1.12 5.2.2",
				"NSA/CISA: Do not run privileged containers or allow privilege escalation",
				"PSS baseline: privileged",
			},
		},
		"restricted check": {
			checkID: "pss-run-as-non-root",
			wantRefs: []string{
				"CIS 1.12 5.2.7",
				"CIS 1.12 5.6.3",
				"NSA/CISA: Use containers built to run applications as non-root users",
				"PSS restricted: runAsNonRoot",
			},
		},
		"one check, several controls": {
			checkID: "pss-host-namespaces",
			wantRefs: []string{
				"CIS 1.12 5.2.3", "CIS 1.12 5.2.4", "CIS 1.12 5.2.5",
				"NSA/CISA: Do not share host namespaces",
				"PSS baseline: hostNamespaces",
			},
		},
		"unknown check": {checkID: "no-such-check", wantRefs: nil},
	}
	for name, tc := range testCases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.wantRefs, References(tc.checkID)); diff != "" {
				t.Errorf("References(%q) mismatch (-want +got):\n%s", tc.checkID, diff)
			}
		})
	}
}

// TestReferencesFitAPI guards the API's bound on a finding's benchmarks
// (MaxItems=16): a check mapped by too many controls would make every report
// that holds one of its findings invalid.
func TestReferencesFitAPI(t *testing.T) {
	const maxItems = 16
	for _, c := range checks.Default.All() {
		if n := len(References(c.ID)); n > maxItems {
			t.Errorf("References(%q) has %d items, want at most %d", c.ID, n, maxItems)
		}
	}
}
