// Command manager runs the kubeposture operator: it reconciles ClusterScans
// into ScanReports and ClusterScanReports.
package main

import (
	"context"
	"errors"
	"flag"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/KimMachineGun/automemlimit/memlimit"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/kubeposture/kubeposture/controllers"
	"github.com/kubeposture/kubeposture/internal/inventory"
)

func main() {
	var (
		metricsAddr   string
		secureMetrics bool
		probeAddr     string
		leaderElect   bool
		leaderElectNS string
		maxConcurrent int
		qps           float64
		secretMeta    bool
		burst         int
		writeRate     float64
		writeBurst    int
		metricsMaxNS  int
		metricsCerts  string
		pprofAddr     string
		memRatio      float64
		gcPercent     int
	)
	flag.StringVar(&metricsAddr, "metrics-bind-address", ":8443", "Address the metrics endpoint binds to; 0 disables it.")
	flag.BoolVar(&secureMetrics, "metrics-secure", true, "Serve metrics over HTTPS, authenticated and authorized through the API server.")
	flag.StringVar(&metricsCerts, "metrics-cert-dir", "", "Directory holding tls.crt and tls.key for the metrics endpoint (watched for renewals); empty: a self-signed certificate made at start.")
	flag.IntVar(&metricsMaxNS, "metrics-max-namespaces", controllers.DefaultMetricsMaxNamespaces,
		`Namespaces of each ClusterScan with their own kubeposture_namespace_findings series (those with the most severe findings); the rest are summed under namespace="_other". 0 sums them all.`)
	flag.StringVar(&pprofAddr, "pprof-bind-address", "0", "Address Go's pprof profiles are served on (such as 127.0.0.1:8082), for profiling memory and CPU; 0 disables it.")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "Address the /healthz and /readyz probes bind to.")
	flag.BoolVar(&leaderElect, "leader-elect", false, "Elect a leader, so that only one manager of several scans.")
	flag.StringVar(&leaderElectNS, "leader-election-namespace", "", "Namespace of the leader election lease (default: the pod's namespace).")
	flag.IntVar(&maxConcurrent, "max-concurrent-scans", 1, "ClusterScans scanned at once.")
	flag.BoolVar(&secretMeta, "read-secret-metadata", false, "Also read Secrets, as metadata only. Needs the kubeposture-secret-metadata ClusterRole (list and watch on secrets, which Kubernetes cannot limit to metadata).")
	flag.Float64Var(&qps, "kube-api-qps", 50, "Queries per second to the API server, sustained.")
	flag.IntVar(&burst, "kube-api-burst", 100, "Queries to the API server in a burst.")
	flag.Float64Var(&writeRate, "report-writes-per-second", 40, "Report writes (applies and deletes of changed reports) per second, sustained, across all scans; keep it below --kube-api-qps, which other requests share. 0 leaves them paced only by --kube-api-qps.")
	flag.IntVar(&writeBurst, "report-writes-burst", 80, "Report writes in a burst: the reports of a cluster of up to this many namespaces are written at once. Keep it below --kube-api-burst.")
	flag.Float64Var(&memRatio, "memory-limit-ratio", 0.9, "Set the Go runtime's soft memory limit (GOMEMLIMIT) to this fraction of the container's memory limit, read from its cgroup; 0 sets none. A GOMEMLIMIT in the environment wins.")
	flag.IntVar(&gcPercent, "gc-percent", defaultGCPercent, "The garbage collector's target percentage (GOGC), at least 1: how much the heap may grow over what is live before a collection. Lower uses less memory and more CPU. A GOGC in the environment (including off) wins.")
	opts := zap.Options{}
	opts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))
	setupLog := ctrl.Log.WithName("setup")
	if writeRate < 0 || writeBurst < 1 {
		setupLog.Error(errors.New("--report-writes-per-second must not be negative and --report-writes-burst must be at least 1"), "Invalid flag")
		os.Exit(1)
	}
	switch limit, err := setMemoryLimit(memRatio, memlimit.FromCgroup, setupLog); {
	case errors.Is(err, errMemoryLimitRatio):
		setupLog.Error(err, "Invalid flag", "flag", "--memory-limit-ratio")
		os.Exit(1)
	case err != nil:
		setupLog.Error(err, "Could not read the container's memory limit; running without a Go memory limit")
	case limit != math.MaxInt64:
		setupLog.Info("Go memory limit set", "GOMEMLIMIT", limit)
	}
	percent, err := setGCPercent(gcPercent, os.Getenv)
	if err != nil {
		setupLog.Error(err, "Invalid flag", "flag", "--gc-percent")
		os.Exit(1)
	}
	setupLog.Info("Garbage collector target set", "GOGC", percent)
	if metricsMaxNS < 0 {
		setupLog.Error(errors.New("must not be negative"), "Invalid flag", "flag", "--metrics-max-namespaces")
		os.Exit(1)
	}
	if metricsCerts != "" {
		// controller-runtime would quietly fall back to a self-signed certificate.
		for _, f := range []string{"tls.crt", "tls.key"} {
			if _, err := os.Stat(filepath.Join(metricsCerts, f)); err != nil {
				setupLog.Error(err, "Invalid flag", "flag", "--metrics-cert-dir")
				os.Exit(1)
			}
		}
	}

	scheme := runtime.NewScheme()
	utilruntime.Must(controllers.AddToScheme(scheme))

	metricsOpts := metricsserver.Options{BindAddress: metricsAddr, SecureServing: secureMetrics, CertDir: metricsCerts}
	if secureMetrics {
		metricsOpts.FilterProvider = controllers.MetricsAuthFilter
	}
	recoverPanic := true
	cfg := ctrl.GetConfigOrDie()
	cfg.QPS, cfg.Burst = float32(qps), burst
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                        scheme,
		Metrics:                       metricsOpts,
		HealthProbeBindAddress:        probeAddr,
		PprofBindAddress:              pprofAddr,
		LeaderElection:                leaderElect,
		LeaderElectionID:              "kubeposture-manager.posture.kubeposture.io",
		LeaderElectionNamespace:       leaderElectNS,
		LeaderElectionReleaseOnCancel: true,
		Cache:                         controllers.CacheOptions(),
		Client:                        controllers.ClientOptions(),
		Controller:                    config.Controller{RecoverPanic: &recoverPanic, MaxConcurrentReconciles: maxConcurrent},
	})
	if err != nil {
		setupLog.Error(err, "Unable to create the manager")
		os.Exit(1)
	}

	ctx := ctrl.SetupSignalHandler()
	kinds := inventory.DefaultKinds
	if secretMeta {
		kinds = inventory.AllKinds
	}
	var writeLimiter *controllers.WriteLimiter
	if writeRate > 0 {
		writeLimiter = controllers.NewWriteLimiter(float32(writeRate), writeBurst)
	}
	r := &controllers.ClusterScanReconciler{
		Client:       mgr.GetClient(),
		APIReader:    mgr.GetAPIReader(),
		Inventory:    &controllers.InformerReader{Cache: mgr.GetCache(), Scheme: scheme, APIReader: mgr.GetAPIReader()},
		WriteLimiter: writeLimiter,
		Access:       &inventory.SelfAccess{Client: mgr.GetClient()},
		Kinds:        kinds,
		Clock:        clock.RealClock{},
		Recorder:     mgr.GetEventRecorder("kubeposture"),
	}
	if err := r.SetupWithManager(mgr); err != nil {
		setupLog.Error(err, "Unable to set up the controller", "controller", "ClusterScan")
		os.Exit(1)
	}
	if err := metrics.Registry.Register(controllers.NewMetricsCollector(mgr.GetCache(), controllers.MetricsOptions{MaxNamespaces: metricsMaxNS})); err != nil {
		setupLog.Error(err, "Unable to register the metrics")
		os.Exit(1)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		setupLog.Error(err, "Unable to set up the health check")
		os.Exit(1)
	}
	if err := mgr.AddReadyzCheck("readyz", cacheSynced(mgr)); err != nil {
		setupLog.Error(err, "Unable to set up the ready check")
		os.Exit(1)
	}
	setupLog.Info("Starting the manager")
	if err := mgr.Start(ctx); err != nil {
		setupLog.Error(err, "The manager stopped with an error")
		os.Exit(1)
	}
}

// cacheSynced is ready once the manager's cache has started.
func cacheSynced(mgr manager.Manager) healthz.Checker {
	return func(_ *http.Request) error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if !mgr.GetCache().WaitForCacheSync(ctx) {
			return errors.New("cache not synced")
		}
		return nil
	}
}
