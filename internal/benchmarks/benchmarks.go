// Package benchmarks holds the frameworks (CIS Kubernetes Benchmark, NSA/CISA
// hardening guidance, Pod Security Standards) as data: each maps its controls
// to the checks that judge them. A control with no check is manual: it is
// reported as such and never counted as a pass.
package benchmarks

import (
	"fmt"
	"slices"
	"sync"

	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"

	"github.com/kubeposture/kubeposture/internal/checks"
)

// Control is one recommendation of a framework.
type Control struct {
	// ID is the framework's own numbering, such as "5.1.1".
	ID    string
	Title string
	// Checks are the IDs of the checks that judge the control; empty means manual.
	Checks []string
}

// Manual reports whether no automated check judges the control.
func (c *Control) Manual() bool { return len(c.Checks) == 0 }

// Framework is a named list of controls.
type Framework struct {
	// Name is the framework's name in a ClusterScan spec, such as "cis-1.12".
	Name  string
	Title string
	// Ref formats a reference to one of its controls, such as "CIS 1.12 5.1.1".
	Ref      func(c *Control) string
	Controls []Control
}

var (
	refsOnce sync.Once
	refs     map[string][]string
)

// References returns the framework controls a check implements, formatted
// for people ("CIS 1.12 5.2.2", "PSS baseline: privileged"), in framework
// order. A PSS baseline check is referenced at its own level only.
func References(checkID string) []string {
	refsOnce.Do(func() {
		refs = map[string][]string{}
		baseline := map[string]bool{}
		for _, f := range All() {
			for i := range f.Controls {
				c := &f.Controls[i]
				for _, id := range c.Checks {
					if f.Name == "pss-restricted" && baseline[id] {
						continue
					}
					if f.Name == "pss-baseline" {
						baseline[id] = true
					}
					if r := f.Ref(c); !slices.Contains(refs[id], r) {
						refs[id] = append(refs[id], r)
					}
				}
			}
		}
	})
	return refs[checkID]
}

// All returns every framework, in the order they are reported.
func All() []*Framework {
	return []*Framework{CIS(), NSACISA(), PSS(api.LevelBaseline), PSS(api.LevelRestricted)}
}

// ByName returns the framework with the given name, or nil.
func ByName(name string) *Framework {
	for _, f := range All() {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// CheckIDs returns the IDs of the checks the framework uses, each once, in control order.
func (f *Framework) CheckIDs() []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range f.Controls {
		for _, id := range c.Checks {
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	return out
}

// Validate fails if a control names a check the registry does not have, or
// if control IDs repeat: a mapping to a missing check would silently pass.
func (f *Framework) Validate(r *checks.Registry) error {
	ids := map[string]bool{}
	for _, c := range f.Controls {
		if ids[c.ID] {
			return fmt.Errorf("framework %s: duplicate control %s", f.Name, c.ID)
		}
		ids[c.ID] = true
		for _, id := range c.Checks {
			if r.Get(id) == nil {
				return fmt.Errorf("framework %s: control %s names unknown check %q", f.Name, c.ID, id)
			}
		}
	}
	return nil
}

// PSS returns the Pod Security Standards at the given level, one control per
// upstream check: baseline's checks, or for restricted all of them (the
// restricted profile includes everything in baseline).
func PSS(level api.Level) *Framework {
	f := &Framework{
		Name: "pss-" + string(level), Title: "Pod Security Standards: " + string(level),
		Ref: func(c *Control) string { return c.Title },
	}
	for _, pc := range policy.DefaultChecks() {
		if level == api.LevelBaseline && pc.Level != api.LevelBaseline {
			continue
		}
		f.Controls = append(f.Controls, Control{ID: string(pc.ID), Title: "PSS " + string(pc.Level) + ": " + string(pc.ID), Checks: []string{checks.PSSCheckID(pc.ID)}})
	}
	return f
}
