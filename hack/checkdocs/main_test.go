package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubeposture/kubeposture/internal/benchmarks"
	"github.com/kubeposture/kubeposture/internal/checks"
)

// renderToFile runs the command's write path into a temporary file and returns what it wrote.
func renderToFile(t *testing.T) (path string, content string) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "docs", "checks.md")
	var stderr bytes.Buffer
	if code := run(path, false, &stderr); code != 0 {
		t.Fatalf("run(%s) = %d, want 0; stderr: %s", path, code, stderr.String())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the rendered catalogue: %v", err)
	}
	return path, string(b)
}

func TestRenderCoversRegistryAndFrameworks(t *testing.T) {
	_, got := renderToFile(t)
	for _, c := range checks.Default.All() {
		for _, want := range []string{
			"| [" + c.ID + "](#" + c.ID + ") |", // summary row
			"\n### " + c.ID + "\n",              // section
			"| Severity | " + string(c.Severity) + " |",
		} {
			if !strings.Contains(got, want) {
				t.Errorf("catalogue lacks %q for check %s", want, c.ID)
			}
		}
		for _, ref := range benchmarks.References(c.ID) {
			if !strings.Contains(got, ref) {
				t.Errorf("catalogue lacks reference %q of check %s", ref, c.ID)
			}
		}
	}
	for _, f := range benchmarks.All() {
		if !strings.Contains(got, "Name in a ClusterScan: `"+f.Name+"`.") {
			t.Errorf("catalogue lacks framework %s", f.Name)
		}
		for _, c := range f.Controls {
			if want := "| " + c.ID + " | " + cell(c.Title) + " |"; !strings.Contains(got, want) {
				t.Errorf("catalogue lacks control row %q of framework %s", want, f.Name)
			}
		}
	}
	for _, r := range severityRubric {
		if !strings.Contains(got, "| "+string(r.severity)+" | ") {
			t.Errorf("catalogue lacks the rubric for severity %s", r.severity)
		}
	}
}

func TestRenderIsStable(t *testing.T) {
	_, first := renderToFile(t)
	_, second := renderToFile(t)
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("two renders differ (-first +second):\n%s", diff)
	}
}

func TestCheckFlag(t *testing.T) {
	path, content := renderToFile(t)
	testCases := map[string]struct {
		content    *string // nil: remove the file
		wantCode   int
		wantStderr string
	}{
		"current file passes": {content: &content, wantCode: 0},
		"stale file fails":    {content: new(content + "\nedited by hand\n"), wantCode: 1, wantStderr: "run make docs"},
		"missing file fails":  {wantCode: 1, wantStderr: "run make docs"},
	}
	for name, tc := range testCases {
		t.Run(name, func(t *testing.T) {
			if tc.content == nil {
				if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
					t.Fatal(err)
				}
			} else if err := os.WriteFile(path, []byte(*tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			if code := run(path, true, &stderr); code != tc.wantCode {
				t.Errorf("run(-check) = %d, want %d; stderr: %s", code, tc.wantCode, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.wantStderr) || (tc.wantStderr == "" && stderr.Len() > 0) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tc.wantStderr)
			}
			if tc.wantCode == 0 {
				return
			}
			if got, err := os.ReadFile(path); err == nil && string(got) == content {
				t.Errorf("-check rewrote the file; it must write nothing")
			}
		})
	}
}

func TestParagraph(t *testing.T) {
	testCases := map[string]struct {
		in, want string
	}{
		"whitespace collapses":      {in: "a\n\n  b\tc", want: "a b c"},
		"placeholders are escaped":  {in: "system:serviceaccount:<namespace>:default", want: "system:serviceaccount:&lt;namespace>:default"},
		"code spans are left alone": {in: "`<ns>` and <ns>", want: "`<ns>` and &lt;ns>"},
		"pipes are left to cell":    {in: "a | b", want: "a | b"},
	}
	for name, tc := range testCases {
		t.Run(name, func(t *testing.T) {
			if got := paragraph(tc.in); got != tc.want {
				t.Errorf("paragraph(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
	if got, want := cell("a | b"), `a \| b`; got != want {
		t.Errorf("cell(%q) = %q, want %q", "a | b", got, want)
	}
}
