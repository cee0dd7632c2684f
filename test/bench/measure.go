package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	posturev1alpha1 "github.com/kubeposture/kubeposture/api/v1alpha1"
	"github.com/kubeposture/kubeposture/controllers"
	"github.com/kubeposture/kubeposture/internal/inventory"
	"github.com/kubeposture/kubeposture/test/bench/synth"
	"github.com/kubeposture/kubeposture/test/cluster"
)

// floorRuns is how many times the floor is measured; the median is compared.
const floorRuns = 3

// scanName is the ClusterScan the operator runs cold and warm; newScanName,
// numbered, names those created once the manager's cache has synced.
const (
	scanName    = "bench"
	newScanName = "bench-new"
	// newScanRuns is how many new ClusterScans are timed, newScanPause
	// apart.
	newScanRuns  = 3
	newScanPause = 5 * time.Second
)

var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(posturev1alpha1.AddToScheme(s))
	return s
}()

// measureSize starts a control plane, loads n Pods' worth of objects and
// measures the floor, the operator and the CLI on them.
func measureSize(ctx context.Context, f flags, root string, bins binaries, n int) (*SizeResult, error) {
	dir := filepath.Join(f.out, fmt.Sprintf("pods-%d", n))
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("cleaning %s: %w", dir, err)
	}
	began := time.Now()
	cl, err := cluster.Start(ctx,
		cluster.WithCRDDirectoryPaths(filepath.Join(root, "config", "crd", "bases")),
		cluster.WithDir(filepath.Join(dir, "cluster")),
		// A Service per Deployment: more than envtest's /24 holds.
		cluster.WithAPIServerFlag("service-cluster-ip-range", "10.96.0.0/12"))
	if err != nil {
		return nil, err
	}
	defer func() {
		if err := cl.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "Stopping the control plane:", err)
		}
	}()
	fmt.Printf("Started the control plane in %s\n", time.Since(began).Round(time.Millisecond))

	// The loader's client: admin (exempt from API priority and fairness), fast.
	loadCfg := rest.CopyConfig(cl.Config)
	loadCfg.QPS, loadCfg.Burst = 2000, 4000
	admin, err := client.New(loadCfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("creating a client: %w", err)
	}
	res := &SizeResult{Pods: n}
	gen := synth.Generate(synth.Options{Pods: n, Seed: f.seed})
	began = time.Now()
	if err := load(ctx, admin, gen.Objects, f.workers); err != nil {
		return nil, err
	}
	if err := waitForControllers(ctx, admin, gen); err != nil {
		return nil, fmt.Errorf("%w\nlast lines of the kube-controller-manager log:\n%s", err, cl.ControllerManager.LogTail(20))
	}
	res.LoadSeconds = seconds(time.Since(began))
	fmt.Printf("Loaded %d objects; kube-controller-manager made %d Pods and %d ReplicaSets in all, in %.1fs\n",
		len(gen.Objects), gen.Pods, gen.ReplicaSets, res.LoadSeconds)

	for range floorRuns {
		d, byKind, err := floor(ctx, cl.Config, f.kinds())
		if err != nil {
			return nil, err
		}
		res.Floor.Seconds = append(res.Floor.Seconds, seconds(d))
		res.ObjectsByKind = byKind
	}
	res.Floor.Median = median(res.Floor.Seconds)
	for _, c := range res.ObjectsByKind {
		res.Objects += c
	}
	fmt.Printf("Floor: %d objects listed in %v s (median %.2fs)\n", res.Objects, res.Floor.Seconds, res.Floor.Median)
	for range floorRuns {
		d, err := cacheSync(ctx, cl.Config, f.kinds())
		if err != nil {
			return nil, err
		}
		res.CacheSync.Seconds = append(res.CacheSync.Seconds, seconds(d))
	}
	res.CacheSync.Median = median(res.CacheSync.Seconds)
	fmt.Printf("Cache sync: %v s (median %.2fs)\n", res.CacheSync.Seconds, res.CacheSync.Median)

	extra := f.managerArgs
	if f.secretMeta {
		extra = append([]string{"--read-secret-metadata"}, extra...)
	}
	if res.Operator, err = operator(ctx, cl, admin, bins, dir, extra, f.managerEnv); err != nil {
		return nil, err
	}
	fmt.Printf("Operator: new scan %.2fs (median of %v; scan %.2fs), cold %.2fs (scan %.2fs), warm %.2fs, peak RSS %.0f MiB, heap %.0f MiB, %d findings\n",
		res.Operator.NewSeconds, res.Operator.NewRuns, res.Operator.NewScanSeconds, res.Operator.ColdSeconds, res.Operator.ScanSeconds, res.Operator.WarmSeconds,
		res.Operator.PeakRSSMiB, res.Operator.HeapAllocMiB, res.Operator.Findings)

	if res.CLI, err = cli(ctx, admin, bins, dir, f.kinds(), f.keep); err != nil {
		return nil, err
	}
	if res.CLI.Skipped != "" {
		fmt.Println("CLI: skipped:", res.CLI.Skipped)
	} else {
		fmt.Printf("CLI: %.1f MiB of manifests in %.2fs, peak RSS %.0f MiB, %d findings\n", res.CLI.ManifestMiB, res.CLI.WallSeconds, res.CLI.PeakRSSMiB, res.CLI.Findings)
	}
	res.LoadAverage = loadAverage()
	if f.hold && n == f.sizes[len(f.sizes)-1] {
		fmt.Printf("Holding the control plane: KUBECONFIG=%s; interrupt to stop it\n", cl.KubeconfigPath)
		<-ctx.Done()
	}
	return res, nil
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

// newList returns an empty list of kind k: metadata only for Secrets, as
// the manager reads them; typed otherwise, or typed for every kind when full.
func newList(k inventory.Kind, full bool) (client.ObjectList, error) {
	gvk := inventory.GVK(k)
	listKind := gvk.GroupVersion().WithKind(gvk.Kind + "List")
	if k == inventory.KindSecret && !full {
		l := &metav1.PartialObjectMetadataList{}
		l.SetGroupVersionKind(listKind)
		return l, nil
	}
	obj, err := scheme.New(listKind)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", listKind, err)
	}
	return obj.(client.ObjectList), nil
}

// floor lists every kind the scan reads (Secrets as metadata), all kinds at
// once as the manager's informers do, page by page, keeping nothing. The
// client is new, with the manager's default QPS, and protobuf for built-in
// kinds as controller-runtime negotiates it.
func floor(ctx context.Context, cfg *rest.Config, kinds []inventory.Kind) (time.Duration, map[string]int, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = 50, 100
	began := time.Now()
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return 0, nil, fmt.Errorf("creating a client: %w", err)
	}
	var mu sync.Mutex
	byKind := map[string]int{}
	err = parallel(ctx, len(kinds), kinds, func(ctx context.Context, k inventory.Kind) error {
		n := 0
		opts := []client.ListOption{client.Limit(500)}
		for {
			l, err := newList(k, false)
			if err != nil {
				return err
			}
			if err := c.List(ctx, l, opts...); err != nil {
				return fmt.Errorf("listing %s: %w", k, err)
			}
			n += meta.LenList(l)
			if l.GetContinue() == "" {
				break
			}
			opts = []client.ListOption{client.Limit(500), client.Continue(l.GetContinue())}
		}
		mu.Lock()
		byKind[string(k)] = n
		mu.Unlock()
		return nil
	})
	return time.Since(began), byKind, err
}

// cacheSync starts a cache as the manager's (controllers.CacheOptions, an
// informer per kind the scan reads, Secrets as metadata) in this process and
// times it until every informer has synced.
func cacheSync(ctx context.Context, cfg *rest.Config, kinds []inventory.Kind) (time.Duration, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = 50, 100
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	began := time.Now()
	opts := controllers.CacheOptions()
	opts.Scheme = scheme
	c, err := cache.New(cfg, opts)
	if err != nil {
		return 0, fmt.Errorf("creating a cache: %w", err)
	}
	if err := controllers.StartInformers(ctx, c, kinds); err != nil {
		return 0, err
	}
	errs := make(chan error, 1)
	go func() { errs <- c.Start(ctx) }()
	if !c.WaitForCacheSync(ctx) {
		select {
		case err := <-errs:
			return 0, fmt.Errorf("starting the cache: %w", err)
		default:
			return 0, errors.New("the cache did not sync")
		}
	}
	return time.Since(began), nil
}

// operator runs bin/manager against the control plane: it times the first
// scan of a ClusterScan created before the manager starts (cold) and a
// rescan on request (warm), then reads the manager's memory.
func operator(ctx context.Context, cl *cluster.Cluster, c client.Client, bins binaries, dir string, extra, env []string) (Operator, error) {
	var res Operator
	scan := &posturev1alpha1.ClusterScan{ObjectMeta: metav1.ObjectMeta{Name: scanName}}
	if err := c.Create(ctx, scan); err != nil {
		return res, fmt.Errorf("creating the ClusterScan: %w", err)
	}
	metricsPort, err := freePort()
	if err != nil {
		return res, err
	}
	probePort, err := freePort()
	if err != nil {
		return res, err
	}
	res.LogPath, res.Env = filepath.Join(dir, "manager.log"), env
	args := append([]string{
		"--kubeconfig=" + cl.KubeconfigPath,
		"--leader-elect=false",
		fmt.Sprintf("--metrics-bind-address=127.0.0.1:%d", metricsPort),
		"--metrics-secure=false",
		fmt.Sprintf("--health-probe-bind-address=127.0.0.1:%d", probePort),
	}, extra...)
	restore := setenv(env)
	began := time.Now()
	p, err := cluster.StartProcess("manager", res.LogPath, bins.manager, args...)
	restore()
	if err != nil {
		return res, err
	}
	defer func() {
		if err := p.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "Stopping the manager:", err)
		}
	}()
	done, err := waitScanned(ctx, c, p, func(s *posturev1alpha1.ClusterScan) bool { return s.Status.LastSuccessfulScanTime != nil })
	if err != nil {
		return res, err
	}
	res.ColdSeconds = seconds(time.Since(began))
	if d := done.Status.LastScanDuration; d != nil {
		res.ScanSeconds = seconds(d.Duration)
	}
	if s := done.Status.Summary; s != nil {
		res.Score, res.Findings, res.ResourcesScanned = s.Score, s.Critical+s.High+s.Medium+s.Low, s.ResourcesScanned
	}

	const request = "bench-warm"
	patch := []byte(`{"metadata":{"annotations":{"` + posturev1alpha1.ScanRequestedAtAnnotation + `":"` + request + `"}}}`)
	began = time.Now()
	if err := c.Patch(ctx, done, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return res, fmt.Errorf("requesting a rescan: %w", err)
	}
	if _, err := waitScanned(ctx, c, p, func(s *posturev1alpha1.ClusterScan) bool { return s.Status.LastScanRequest == request }); err != nil {
		return res, err
	}
	res.WarmSeconds = seconds(time.Since(began))

	// New ClusterScans on the running manager, one after another: every
	// report is new. Writing them is the API server's work, which varies
	// from batch to batch (its garbage collector above all: envtest's etcd
	// does not fsync), so the median of newScanRuns is the figure. Each
	// waits newScanPause first, so that it finds what a ClusterScan created
	// on an idle operator finds: the client's rate limiter refilled (a
	// scan's writes and access reviews spend most of its burst) and the
	// API server done with the last batch.
	var durations []float64
	for i := 1; i <= newScanRuns; i++ {
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-time.After(newScanPause):
		}
		name := fmt.Sprintf("%s-%d", newScanName, i)
		began = time.Now()
		if err := c.Create(ctx, &posturev1alpha1.ClusterScan{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil {
			return res, fmt.Errorf("creating the ClusterScan %s: %w", name, err)
		}
		newDone, err := waitScannedNamed(ctx, c, p, name, func(s *posturev1alpha1.ClusterScan) bool { return s.Status.LastSuccessfulScanTime != nil })
		if err != nil {
			return res, err
		}
		res.NewRuns = append(res.NewRuns, seconds(time.Since(began)))
		if d := newDone.Status.LastScanDuration; d != nil {
			durations = append(durations, seconds(d.Duration))
		}
	}
	res.NewSeconds, res.NewScanSeconds = median(res.NewRuns), median(durations)

	status := fmt.Sprintf("/proc/%d/status", p.Pid())
	if kb, ok := procField(status, "VmHWM"); ok {
		res.PeakRSSMiB = float64(kb) / 1024
	}
	if kb, ok := procField(status, "VmRSS"); ok {
		res.RSSMiB = float64(kb) / 1024
	}
	if kb, ok := procField(status, "RssAnon"); ok {
		res.RSSAnonMiB = float64(kb) / 1024
	}
	if kb, ok := procField(status, "RssFile"); ok {
		res.RSSFileMiB = float64(kb) / 1024
	}
	m, err := scrape(ctx, fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort))
	if err != nil {
		return res, err
	}
	res.HeapAllocMiB, res.HeapInuseMiB = m["go_memstats_heap_alloc_bytes"]/mib, m["go_memstats_heap_inuse_bytes"]/mib
	return res, nil
}

// setenv sets KEY=VALUE pairs in this process's environment, which a child
// process started next inherits, and returns a function that restores it.
func setenv(env []string) (restore func()) {
	var undo []func()
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		old, had := os.LookupEnv(k)
		_ = os.Setenv(k, v)
		undo = append(undo, func() {
			if had {
				_ = os.Setenv(k, old)
			} else {
				_ = os.Unsetenv(k)
			}
		})
	}
	return func() {
		for _, u := range undo {
			u()
		}
	}
}

// waitScanned polls the bench's ClusterScan until it is Ready and done
// says the scan waited for has completed.
func waitScanned(ctx context.Context, c client.Client, p *cluster.Process, done func(*posturev1alpha1.ClusterScan) bool) (*posturev1alpha1.ClusterScan, error) {
	return waitScannedNamed(ctx, c, p, scanName, done)
}

// waitScannedNamed polls the ClusterScan name until it is Ready and done
// says the scan waited for has completed.
func waitScannedNamed(ctx context.Context, c client.Client, p *cluster.Process, name string, done func(*posturev1alpha1.ClusterScan) bool) (*posturev1alpha1.ClusterScan, error) {
	deadline := time.Now().Add(30 * time.Minute)
	for {
		if exited, err := p.Exited(); exited {
			return nil, fmt.Errorf("%w; last lines of %s:\n%s", err, p.LogPath, p.LogTail(30))
		}
		scan := &posturev1alpha1.ClusterScan{}
		if err := c.Get(ctx, types.NamespacedName{Name: name}, scan); err != nil {
			return nil, fmt.Errorf("reading the ClusterScan: %w", err)
		}
		if ready := meta.FindStatusCondition(scan.Status.Conditions, posturev1alpha1.ConditionReady); ready != nil &&
			ready.Status == metav1.ConditionTrue && done(scan) {
			return scan, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the scan did not complete in 30m; conditions %+v; last lines of %s:\n%s", scan.Status.Conditions, p.LogPath, p.LogTail(30))
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// scrape reads the samples without labels of a Prometheus text endpoint.
func scrape(ctx context.Context, url string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reading the manager's metrics: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("reading the manager's metrics: %s", resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || strings.Contains(line, "{") {
			continue
		}
		if name, v, ok := strings.Cut(line, " "); ok {
			if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
				out[name] = f
			}
		}
	}
	return out, sc.Err()
}

// cli writes every object of the kinds the manager reads as manifest files
// (as kubectl get would show them, Secrets with their data) and times
// bin/kubeposture scan -f on them.
func cli(ctx context.Context, c client.Client, bins binaries, dir string, kinds []inventory.Kind, keep bool) (CLI, error) {
	var res CLI
	manifests := filepath.Join(dir, "manifests")
	var objs []client.Object
	for _, k := range kinds {
		l, err := newList(k, true)
		if err != nil {
			return res, err
		}
		if err := (inventory.PagedReader{Reader: c}).List(ctx, l); err != nil {
			return res, fmt.Errorf("listing %s: %w", k, err)
		}
		items, err := meta.ExtractList(l)
		if err != nil {
			return res, fmt.Errorf("reading the %s list: %w", k, err)
		}
		for _, item := range items {
			o := item.(client.Object)
			gvk, err := apiutil.GVKForObject(o, scheme)
			if err != nil {
				return res, err
			}
			o.GetObjectKind().SetGroupVersionKind(gvk)
			objs = append(objs, o)
		}
	}
	written, err := writeManifests(manifests, objs)
	if err != nil {
		return res, err
	}
	if !keep {
		defer func() { _ = os.RemoveAll(manifests) }()
	}
	res.ManifestMiB = float64(written) / mib
	if written > inventory.DefaultMaxTotalBytes {
		res.Skipped = fmt.Sprintf("%.0f MiB of manifests is over the CLI's limit of %d MiB", res.ManifestMiB, inventory.DefaultMaxTotalBytes/mib)
		return res, nil
	}

	outPath := filepath.Join(dir, "cli.json")
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bins.cli, "scan", "-f", manifests, "-o", "json", "--output-file", outPath)
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	began := time.Now()
	err = cmd.Run()
	res.WallSeconds = seconds(time.Since(began))
	if err != nil {
		return res, fmt.Errorf("%s: %w: %s", strings.Join(cmd.Args, " "), err, stderr.String())
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		res.PeakRSSMiB = float64(ru.Maxrss) / 1024 // kB on Linux
	}
	data, err := os.ReadFile(outPath)
	if err != nil {
		return res, fmt.Errorf("reading the CLI's output: %w", err)
	}
	var report struct {
		Summary struct {
			Score, Findings, ResourcesScanned int
		} `json:"summary"`
		Errors []string `json:"errors"`
	}
	if err := json.Unmarshal(data, &report); err != nil {
		return res, fmt.Errorf("%s: %w", outPath, err)
	}
	if len(report.Errors) > 0 {
		return res, fmt.Errorf("the CLI reported errors reading the manifests: %s", strings.Join(report.Errors[:min(5, len(report.Errors))], "; "))
	}
	res.Score, res.Findings, res.ObjectsFound = report.Summary.Score, report.Summary.Findings, report.Summary.ResourcesScanned
	return res, nil
}

// engineBench runs BenchmarkRun of internal/engine on one core at the given sizes.
func engineBench(ctx context.Context, root, sizes string) ([]EngineResult, error) {
	cmd := exec.CommandContext(ctx, "go", "test", "./internal/engine/", "-run", "^$", "-bench", "^BenchmarkRun$", "-benchmem", "-cpu", "1", "-engine.pods", sizes)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%s: %w\n%s", strings.Join(cmd.Args, " "), err, out)
	}
	res := parseBenchOutput(string(out))
	if len(res) == 0 {
		return nil, fmt.Errorf("no benchmark results in:\n%s", out)
	}
	return res, nil
}

// parseBenchOutput reads the result lines of go test -bench: a name, the
// iterations, then value-unit pairs.
func parseBenchOutput(out string) []EngineResult {
	var res []EngineResult
	for _, line := range strings.Split(out, "\n") {
		fields := strings.Fields(line)
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
			continue
		}
		r := EngineResult{Name: fields[0]}
		var err error
		if r.Iterations, err = strconv.Atoi(fields[1]); err != nil {
			continue
		}
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				continue
			}
			switch fields[i+1] {
			case "ns/op":
				r.NsPerOp = v
			case "B/op":
				r.BytesPerOp = v
			case "allocs/op":
				r.AllocsPerOp = v
			case "templates":
				r.Templates = v
			case "objects":
				r.Objects = v
			case "templates/s":
				r.TemplatesPS = v
			case "objects/s":
				r.ObjectsPS = v
			}
		}
		res = append(res, r)
	}
	return res
}
