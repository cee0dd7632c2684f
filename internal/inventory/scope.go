package inventory

import (
	"fmt"
	"path"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Scope selects the namespaces a scan judges. The zero Scope selects all.
type Scope struct {
	selector labels.Selector
	include  []string
	exclude  []string
}

// NewScope validates and builds a scope. Errors name the offending field.
func NewScope(selector *metav1.LabelSelector, include, exclude []string) (Scope, error) {
	s := Scope{include: include, exclude: exclude}
	if selector != nil {
		sel, err := metav1.LabelSelectorAsSelector(selector)
		if err != nil {
			return Scope{}, fmt.Errorf("spec.namespaceSelector: %w", err)
		}
		s.selector = sel
	}
	for i, g := range include {
		if _, err := path.Match(g, ""); err != nil {
			return Scope{}, fmt.Errorf("spec.includeNamespaces[%d]: invalid glob %q: %w", i, g, err)
		}
	}
	for i, g := range exclude {
		if _, err := path.Match(g, ""); err != nil {
			return Scope{}, fmt.Errorf("spec.excludeNamespaces[%d]: invalid glob %q: %w", i, g, err)
		}
	}
	return s, nil
}

// NeedsLabels reports whether the scope needs namespace labels to decide.
func (s Scope) NeedsLabels() bool { return s.selector != nil && !s.selector.Empty() }

// MatchesName reports whether a namespace name passes the include and exclude globs.
func (s Scope) MatchesName(name string) bool {
	if len(s.include) > 0 && !matchAny(s.include, name) {
		return false
	}
	return !matchAny(s.exclude, name)
}

// Matches reports whether a namespace is in scope.
func (s Scope) Matches(ns *corev1.Namespace) bool {
	if !s.MatchesName(ns.Name) {
		return false
	}
	return s.selector == nil || s.selector.Matches(labels.Set(ns.Labels))
}

func matchAny(globs []string, name string) bool {
	for _, g := range globs {
		if ok, _ := path.Match(g, name); ok {
			return true
		}
	}
	return false
}
