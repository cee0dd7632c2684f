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
			wantErr: `check "no-run": exactly one of Run and PerTemplate is required`,
		},
		"both Run and PerTemplate": {
			checks: []*Check{withCheck("both", func(c *Check) {
				c.PerTemplate = func(*inventory.Snapshot, *Config, *Emitter) func(*inventory.Workload) { return nil }
			})},
			wantErr: `check "both": exactly one of Run and PerTemplate is required`,
		},
		"PerTemplate alone": {
			checks: []*Check{withCheck("per-template", func(c *Check) {
				c.Run = nil
				c.PerTemplate = func(*inventory.Snapshot, *Config, *Emitter) func(*inventory.Workload) { return nil }
			})},
			wantIDs: []string{"per-template"},
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

// TestRunPerTemplate checks that checks judging templates one at a time
// keep their outcomes apart when Run walks the templates once for all of
// them: each outcome is what running the check alone gives, whatever runs
// before or after it, including a check that is not evaluated (missing
// kind, or NotEvaluated while preparing) and a check with Run.
func TestRunPerTemplate(t *testing.T) {
	perTemplate := func(id string, needs ...inventory.Kind) *Check {
		return &Check{ID: id, Needs: needs, PerTemplate: func(_ *inventory.Snapshot, _ *Config, e *Emitter) func(*inventory.Workload) {
			return func(w *inventory.Workload) {
				e.Judge(w.Ref)
				if strings.HasPrefix(w.Ref.Name, id[:1]) {
					e.Fail(w.Ref, "%s fails %s", id, w.Ref.Name)
				}
			}
		}}
	}
	notEvaluated := &Check{ID: "not-evaluated", PerTemplate: func(_ *inventory.Snapshot, _ *Config, e *Emitter) func(*inventory.Workload) {
		e.Judge(objRef("v1", "Namespace", "", "shop"))
		e.NotEvaluated("nothing to judge against")
		return nil
	}}
	namespaces := &Check{ID: "namespaces", Run: func(s *inventory.Snapshot, _ *Config, e *Emitter) {
		for i := range s.Namespaces {
			e.Judge(inventory.Ref("v1", "Namespace", &s.Namespaces[i].ObjectMeta))
		}
	}}
	all := []*Check{
		perTemplate("api"), namespaces, notEvaluated, perTemplate("web"),
		perTemplate("secrets", inventory.KindSecret), perTemplate("batch"),
	}
	newSnapshot := func() *inventory.Snapshot {
		s := &inventory.Snapshot{Pods: []corev1.Pod{
			pod("shop", "api", hardenedSpec()), pod("shop", "web", hardenedSpec()),
			pod("ops", "batch", hardenedSpec()), pod("shop", "queue", hardenedSpec()),
		}}
		s.Namespaces = []corev1.Namespace{{}}
		s.Namespaces[0].Name = "shop"
		s.MarkRead(inventory.KindPod)
		s.MarkRead(inventory.KindNamespace)
		s.MarkMissing(inventory.KindSecret, inventory.MissingForbidden, "secrets is forbidden")
		return s
	}
	got := Run(newSnapshot(), nil, all)
	for i, c := range all {
		want := Run(newSnapshot(), nil, []*Check{c})[0]
		if diff := cmp.Diff(want, got[i], cmp.Comparer(func(a, b *Check) bool { return a == b })); diff != "" {
			t.Errorf("check %s: outcome run with the others differs from run alone (-alone +together):\n%s", c.ID, diff)
		}
	}
	web := got[3]
	if web.Judged != 4 || web.Passed() != 3 || len(web.Findings) != 1 || web.Findings[0].Message != "web fails web" {
		t.Errorf("web: Judged=%d Passed=%d Findings=%v, want 4 judged, 3 passed, one finding on web", web.Judged, web.Passed(), summarize(web.Findings))
	}
	if diff := cmp.Diff(map[string]int{"shop": 3, "ops": 1}, web.JudgedIn); diff != "" {
		t.Errorf("web: JudgedIn mismatch (-want +got):\n%s", diff)
	}
	if ne := got[2]; ne.Evaluated || ne.Judged != 0 || ne.NotEvaluatedReason != "nothing to judge against" {
		t.Errorf("not-evaluated: Evaluated=%t Judged=%d reason %q, want not evaluated with its reason", ne.Evaluated, ne.Judged, ne.NotEvaluatedReason)
	}
	if sec := got[4]; sec.Evaluated || len(sec.MissingKinds) != 1 || sec.Judged != 0 {
		t.Errorf("secrets: Evaluated=%t MissingKinds=%v Judged=%d, want not evaluated for the missing Secret kind", sec.Evaluated, sec.MissingKinds, sec.Judged)
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
