package controllers

import (
	"context"
	"crypto/sha256"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
)

// The filter's caches: a decision is reused only for the same review (the
// user's extra included), within its time; methods other than GET and HEAD
// are refused before anything is asked. The API server's answers are
// stand-ins here; TestMetricsAuthFilter asks a real one.
func TestMetricsAuthCaches(t *testing.T) {
	now := time.Unix(0, 0)
	reviews := 0
	a := &metricsAuth{
		authenticate: func(_ context.Context, token string) (*authenticationv1.TokenReviewStatus, error) {
			// Two credentials of one user, told apart only by an extra.
			user := authenticationv1.UserInfo{Username: "alice", Groups: []string{"team"},
				Extra: map[string]authenticationv1.ExtraValue{"scope": {token}}}
			return &authenticationv1.TokenReviewStatus{Authenticated: token != "bad", User: user}, nil
		},
		authorize: func(_ context.Context, sar *authorizationv1.SubjectAccessReview) (*authorizationv1.SubjectAccessReviewStatus, error) {
			reviews++
			return &authorizationv1.SubjectAccessReviewStatus{Allowed: strings.Join(sar.Spec.Extra["scope"], "") == "full"}, nil
		},
		now:     func() time.Time { return now },
		users:   map[[sha256.Size]byte]userEntry{},
		permits: map[[sha256.Size]byte]permitEntry{},
	}
	h, err := a.filter(logr.Discard(), http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	if err != nil {
		t.Fatal(err)
	}
	status := func(method, token string) int {
		req := httptest.NewRequest(method, "/metrics", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	steps := []struct {
		what           string
		method, token  string
		want, wantRevs int
	}{
		{"the full credential", http.MethodGet, "full", http.StatusOK, 1},
		{"the full credential again: cached", http.MethodGet, "full", http.StatusOK, 1},
		{"a scoped credential of the same user: its own review", http.MethodGet, "scoped", http.StatusForbidden, 2},
		{"HEAD is a read too", http.MethodHead, "full", http.StatusOK, 3},
		{"POST is refused before any review", http.MethodPost, "full", http.StatusMethodNotAllowed, 3},
		{"a made-up method too", "X-" + strings.Repeat("A", 1000), "full", http.StatusMethodNotAllowed, 3},
		{"a token the API server rejects", http.MethodGet, "bad", http.StatusUnauthorized, 3},
	}
	for _, s := range steps {
		if got := status(s.method, s.token); got != s.want || reviews != s.wantRevs {
			t.Errorf("%s: status %d after %d reviews, want %d after %d", s.what, got, reviews, s.want, s.wantRevs)
		}
	}
	now = now.Add(allowCacheTTL)
	if got := status(http.MethodGet, "full"); got != http.StatusOK || reviews != 4 {
		t.Errorf("after the allow TTL: status %d after %d reviews, want 200 after 4", got, reviews)
	}
}
