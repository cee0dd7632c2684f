package score

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubeposture/kubeposture/internal/checks"
)

// SummarizeNamespaces is the one-pass form of Summarize per namespace: the
// two must agree on every namespace that has findings.
func TestSummarizeNamespacesAgreesWithSummarize(t *testing.T) {
	outcomes := []checks.Outcome{
		evaluated(critCheck, map[string]int{"a": 4, "b": 2}, ref("a", "x"), ref("b", "y"), ref("b", "y")),
		evaluated(highCheck, map[string]int{"a": 10, "": 3}, append(failing("a", "h", 3), ref("", "ns-a"))...),
		evaluated(medCheck, map[string]int{"b": 5, "c": 1}, ref("c", "only")),
		evaluated(lowCheck, map[string]int{"a": 7}),
		notEvaluated(medCheck),
	}
	got := SummarizeNamespaces(outcomes)
	for _, ns := range []string{"a", "b", "c", ""} {
		want := Summarize(outcomes, Namespace(ns))
		if diff := cmp.Diff(want, got[ns]); diff != "" {
			t.Errorf("namespace %q (-Summarize +SummarizeNamespaces):\n%s", ns, diff)
		}
	}
	if len(got) != 4 {
		t.Errorf("SummarizeNamespaces has %d namespaces, want the 4 with findings", len(got))
	}
}
