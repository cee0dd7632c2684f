//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kubeposture/kubeposture/test/cluster"
)

// The cluster and the manager binary, shared by every test. Tests isolate
// themselves by namespace and ClusterScan name, and start their own manager.
var (
	testCluster *cluster.Cluster
	managerBin  string
	// skipReason is set when there is nothing to test yet.
	skipReason string
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	ctx := context.Background()
	root, err := cluster.ModuleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if _, err := os.Stat(filepath.Join(root, "cmd", "manager")); err != nil {
		skipReason = "cmd/manager does not exist yet: there is no manager binary to test"
		return m.Run()
	}

	began := time.Now()
	managerBin = filepath.Join(root, "bin", "manager")
	build := exec.CommandContext(ctx, "go", "build", "-o", managerBin, "./cmd/manager")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "Building the manager: %v\n%s", err, out)
		return 1
	}
	fmt.Printf("Built %s in %s\n", managerBin, time.Since(began).Round(time.Millisecond))

	began = time.Now()
	testCluster, err = cluster.Start(ctx, cluster.WithCRDDirectoryPaths(filepath.Join(root, "config", "crd", "bases")))
	if err != nil {
		fmt.Fprintf(os.Stderr, "Starting the cluster: %v\n", err)
		return 1
	}
	fmt.Printf("Started the control plane and kube-controller-manager in %s\n", time.Since(began).Round(time.Millisecond))

	code := m.Run()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "Last lines of the kube-controller-manager log:\n%s\n", testCluster.ControllerManager.LogTail(30))
	}
	if err := testCluster.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "Stopping the cluster: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// requireManager skips the test when there is no manager to test.
func requireManager(t *testing.T) {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
}

// startManager runs the manager binary against the cluster until the test
// ends. Its log goes to a file under t.TempDir(); the end of it is printed
// if the test fails.
func startManager(t *testing.T, args ...string) *cluster.Process {
	t.Helper()
	requireManager(t)
	args = append([]string{
		"--kubeconfig=" + testCluster.KubeconfigPath,
		"--metrics-bind-address=0",
		"--health-probe-bind-address=127.0.0.1:0",
		"--leader-elect=false",
	}, args...)
	p, err := cluster.StartProcess("manager", filepath.Join(t.TempDir(), "manager.log"), managerBin, args...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stopErr := p.Stop()
		if t.Failed() {
			t.Logf("Last lines of the manager log:\n%s", p.LogTail(60))
		}
		if stopErr != nil {
			t.Errorf("Stopping the manager: %v", stopErr)
		}
	})
	return p
}

// kubectl runs kubectl against the cluster and returns its stdout; the test
// fails if kubectl does.
func kubectl(t *testing.T, args ...string) string {
	t.Helper()
	return kubectlWithInput(t, "", args...)
}

// kubectlWithInput runs kubectl with stdin as its standard input, as in
// `kubectl apply -f -`.
func kubectlWithInput(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	var in []byte
	if stdin != "" {
		in = []byte(stdin)
	}
	stdout, _, err := testCluster.KubectlWithInput(t.Context(), in, args...)
	if err != nil {
		t.Fatal(err)
	}
	return stdout
}

// waitFor polls cond until it holds, failing the test after timeout. what
// says what is being waited for.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	began := time.Now()
	if err := cluster.WaitFor(t.Context(), timeout, cond); err != nil {
		t.Fatalf("Waiting for %s: %v", what, err)
	}
	t.Logf("Waited %s for %s", time.Since(began).Round(time.Millisecond), what)
}

// table is kubectl's tabular output: a header and rows of fields.
type table struct {
	header []string
	rows   [][]string
}

// parseTable splits `kubectl get` output into fields. No column of the kinds
// read here holds spaces.
func parseTable(out string) table {
	var tb table
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if tb.header == nil {
			tb.header = fields
			continue
		}
		tb.rows = append(tb.rows, fields)
	}
	return tb
}

// column returns the index of the named column, or -1.
func (tb table) column(name string) int {
	for i, h := range tb.header {
		if h == name {
			return i
		}
	}
	return -1
}
