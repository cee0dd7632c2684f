// Package cluster starts a real Kubernetes control plane for end-to-end tests
// and demos: etcd and kube-apiserver through envtest, and kube-controller-manager
// as a child process, so that Deployments get ReplicaSets and Pods, ServiceAccounts
// are created, namespaces are finalised and owner references are
// garbage-collected as in a real cluster. There is no scheduler and no kubelet:
// Pods stay Pending, and DaemonSets (which need Nodes) create none.
//
// The binaries are the upstream ones that hack/controlplane.sh builds, found
// through KUBEBUILDER_ASSETS or by running that script.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// ModulePath is the Go module whose root ModuleRoot looks for.
const ModulePath = "github.com/kubeposture/kubeposture"

// controllers are the kube-controller-manager controllers a cluster runs: the
// ones that turn workloads into Pods and clean up after deletions. Node,
// volume, endpoint and certificate controllers are left out: there are no
// Nodes, and nothing here needs them.
var controllers = []string{
	"garbage-collector-controller",
	"namespace-controller",
	"deployment-controller",
	"replicaset-controller",
	"statefulset-controller",
	"daemonset-controller",
	"job-controller",
	"cronjob-controller",
	"serviceaccount-controller",
	"serviceaccount-token-controller",
	"root-ca-certificate-publisher-controller",
	"clusterrole-aggregation-controller",
}

const (
	startTimeout = 2 * time.Minute
	pollInterval = 200 * time.Millisecond
)

// Cluster is a running control plane.
type Cluster struct {
	// Config is a REST config for an admin user (group system:masters).
	Config *rest.Config
	// KubeconfigPath is a kubeconfig file for the same admin user, for
	// kubectl and for programs under test.
	KubeconfigPath string
	// AssetsDir holds kube-apiserver, etcd, kube-controller-manager and kubectl.
	AssetsDir string
	// Dir holds the kubeconfigs and the kube-controller-manager log.
	Dir string
	// ControllerManager is the kube-controller-manager process.
	ControllerManager *Process

	env       *envtest.Environment
	removeDir bool
	// apiServer is kube-apiserver once RestartAPIServer has restarted it
	// (envtest's own process is gone then), and apiServerArgv its command line.
	apiServer     *Process
	apiServerArgv []string
}

type options struct {
	crdPaths       []string
	assetsDir      string
	dir            string
	progress       io.Writer
	apiServerFlags [][]string // name, then values
}

// Option configures Start.
type Option func(*options)

// WithCRDDirectoryPaths installs the CRDs in these directories (such as
// config/crd/bases) before Start returns. A missing directory is an error.
func WithCRDDirectoryPaths(paths ...string) Option {
	return func(o *options) { o.crdPaths = append(o.crdPaths, paths...) }
}

// WithAssetsDirectory uses the control plane binaries in dir, instead of
// KUBEBUILDER_ASSETS or hack/controlplane.sh.
func WithAssetsDirectory(dir string) Option {
	return func(o *options) { o.assetsDir = dir }
}

// WithDir writes kubeconfigs and logs to dir, which Stop leaves in place.
// Default: a temporary directory that Stop removes.
func WithDir(dir string) Option {
	return func(o *options) { o.dir = dir }
}

// WithProgress sends the output of hack/controlplane.sh (which may build the
// binaries, for several minutes) to w. Default: os.Stderr.
func WithProgress(w io.Writer) Option {
	return func(o *options) { o.progress = w }
}

// WithAPIServerFlag sets a kube-apiserver flag, in place of envtest's value
// if it sets one: such as service-cluster-ip-range, which envtest sets to a
// /24, room for 254 Services.
func WithAPIServerFlag(name string, values ...string) Option {
	return func(o *options) { o.apiServerFlags = append(o.apiServerFlags, append([]string{name}, values...)) }
}

// Start starts etcd, kube-apiserver and kube-controller-manager, installs the
// CRDs, and returns once the controller manager is working. On error nothing
// is left running.
func Start(ctx context.Context, opts ...Option) (_ *Cluster, retErr error) {
	o := options{progress: os.Stderr}
	for _, opt := range opts {
		opt(&o)
	}
	assets, err := assetsDir(ctx, o)
	if err != nil {
		return nil, err
	}

	c := &Cluster{AssetsDir: assets, Dir: o.dir}
	if c.Dir == "" {
		if c.Dir, err = os.MkdirTemp("", "kubeposture-cluster-"); err != nil {
			return nil, fmt.Errorf("creating cluster directory: %w", err)
		}
		c.removeDir = true
	} else if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating cluster directory: %w", err)
	}
	defer func() {
		if retErr != nil {
			retErr = errors.Join(retErr, c.Stop())
		}
	}()

	c.env = &envtest.Environment{
		BinaryAssetsDirectory:    assets,
		CRDDirectoryPaths:        o.crdPaths,
		ErrorIfCRDPathMissing:    true,
		ControlPlaneStartTimeout: startTimeout,
	}
	// envtest disables the ServiceAccount admission plugin because it runs no
	// controllers; we run the ServiceAccount controller, so Pods get their
	// ServiceAccount and token volume as in a real cluster.
	apiServerArgs := c.env.ControlPlane.GetAPIServer().Configure().Disable("disable-admission-plugins")
	for _, f := range o.apiServerFlags {
		apiServerArgs.Set(f[0], f[1:]...)
	}
	if c.Config, err = c.env.Start(); err != nil {
		return nil, fmt.Errorf("starting kube-apiserver and etcd: %w", err)
	}

	c.KubeconfigPath = filepath.Join(c.Dir, "admin.kubeconfig")
	if err := os.WriteFile(c.KubeconfigPath, c.env.KubeConfig, 0o600); err != nil {
		return nil, fmt.Errorf("writing admin kubeconfig: %w", err)
	}
	if err := c.startControllerManager(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// startControllerManager runs kube-controller-manager as its own admin user
// and waits until its ServiceAccount controller has created the default
// ServiceAccount, which shows it is connected and running controllers.
func (c *Cluster) startControllerManager(ctx context.Context) error {
	user, err := c.env.AddUser(envtest.User{Name: "kcm-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return fmt.Errorf("adding the kube-controller-manager user: %w", err)
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		return fmt.Errorf("rendering the kube-controller-manager kubeconfig: %w", err)
	}
	kubeconfigPath := filepath.Join(c.Dir, "kube-controller-manager.kubeconfig")
	if err := os.WriteFile(kubeconfigPath, kubeconfig, 0o600); err != nil {
		return fmt.Errorf("writing the kube-controller-manager kubeconfig: %w", err)
	}
	caPath := filepath.Join(c.Dir, "ca.crt")
	if err := os.WriteFile(caPath, c.Config.CAData, 0o600); err != nil {
		return fmt.Errorf("writing the cluster CA: %w", err)
	}
	// envtest's kube-apiserver verifies ServiceAccount tokens with the key
	// pair in its cert dir; the token controller signs with the same key.
	saKey := filepath.Join(c.env.ControlPlane.GetAPIServer().CertDir, "sa-signer.key")

	c.ControllerManager, err = StartProcess("kube-controller-manager",
		filepath.Join(c.Dir, "kube-controller-manager.log"),
		filepath.Join(c.AssetsDir, "kube-controller-manager"),
		"--kubeconfig="+kubeconfigPath,
		"--leader-elect=false",
		"--controllers="+strings.Join(controllers, ","),
		"--use-service-account-credentials=false",
		"--service-account-private-key-file="+saKey,
		"--root-ca-file="+caPath,
		"--kube-api-qps=400",
		"--kube-api-burst=800",
		"--bind-address=127.0.0.1",
		"--secure-port=0",
	)
	if err != nil {
		return err
	}

	cl, err := client.New(c.Config, client.Options{})
	if err != nil {
		return fmt.Errorf("creating a client: %w", err)
	}
	err = WaitFor(ctx, startTimeout, func() (bool, error) {
		if exited, err := c.ControllerManager.Exited(); exited {
			return false, err
		}
		err := cl.Get(ctx, types.NamespacedName{Namespace: "default", Name: "default"}, &corev1.ServiceAccount{})
		return err == nil, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for kube-controller-manager to create the default ServiceAccount: %w\nlast lines of %s:\n%s",
			err, c.ControllerManager.LogPath, c.ControllerManager.LogTail(30))
	}
	return nil
}

// Stop stops kube-controller-manager, kube-apiserver and etcd, and removes
// the cluster directory unless it was given with WithDir. It is safe to call
// more than once.
func (c *Cluster) Stop() error {
	var errs []error
	if c.ControllerManager != nil {
		errs = append(errs, c.ControllerManager.Stop())
	}
	if c.apiServer != nil {
		errs = append(errs, c.apiServer.Stop())
		c.apiServer = nil
	}
	if c.env != nil {
		if err := c.env.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("stopping kube-apiserver and etcd: %w", err))
		}
		c.env = nil
	}
	if c.removeDir {
		if err := os.RemoveAll(c.Dir); err != nil {
			errs = append(errs, fmt.Errorf("removing the cluster directory: %w", err))
		}
		c.removeDir = false
	}
	return errors.Join(errs...)
}

// KubectlPath is the kubectl binary that matches the control plane.
func (c *Cluster) KubectlPath() string {
	return filepath.Join(c.AssetsDir, "kubectl")
}

// Kubectl runs kubectl against the cluster as the admin user and returns its
// stdout and stderr. The error, if any, includes stderr.
func (c *Cluster) Kubectl(args ...string) (stdout, stderr string, err error) {
	return c.KubectlWithInput(context.Background(), nil, args...)
}

// KubectlWithInput runs kubectl like Kubectl, until ctx is done, with stdin
// as its standard input (nil: none), as in `kubectl apply -f -`.
func (c *Cluster) KubectlWithInput(ctx context.Context, stdin []byte, args ...string) (stdout, stderr string, err error) {
	return run(ctx, "", stdin, c.KubectlPath(), append([]string{"--kubeconfig=" + c.KubeconfigPath}, args...)...)
}

// WaitFor calls cond every pollInterval until it returns true, returns an
// error, or timeout passes (an error then).
func WaitFor(ctx context.Context, timeout time.Duration, cond func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for {
		done, err := cond()
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("condition not met within %s: %w", timeout, ctx.Err())
		case <-ticker.C:
		}
	}
}

// ModuleRoot returns the root directory of the kubeposture module, looking
// upwards from the working directory.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding the module root: %w", err)
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.HasPrefix(strings.TrimSpace(string(data)), "module "+ModulePath) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("finding the module root: no go.mod for %s above the working directory", ModulePath)
		}
		dir = parent
	}
}

// assetsDir finds the control plane binaries: WithAssetsDirectory, then
// KUBEBUILDER_ASSETS, then what hack/controlplane.sh prints (it builds them
// on first use).
func assetsDir(ctx context.Context, o options) (string, error) {
	dir := o.assetsDir
	if dir == "" {
		dir = os.Getenv("KUBEBUILDER_ASSETS")
	}
	if dir == "" {
		root, err := ModuleRoot()
		if err != nil {
			return "", err
		}
		cmd := exec.CommandContext(ctx, "bash", filepath.Join(root, "hack", "controlplane.sh"))
		cmd.Dir = root
		cmd.Stderr = o.progress
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("running hack/controlplane.sh: %w", err)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		dir = strings.TrimSpace(lines[len(lines)-1])
	}
	for _, bin := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kubectl"} {
		if _, err := os.Stat(filepath.Join(dir, bin)); err != nil {
			return "", fmt.Errorf("control plane binaries in %s: %w (run hack/controlplane.sh)", dir, err)
		}
	}
	return dir, nil
}

// AssetsDir returns the directory of the control plane binaries, for
// envtest's BinaryAssetsDirectory: KUBEBUILDER_ASSETS, or what
// hack/controlplane.sh prints (building them on first use).
func AssetsDir(ctx context.Context) (string, error) {
	return assetsDir(ctx, options{progress: os.Stderr})
}
