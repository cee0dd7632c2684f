package main

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/KimMachineGun/automemlimit/memlimit"
	"github.com/go-logr/logr"
)

// errMemoryLimitRatio is setMemoryLimit's error for a ratio outside [0, 1].
var errMemoryLimitRatio = errors.New("--memory-limit-ratio must be between 0 and 1")

// setMemoryLimit sets the Go runtime's soft memory limit (GOMEMLIMIT) to
// ratio of the container's memory limit, which provider reads from the
// cgroup, so that the garbage collector works harder as the manager nears
// its limit instead of the kernel killing it. GOMEMLIMIT (or AUTOMEMLIMIT)
// in the environment wins; a ratio of 0, or a container without a memory
// limit, leaves the runtime without one. It returns the limit in force, in
// bytes (math.MaxInt64 for none). A ratio outside [0, 1] is
// errMemoryLimitRatio; any other error is the cgroup's, and leaves the
// limit as it was.
func setMemoryLimit(ratio float64, provider memlimit.Provider, log logr.Logger) (int64, error) {
	if ratio < 0 || ratio > 1 {
		return 0, fmt.Errorf("%w, not %v", errMemoryLimitRatio, ratio)
	}
	if ratio == 0 {
		return debug.SetMemoryLimit(-1), nil // -1 reads the limit without changing it
	}
	return memlimit.Set(memlimit.WithRatio(ratio), memlimit.WithProvider(provider),
		memlimit.WithLogger(slog.New(logr.ToSlogHandler(log))))
}
