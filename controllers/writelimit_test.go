package controllers_test

import (
	"context"
	"testing"
	"time"

	"github.com/kubeposture/kubeposture/controllers"
)

func TestWriteLimiterPacesWrites(t *testing.T) {
	const perSecond, burst, writes = 50, 2, 7
	l := controllers.NewWriteLimiter(perSecond, burst)
	began := time.Now()
	for i := range writes {
		if err := l.Wait(t.Context()); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	// The burst goes at once; every write after it waits for a token.
	if got, least := time.Since(began), time.Duration(writes-burst)*time.Second/perSecond; got < least-5*time.Millisecond {
		t.Errorf("%d writes took %s, want at least %s at %d/s with a burst of %d", writes, got, least, perSecond, burst)
	}
}

func TestWriteLimiterStopsWithContext(t *testing.T) {
	l := controllers.NewWriteLimiter(0.001, 1)
	if err := l.Wait(t.Context()); err != nil {
		t.Fatalf("the first write (the burst): %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	began := time.Now()
	if err := l.Wait(ctx); err == nil {
		t.Error("a write that would wait past the context's deadline did not fail")
	}
	if d := time.Since(began); d > 500*time.Millisecond {
		t.Errorf("the failing wait took %s: it should fail at once", d)
	}
	cancelled, cancelNow := context.WithCancel(t.Context())
	cancelNow()
	var none *controllers.WriteLimiter
	if err := none.Wait(cancelled); err == nil {
		t.Error("a nil limiter with a cancelled context did not fail")
	}
	if err := none.Wait(t.Context()); err != nil {
		t.Errorf("a nil limiter waited or failed: %v", err)
	}
}
