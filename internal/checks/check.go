// Package checks holds the posture checks: pure functions of an
// inventory.Snapshot. A check never reads from a client and never holds a
// secret value; it returns the objects it judged and, for each failure, a
// message with the field path and offending value as evidence.
//
// Run keeps pass, fail and not-evaluated apart: a check whose input kind
// could not be read is not-evaluated, never a pass.
package checks

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/pod-security-admission/api"

	"github.com/kubeposture/kubeposture/internal/inventory"
)

// Severity of a check.
type Severity string

// The severities, most severe first.
const (
	SeverityCritical Severity = "critical"
	SeverityHigh     Severity = "high"
	SeverityMedium   Severity = "medium"
	SeverityLow      Severity = "low"
)

// Rank orders severities: critical is 4, low 1, anything else 0.
func (s Severity) Rank() int {
	switch s {
	case SeverityCritical:
		return 4
	case SeverityHigh:
		return 3
	case SeverityMedium:
		return 2
	case SeverityLow:
		return 1
	}
	return 0
}

// Category groups checks.
type Category string

// The categories.
const (
	CategoryWorkload     Category = "workload"
	CategoryRBAC         Category = "rbac"
	CategoryNetwork      Category = "network"
	CategoryAdmission    Category = "admission"
	CategoryControlPlane Category = "control-plane"
	CategoryStorage      Category = "storage"
	CategoryImages       Category = "images"
	CategorySecrets      Category = "secrets"
	CategoryReliability  Category = "reliability"
)

// Check is one entry of the catalogue.
type Check struct {
	// ID is stable and lower-case; frameworks and exceptions refer to it.
	ID          string
	Title       string
	Severity    Severity
	Category    Category
	Description string
	Remediation string
	// Evidence says what a finding's message shows, for the catalogue.
	Evidence string
	// Needs are the kinds the check must read; if any is missing the check is not evaluated.
	Needs []inventory.Kind
	// Run judges the snapshot: it calls e.Judge for each object judged and
	// e.Fail for each failure. A check that judges pod templates one at a
	// time sets PerTemplate instead.
	Run func(s *inventory.Snapshot, cfg *Config, e *Emitter)
	// PerTemplate prepares a scan of the pod templates (s.Workloads()) and
	// returns the function that judges one of them, or nil when there is
	// nothing to judge (the check does not exist at cfg's version, or it
	// called e.NotEvaluated). Run walks the templates once for all such
	// checks, so that a template is brought into the CPU cache once a scan
	// rather than once a check (and read ahead, see readAhead), and the
	// facts several checks need about a template are worked out once (see
	// scan).
	PerTemplate func(s *inventory.Snapshot, cfg *Config, e *Emitter) func(w *inventory.Workload)
}

// Config is what a scan's spec says about how to judge.
type Config struct {
	// PodSecurityVersion is the Pod Security Standards version to judge at.
	PodSecurityVersion api.Version
	// TrustedRegistries are image prefixes images may come from; empty means not checked.
	TrustedRegistries []string
}

// DefaultConfig judges at the latest Pod Security Standards.
func DefaultConfig() *Config { return &Config{PodSecurityVersion: api.LatestVersion()} }

// Finding is a failure of one check on one object.
type Finding struct {
	Check   *Check
	Object  inventory.ObjectRef
	Message string
}

// Outcome is what one check found in one scan.
type Outcome struct {
	Check *Check
	// Evaluated is false when an input kind could not be read.
	Evaluated bool
	// MissingKinds are the kinds that stopped the check from being evaluated.
	MissingKinds []inventory.Kind
	// NotEvaluatedReason says why a check that read all its kinds could still not judge.
	NotEvaluatedReason string
	// Judged is the number of objects the check judged.
	Judged int
	// JudgedIn is the number of objects judged per namespace ("" for cluster-scoped objects).
	JudgedIn map[string]int
	// Findings are the failures, in the order the check found them.
	Findings []Finding
}

// Passed is the number of objects judged that did not fail.
func (o *Outcome) Passed() int {
	failed := map[inventory.ObjectRef]struct{}{}
	for _, f := range o.Findings {
		failed[f.Object] = struct{}{}
	}
	if n := o.Judged - len(failed); n > 0 {
		return n
	}
	return 0
}

// NotEvaluated records that the check could not judge anything, and why
// (for example: no control-plane pods are visible in a managed cluster).
// It is never a pass.
func (e *Emitter) NotEvaluated(reason string) {
	e.out.Evaluated = false
	e.out.NotEvaluatedReason = reason
	e.out.Findings, e.out.Judged, e.out.JudgedIn = nil, 0, nil
	e.pendingNS, e.pending = "", 0
}

// Emitter collects one check's results.
type Emitter struct {
	out *Outcome
	// scan is what the checks of the Run share.
	scan *scan
	// pending objects judged in pendingNS are not yet in out.JudgedIn:
	// checks judge objects namespace by namespace, so counting them this way
	// saves a map update per object.
	pendingNS string
	pending   int
}

// Judge records that obj was judged (whether or not it fails).
func (e *Emitter) Judge(obj inventory.ObjectRef) {
	e.out.Judged++
	if e.pending > 0 && obj.Namespace != e.pendingNS {
		e.flush()
	}
	e.pendingNS = obj.Namespace
	e.pending++
}

// flush adds the pending count to out.JudgedIn.
func (e *Emitter) flush() {
	if e.pending == 0 {
		return
	}
	if e.out.JudgedIn == nil {
		e.out.JudgedIn = map[string]int{}
	}
	e.out.JudgedIn[e.pendingNS] += e.pending
	e.pendingNS, e.pending = "", 0
}

// Fail records a failure of the check on obj.
func (e *Emitter) Fail(obj inventory.ObjectRef, format string, args ...any) {
	e.fail(obj, fmt.Sprintf(format, args...))
}

// atEnd has Run call f once every template has been judged, for a check
// that judges pod templates one at a time but reports on what they add up
// to, such as a namespace's.
func (e *Emitter) atEnd(f func()) { e.scan.atEnd = append(e.scan.atEnd, f) }

// fail records a failure of the check on obj with a message ready to use.
func (e *Emitter) fail(obj inventory.ObjectRef, message string) {
	e.out.Findings = append(e.out.Findings, Finding{Check: e.out.Check, Object: obj, Message: message})
}

// Run evaluates the given checks on the snapshot. Checks that judge pod
// templates one at a time judge each template in turn, in order; what they
// report once every template is judged (Emitter.atEnd) comes last.
func Run(s *inventory.Snapshot, cfg *Config, checks []*Check) []Outcome {
	if cfg == nil {
		cfg = DefaultConfig()
	}
	if cfg.PodSecurityVersion == (api.Version{}) {
		// An unset version is latest, never "no checks at version 0.0".
		c := *cfg
		c.PodSecurityVersion = api.LatestVersion()
		cfg = &c
	}
	out := make([]Outcome, len(checks))
	sc := newScan()
	var judges []func(w *inventory.Workload)
	var perTemplate []*Emitter
	for i, c := range checks {
		o := &out[i]
		o.Check = c
		for _, k := range c.Needs {
			if !s.Has(k) {
				o.MissingKinds = append(o.MissingKinds, k)
			}
		}
		if len(o.MissingKinds) > 0 {
			continue
		}
		o.Evaluated = true
		e := &Emitter{out: o, scan: sc}
		if c.PerTemplate == nil {
			c.Run(s, cfg, e)
			e.flush()
			continue
		}
		if judge := c.PerTemplate(s, cfg, e); judge != nil {
			judges = append(judges, judge)
		}
		perTemplate = append(perTemplate, e)
	}
	if len(judges) > 0 {
		ws := s.Workloads()
		for i := range ws {
			if i+1 < len(ws) {
				sc.readAhead += readAhead(&ws[i+1])
			}
			for _, judge := range judges {
				judge(&ws[i])
			}
		}
	}
	for _, f := range sc.atEnd {
		f()
	}
	for _, e := range perTemplate {
		e.flush()
	}
	return out
}

// Registry is the catalogue: every check, by ID.
type Registry struct {
	checks []*Check
	byID   map[string]*Check
}

// NewRegistry builds a registry and validates it: IDs unique, lower-case,
// and every field a user reads filled in.
func NewRegistry(checks ...*Check) (*Registry, error) {
	r := &Registry{byID: make(map[string]*Check, len(checks))}
	for _, c := range checks {
		switch {
		case c.ID == "" || c.ID != strings.ToLower(c.ID):
			return nil, fmt.Errorf("check %q: ID must be non-empty and lower-case", c.ID)
		case r.byID[c.ID] != nil:
			return nil, fmt.Errorf("check %q: duplicate ID", c.ID)
		case c.Title == "" || c.Description == "" || c.Remediation == "":
			return nil, fmt.Errorf("check %q: title, description and remediation are required", c.ID)
		case c.Severity.Rank() == 0:
			return nil, fmt.Errorf("check %q: invalid severity %q", c.ID, c.Severity)
		case (c.Run == nil) == (c.PerTemplate == nil):
			return nil, fmt.Errorf("check %q: exactly one of Run and PerTemplate is required", c.ID)
		}
		r.byID[c.ID] = c
		r.checks = append(r.checks, c)
	}
	slices.SortFunc(r.checks, func(a, b *Check) int { return strings.Compare(a.ID, b.ID) })
	return r, nil
}

// All returns every check, sorted by ID.
func (r *Registry) All() []*Check { return r.checks }

// Get returns the check with the given ID, or nil.
func (r *Registry) Get(id string) *Check { return r.byID[id] }

// Default is the built-in catalogue.
var Default = mustRegistry()

func mustRegistry() *Registry {
	var all []*Check
	all = append(all, pssChecks()...)
	all = append(all, workloadChecks()...)
	all = append(all, rbacChecks()...)
	all = append(all, networkChecks()...)
	all = append(all, namespaceChecks()...)
	all = append(all, controlPlaneChecks()...)
	all = append(all, storageChecks()...)
	r, err := NewRegistry(all...)
	if err != nil {
		panic(fmt.Sprintf("invalid built-in check catalogue: %v", err))
	}
	return r
}
