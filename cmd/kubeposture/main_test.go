package main_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The CLI is tested as a built binary, run as a process on real files.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kubeposture-cli")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "kubeposture")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the CLI: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

func run(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

func TestExitCodesAndMessages(t *testing.T) {
	insecure, _ := os.ReadFile("testdata/insecure.yaml")
	tcs := map[string]struct {
		stdin      string
		args       []string
		wantCode   int
		wantStdout []string
		wantStderr []string
	}{
		"findings, no threshold": {args: []string{"scan", "-f", "testdata/insecure.yaml"}, wantCode: 0,
			wantStdout: []string{"pss-privileged", "testdata/insecure.yaml:1", "SUMMARY"}},
		"findings over the threshold": {args: []string{"scan", "-f", "testdata/insecure.yaml", "--severity-threshold", "critical"}, wantCode: 1,
			wantStderr: []string{"at or above severity critical"}},
		"score below the bar": {args: []string{"scan", "-f", "testdata/insecure.yaml", "--fail-below-score", "99"}, wantCode: 1,
			wantStderr: []string{"below --fail-below-score 99"}},
		"stdin": {stdin: string(insecure), args: []string{"scan", "-f", "-", "--checks", "pss-privileged", "--severity-threshold", "high"}, wantCode: 1,
			wantStdout: []string{"<stdin>:1"}},
		"clean under the threshold": {args: []string{"scan", "-f", "testdata/policy.yaml", "--severity-threshold", "low"}, wantCode: 0},
		"invalid YAML names file and line, rest still scanned": {args: []string{"scan", "-f", "testdata/broken.yaml", "-f", "testdata/insecure.yaml"}, wantCode: 2,
			wantStdout: []string{"pss-privileged"}, wantStderr: []string{"testdata/broken.yaml:"}},
		"unknown check":     {args: []string{"scan", "-f", "testdata/insecure.yaml", "--checks", "nope"}, wantCode: 2, wantStderr: []string{`--checks[0]: unknown check "nope"`}},
		"unknown framework": {args: []string{"scan", "-f", "testdata/insecure.yaml", "--framework", "cis-1.8"}, wantCode: 2, wantStderr: []string{`unknown framework "cis-1.8"`}},
		"unknown format":    {args: []string{"scan", "-f", "testdata/insecure.yaml", "-o", "xml"}, wantCode: 2, wantStderr: []string{"--output"}},
		"missing file":      {args: []string{"scan", "-f", "testdata/nope.yaml"}, wantCode: 2, wantStderr: []string{"testdata/nope.yaml"}},
		"nothing to scan":   {args: []string{"scan"}, wantCode: 2, wantStderr: []string{"nothing to scan"}},
		"unknown flag":      {args: []string{"scan", "--bogus"}, wantCode: 2, wantStderr: []string{"unknown flag"}},
		"explain":           {args: []string{"explain", "pss-privileged"}, wantCode: 0, wantStdout: []string{"CIS 1.12 5.2.2", "Remediation:"}},
		"explain unknown":   {args: []string{"explain", "nope"}, wantCode: 2, wantStderr: []string{`unknown check "nope"`}},
		"checks":            {args: []string{"checks"}, wantCode: 0, wantStdout: []string{"rbac-cluster-admin-binding", "netpol-namespace-without-policy"}},
		"version":           {args: []string{"version"}, wantCode: 0, wantStdout: []string{"kubeposture "}},
	}
	for name, tc := range tcs {
		t.Run(name, func(t *testing.T) {
			stdout, stderr, code := run(t, tc.stdin, tc.args...)
			if code != tc.wantCode {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.wantCode, stdout, stderr)
			}
			for _, w := range tc.wantStdout {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout)
				}
			}
			for _, w := range tc.wantStderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if strings.Contains(stdout, "\x1b[") {
				t.Errorf("colour written to a pipe")
			}
		})
	}
}

// Cross-object checks work across files: the policy in one file covers the
// Deployment in another.
func TestCrossFileNetworkPolicy(t *testing.T) {
	type finding struct {
		CheckID string `json:"checkID"`
	}
	findings := func(args ...string) map[string]bool {
		stdout, stderr, code := run(t, "", append([]string{"scan", "-o", "json"}, args...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var out struct {
			Findings []finding `json:"findings"`
		}
		if err := json.Unmarshal([]byte(stdout), &out); err != nil {
			t.Fatalf("json output: %v\n%s", err, stdout)
		}
		ids := map[string]bool{}
		for _, f := range out.Findings {
			ids[f.CheckID] = true
		}
		return ids
	}
	if alone := findings("-f", "testdata/insecure.yaml"); !alone["netpol-namespace-without-policy"] {
		t.Errorf("without the policy file: no netpol-namespace-without-policy finding")
	}
	if both := findings("-f", "testdata/insecure.yaml", "-f", "testdata/policy.yaml"); both["netpol-namespace-without-policy"] || both["netpol-no-default-deny-ingress"] {
		t.Errorf("the policy in policy.yaml does not cover the Deployment in insecure.yaml: %v", both)
	}
}

func TestOutputFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.sarif")
	if _, stderr, code := run(t, "", "scan", "-f", "testdata/insecure.yaml", "-o", "sarif", "--output-file", path); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"version": "2.1.0"`) || !strings.Contains(string(data), "pss-privileged") {
		t.Errorf("SARIF file:\n%.400s", data)
	}
}
