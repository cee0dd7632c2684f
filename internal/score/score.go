// Package score turns check outcomes into scores and grades. Pure functions;
// the formulas are documented, with a worked example, in docs/scoring.md.
//
// Score: 100 x sum(w(check) x passed/judged) / sum(w(check)), over the checks
// that were evaluated and judged at least one object, with w = 10 for
// critical, 5 high, 2 medium, 1 low. Checks that were not evaluated, or had
// nothing to judge, take no part: they never add a pass.
package score

import (
	"math"

	"github.com/kubeposture/kubeposture/internal/benchmarks"
	"github.com/kubeposture/kubeposture/internal/checks"
	"github.com/kubeposture/kubeposture/internal/inventory"
)

// Weight is the weight of a severity in the score.
func Weight(s checks.Severity) float64 {
	switch s {
	case checks.SeverityCritical:
		return 10
	case checks.SeverityHigh:
		return 5
	case checks.SeverityMedium:
		return 2
	case checks.SeverityLow:
		return 1
	}
	return 0
}

// NotGraded is the grade when no check could judge anything.
const NotGraded = "-"

// Grade maps a score to A-F. A failed critical finding caps the grade at C.
func Grade(score int, critical int) string {
	g := "F"
	switch {
	case score >= 90:
		g = "A"
	case score >= 80:
		g = "B"
	case score >= 70:
		g = "C"
	case score >= 60:
		g = "D"
	}
	if critical > 0 && g < "C" {
		g = "C"
	}
	return g
}

// Summary totals a set of outcomes.
type Summary struct {
	Score    int
	Grade    string
	Critical int
	High     int
	Medium   int
	Low      int
	// Findings is the number of failed findings.
	Findings int
	// Evaluated is the number of checks that ran with all their input.
	Evaluated int
	// NotEvaluated is the number of checks whose input could not be read.
	NotEvaluated int
}

// Scope limits a summary to one namespace ("" is cluster-scoped objects), or to all.
type Scope struct {
	all       bool
	namespace string
}

// All is the scope of the whole scan.
var All = Scope{all: true}

// Namespace is the scope of one namespace's objects; "" means the cluster-scoped ones.
func Namespace(ns string) Scope { return Scope{namespace: ns} }

func (s Scope) judged(o *checks.Outcome) int {
	if s.all {
		return o.Judged
	}
	return o.JudgedIn[s.namespace]
}

func (s Scope) includes(ns string) bool { return s.all || s.namespace == ns }

// passRatio returns the number of objects judged in scope and how many passed.
func passRatio(o *checks.Outcome, s Scope) (judged, passed int) {
	judged = s.judged(o)
	if judged == 0 {
		return 0, 0
	}
	return judged, max(judged-failedObjects(o, s), 0)
}

// failedObjects is the number of distinct objects in scope with a finding.
// Checks report an object's findings one after another, so a finding about
// the same object as the one before it is not looked up again.
func failedObjects(o *checks.Outcome, s Scope) int {
	if s.all && len(o.Findings) <= 1 {
		return len(o.Findings)
	}
	failed := make(map[inventory.ObjectRef]struct{}, len(o.Findings))
	for i := range o.Findings {
		obj := &o.Findings[i].Object
		if !s.includes(obj.Namespace) || i > 0 && *obj == o.Findings[i-1].Object {
			continue
		}
		failed[*obj] = struct{}{}
	}
	return len(failed)
}

// tally adds outcomes up into a Summary.
type tally struct {
	sum      Summary
	num, den float64
}

// add counts an outcome, whose pass ratio in scope s is passed of judged.
func (t *tally) add(o *checks.Outcome, s Scope, judged, passed int) {
	if !o.Evaluated {
		t.sum.NotEvaluated++
		return
	}
	t.sum.Evaluated++
	n := len(o.Findings)
	if !s.all {
		n = 0
		for j := range o.Findings {
			if s.includes(o.Findings[j].Object.Namespace) {
				n++
			}
		}
	}
	t.sum.Findings += n
	switch o.Check.Severity {
	case checks.SeverityCritical:
		t.sum.Critical += n
	case checks.SeverityHigh:
		t.sum.High += n
	case checks.SeverityMedium:
		t.sum.Medium += n
	case checks.SeverityLow:
		t.sum.Low += n
	}
	if judged == 0 {
		return
	}
	w := Weight(o.Check.Severity)
	t.num += w * float64(passed) / float64(judged)
	t.den += w
}

// summary is the Summary of what was added.
func (t *tally) summary() Summary {
	sum := t.sum
	sum.Score, sum.Grade = finalScore(t.num, t.den, sum.Critical, sum.Evaluated)
	return sum
}

// Summarize totals the outcomes within a scope.
func Summarize(outcomes []checks.Outcome, s Scope) Summary {
	var t tally
	for i := range outcomes {
		o := &outcomes[i]
		var judged, passed int
		if o.Evaluated {
			judged, passed = passRatio(o, s)
		}
		t.add(o, s, judged, passed)
	}
	return t.summary()
}

// SummarizeNamespaces summarizes every namespace (and "" for cluster-scoped
// objects) in one pass over the findings: Summarize(outcomes, Namespace(ns))
// for each, without going through every finding once per namespace.
func SummarizeNamespaces(outcomes []checks.Outcome) map[string]Summary {
	type acc struct {
		sum      Summary
		num, den float64
	}
	accs := map[string]*acc{}
	get := func(ns string) *acc {
		a := accs[ns]
		if a == nil {
			a = &acc{}
			accs[ns] = a
		}
		return a
	}
	var evaluated, notEvaluated int
	for i := range outcomes {
		o := &outcomes[i]
		if !o.Evaluated {
			notEvaluated++
			continue
		}
		evaluated++
		failed := map[string]map[inventory.ObjectRef]struct{}{}
		for j := range o.Findings {
			f := &o.Findings[j]
			a := get(f.Object.Namespace)
			a.sum.Findings++
			switch o.Check.Severity {
			case checks.SeverityCritical:
				a.sum.Critical++
			case checks.SeverityHigh:
				a.sum.High++
			case checks.SeverityMedium:
				a.sum.Medium++
			case checks.SeverityLow:
				a.sum.Low++
			}
			if failed[f.Object.Namespace] == nil {
				failed[f.Object.Namespace] = map[inventory.ObjectRef]struct{}{}
			}
			failed[f.Object.Namespace][f.Object] = struct{}{}
		}
		w := Weight(o.Check.Severity)
		for ns, judged := range o.JudgedIn {
			if judged == 0 {
				continue
			}
			a := get(ns)
			a.num += w * float64(max(judged-len(failed[ns]), 0)) / float64(judged)
			a.den += w
		}
	}
	out := make(map[string]Summary, len(accs))
	for ns, a := range accs {
		a.sum.Evaluated, a.sum.NotEvaluated = evaluated, notEvaluated
		a.sum.Score, a.sum.Grade = finalScore(a.num, a.den, a.sum.Critical, evaluated)
		out[ns] = a.sum
	}
	return out
}

// finalScore turns the weighted sums into a score and grade.
func finalScore(num, den float64, critical, evaluated int) (int, string) {
	switch {
	case den > 0:
		score := int(math.Round(100 * num / den))
		return score, Grade(score, critical)
	case evaluated > 0:
		return 100, "A" // everything was read, and there was nothing to judge
	}
	return 0, NotGraded
}

// ControlResult is the result of one framework control.
type ControlResult string

// The results of a control.
const (
	ControlPass         ControlResult = "pass"
	ControlFail         ControlResult = "fail"
	ControlManual       ControlResult = "manual"
	ControlNotEvaluated ControlResult = "not-evaluated"
)

// FrameworkResult is the result of one framework.
type FrameworkResult struct {
	Name string
	// Score is Summarize's score over the framework's checks.
	Score int
	// Compliance is the percentage of judged objects that pass, averaged over
	// the controls that judged at least one object.
	Compliance   int
	Passed       int
	Failed       int
	Manual       int
	NotEvaluated int
	Controls     map[string]ControlResult
}

// scored is an outcome with its pass ratio over the whole scan.
type scored struct {
	o              *checks.Outcome
	judged, passed int
	// framework is the index+1 of the last framework that counted the outcome in its score.
	framework int
}

// scoreAll computes the pass ratio of every evaluated outcome once, and
// indexes them by check ID (the last outcome of an ID wins).
func scoreAll(outcomes []checks.Outcome) ([]scored, map[string]*scored) {
	all := make([]scored, len(outcomes))
	byID := make(map[string]*scored, len(outcomes))
	for i := range outcomes {
		o := &outcomes[i]
		all[i].o = o
		if o.Evaluated {
			all[i].judged, all[i].passed = passRatio(o, All)
		}
		byID[o.Check.ID] = &all[i]
	}
	return all, byID
}

// Evaluate is Summarize(outcomes, All) and EvaluateFramework of each
// framework, with each check's failed objects counted once for all of them.
func Evaluate(outcomes []checks.Outcome, frameworks []*benchmarks.Framework) (Summary, []FrameworkResult) {
	all, byID := scoreAll(outcomes)
	var t tally
	for i := range all {
		t.add(all[i].o, All, all[i].judged, all[i].passed)
	}
	var results []FrameworkResult // nil without frameworks, as appending would leave it
	for i, f := range frameworks {
		results = append(results, evaluateFramework(f, i+1, byID))
	}
	return t.summary(), results
}

// EvaluateFramework judges each control of f from the outcomes of its checks.
func EvaluateFramework(f *benchmarks.Framework, outcomes []checks.Outcome) FrameworkResult {
	_, byID := scoreAll(outcomes)
	return evaluateFramework(f, 1, byID)
}

// evaluateFramework is EvaluateFramework on scored outcomes; index tells
// frameworks apart, so that each counts each of its checks once in its score.
func evaluateFramework(f *benchmarks.Framework, index int, byID map[string]*scored) FrameworkResult {
	res := FrameworkResult{Name: f.Name, Controls: make(map[string]ControlResult, len(f.Controls))}
	var complianceSum float64
	var complianceN int
	// The score is Summarize's over the framework's checks, each once, in control order.
	var score tally
	for _, c := range f.Controls {
		for _, id := range c.Checks {
			if sc := byID[id]; sc != nil && sc.framework != index {
				sc.framework = index
				score.add(sc.o, All, sc.judged, sc.passed)
			}
		}
		if c.Manual() {
			res.Controls[c.ID] = ControlManual
			res.Manual++
			continue
		}
		result := ControlPass
		judged, passed := 0, 0
		for _, id := range c.Checks {
			sc := byID[id]
			switch {
			case sc == nil || !sc.o.Evaluated:
				if result != ControlFail {
					result = ControlNotEvaluated
				}
			case len(sc.o.Findings) > 0:
				result = ControlFail
			}
			if sc != nil && sc.o.Evaluated {
				judged += sc.judged
				passed += sc.passed
			}
		}
		res.Controls[c.ID] = result
		switch result {
		case ControlPass:
			res.Passed++
		case ControlFail:
			res.Failed++
		case ControlNotEvaluated:
			res.NotEvaluated++
			continue // a control that could not be judged takes no part in compliance
		}
		if judged > 0 {
			complianceSum += float64(passed) / float64(judged)
			complianceN++
		}
	}
	if complianceN > 0 {
		res.Compliance = int(math.Round(100 * complianceSum / float64(complianceN)))
	} else if res.Passed > 0 {
		res.Compliance = 100
	}
	res.Score = score.summary().Score
	return res
}
