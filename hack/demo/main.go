// Command demo shows kubeposture end to end on a real control plane: it starts
// etcd, kube-apiserver and kube-controller-manager (test/cluster), applies the
// sample cluster in hack/demo/sample-cluster, runs the manager binary against
// it, creates a ClusterScan and prints the reports with kubectl.
//
//	go run ./hack/demo          # run the demo and clean up
//	go run ./hack/demo --keep   # leave everything running until Ctrl-C
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubeposture/kubeposture/test/cluster"
)

// fallbackClusterScan is used when config/samples has no ClusterScan sample.
const fallbackClusterScan = `apiVersion: posture.kubeposture.io/v1alpha1
kind: ClusterScan
metadata:
  name: nightly
spec:
  schedule: "0 2 * * *"
`

const (
	scanName    = "nightly"
	samplePath  = "config/samples/posture_v1alpha1_clusterscan.yaml"
	podsTimeout = 2 * time.Minute
)

func main() {
	keep := flag.Bool("keep", false, "Leave the cluster and the manager running after the demo, and print the kubeconfig path; stop with Ctrl-C.")
	flag.Parse()
	os.Exit(runDemo(*keep))
}

// runDemo runs the demo, cleans up, and returns the exit code.
func runDemo(keep bool) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	d := &demo{keep: keep}
	err := d.run(ctx)
	if err != nil {
		fmt.Fprintf(os.Stderr, "\nDEMO FAILED: %v\n", err)
		if d.manager != nil {
			fmt.Fprintf(os.Stderr, "\nLast lines of the manager log (%s):\n%s\n", d.manager.LogPath, d.manager.LogTail(40))
		}
	}
	if cerr := d.cleanup(err != nil); cerr != nil {
		fmt.Fprintf(os.Stderr, "cleanup: %v\n", cerr)
		return 1
	}
	if err != nil {
		return 1
	}
	return 0
}

type demo struct {
	keep    bool
	root    string
	dir     string // logs and kubeconfigs; removed after a successful run
	cluster *cluster.Cluster
	manager *cluster.Process
	step    int
}

const steps = 9

func (d *demo) header(format string, args ...any) {
	d.step++
	fmt.Printf("\n=== [%d/%d] %s\n", d.step, steps, fmt.Sprintf(format, args...))
}

func (d *demo) run(ctx context.Context) error {
	var err error
	if d.root, err = cluster.ModuleRoot(); err != nil {
		return err
	}
	if d.dir, err = os.MkdirTemp("", "kubeposture-demo-"); err != nil {
		return fmt.Errorf("creating the demo directory: %w", err)
	}

	d.header("Starting a control plane: etcd, kube-apiserver, kube-controller-manager, with the CRDs from config/crd/bases")
	began := time.Now()
	d.cluster, err = cluster.Start(ctx,
		cluster.WithCRDDirectoryPaths(filepath.Join(d.root, "config", "crd", "bases")),
		cluster.WithDir(d.dir))
	if err != nil {
		return fmt.Errorf("starting the control plane: %w", err)
	}
	fmt.Printf("Started in %s; binaries from %s\n", since(began), d.cluster.AssetsDir)

	d.header("Applying the sample cluster: kubectl apply --server-side -f hack/demo/sample-cluster/")
	if err := d.kubectlPrint(ctx, "apply", "--server-side", "-f", filepath.Join(d.root, "hack", "demo", "sample-cluster")); err != nil {
		return err
	}

	d.header("Waiting for kube-controller-manager to create the workloads' Pods (Pending: there is no kubelet)")
	began = time.Now()
	if err := d.waitForPods(ctx); err != nil {
		return err
	}
	fmt.Printf("Pods created in %s\n", since(began))
	if err := d.kubectlPrint(ctx, "get", "deployments,statefulsets,daemonsets,cronjobs,pods", "-A"); err != nil {
		return err
	}

	d.header("Building the manager: go build -o bin/manager ./cmd/manager")
	managerBin := filepath.Join(d.root, "bin", "manager")
	if err := buildManager(ctx, d.root, managerBin); err != nil {
		return err
	}

	d.header("Starting the manager against the cluster")
	d.manager, err = cluster.StartProcess("manager", filepath.Join(d.dir, "manager.log"), managerBin,
		"--kubeconfig="+d.cluster.KubeconfigPath,
		"--metrics-bind-address=0",
		"--health-probe-bind-address=127.0.0.1:0",
		"--leader-elect=false")
	if err != nil {
		return err
	}
	fmt.Printf("Manager running as pid %d, logging to %s\n", d.manager.Pid(), d.manager.LogPath)

	d.header("Creating ClusterScan %q", scanName)
	if err := d.applyClusterScan(ctx); err != nil {
		return err
	}

	d.header("Waiting for the scan: kubectl wait --for=condition=Ready clusterscan/%s --timeout=120s", scanName)
	began = time.Now()
	if err := d.waitForScan(ctx); err != nil {
		return err
	}
	fmt.Printf("Ready after %s\n", since(began))

	d.header("The results")
	for _, args := range [][]string{
		{"get", "clusterscans"},
		{"get", "scanreports", "-A"},
		{"get", "clusterscanreports"},
		{"get", "scanreport", scanName, "-n", "shop", "-o", "yaml"},
	} {
		fmt.Printf("\n$ kubectl %s\n", strings.Join(args, " "))
		if err := d.kubectlPrint(ctx, args...); err != nil {
			return err
		}
	}

	if !d.keep {
		d.header("Cleaning up: stopping the manager, kube-controller-manager, kube-apiserver and etcd")
		return nil
	}
	d.header("Leaving everything running (--keep)")
	fmt.Printf("export KUBECONFIG=%s\n", d.cluster.KubeconfigPath)
	fmt.Printf("kubectl:  %s\nmanager log: %s\nkube-controller-manager log: %s\n",
		d.cluster.KubectlPath(), d.manager.LogPath, d.cluster.ControllerManager.LogPath)
	fmt.Println("Press Ctrl-C to stop the manager and the control plane.")
	select {
	case <-ctx.Done():
	case <-d.manager.Done():
		return fmt.Errorf("the manager exited while the demo was waiting: %w", exitErr(d.manager))
	}
	fmt.Println("\nStopping.")
	return nil
}

// cleanup stops whatever run started. The demo directory, with the logs, is
// kept when the demo failed.
func (d *demo) cleanup(failed bool) error {
	var errs []error
	if d.manager != nil {
		errs = append(errs, d.manager.Stop())
	}
	if d.cluster != nil {
		errs = append(errs, d.cluster.Stop())
	}
	if d.dir != "" {
		if failed {
			fmt.Fprintf(os.Stderr, "Logs and kubeconfigs kept in %s\n", d.dir)
		} else {
			errs = append(errs, os.RemoveAll(d.dir))
		}
	}
	return errors.Join(errs...)
}

// kubectlPrint runs kubectl and prints its output, warnings included.
func (d *demo) kubectlPrint(ctx context.Context, args ...string) error {
	stdout, stderr, err := d.cluster.KubectlWithInput(ctx, nil, args...)
	fmt.Print(stdout)
	if err != nil {
		return err // err holds stderr
	}
	fmt.Print(stderr)
	return nil
}

// waitForPods waits until every Deployment and StatefulSet has as many Pods
// as it asks for, and prints each when it does.
func (d *demo) waitForPods(ctx context.Context) error {
	cl, err := client.New(d.cluster.Config, client.Options{})
	if err != nil {
		return fmt.Errorf("creating a client: %w", err)
	}
	reported := map[string]bool{}
	var waiting []string
	err = cluster.WaitFor(ctx, podsTimeout, func() (bool, error) {
		var deploys appsv1.DeploymentList
		if err := cl.List(ctx, &deploys); err != nil {
			return false, err
		}
		var sets appsv1.StatefulSetList
		if err := cl.List(ctx, &sets); err != nil {
			return false, err
		}
		type workload struct {
			kind, namespace, name string
			replicas              int32
			selector              *metav1.LabelSelector
		}
		var workloads []workload
		for _, w := range deploys.Items {
			workloads = append(workloads, workload{"Deployment", w.Namespace, w.Name, replicas(w.Spec.Replicas), w.Spec.Selector})
		}
		for _, w := range sets.Items {
			workloads = append(workloads, workload{"StatefulSet", w.Namespace, w.Name, replicas(w.Spec.Replicas), w.Spec.Selector})
		}
		waiting = nil
		for _, w := range workloads {
			selector, err := metav1.LabelSelectorAsSelector(w.selector)
			if err != nil {
				return false, fmt.Errorf("%s %s/%s: %w", w.kind, w.namespace, w.name, err)
			}
			var pods corev1.PodList
			if err := cl.List(ctx, &pods, client.InNamespace(w.namespace), client.MatchingLabelsSelector{Selector: selector}); err != nil {
				return false, err
			}
			id := fmt.Sprintf("%s %s/%s", w.kind, w.namespace, w.name)
			if int32(len(pods.Items)) < w.replicas {
				waiting = append(waiting, fmt.Sprintf("%s (%d/%d)", id, len(pods.Items), w.replicas))
				continue
			}
			if !reported[id] {
				reported[id] = true
				fmt.Printf("  %s: %d Pods\n", id, len(pods.Items))
			}
		}
		return len(workloads) > 0 && len(waiting) == 0, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for Pods of %s: %w\nkube-controller-manager log (%s):\n%s",
			strings.Join(waiting, ", "), err, d.cluster.ControllerManager.LogPath, d.cluster.ControllerManager.LogTail(20))
	}
	return nil
}

func replicas(r *int32) int32 {
	if r == nil {
		return 1
	}
	return *r
}

// buildManager builds cmd/manager into out.
func buildManager(ctx context.Context, root, out string) error {
	if _, err := os.Stat(filepath.Join(root, "cmd", "manager")); err != nil {
		return fmt.Errorf("cmd/manager does not exist yet, so there is no manager to run: %w", err)
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/manager")
	cmd.Dir = root
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("building the manager: %w", err)
	}
	return nil
}

// applyClusterScan applies the ClusterScan sample, or the literal above when
// there is no sample.
func (d *demo) applyClusterScan(ctx context.Context) error {
	sample := filepath.Join(d.root, samplePath)
	if _, err := os.Stat(sample); err == nil {
		fmt.Printf("$ kubectl apply -f %s\n", samplePath)
		return d.kubectlPrint(ctx, "apply", "-f", sample)
	}
	fmt.Printf("%s is missing; applying this ClusterScan:\n%s", samplePath, fallbackClusterScan)
	stdout, _, err := d.cluster.KubectlWithInput(ctx, []byte(fallbackClusterScan), "apply", "-f", "-")
	fmt.Print(stdout)
	return err
}

// waitForScan runs kubectl wait, giving up early if the manager exits.
func (d *demo) waitForScan(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-d.manager.Done():
			cancel()
		case <-ctx.Done():
		}
	}()
	err := d.kubectlPrint(ctx, "wait", "--for=condition=Ready", "clusterscan/"+scanName, "--timeout=120s")
	if exited, exitErr := d.manager.Exited(); exited {
		return fmt.Errorf("waiting for ClusterScan %s to be Ready: %w", scanName, exitErr)
	}
	if err != nil {
		// Show what the scan says about itself.
		stdout, _, _ := d.cluster.Kubectl("get", "clusterscan", scanName, "-o", "jsonpath={.status.conditions}")
		return fmt.Errorf("waiting for ClusterScan %s to be Ready: %w\nconditions: %s", scanName, err, stdout)
	}
	return nil
}

func exitErr(p *cluster.Process) error {
	_, err := p.Exited()
	return err
}

func since(t time.Time) time.Duration { return time.Since(t).Round(time.Millisecond) }
