package score

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubeposture/kubeposture/internal/benchmarks"
	"github.com/kubeposture/kubeposture/internal/checks"
	"github.com/kubeposture/kubeposture/internal/inventory"
)

// Synthetic checks, one per severity, so that the weights are the only thing
// that differs between them.
var (
	critCheck = &checks.Check{ID: "t-critical", Severity: checks.SeverityCritical}
	highCheck = &checks.Check{ID: "t-high", Severity: checks.SeverityHigh}
	medCheck  = &checks.Check{ID: "t-medium", Severity: checks.SeverityMedium}
	lowCheck  = &checks.Check{ID: "t-low", Severity: checks.SeverityLow}
)

func ref(ns, name string) inventory.ObjectRef {
	kind := "Deployment"
	if ns == "" {
		kind = "Namespace"
	}
	return inventory.ObjectRef{APIVersion: "apps/v1", Kind: kind, Namespace: ns, Name: name}
}

// evaluated is an outcome of c that judged judgedIn objects per namespace and
// failed on the given objects (one finding each; repeat an object for two).
func evaluated(c *checks.Check, judgedIn map[string]int, failed ...inventory.ObjectRef) checks.Outcome {
	o := checks.Outcome{Check: c, Evaluated: true, JudgedIn: judgedIn}
	for _, n := range judgedIn {
		o.Judged += n
	}
	for _, obj := range failed {
		o.Findings = append(o.Findings, checks.Finding{Check: c, Object: obj, Message: "failed " + obj.Name})
	}
	return o
}

// failing returns refs to n distinct objects, prefix-a, prefix-b, ..., in namespace ns.
func failing(ns, prefix string, n int) []inventory.ObjectRef {
	out := make([]inventory.ObjectRef, n)
	for i := range out {
		out[i] = ref(ns, prefix+"-"+string(rune('a'+i)))
	}
	return out
}

func notEvaluated(c *checks.Check) checks.Outcome {
	return checks.Outcome{Check: c, MissingKinds: []inventory.Kind{inventory.KindNetworkPolicy}}
}

func TestWeight(t *testing.T) {
	testCases := map[string]struct {
		severity   checks.Severity
		wantWeight float64
	}{
		"critical": {severity: checks.SeverityCritical, wantWeight: 10},
		"high":     {severity: checks.SeverityHigh, wantWeight: 5},
		"medium":   {severity: checks.SeverityMedium, wantWeight: 2},
		"low":      {severity: checks.SeverityLow, wantWeight: 1},
		"unknown":  {severity: "info", wantWeight: 0},
	}
	for name, tc := range testCases {
		t.Run(name, func(t *testing.T) {
			if got := Weight(tc.severity); got != tc.wantWeight {
				t.Errorf("Weight(%q) = %v, want %v", tc.severity, got, tc.wantWeight)
			}
		})
	}
}

func TestGrade(t *testing.T) {
	testCases := map[string]struct {
		score     int
		critical  int
		wantGrade string
	}{
		"100 is A":                         {score: 100, wantGrade: "A"},
		"90 is A":                          {score: 90, wantGrade: "A"},
		"89 is B":                          {score: 89, wantGrade: "B"},
		"80 is B":                          {score: 80, wantGrade: "B"},
		"79 is C":                          {score: 79, wantGrade: "C"},
		"70 is C":                          {score: 70, wantGrade: "C"},
		"69 is D":                          {score: 69, wantGrade: "D"},
		"60 is D":                          {score: 60, wantGrade: "D"},
		"59 is F":                          {score: 59, wantGrade: "F"},
		"0 is F":                           {score: 0, wantGrade: "F"},
		"critical caps an A at C":          {score: 95, critical: 1, wantGrade: "C"},
		"critical caps 100 at C":           {score: 100, critical: 3, wantGrade: "C"},
		"critical caps a B at C":           {score: 85, critical: 1, wantGrade: "C"},
		"critical leaves a C a C":          {score: 75, critical: 1, wantGrade: "C"},
		"critical never raises a D":        {score: 65, critical: 1, wantGrade: "D"},
		"critical never raises an F":       {score: 10, critical: 2, wantGrade: "F"},
		"no critical leaves an A uncapped": {score: 95, critical: 0, wantGrade: "A"},
	}
	for name, tc := range testCases {
		t.Run(name, func(t *testing.T) {
			if got := Grade(tc.score, tc.critical); got != tc.wantGrade {
				t.Errorf("Grade(%d, %d) = %q, want %q", tc.score, tc.critical, got, tc.wantGrade)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	testCases := map[string]struct {
		outcomes    []checks.Outcome
		wantSummary Summary
	}{
		// docs/scoring.md's worked example:
		//   critical: 4 judged, 1 failed -> 0.75, weight 10
		//   medium:  10 judged, 5 failed -> 0.50, weight 2
		//   score = round(100 x (10 x 0.75 + 2 x 0.5) / (10 + 2)) = round(70.83) = 71 -> C
		"worked example": {
			outcomes: []checks.Outcome{
				evaluated(critCheck, map[string]int{"app": 4}, ref("app", "web")),
				evaluated(medCheck, map[string]int{"": 10}, failing("", "ns", 5)...),
			},
			wantSummary: Summary{Score: 71, Grade: "C", Critical: 1, Medium: 5, Findings: 6, Evaluated: 2},
		},
		// critical: 99/100 -> 0.99 x 10 = 9.9; score round(99) = 99, an A capped at C.
		"one critical finding caps a high score at C": {
			outcomes: []checks.Outcome{
				evaluated(critCheck, map[string]int{"app": 100}, ref("app", "web")),
			},
			wantSummary: Summary{Score: 99, Grade: "C", Critical: 1, Findings: 1, Evaluated: 1},
		},
		// critical 9/10 x 10 = 9, high 8/10 x 5 = 4, medium 7/10 x 2 = 1.4, low 6/10 x 1 = 0.6
		// score = round(100 x 15 / 18) = round(83.33) = 83, a B capped at C.
		"counts by severity": {
			outcomes: []checks.Outcome{
				evaluated(lowCheck, map[string]int{"app": 10}, failing("app", "l", 4)...),
				evaluated(critCheck, map[string]int{"app": 10}, failing("app", "c", 1)...),
				evaluated(medCheck, map[string]int{"app": 10}, failing("app", "m", 3)...),
				evaluated(highCheck, map[string]int{"app": 10}, failing("app", "h", 2)...),
			},
			wantSummary: Summary{Score: 83, Grade: "C", Critical: 1, High: 2, Medium: 3, Low: 4, Findings: 10, Evaluated: 4},
		},
		// Were the not-evaluated critical check counted as a pass, the score
		// would be round(100 x (10 + 1.5) / 12) = 96.
		"not evaluated check takes no part in the score": {
			outcomes: []checks.Outcome{
				notEvaluated(critCheck),
				evaluated(medCheck, map[string]int{"app": 4}, ref("app", "web")),
			},
			wantSummary: Summary{Score: 75, Grade: "C", Medium: 1, Findings: 1, Evaluated: 1, NotEvaluated: 1},
		},
		// Were the empty critical check counted as a pass, the score would be
		// round(100 x (10 + 0.5) / 11) = 95.
		"check that judged nothing takes no part in the score": {
			outcomes: []checks.Outcome{
				evaluated(critCheck, nil),
				evaluated(lowCheck, map[string]int{"app": 2}, ref("app", "web")),
			},
			wantSummary: Summary{Score: 50, Grade: "F", Low: 1, Findings: 1, Evaluated: 2},
		},
		"nothing evaluated is not graded": {
			outcomes:    []checks.Outcome{notEvaluated(critCheck), notEvaluated(lowCheck)},
			wantSummary: Summary{Score: 0, Grade: NotGraded, NotEvaluated: 2},
		},
		"no outcomes is not graded": {
			wantSummary: Summary{Score: 0, Grade: NotGraded},
		},
		"everything evaluated and nothing judged is 100": {
			outcomes:    []checks.Outcome{evaluated(critCheck, nil), evaluated(lowCheck, map[string]int{})},
			wantSummary: Summary{Score: 100, Grade: "A", Evaluated: 2},
		},
		"no failure is 100": {
			outcomes:    []checks.Outcome{evaluated(critCheck, map[string]int{"app": 3}), evaluated(lowCheck, map[string]int{"": 7})},
			wantSummary: Summary{Score: 100, Grade: "A", Evaluated: 2},
		},
		// medium: 4 judged, one object failed twice -> 3/4 passed, not 2/4.
		"two findings on one object fail it once but count twice": {
			outcomes: []checks.Outcome{
				evaluated(medCheck, map[string]int{"app": 4}, ref("app", "web"), ref("app", "web")),
			},
			wantSummary: Summary{Score: 75, Grade: "C", Medium: 2, Findings: 2, Evaluated: 1},
		},
		"every object failed is 0": {
			outcomes: []checks.Outcome{
				evaluated(highCheck, map[string]int{"app": 2}, ref("app", "a"), ref("app", "b")),
			},
			wantSummary: Summary{Score: 0, Grade: "F", High: 2, Findings: 2, Evaluated: 1},
		},
	}
	for name, tc := range testCases {
		t.Run(name, func(t *testing.T) {
			got := Summarize(tc.outcomes, All)
			if diff := cmp.Diff(tc.wantSummary, got); diff != "" {
				t.Errorf("Summarize() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSummarizeScope(t *testing.T) {
	// critical: judged 2 in a and 2 in b; fails b/web.
	// medium: judged 4 in a and 1 cluster-scoped; fails a/x, a/y twice, and the namespace ns-z.
	// low: not evaluated.
	outcomes := []checks.Outcome{
		evaluated(critCheck, map[string]int{"a": 2, "b": 2}, ref("b", "web")),
		evaluated(medCheck, map[string]int{"a": 4, "": 1}, ref("a", "x"), ref("a", "y"), ref("a", "y"), ref("", "ns-z")),
		notEvaluated(lowCheck),
	}
	testCases := map[string]struct {
		scope       Scope
		wantSummary Summary
	}{
		// critical 3/4 x 10 = 7.5; medium (5 - 3 objects)/5 x 2 = 0.8; round(100 x 8.3 / 12) = 69.
		"all": {
			scope:       All,
			wantSummary: Summary{Score: 69, Grade: "D", Critical: 1, Medium: 4, Findings: 5, Evaluated: 2, NotEvaluated: 1},
		},
		// critical 2/2 x 10 = 10; medium 2/4 x 2 = 1; round(100 x 11 / 12) = 92; no critical here.
		"namespace a": {
			scope:       Namespace("a"),
			wantSummary: Summary{Score: 92, Grade: "A", Medium: 3, Findings: 3, Evaluated: 2, NotEvaluated: 1},
		},
		// critical 1/2; medium judged nothing in b.
		"namespace b": {
			scope:       Namespace("b"),
			wantSummary: Summary{Score: 50, Grade: "F", Critical: 1, Findings: 1, Evaluated: 2, NotEvaluated: 1},
		},
		// critical judged nothing cluster-scoped; medium 0/1.
		"cluster-scoped": {
			scope:       Namespace(""),
			wantSummary: Summary{Score: 0, Grade: "F", Medium: 1, Findings: 1, Evaluated: 2, NotEvaluated: 1},
		},
		"namespace with nothing judged": {
			scope:       Namespace("absent"),
			wantSummary: Summary{Score: 100, Grade: "A", Evaluated: 2, NotEvaluated: 1},
		},
	}
	for name, tc := range testCases {
		t.Run(name, func(t *testing.T) {
			got := Summarize(outcomes, tc.scope)
			if diff := cmp.Diff(tc.wantSummary, got); diff != "" {
				t.Errorf("Summarize() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEvaluateFramework(t *testing.T) {
	passCheck := &checks.Check{ID: "t-pass", Severity: checks.SeverityHigh}
	failCheck := &checks.Check{ID: "t-fail", Severity: checks.SeverityMedium}
	notEvalCheck := &checks.Check{ID: "t-not-evaluated", Severity: checks.SeverityCritical}
	emptyCheck := &checks.Check{ID: "t-empty", Severity: checks.SeverityLow}
	outcomes := []checks.Outcome{
		evaluated(passCheck, map[string]int{"app": 4}),                                       // 4/4
		evaluated(failCheck, map[string]int{"app": 4}, ref("app", "web"), ref("app", "web")), // 3/4
		notEvaluated(notEvalCheck),
		evaluated(emptyCheck, nil), // judged nothing
	}
	controls := map[string]benchmarks.Control{
		"manual":         {ID: "manual"},
		"pass":           {ID: "pass", Checks: []string{"t-pass"}},
		"fail":           {ID: "fail", Checks: []string{"t-fail"}},
		"not-evaluated":  {ID: "not-evaluated", Checks: []string{"t-not-evaluated"}},
		"absent":         {ID: "absent", Checks: []string{"t-absent"}},
		"pass+fail":      {ID: "pass+fail", Checks: []string{"t-pass", "t-fail"}},
		"not-eval+fail":  {ID: "not-eval+fail", Checks: []string{"t-not-evaluated", "t-fail"}},
		"fail+not-eval":  {ID: "fail+not-eval", Checks: []string{"t-fail", "t-not-evaluated"}},
		"pass+not-eval":  {ID: "pass+not-eval", Checks: []string{"t-pass", "t-not-evaluated"}},
		"pass+absent":    {ID: "pass+absent", Checks: []string{"t-pass", "t-absent"}},
		"judged-nothing": {ID: "judged-nothing", Checks: []string{"t-empty"}},
	}
	framework := func(ids ...string) *benchmarks.Framework {
		f := &benchmarks.Framework{Name: "test-fw"}
		for _, id := range ids {
			f.Controls = append(f.Controls, controls[id])
		}
		return f
	}
	testCases := map[string]struct {
		framework  *benchmarks.Framework
		wantResult FrameworkResult
	}{
		"manual control": {
			framework: framework("manual"),
			wantResult: FrameworkResult{Name: "test-fw", Manual: 1, Score: 0,
				Controls: map[string]ControlResult{"manual": ControlManual}},
		},
		"passing control": {
			framework: framework("pass"),
			wantResult: FrameworkResult{Name: "test-fw", Passed: 1, Compliance: 100, Score: 100,
				Controls: map[string]ControlResult{"pass": ControlPass}},
		},
		"control whose check failed": {
			framework: framework("fail"),
			wantResult: FrameworkResult{Name: "test-fw", Failed: 1, Compliance: 75, Score: 75,
				Controls: map[string]ControlResult{"fail": ControlFail}},
		},
		"control whose check was not evaluated is never passed": {
			framework: framework("not-evaluated"),
			wantResult: FrameworkResult{Name: "test-fw", NotEvaluated: 1, Score: 0,
				Controls: map[string]ControlResult{"not-evaluated": ControlNotEvaluated}},
		},
		"control whose check is absent from the outcomes is not evaluated": {
			framework: framework("absent"),
			wantResult: FrameworkResult{Name: "test-fw", NotEvaluated: 1, Score: 0,
				Controls: map[string]ControlResult{"absent": ControlNotEvaluated}},
		},
		// Compliance (4+3)/(4+4) = 87.5 -> 88; score round(100 x (5 + 2 x 0.75) / 7) = 93.
		"control with two checks one of which failed": {
			framework: framework("pass+fail"),
			wantResult: FrameworkResult{Name: "test-fw", Failed: 1, Compliance: 88, Score: 93,
				Controls: map[string]ControlResult{"pass+fail": ControlFail}},
		},
		"a failure outweighs a not-evaluated check in either order": {
			framework: framework("not-eval+fail", "fail+not-eval"),
			wantResult: FrameworkResult{Name: "test-fw", Failed: 2, Compliance: 75, Score: 75,
				Controls: map[string]ControlResult{"not-eval+fail": ControlFail, "fail+not-eval": ControlFail}},
		},
		"a pass with a not-evaluated or absent check is not evaluated": {
			framework: framework("pass+not-eval", "pass+absent"),
			wantResult: FrameworkResult{Name: "test-fw", NotEvaluated: 2, Score: 100,
				Controls: map[string]ControlResult{"pass+not-eval": ControlNotEvaluated, "pass+absent": ControlNotEvaluated}},
		},
		"a control that judged nothing passes with full compliance": {
			framework: framework("judged-nothing"),
			wantResult: FrameworkResult{Name: "test-fw", Passed: 1, Compliance: 100, Score: 100,
				Controls: map[string]ControlResult{"judged-nothing": ControlPass}},
		},
		// Compliance averages pass (1), fail (0.75) and pass+fail (0.875):
		// 2.625 / 3 = 0.875 -> 88. Manual, not-evaluated and judged-nothing take no part.
		// Score: t-pass (5 x 1) and t-fail (2 x 0.75); t-not-evaluated and t-empty take no part: 93.
		"compliance averaged over controls that judged objects": {
			framework: framework("manual", "pass", "fail", "not-evaluated", "pass+fail", "judged-nothing"),
			wantResult: FrameworkResult{Name: "test-fw", Passed: 2, Failed: 2, Manual: 1, NotEvaluated: 1, Compliance: 88, Score: 93,
				Controls: map[string]ControlResult{
					"manual": ControlManual, "pass": ControlPass, "fail": ControlFail,
					"not-evaluated": ControlNotEvaluated, "pass+fail": ControlFail, "judged-nothing": ControlPass,
				}},
		},
		"no controls": {
			framework:  framework(),
			wantResult: FrameworkResult{Name: "test-fw", Controls: map[string]ControlResult{}},
		},
	}
	for name, tc := range testCases {
		t.Run(name, func(t *testing.T) {
			got := EvaluateFramework(tc.framework, outcomes)
			if diff := cmp.Diff(tc.wantResult, got); diff != "" {
				t.Errorf("EvaluateFramework() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
