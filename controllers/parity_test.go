package controllers_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	posturev1alpha1 "github.com/kubeposture/kubeposture/api/v1alpha1"
	"github.com/kubeposture/kubeposture/internal/engine"
	"github.com/kubeposture/kubeposture/internal/inventory"
)

// The same objects give the same findings through the operator (applied to
// a real API server, read through the informer cache, written to reports)
// and through the CLI's path (read from the manifest files). The fixture is
// the demo's sample cluster.
func TestParityOperatorAndCLI(t *testing.T) {
	dir := filepath.Join("..", "hack", "demo", "sample-cluster")
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("fixture files: %v %v", files, err)
	}
	sort.Strings(files)
	namespaces := map[string]bool{}
	for _, f := range files {
		for _, obj := range decodeAll(t, f) {
			if err := k8sClient.Create(testCtx, obj); err != nil {
				t.Fatalf("%s: creating %s %s: %v", f, obj.GetKind(), obj.GetName(), err)
			}
			if obj.GetNamespace() != "" {
				namespaces[obj.GetNamespace()] = true
			}
		}
	}
	include := make([]string, 0, len(namespaces))
	for ns := range namespaces {
		include = append(include, ns)
	}
	slices.Sort(include)

	// The CLI's path.
	scope, err := inventory.NewScope(nil, include, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := inventory.LoadManifests(files, nil, inventory.ManifestOptions{Scope: scope})
	if len(m.Errors) > 0 {
		t.Fatalf("loading the manifests: %v", m.Errors)
	}
	plan, err := engine.NewPlan(engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var want []findingKey
	for _, o := range plan.Run(m.Snapshot).Outcomes {
		if !o.Evaluated {
			continue
		}
		for _, f := range o.Findings {
			if namespaces[f.Object.Namespace] || f.Object.Kind == "Namespace" && namespaces[f.Object.Name] {
				want = append(want, findingKey{f.Check.ID, f.Object.Kind, f.Object.Namespace, f.Object.Name})
			}
		}
	}
	if len(want) < 20 {
		t.Fatalf("only %d findings from the manifests: the fixture should exercise the catalogue", len(want))
	}

	// The operator's path.
	scan := newScan("parity", include...)
	scan.Spec.MaxFindingsPerReport = 2000
	create(t, scan)
	waitScanned(t, "parity", nil)
	var got []posturev1alpha1.ObjectFinding
	for _, ns := range include {
		rep := &posturev1alpha1.ScanReport{}
		if err := k8sClient.Get(testCtx, types.NamespacedName{Namespace: ns, Name: "parity"}, rep); err == nil {
			got = append(got, rep.AllFindings()...)
		}
	}
	cluster := &posturev1alpha1.ClusterScanReport{}
	if err := k8sClient.Get(testCtx, types.NamespacedName{Name: "parity"}, cluster); err != nil {
		t.Fatal(err)
	}
	for _, f := range cluster.AllFindings() {
		if f.Object.Kind == "Namespace" && namespaces[f.Object.Name] {
			got = append(got, f)
		}
	}
	if diff := cmp.Diff(sortedKeys(want), sortedKeys(keys(got))); diff != "" {
		t.Errorf("findings differ (-CLI +operator):\n%s", diff)
	}
}

func sortedKeys(k []findingKey) []findingKey {
	out := slices.Clone(k)
	slices.SortFunc(out, func(a, b findingKey) int {
		return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
	})
	return out
}

func decodeAll(t *testing.T, path string) []*unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []*unstructured.Unstructured
	for {
		obj := &unstructured.Unstructured{}
		if err := dec.Decode(&obj.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return out
			}
			t.Fatalf("%s: %v", path, err)
		}
		if len(obj.Object) > 0 {
			out = append(out, obj)
		}
	}
}
