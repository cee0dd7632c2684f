//go:build e2e

package charttest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/yaml"

	"github.com/kubeposture/kubeposture/test/cluster"
)

const (
	// release and namespace are the names docs/operations.md installs with,
	// under which the chart's objects have config/default's names.
	release   = "kubeposture"
	namespace = "kubeposture-system"
)

var (
	root     string // the module root
	chartDir string // charts/kubeposture
	helmBin  string // $HELM
	helmEnv  []string
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	// envtest logs through controller-runtime; its progress is not ours to show.
	ctrllog.SetLogger(zap.New(zap.WriteTo(io.Discard)))
	var err error
	if root, err = cluster.ModuleRoot(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	chartDir = filepath.Join(root, "charts", "kubeposture")
	helmBin = os.Getenv("HELM")
	if helmBin == "" {
		fmt.Fprintln(os.Stderr, "HELM must name the helm binary to test the chart with ('make helm-test' sets it)")
		return 1
	}
	if !filepath.IsAbs(helmBin) { // relative to the module root, where make runs
		helmBin = filepath.Join(root, helmBin)
	}
	// Keep helm's cache, config and data out of the user's home.
	home, err := os.MkdirTemp("", "kubeposture-charttest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(home)
	helmEnv = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"),
	)
	return m.Run()
}

// helm runs the helm binary and returns its stdout; the error includes stderr.
func helm(args ...string) (string, error) {
	cmd := exec.Command(helmBin, args...)
	cmd.Env = helmEnv
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("helm %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// valuesSets are the values the chart is tested with: the defaults (no file)
// and every ci/*-values.yaml, by name.
func valuesSets(t *testing.T) map[string][]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(chartDir, "ci", "*-values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no values files in %s/ci", chartDir)
	}
	sets := map[string][]string{"defaults": nil}
	for _, f := range files {
		sets[filepath.Base(f)] = []string{"-f", f}
	}
	return sets
}

// monitoringAPIs makes helm template render the Prometheus Operator objects,
// as where their CRDs are installed.
var monitoringAPIs = []string{
	"--api-versions", "monitoring.coreos.com/v1/ServiceMonitor",
	"--api-versions", "monitoring.coreos.com/v1/PrometheusRule",
}

// render runs helm template on the chart (without its CRDs) with these extra
// arguments and returns the objects.
func render(t *testing.T, args ...string) []*unstructured.Unstructured {
	t.Helper()
	out, err := helm(append([]string{"template", release, chartDir, "--namespace", namespace}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := decode(strings.NewReader(out), "helm template")
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// readObjects decodes every object in a YAML file.
func readObjects(t *testing.T, path string) []*unstructured.Unstructured {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	objs, err := decode(f, path)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// decode reads a stream of YAML documents; empty documents are skipped.
func decode(r io.Reader, source string) ([]*unstructured.Unstructured, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(r))
	var objs []*unstructured.Unstructured
	for i := 0; ; i++ {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", source, i, err)
		}
		var m map[string]any
		if err := yaml.UnmarshalStrict(doc, &m); err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", source, i, err)
		}
		if len(m) == 0 {
			continue
		}
		objs = append(objs, &unstructured.Unstructured{Object: m})
	}
}

// find returns the object of this kind and name, or nil.
func find(objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	return nil
}

// ofKind returns the objects of this kind.
func ofKind(objs []*unstructured.Unstructured, kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == kind {
			out = append(out, o)
		}
	}
	return out
}

// typed converts an object to a typed one.
func typed[T any](t *testing.T, o *unstructured.Unstructured) *T {
	t.Helper()
	out := new(T)
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(o.Object, out, true); err != nil {
		t.Fatalf("%s %s: %v", o.GetKind(), o.GetName(), err)
	}
	return out
}
