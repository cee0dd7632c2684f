package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"
)

// apiServerGracePeriod is how long kube-apiserver gets to exit after SIGTERM
// before it is killed (it drains watches for longer than tests should wait).
const apiServerGracePeriod = 10 * time.Second

// RestartAPIServer stops kube-apiserver with SIGTERM, as a rolling upgrade of
// the control plane would, waits for downtime, and starts it again with the
// same command line (same port, certificates and etcd), so that clients see
// their connections and watches drop and must re-establish them. It returns
// once the new kube-apiserver is ready. etcd keeps running: no data is lost.
func (c *Cluster) RestartAPIServer(ctx context.Context, downtime time.Duration) error {
	if c.env == nil {
		return errors.New("restarting kube-apiserver: the cluster is not running")
	}
	var argv []string
	var pid int
	if c.apiServer != nil {
		// Restarted before: it is our child now.
		argv, pid = c.apiServerArgv, c.apiServer.Pid()
		if err := c.apiServer.Stop(); err != nil {
			return fmt.Errorf("stopping kube-apiserver: %w", err)
		}
	} else {
		var err error
		if pid, argv, err = findAPIServer(c.env.ControlPlane.GetAPIServer().CertDir); err != nil {
			return err
		}
		// envtest started it and reaps it; we only signal it.
		if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
			return fmt.Errorf("stopping kube-apiserver (pid %d): %w", pid, err)
		}
		// kube-apiserver drains for a while after SIGTERM; like the kubelet
		// after a pod's grace period, kill it if it takes too long.
		if err := WaitFor(ctx, apiServerGracePeriod, func() (bool, error) { return !running(pid), nil }); err != nil {
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && running(pid) {
				return fmt.Errorf("killing kube-apiserver (pid %d): %w", pid, err)
			}
			if err := WaitFor(ctx, processStopTimeout, func() (bool, error) { return !running(pid), nil }); err != nil {
				return fmt.Errorf("waiting for kube-apiserver (pid %d) to exit: %w", pid, err)
			}
		}
	}

	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(downtime):
	}

	p, err := StartProcess("kube-apiserver", filepath.Join(c.Dir, "kube-apiserver-restarted.log"), argv[0], argv[1:]...)
	if err != nil {
		return err
	}
	c.apiServer, c.apiServerArgv = p, argv
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return fmt.Errorf("creating a client: %w", err)
	}
	err = WaitFor(ctx, startTimeout, func() (bool, error) {
		if exited, err := p.Exited(); exited {
			return false, err
		}
		body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		return err == nil && string(body) == "ok", nil
	})
	if err != nil {
		return fmt.Errorf("waiting for the restarted kube-apiserver to be ready: %w\nlast lines of %s:\n%s", err, p.LogPath, p.LogTail(30))
	}
	return nil
}

// findAPIServer finds the kube-apiserver that envtest started with certDir,
// and returns its pid and command line.
func findAPIServer(certDir string) (int, []string, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, nil, fmt.Errorf("finding kube-apiserver: %w", err)
	}
	want := []byte("--cert-dir=" + certDir)
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(raw) == 0 {
			continue
		}
		argv := bytes.Split(bytes.TrimRight(raw, "\x00"), []byte{0})
		if filepath.Base(string(argv[0])) != "kube-apiserver" {
			continue
		}
		for _, a := range argv[1:] {
			if bytes.Equal(a, want) {
				out := make([]string, len(argv))
				for i, b := range argv {
					out[i] = string(b)
				}
				return pid, out, nil
			}
		}
	}
	return 0, nil, fmt.Errorf("finding kube-apiserver: no process runs with --cert-dir=%s", certDir)
}

// running says whether pid is a live process (not gone, not a zombie).
func running(pid int) bool {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses: "pid (comm) S ...".
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z'
	}
	return true
}
