package engine_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubeposture/kubeposture/internal/engine"
	"github.com/kubeposture/kubeposture/internal/inventory"
	"github.com/kubeposture/kubeposture/internal/score"
	"github.com/kubeposture/kubeposture/test/bench/synth"
)

// The golden test pins what the engine finds, byte for byte, on every input
// the repository has at hand: synthetic clusters, the demo cluster, the
// shipped manifests and the fuzz seeds. It guards refactorings and
// optimisations of the checks, the attribution of Pods to their workloads
// and scoring, which must not change a result. Run with -update to rewrite
// the golden files after a deliberate change, and read the diff.

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// goldenPlans are the plans every input is judged with: the full
// catalogue, an older Pod Security version with a single framework,
// trusted registries (so that image-untrusted-registry judges), and the
// full catalogue on manifests taken for a whole cluster (so that the
// checks that judge a whole cluster judge them too).
var goldenPlans = []struct {
	name string
	opts engine.Options
	// whole judges a Snapshot of manifests as a whole cluster; the plan is
	// left out for Snapshots that are already one.
	whole bool
}{
	{name: "default", opts: engine.Options{}},
	{name: "pss-restricted-v1.24", opts: engine.Options{PodSecurityVersion: "v1.24", Frameworks: []string{"pss-restricted"}}},
	{name: "trusted-v1.30", opts: engine.Options{PodSecurityVersion: "v1.30", TrustedRegistries: []string{"registry.example.com", "docker.io/library/", "quay.io/prometheus"}}},
	{name: "default-whole-cluster", opts: engine.Options{}, whole: true},
}

// goldenInput is a Snapshot to judge. Large inputs are dumped as a digest
// per check (counts and a hash of the findings); the others in full.
type goldenInput struct {
	name   string
	digest bool
	load   func(t *testing.T) *inventory.Snapshot
}

func goldenInputs(t *testing.T) []goldenInput {
	var out []goldenInput
	for seed := uint64(1); seed <= 3; seed++ {
		out = append(out, goldenInput{fmt.Sprintf("synth-300-seed%d", seed), true, func(*testing.T) *inventory.Snapshot {
			return synth.Snapshot(synth.Generate(synth.Options{Pods: 300, Seed: seed}).Materialize())
		}})
	}
	out = append(out,
		goldenInput{"synth-30-seed1", false, func(*testing.T) *inventory.Snapshot {
			return synth.Snapshot(synth.Generate(synth.Options{Pods: 30, Seed: 1}).Materialize())
		}},
		// Kinds that could not be read: the checks that need them are not
		// evaluated, and admission-no-policy-engine says why it cannot judge.
		goldenInput{"synth-300-seed2-missing-kinds", true, func(*testing.T) *inventory.Snapshot {
			s := synth.Snapshot(synth.Generate(synth.Options{Pods: 300, Seed: 2}).Materialize())
			s.MarkMissing(inventory.KindNetworkPolicy, inventory.MissingForbidden, "forbidden")
			s.MarkMissing(inventory.KindLimitRange, inventory.MissingError, "timeout")
			s.MarkMissing(inventory.KindValidatingAdmissionPolicy, inventory.MissingForbidden, "forbidden")
			return s
		}},
		goldenInput{"sample-cluster", false, func(t *testing.T) *inventory.Snapshot {
			return loadManifests(t, "../../hack/demo/sample-cluster")
		}},
		// Hand-written shapes the inputs above lack: every Pod Security
		// level and version in namespace labels, attribution corner cases,
		// kube-system, Windows pods, ephemeral containers, image volumes.
		goldenInput{"variety", false, func(t *testing.T) *inventory.Snapshot {
			return loadManifests(t, "testdata/variety")
		}},
		goldenInput{"config-manager-rbac", false, func(t *testing.T) *inventory.Snapshot {
			var paths []string
			for _, dir := range []string{"../../config/manager", "../../config/rbac"} {
				files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
				if err != nil {
					t.Fatal(err)
				}
				for _, f := range files {
					if filepath.Base(f) != "kustomization.yaml" { // not an API object
						paths = append(paths, f)
					}
				}
			}
			return loadManifests(t, paths...)
		}},
	)
	seeds, err := filepath.Glob("testdata/fuzz/FuzzEngineOnManifests/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range seeds {
		out = append(out, goldenInput{"fuzz-" + filepath.Base(path), false, func(t *testing.T) *inventory.Snapshot {
			// As the fuzz test loads them, errors (such as duplicates) and all.
			m := inventory.LoadManifests([]string{"-"}, bytes.NewReader(fuzzSeed(t, path)),
				inventory.ManifestOptions{MaxDocumentBytes: 64 << 10, MaxTotalBytes: 1 << 20})
			return m.Snapshot
		}})
	}
	return out
}

// loadManifests loads manifest files (or directories) that must load
// without errors.
func loadManifests(t *testing.T, paths ...string) *inventory.Snapshot {
	t.Helper()
	m := inventory.LoadManifests(paths, nil, inventory.ManifestOptions{})
	if len(m.Errors) > 0 {
		t.Fatalf("loading %v: %v", paths, m.Errors)
	}
	return m.Snapshot
}

// fuzzSeed reads the single []byte value of a seed corpus file ("go test fuzz v1").
func fuzzSeed(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(data), "\n")
	quoted, ok := strings.CutPrefix(strings.TrimSpace(rest), "[]byte(")
	if !ok || !strings.HasSuffix(quoted, ")") {
		t.Fatalf("%s: not a []byte seed", path)
	}
	s, err := strconv.Unquote(strings.TrimSuffix(quoted, ")"))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return []byte(s)
}

// TestGolden judges every input with every golden plan and compares the
// dump of the results with testdata/golden/<input>.txt.
func TestGolden(t *testing.T) {
	for _, in := range goldenInputs(t) {
		t.Run(in.name, func(t *testing.T) {
			var b strings.Builder
			var first map[string]outcomeDump
			for _, p := range goldenPlans {
				plan, err := engine.NewPlan(p.opts)
				if err != nil {
					t.Fatal(err)
				}
				// A fresh Snapshot per plan: a Snapshot caches its workloads.
				s := in.load(t)
				if p.whole {
					if !s.Partial {
						continue
					}
					s.Partial = false
				}
				fmt.Fprintf(&b, "=== plan %s\n", p.name)
				dumps := dumpResult(&b, plan.Run(s), in.digest, first)
				if first == nil {
					first = dumps
				}
			}
			path := filepath.Join("testdata", "golden", in.name+".txt")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got := b.String(); got != string(want) {
				wantLines, gotLines := strings.Split(string(want), "\n"), strings.Split(got, "\n")
				t.Errorf("results differ from %s from %s on (-want +got; run with -update to accept them):\n%s",
					path, firstDifference(wantLines, gotLines), cmp.Diff(wantLines, gotLines))
			}
		})
	}
}

// outcomeDump is the dump of one outcome: a line about it and its findings.
type outcomeDump struct{ line, findings string }

// dumpResult writes a canonical dump of r: the summary, per-namespace
// summaries, frameworks with their controls by result, and every outcome
// in order, its JudgedIn sorted and its findings in the order found (with
// digest, their hash instead). Outcomes dumped as in first (an earlier
// plan's dumps) are only named, and so are findings the same as there. It
// returns the dump of each outcome, by check ID.
func dumpResult(b *strings.Builder, r *engine.Result, digest bool, first map[string]outcomeDump) map[string]outcomeDump {
	fmt.Fprintf(b, "summary %+v\n", r.Summary)
	perNS := score.SummarizeNamespaces(r.Outcomes)
	for _, ns := range slices.Sorted(maps.Keys(perNS)) {
		fmt.Fprintf(b, "namespace %q %+v\n", ns, perNS[ns])
	}
	for _, f := range r.Frameworks {
		fmt.Fprintf(b, "framework %s score=%d compliance=%d passed=%d failed=%d manual=%d not-evaluated=%d\n",
			f.Name, f.Score, f.Compliance, f.Passed, f.Failed, f.Manual, f.NotEvaluated)
		byResult := map[score.ControlResult][]string{}
		for _, id := range slices.Sorted(maps.Keys(f.Controls)) {
			byResult[f.Controls[id]] = append(byResult[f.Controls[id]], id)
		}
		for _, res := range []score.ControlResult{score.ControlFail, score.ControlPass, score.ControlManual, score.ControlNotEvaluated} {
			if len(byResult[res]) > 0 {
				fmt.Fprintf(b, "  %s: %s\n", res, strings.Join(byResult[res], " "))
			}
		}
	}
	dumps := make(map[string]outcomeDump, len(r.Outcomes))
	var unchanged []string
	for i := range r.Outcomes {
		o := &r.Outcomes[i]
		var d outcomeDump
		if o.Evaluated {
			var judgedIn []string
			for _, ns := range slices.Sorted(maps.Keys(o.JudgedIn)) {
				judgedIn = append(judgedIn, fmt.Sprintf("%q=%d", ns, o.JudgedIn[ns]))
			}
			d.line = fmt.Sprintf("check %s judged=%d passed=%d findings=%d in [%s]\n",
				o.Check.ID, o.Judged, o.Passed(), len(o.Findings), strings.Join(judgedIn, " "))
		} else {
			d.line = fmt.Sprintf("check %s not-evaluated missing=%v reason=%q judged=%d findings=%d\n",
				o.Check.ID, o.MissingKinds, o.NotEvaluatedReason, o.Judged, len(o.Findings))
		}
		var fb strings.Builder
		for _, f := range o.Findings {
			if f.Check != o.Check {
				fmt.Fprintf(&fb, "  (finding of check %s)\n", f.Check.ID)
			}
			fmt.Fprintf(&fb, "  - %s %s %s/%s uid=%s: %s\n", f.Object.APIVersion, f.Object.Kind, f.Object.Namespace, f.Object.Name, f.Object.UID, f.Message)
		}
		d.findings = fb.String()
		dumps[o.Check.ID] = d
		prev, ok := first[o.Check.ID]
		switch {
		case ok && prev == d:
			unchanged = append(unchanged, o.Check.ID)
			continue
		case ok && prev.findings == d.findings && d.findings != "":
			b.WriteString(d.line + "  findings as in the first plan\n")
		case digest && d.findings != "":
			sum := sha256.Sum256([]byte(d.findings))
			fmt.Fprintf(b, "%s  findings-sha256 %s\n", d.line, hex.EncodeToString(sum[:]))
		default:
			b.WriteString(d.line + d.findings)
		}
	}
	if len(unchanged) > 0 {
		fmt.Fprintf(b, "as in the first plan: %s\n", strings.Join(unchanged, " "))
	}
	return dumps
}

// firstDifference names the plan and check of the first line that differs.
func firstDifference(want, got []string) string {
	plan, check := "", ""
	for i := 0; i < len(want) && i < len(got) && want[i] == got[i]; i++ {
		switch {
		case strings.HasPrefix(want[i], "=== plan "):
			plan, check = strings.TrimPrefix(want[i], "=== "), ""
		case strings.HasPrefix(want[i], "check "):
			check, _, _ = strings.Cut(want[i], " judged=")
			check, _, _ = strings.Cut(check, " not-evaluated")
		}
	}
	return strings.TrimSpace(plan + " " + check)
}
