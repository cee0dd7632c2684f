// Command bench measures what a scan costs as a cluster grows, on a real
// control plane (test/cluster: etcd, kube-apiserver, kube-controller-manager).
//
// For each size (a number of Pods) it starts a fresh control plane, loads a
// synthetic cluster (test/bench/synth) and lets kube-controller-manager make
// its ReplicaSets and Pods, then measures, one after the other:
//
//  1. the floor: a bare paginated LIST of every kind the scan reads, with a
//     plain client and no processing (the median of three);
//  2. the operator: bin/manager as a process, from its start to the first
//     ClusterScan Ready (a cold scan: informers list everything), then a
//     rescan on request (a warm scan); its peak RSS (VmHWM) and Go heap;
//  3. the CLI: bin/kubeposture scan -f on the same objects written as
//     manifest files: wall time and peak RSS;
//
// and, once for all sizes, 4. the engine alone: the Go benchmarks of
// internal/engine (BenchmarkRun, one core).
//
// The manager runs as deployed by default: it reads every kind but Secrets
// (-secret-metadata adds --read-secret-metadata). A size of 0, measured
// first unless -idle=false, is the idle baseline: the operator on a control
// plane with nothing loaded. It prints a table and
// writes the results, with the machine, as JSON. See docs/performance.md.
//
// With -generate DIR it writes the synthetic cluster of each size as
// manifest files instead, and measures nothing.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/kubeposture/kubeposture/internal/inventory"
	"github.com/kubeposture/kubeposture/test/bench/synth"
	"github.com/kubeposture/kubeposture/test/cluster"
)

type flags struct {
	sizes       []int
	out         string
	generate    string
	materialize bool
	idle        bool
	engine      bool
	keep        bool
	hold        bool
	secretMeta  bool
	workers     int
	seed        uint64
	managerArgs []string
	managerEnv  []string
}

func main() {
	f := flags{}
	var sizes, managerArgs, managerEnv string
	flag.StringVar(&sizes, "sizes", "1000,10000", "Comma-separated cluster sizes, in Pods.")
	flag.StringVar(&f.out, "out", "bin/bench", "Directory for results (bench.json), logs and manifest files.")
	flag.StringVar(&f.generate, "generate", "", "Only write each size's synthetic cluster as manifest files under this directory, and exit.")
	flag.BoolVar(&f.materialize, "materialize", false, "With -generate: also write the ReplicaSets and Pods that kube-controller-manager would make.")
	flag.BoolVar(&f.idle, "idle", true, "Measure the idle baseline (the operator on an empty control plane) first.")
	flag.BoolVar(&f.engine, "engine", true, "Run the engine benchmarks (go test -bench in internal/engine).")
	flag.BoolVar(&f.keep, "keep", false, "Keep the manifest files written for the CLI.")
	flag.BoolVar(&f.secretMeta, "secret-metadata", false, "Run the manager with --read-secret-metadata, and list Secrets (as metadata) in the floor.")
	flag.BoolVar(&f.hold, "hold", false, "After measuring the last size, keep its control plane up until interrupted (to look around).")
	flag.IntVar(&f.workers, "workers", 16, "Parallel creates when loading the control plane.")
	flag.Uint64Var(&f.seed, "seed", 1, "Generator seed.")
	flag.StringVar(&managerArgs, "manager-args", "", "Extra flags for bin/manager, space-separated.")
	flag.StringVar(&managerEnv, "manager-env", "", "Environment for bin/manager, as space-separated KEY=VALUE (such as GOMEMLIMIT=120MiB).")
	flag.Parse()
	for _, s := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 0 {
			fail(fmt.Errorf("-sizes: %q is not a number of Pods", s))
		}
		f.sizes = append(f.sizes, n)
	}
	f.managerArgs = strings.Fields(managerArgs)
	f.managerEnv = strings.Fields(managerEnv)
	for _, kv := range f.managerEnv {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			fail(fmt.Errorf("-manager-env: %q is not KEY=VALUE", kv))
		}
	}
	// Quiet: Pod Security warnings about the insecure templates are expected.
	log.SetLogger(zap.New(zap.WriteTo(io.Discard)))
	rest.SetDefaultWarningHandler(rest.NoWarnings{})

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	if f.generate != "" {
		err = generate(f)
	} else {
		err = run(ctx, f)
	}
	if err != nil {
		fail(err)
	}
}

// kinds are the kinds the manager reads, as it is run.
func (f flags) kinds() []inventory.Kind {
	if f.secretMeta {
		return inventory.AllKinds
	}
	return inventory.DefaultKinds
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}

// generate writes each size's cluster as manifest files.
func generate(f flags) error {
	for _, n := range f.sizes {
		c := synth.Generate(synth.Options{Pods: n, Seed: f.seed})
		objs := c.Objects
		if f.materialize {
			objs = c.Materialize()
		}
		dir := filepath.Join(f.generate, fmt.Sprintf("pods-%d", n))
		bytes, err := writeManifests(dir, objs)
		if err != nil {
			return err
		}
		fmt.Printf("Wrote %d objects (%d Pods once controllers run) to %s (%.1f MiB)\n", len(objs), c.Pods, dir, float64(bytes)/(1<<20))
	}
	return nil
}

// run measures every size and writes the results.
func run(ctx context.Context, f flags) error {
	root, err := cluster.ModuleRoot()
	if err != nil {
		return err
	}
	if !filepath.IsAbs(f.out) {
		f.out = filepath.Join(root, f.out)
	}
	if err := os.MkdirAll(f.out, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", f.out, err)
	}
	bins, err := build(ctx, root, f.out)
	if err != nil {
		return err
	}
	res := &Results{Machine: machine(), Started: time.Now().UTC().Format(time.RFC3339), SecretMetadata: f.secretMeta}
	res.Machine.LoadBefore = loadAverage()

	sizes := slices.Clone(f.sizes)
	if f.idle && !slices.Contains(sizes, 0) {
		sizes = append([]int{0}, sizes...)
	}
	for _, n := range sizes {
		fmt.Printf("== %d Pods\n", n)
		r, err := measureSize(ctx, f, root, bins, n)
		if err != nil {
			return fmt.Errorf("%d Pods: %w", n, err)
		}
		res.Sizes = append(res.Sizes, *r)
		if err := res.write(f.out); err != nil { // after every size: a long run keeps what it measured
			return err
		}
	}
	if f.engine {
		var engineSizes []string
		for _, n := range f.sizes {
			if n > 0 {
				engineSizes = append(engineSizes, strconv.Itoa(n))
			}
		}
		fmt.Println("== Engine benchmarks")
		if res.Engine, err = engineBench(ctx, root, strings.Join(engineSizes, ",")); err != nil {
			return err
		}
	}
	res.Machine.LoadAfter = loadAverage()
	res.Finished = time.Now().UTC().Format(time.RFC3339)
	res.computeRatios()
	if err := res.write(f.out); err != nil {
		return err
	}
	res.print(os.Stdout)
	fmt.Printf("\nResults: %s\n", filepath.Join(f.out, "bench.json"))
	return nil
}

type binaries struct{ manager, cli string }

// build builds the manager and the CLI into the output directory.
func build(ctx context.Context, root, out string) (binaries, error) {
	b := binaries{manager: filepath.Join(out, "manager"), cli: filepath.Join(out, "kubeposture")}
	for bin, pkg := range map[string]string{b.manager: "./cmd/manager", b.cli: "./cmd/kubeposture"} {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, pkg)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return b, fmt.Errorf("building %s: %w\n%s", pkg, err, out)
		}
	}
	return b, nil
}

func (r *Results) write(dir string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the results: %w", err)
	}
	path := filepath.Join(dir, "bench.json")
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
