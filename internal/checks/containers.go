package checks

import (
	"iter"
	"strconv"

	corev1 "k8s.io/api/core/v1"
)

// containerKind says which list of a pod spec a container is in.
type containerKind uint8

// The container lists of a pod spec.
const (
	regularContainer containerKind = 1 << iota
	initContainer
	ephemeralContainer

	// allContainers are every list; ephemeral containers may set neither
	// resources, ports, probes nor lifecycle hooks (EphemeralContainerCommon).
	allContainers = regularContainer | initContainer | ephemeralContainer
)

// field is the name of the pod spec field holding containers of this kind.
func (k containerKind) field() string {
	switch k {
	case initContainer:
		return "initContainers"
	case ephemeralContainer:
		return "ephemeralContainers"
	}
	return "containers"
}

// podContainer is one container of a pod spec and where it is.
type podContainer struct {
	// Container points into the pod spec; for an ephemeral container it is
	// its EphemeralContainerCommon, which has the same fields. Never mutate it.
	*corev1.Container
	Kind  containerKind
	Index int
}

// Path is the container's field path relative to the pod spec, such as
// "initContainers[1]". It is built only for messages.
func (c podContainer) Path() string {
	return c.Kind.field() + "[" + strconv.Itoa(c.Index) + "]"
}

// String names the container and its path, for messages:
// `container "app" (containers[0])`.
func (c podContainer) String() string {
	return string(c.appendTo(make([]byte, 0, 32+len(c.Name))))
}

// appendTo appends String() to b.
func (c podContainer) appendTo(b []byte) []byte {
	b = append(b, "container "...)
	b = appendQuoted(b, c.Name)
	b = append(b, " ("...)
	b = append(b, c.Kind.field()...)
	b = append(b, '[')
	b = strconv.AppendInt(b, int64(c.Index), 10)
	return append(b, "])"...)
}

// appendQuoted appends s quoted as strconv.AppendQuote quotes it; the
// names and references messages quote are nearly always printable ASCII,
// which needs no escaping, so that case is copied as it is.
func appendQuoted(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c > '~' || c == '"' || c == '\\' {
			return strconv.AppendQuote(b, s)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// containersOf yields the containers of spec whose kind is in kinds:
// containers, then init containers, then ephemeral containers, each in spec
// order, so that messages list them deterministically.
// It is small enough to inline, so that the iterator does not escape to
// the heap on every template.
func containersOf(spec *corev1.PodSpec, kinds containerKind) iter.Seq[podContainer] {
	return func(yield func(podContainer) bool) { yieldContainers(spec, kinds, yield) }
}

func yieldContainers(spec *corev1.PodSpec, kinds containerKind, yield func(podContainer) bool) {
	if kinds&regularContainer != 0 {
		for i := range spec.Containers {
			if !yield(podContainer{Container: &spec.Containers[i], Kind: regularContainer, Index: i}) {
				return
			}
		}
	}
	if kinds&initContainer != 0 {
		for i := range spec.InitContainers {
			if !yield(podContainer{Container: &spec.InitContainers[i], Kind: initContainer, Index: i}) {
				return
			}
		}
	}
	if kinds&ephemeralContainer != 0 {
		for i := range spec.EphemeralContainers {
			c := (*corev1.Container)(&spec.EphemeralContainers[i].EphemeralContainerCommon)
			if !yield(podContainer{Container: c, Kind: ephemeralContainer, Index: i}) {
				return
			}
		}
	}
}

// isWindowsPod reports whether the pod runs on Windows nodes: spec.os.name
// is windows (the field the API server validates Linux-only fields
// against), or the pod is pinned to Windows nodes by the well-known
// kubernetes.io/os node label, or it is a HostProcess pod. Linux-only
// settings (capabilities, readOnlyRootFilesystem) are not judged there:
// the API forbids them when spec.os.name is windows and Windows ignores them.
func isWindowsPod(spec *corev1.PodSpec) bool {
	if spec.OS != nil {
		return spec.OS.Name == corev1.Windows
	}
	if spec.NodeSelector[corev1.LabelOSStable] == string(corev1.Windows) {
		return true
	}
	sc := spec.SecurityContext
	return sc != nil && sc.WindowsOptions != nil && sc.WindowsOptions.HostProcess != nil && *sc.WindowsOptions.HostProcess
}

// podServiceAccount returns the service account a pod runs as, and the field
// that says so: serviceAccountName wins over the deprecated serviceAccount (as
// the API converts it), and the ServiceAccount admission plugin sets "default"
// when neither is set.
func podServiceAccount(spec *corev1.PodSpec) (name, field string) {
	switch {
	case spec.ServiceAccountName != "":
		return spec.ServiceAccountName, "serviceAccountName"
	case spec.DeprecatedServiceAccount != "":
		return spec.DeprecatedServiceAccount, "serviceAccount"
	}
	return "default", "serviceAccountName unset, so default"
}

// serviceAccountName is podServiceAccount's name alone.
func serviceAccountName(spec *corev1.PodSpec) string {
	name, _ := podServiceAccount(spec)
	return name
}
