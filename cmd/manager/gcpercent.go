package main

import (
	"errors"
	"fmt"
	"runtime/debug"
)

// defaultGCPercent is the manager's GOGC unless told otherwise. Most of
// the manager's heap is its informer cache, which lives as long as the
// manager; with Go's default of 100 the heap grows to twice that before a
// collection, so that the manager's memory is mostly garbage waiting for
// it. At 25 the heap grows by a quarter of what is live: on a cluster of
// 10,000 Pods the peak resident memory falls from about 220 to about 140
// MiB, for more collections while the informers fill (docs/performance.md).
// Prometheus lowers its default (to 75) for the same reason.
const defaultGCPercent = 25

// errGCPercent is setGCPercent's error for a percentage below 1: at 0 the
// collector would run all the time (GOGC=off, in the environment, turns it
// off).
var errGCPercent = errors.New("--gc-percent must be at least 1")

// setGCPercent sets the garbage collector's target percentage (GOGC) to
// percent, unless GOGC is set in the environment, which wins as it does
// for every Go program. It returns the percentage in force.
func setGCPercent(percent int, getenv func(string) string) (int, error) {
	if percent < 1 {
		return 0, fmt.Errorf("%w, not %d", errGCPercent, percent)
	}
	if getenv("GOGC") != "" {
		old := debug.SetGCPercent(100) // read the value in force without a function for it
		debug.SetGCPercent(old)
		return old, nil
	}
	debug.SetGCPercent(percent)
	return percent, nil
}
