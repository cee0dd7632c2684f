package checks

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/kubeposture/kubeposture/internal/inventory"
)

// readAhead reads, of a pod template, what the checks that judge it read,
// so that it is in the CPU cache by the time they do. Run calls it on the
// next template before judging one.
//
// A template is a tree of small objects (containers, their security
// contexts, env vars and their strings, probes, volumes), scattered over a
// heap much larger than the cache on a cluster of thousands of Pods. The
// checks walk it one pointer at a time, and most of their time is spent
// waiting for memory, each check for its own reads. The reads here depend
// on the template alone, so the CPU has many in flight at once and the
// waits overlap. What it reads changes no result, only how long the checks
// wait; the sum it returns means nothing, and is kept only so that the
// reads are not optimised away.
func readAhead(w *inventory.Workload) uintptr {
	spec := w.Spec
	n := uintptr(len(w.Meta.Labels)) + uintptr(len(spec.NodeSelector))
	for k, v := range w.Meta.Annotations { // the AppArmor check reads every annotation
		n += firstByte(k) + firstByte(v)
	}
	if sc := spec.SecurityContext; sc != nil {
		n += uintptr(len(sc.Sysctls))
		if sc.SeccompProfile != nil {
			n += firstByte(string(sc.SeccompProfile.Type))
		}
		n += flag(sc.RunAsNonRoot)
	}
	for i := range spec.Volumes {
		v := &spec.Volumes[i]
		n += firstByte(v.Name)
		if v.HostPath != nil {
			n += firstByte(v.HostPath.Path)
		}
	}
	for i := range spec.Containers {
		n += readContainerAhead(&spec.Containers[i])
	}
	for i := range spec.InitContainers {
		n += readContainerAhead(&spec.InitContainers[i])
	}
	for i := range spec.EphemeralContainers {
		n += readContainerAhead((*corev1.Container)(&spec.EphemeralContainers[i].EphemeralContainerCommon))
	}
	return n
}

// readContainerAhead is readAhead for one container.
func readContainerAhead(c *corev1.Container) uintptr {
	n := firstByte(c.Name) + firstByte(c.Image) + uintptr(len(c.Resources.Limits)) + uintptr(len(c.Resources.Requests))
	if sc := c.SecurityContext; sc != nil {
		if caps := sc.Capabilities; caps != nil {
			for _, cp := range caps.Add {
				n += firstByte(string(cp))
			}
			for _, cp := range caps.Drop {
				n += firstByte(string(cp))
			}
		}
		n += flag(sc.Privileged) + flag(sc.AllowPrivilegeEscalation) + flag(sc.RunAsNonRoot) + flag(sc.ReadOnlyRootFilesystem)
		if sc.RunAsUser != nil {
			n += uintptr(*sc.RunAsUser)
		}
	}
	for i := range c.Env {
		env := &c.Env[i]
		n += firstByte(env.Name)
		if env.ValueFrom != nil && env.ValueFrom.SecretKeyRef != nil {
			n += firstByte(env.ValueFrom.SecretKeyRef.Key)
		}
	}
	for i := range c.Ports {
		n += uintptr(c.Ports[i].HostPort)
	}
	for _, p := range [...]*corev1.Probe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
		if p != nil && p.HTTPGet != nil {
			n += firstByte(p.HTTPGet.Host)
		}
	}
	return n
}

// firstByte reads the first byte of s, if any.
func firstByte(s string) uintptr {
	if s == "" {
		return 0
	}
	return uintptr(s[0])
}

// flag reads a *bool.
func flag(b *bool) uintptr {
	if b != nil && *b {
		return 1
	}
	return 0
}
