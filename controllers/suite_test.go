package controllers_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/rest"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/yaml"

	"github.com/kubeposture/kubeposture/controllers"
	"github.com/kubeposture/kubeposture/internal/inventory"
	"github.com/kubeposture/kubeposture/test/cluster"
)

// The suite runs one real kube-apiserver and etcd (envtest) and one manager,
// as a user bound to the ClusterRole generated from the controller's RBAC
// markers, so that every test also proves that RBAC is enough. Tests assert
// through k8sClient, which reads straight from the API server (no cache).
var (
	k8sClient client.Client
	// managerCache is the test manager's informer cache.
	managerCache cache.Cache
	// managerReader reads through that cache as scans do, starting a kind's
	// informer on its first read.
	managerReader *controllers.InformerReader
	fakeClock     *clocktesting.FakeClock
	testCtx       context.Context
	// testRESTConfig is the API server's admin config.
	testRESTConfig *rest.Config
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctrl.SetLogger(zap.New(zap.UseDevMode(true), zap.WriteTo(managerLog())))
	assets, err := cluster.AssetsDir(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "control plane binaries:", err)
		return 1
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     []string{filepath.Join("..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := env.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting envtest:", err)
		return 1
	}
	defer func() { _ = env.Stop() }()

	testRESTConfig = cfg
	scheme := runtime.NewScheme()
	utilruntime.Must(controllers.AddToScheme(scheme))
	k8sClient, err = client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		return 1
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	testCtx = ctx
	managerCfg, err := managerUser(ctx, env)
	if err != nil {
		fmt.Fprintln(os.Stderr, "manager user:", err)
		return 1
	}
	fakeClock = clocktesting.NewFakeClock(time.Now())
	if err := startManager(ctx, managerCfg, scheme); err != nil {
		fmt.Fprintln(os.Stderr, "manager:", err)
		return 1
	}
	return m.Run()
}

// managerLog is where the manager logs: stderr with TEST_VERBOSE_MANAGER set, else nowhere.
func managerLog() io.Writer {
	if os.Getenv("TEST_VERBOSE_MANAGER") != "" {
		return os.Stderr
	}
	return io.Discard
}

// managerUser creates a user bound to config/rbac/role.yaml and returns its config.
func managerUser(ctx context.Context, env *envtest.Environment) (*rest.Config, error) {
	for _, file := range []string{"role.yaml", "secret_metadata_role.yaml"} {
		data, err := os.ReadFile(filepath.Join("..", "config", "rbac", file))
		if err != nil {
			return nil, err
		}
		role := &rbacv1.ClusterRole{}
		if err := yaml.Unmarshal(data, role); err != nil {
			return nil, fmt.Errorf("config/rbac/%s: %w", file, err)
		}
		if err := k8sClient.Create(ctx, role); err != nil {
			return nil, err
		}
		binding := &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: role.Name},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "kubeposture-manager"}},
		}
		if err := k8sClient.Create(ctx, binding); err != nil {
			return nil, err
		}
	}
	user, err := env.AddUser(envtest.User{Name: "kubeposture-manager"}, nil)
	if err != nil {
		return nil, err
	}
	cfg := user.Config()
	cfg.QPS, cfg.Burst = 50, 100 // as the manager's defaults
	return cfg, nil
}

func startManager(ctx context.Context, cfg *rest.Config, scheme *runtime.Scheme) error {
	skipNameValidation := true
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:  scheme,
		Metrics: metricsserver.Options{BindAddress: "0"},
		Cache:   controllers.CacheOptions(),
		Client:  controllers.ClientOptions(),
		Controller: config.Controller{
			SkipNameValidation: &skipNameValidation,
		},
	})
	if err != nil {
		return err
	}
	// The suite reads Secret metadata too (--read-secret-metadata), to prove
	// that path. Informers start on a scan's first read, as in the manager.
	managerCache = mgr.GetCache()
	managerReader = &controllers.InformerReader{Cache: managerCache, Scheme: scheme, APIReader: mgr.GetAPIReader()}
	r := &controllers.ClusterScanReconciler{
		Client:    mgr.GetClient(),
		APIReader: mgr.GetAPIReader(),
		Inventory: managerReader,
		// Paced as in the manager (which defaults to 20/s), fast enough for tests.
		WriteLimiter: controllers.NewWriteLimiter(500, 100),
		Access:       &inventory.SelfAccess{Client: mgr.GetClient()},
		Kinds:        inventory.AllKinds,
		Clock:        fakeClock,
		Recorder:     mgr.GetEventRecorder("kubeposture"),
	}
	if err := r.SetupWithManager(mgr); err != nil {
		return err
	}
	go func() {
		if err := mgr.Start(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "manager stopped:", err)
		}
	}()
	return nil
}

// eventually polls f until it returns nil or the deadline passes.
func eventually(t *testing.T, timeout time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for {
		if err = f(); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s: %v", timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// consistently fails if f returns an error at any poll within the duration.
func consistently(t *testing.T, d time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if err := f(); err != nil {
			t.Fatalf("condition broken: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func ensureNamespace(t *testing.T, name string, labels map[string]string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	if err := k8sClient.Create(testCtx, ns); err != nil {
		t.Fatalf("creating namespace %s: %v", name, err)
	}
}

func create(t *testing.T, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		if err := k8sClient.Create(testCtx, o); err != nil {
			t.Fatalf("creating %T %s: %v", o, o.GetName(), err)
		}
	}
}

// newWriter is an ObjectWriter on the API server's admin config, as the
// manager makes one on its own.
func newWriter(t *testing.T) controllers.ObjectWriter {
	t.Helper()
	hc, err := rest.HTTPClientFor(testRESTConfig)
	if err != nil {
		t.Fatal(err)
	}
	mapper, err := apiutil.NewDynamicRESTMapper(testRESTConfig, hc)
	if err != nil {
		t.Fatal(err)
	}
	return controllers.NewObjectWriter(testRESTConfig, hc, mapper)
}
