package controllers_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/yaml"

	"github.com/kubeposture/kubeposture/controllers"
)

// The metrics endpoint's filter asks the API server who a bearer token
// belongs to (TokenReview) and whether that user may get the path
// (SubjectAccessReview), as the manager's ServiceAccount bound to
// config/rbac/metrics_auth_role.yaml: 401 without a token or with one the
// API server rejects, 403 without the permission, the metrics with it.
func TestMetricsAuthFilter(t *testing.T) {
	const ns = "metrics-auth"
	ensureNamespace(t, ns, nil)

	// The filter's own identity: only the metrics auth role.
	data, err := os.ReadFile(filepath.Join("..", "config", "rbac", "metrics_auth_role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	authRole := &rbacv1.ClusterRole{}
	if err := yaml.Unmarshal(data, authRole); err != nil {
		t.Fatal(err)
	}
	authRole.Name = "test-" + authRole.Name
	reader := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "test-metrics-reader"},
		Rules:      []rbacv1.PolicyRule{{NonResourceURLs: []string{"/metrics"}, Verbs: []string{"get"}}},
	}
	for _, sa := range []string{"filter", "scraper", "stranger"} {
		create(t, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: sa}})
	}
	bind := func(role, sa string) *rbacv1.ClusterRoleBinding {
		return &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: role + "-" + sa},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: sa}},
		}
	}
	create(t, authRole, reader, bind(authRole.Name, "filter"), bind(reader.Name, "scraper"))

	cs := kubernetes.NewForConfigOrDie(testRESTConfig)
	token := func(sa string) string {
		t.Helper()
		tr, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(testCtx, sa, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("a token for %s: %v", sa, err)
		}
		return tr.Status.Token
	}
	filterCfg := rest.AnonymousClientConfig(testRESTConfig)
	filterCfg.BearerToken = token("filter")
	httpClient, err := rest.HTTPClientFor(filterCfg)
	if err != nil {
		t.Fatal(err)
	}
	filter, err := controllers.MetricsAuthFilter(filterCfg, httpClient)
	if err != nil {
		t.Fatal(err)
	}
	handler, err := filter(ctrl.Log, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("kubeposture_up 1\n"))
	}))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(handler)
	defer srv.Close()

	scraper, stranger := token("scraper"), token("stranger")
	testCases := map[string]struct {
		path, auth string
		want       int
	}{
		"no token":                         {path: "/metrics", want: http.StatusUnauthorized},
		"not a bearer token":               {path: "/metrics", auth: "Basic c2NyYXBlcjpwYXNz", want: http.StatusUnauthorized},
		"a token the API server rejects":   {path: "/metrics", auth: "Bearer not-a-token", want: http.StatusUnauthorized},
		"a token without the reader role":  {path: "/metrics", auth: "Bearer " + stranger, want: http.StatusForbidden},
		"the reader role":                  {path: "/metrics", auth: "Bearer " + scraper, want: http.StatusOK},
		"the reader role, asked again":     {path: "/metrics", auth: "Bearer " + scraper, want: http.StatusOK},
		"the reader role, another path":    {path: "/debug/pprof/", auth: "Bearer " + scraper, want: http.StatusForbidden},
		"the reader role, scheme in lower": {path: "/metrics", auth: "bearer " + scraper, want: http.StatusOK},
	}
	for name, tc := range testCases {
		t.Run(name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(testCtx, http.MethodGet, srv.URL+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
}
