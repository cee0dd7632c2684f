package checks

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/kubeposture/kubeposture/internal/inventory"
)

// validCheck is a check NewRegistry accepts; cases change one field of it.
func validCheck(id string) *Check {
	return &Check{
		ID:          id,
		Title:       "A title",
		Severity:    SeverityLow,
		Category:    CategoryWorkload,
		Description: "A description.",
		Remediation: "A remediation.",
		Run:         func(*inventory.Snapshot, *Config, *Emitter) {},
	}
}

func withCheck(id string, edit func(c *Check)) *Check {
	c := validCheck(id)
	edit(c)
	return c
}

func TestNewRegistry(t *testing.T) {
	testCases := map[string]struct {
		checks []*Check
		// wantErr is a substring of the error; empty means no error.
		wantErr string
		wantIDs []string
	}{
		"valid checks are sorted by ID": {
			checks:  []*Check{validCheck("zz-last"), validCheck("aa-first"), validCheck("mm-middle")},
			wantIDs: []string{"aa-first", "mm-middle", "zz-last"},
		},
		"empty registry": {
			wantIDs: nil,
		},
		"duplicate IDs": {
			checks:  []*Check{validCheck("dup"), validCheck("other"), validCheck("dup")},
			wantErr: `check "dup": duplicate ID`,
		},
		"upper-case ID": {
			checks:  []*Check{validCheck("PSS-Privileged")},
			wantErr: `check "PSS-Privileged": ID must be non-empty and lower-case`,
		},
		"empty ID": {
			checks:  []*Check{validCheck("")},
			wantErr: `check "": ID must be non-empty and lower-case`,
		},
		"missing title": {
			checks:  []*Check{withCheck("no-title", func(c *Check) { c.Title = "" })},
			wantErr: `check "no-title": title, description and remediation are required`,
		},
		"missing description": {
			checks:  []*Check{withCheck("no-description", func(c *Check) { c.Description = "" })},
			wantErr: `check "no-description": title, description and remediation are required`,
		},
		"missing remediation": {
			checks:  []*Check{withCheck("no-remediation", func(c *Check) { c.Remediation = "" })},
			wantErr: `check "no-remediation": title, description and remediation are required`,
		},
		"invalid severity": {
			checks:  []*Check{withCheck("bad-severity", func(c *Check) { c.Severity = "urgent" })},
			wantErr: `check "bad-severity": invalid severity "urgent"`,
		},
		"empty severity": {
			checks:  []*Check{withCheck("no-severity", func(c *Check) { c.Severity = "" })},
			wantErr: `check "no-severity": invalid severity ""`,
		},
		"severity in the wrong case": {
			checks:  []*Check{withCheck("shouty-severity", func(c *Check) { c.Severity = "High" })},
			wantErr: `check "shouty-severity": invalid severity "High"`,
		},
		"no Run function": {
			checks:  []*Check{withCheck("no-run", func(c *Check) { c.Run = nil })},
			wantErr: `check "no-run": no Run function`,
		},
	}
	for name, tc := range testCases {
		t.Run(name, func(t *testing.T) {
			r, err := NewRegistry(tc.checks...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("NewRegistry() error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewRegistry() unexpected error: %v", err)
			}
			var gotIDs []string
			for _, c := range r.All() {
				gotIDs = append(gotIDs, c.ID)
				if r.Get(c.ID) != c {
					t.Errorf("Get(%q) does not return the registered check", c.ID)
				}
			}
			if diff := cmp.Diff(tc.wantIDs, gotIDs); diff != "" {
				t.Errorf("All() IDs mismatch (-want +got):\n%s", diff)
			}
			if r.Get("not-registered") != nil {
				t.Errorf("Get(not-registered) = non-nil, want nil")
			}
		})
	}
}

func TestDefaultRegistry(t *testing.T) {
	all := Default.All()
	if len(all) == 0 {
		t.Fatal("Default has no checks")
	}
	var ids []string
	seen := map[string]bool{}
	for _, c := range all {
		if seen[c.ID] {
			t.Errorf("duplicate ID %q", c.ID)
		}
		seen[c.ID] = true
		ids = append(ids, c.ID)
		if c.ID != strings.ToLower(c.ID) {
			t.Errorf("ID %q is not lower-case", c.ID)
		}
		if Default.Get(c.ID) != c {
			t.Errorf("Get(%q) does not return the listed check", c.ID)
		}
		if len(c.Needs) == 0 {
			t.Errorf("check %q needs no kinds: it could never be not-evaluated", c.ID)
		}
	}
	if !slices.IsSorted(ids) {
		t.Errorf("Default.All() is not sorted by ID: %v", ids)
	}
	for _, id := range []string{"pss-privileged", "pss-host-namespaces", "rbac-cluster-admin-binding", "netpol-namespace-without-policy"} {
		if Default.Get(id) == nil {
			t.Errorf("Default.Get(%q) = nil, want the check", id)
		}
	}
}

// TestRun checks Run's bookkeeping on a stub check: not-evaluated when a
// needed kind was not read (its Run is then never called), Judged,
// JudgedIn and Findings as the check emitted them otherwise.
func TestRun(t *testing.T) {
	podRef := objRef("v1", "Pod", "shop", "p")
	stub := &Check{
		ID:    "stub",
		Needs: []inventory.Kind{inventory.KindPod, inventory.KindSecret},
		Run: func(s *inventory.Snapshot, _ *Config, e *Emitter) {
			for i := range s.Pods {
				e.Judge(inventory.Ref("v1", "Pod", &s.Pods[i].ObjectMeta))
			}
			e.Judge(objRef("v1", "Namespace", "", "shop"))
			e.Fail(podRef, "first %s", "failure")
			e.Fail(podRef, "second failure")
		},
	}
	testCases := map[string]struct {
		mark             func(s *inventory.Snapshot)
		wantEvaluated    bool
		wantMissingKinds []inventory.Kind
		wantJudged       int
		wantJudgedIn     map[string]int
		wantPassed       int
		wantFindings     []gotFinding
	}{
		"all needed kinds read": {
			mark: func(s *inventory.Snapshot) {
				s.MarkRead(inventory.KindPod)
				s.MarkRead(inventory.KindSecret)
			},
			wantEvaluated: true,
			wantJudged:    3,
			wantJudgedIn:  map[string]int{"shop": 2, "": 1},
			wantPassed:    2, // two findings on the same object count as one failed object
			wantFindings: []gotFinding{
				{Check: "stub", Object: podRef, Message: "first failure"},
				{Check: "stub", Object: podRef, Message: "second failure"},
			},
		},
		"a needed kind forbidden": {
			mark: func(s *inventory.Snapshot) {
				s.MarkRead(inventory.KindPod)
				s.MarkMissing(inventory.KindSecret, inventory.MissingForbidden, "secrets is forbidden")
			},
			wantMissingKinds: []inventory.Kind{inventory.KindSecret},
		},
		"needed kinds never marked are missing": {
			mark:             func(*inventory.Snapshot) {},
			wantMissingKinds: []inventory.Kind{inventory.KindPod, inventory.KindSecret},
		},
	}
	for name, tc := range testCases {
		t.Run(name, func(t *testing.T) {
			s := &inventory.Snapshot{Pods: []corev1.Pod{pod("shop", "p", hardenedSpec()), pod("shop", "q", hardenedSpec())}}
			tc.mark(s)
			out := Run(s, nil, []*Check{stub})
			if len(out) != 1 {
				t.Fatalf("Run returned %d outcomes, want 1", len(out))
			}
			o := out[0]
			if o.Check != stub {
				t.Errorf("Outcome.Check is not the check run")
			}
			if o.Evaluated != tc.wantEvaluated {
				t.Errorf("Evaluated = %t, want %t", o.Evaluated, tc.wantEvaluated)
			}
			if diff := cmp.Diff(tc.wantMissingKinds, o.MissingKinds); diff != "" {
				t.Errorf("MissingKinds mismatch (-want +got):\n%s", diff)
			}
			if o.Judged != tc.wantJudged || o.Passed() != tc.wantPassed {
				t.Errorf("Judged=%d Passed=%d, want %d and %d", o.Judged, o.Passed(), tc.wantJudged, tc.wantPassed)
			}
			if diff := cmp.Diff(tc.wantJudgedIn, o.JudgedIn); diff != "" {
				t.Errorf("JudgedIn mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantFindings, summarize(o.Findings)); diff != "" {
				t.Errorf("findings mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSeverityRank(t *testing.T) {
	testCases := map[Severity]int{
		SeverityCritical: 4,
		SeverityHigh:     3,
		SeverityMedium:   2,
		SeverityLow:      1,
		"info":           0,
		"":               0,
	}
	for sev, want := range testCases {
		t.Run(string(sev), func(t *testing.T) {
			if got := sev.Rank(); got != want {
				t.Errorf("Severity(%q).Rank() = %d, want %d", sev, got, want)
			}
		})
	}
}
