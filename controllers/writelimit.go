package controllers

import (
	"context"

	"k8s.io/client-go/util/flowcontrol"
)

// WriteLimiter paces report writes with a token bucket shared by every scan
// of a manager, so that a scan of thousands of namespaces writes its reports
// at a bounded rate and leaves the client's QPS to reads and status updates.
// Writes of unchanged reports are skipped before they reach it (by content
// hash), so that it paces only real changes.
type WriteLimiter struct {
	limiter flowcontrol.RateLimiter
}

// NewWriteLimiter allows perSecond writes a second on average, and burst at once.
func NewWriteLimiter(perSecond float32, burst int) *WriteLimiter {
	return &WriteLimiter{limiter: flowcontrol.NewTokenBucketRateLimiter(perSecond, max(1, burst))}
}

// Wait blocks until a write may go, and fails when ctx is done first (or
// would be by then). A nil WriteLimiter never waits.
func (l *WriteLimiter) Wait(ctx context.Context) error {
	if l == nil {
		return ctx.Err()
	}
	return l.limiter.Wait(ctx)
}
