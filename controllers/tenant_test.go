package controllers_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	posturev1alpha1 "github.com/kubeposture/kubeposture/api/v1alpha1"
	"github.com/kubeposture/kubeposture/test/cluster"
)

// Tenant visibility of the results, decided by the viewer roles config/rbac
// ships, with the real RBAC authorizer of a kube-apiserver and users
// authenticated by client certificates (envtest's AddUser).
//
//   - kubeposture-scanreport-viewer, bound in a namespace with a RoleBinding:
//     that namespace's ScanReports, read-only, and nothing else: no other
//     namespace's reports, no ClusterScanReport or ClusterScan (they hold
//     cluster-wide summaries and findings about cluster-scoped objects).
//   - kubeposture-clusterscan-viewer, bound with a ClusterRoleBinding: every
//     report and ClusterScan, read-only. Bound by mistake with a RoleBinding,
//     it grants no more than the namespace viewer: a RoleBinding cannot grant
//     cluster-scoped resources.
//
// The test needs users of its own, so it starts its own control plane (the
// suite's keeps its admin config to itself); no manager is needed: reports
// are created by the admin.
func TestTenantVisibility(t *testing.T) {
	assets, err := cluster.AssetsDir(testCtx)
	if err != nil {
		t.Fatal(err)
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     []string{filepath.Join("..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := env.Start()
	if err != nil {
		t.Fatalf("starting the tenant test's control plane: %v", err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(posturev1alpha1.AddToScheme(scheme))
	admin, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx
	mustCreate := func(objs ...client.Object) {
		t.Helper()
		for _, o := range objs {
			if err := admin.Create(ctx, o); err != nil {
				t.Fatalf("creating %T %s: %v", o, o.GetName(), err)
			}
		}
	}

	for _, file := range []string{"scanreport_viewer_role.yaml", "clusterscan_viewer_role.yaml"} {
		data, err := os.ReadFile(filepath.Join("..", "config", "rbac", file))
		if err != nil {
			t.Fatal(err)
		}
		role := &rbacv1.ClusterRole{}
		if err := yaml.UnmarshalStrict(data, role); err != nil {
			t.Fatalf("config/rbac/%s: %v", file, err)
		}
		mustCreate(role)
	}
	summary := posturev1alpha1.ReportSummary{ScanSummary: posturev1alpha1.ScanSummary{Score: 50, Grade: "D", Critical: 1}, Findings: 1}
	for _, ns := range []string{"team-a", "team-b"} {
		mustCreate(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
			&posturev1alpha1.ScanReport{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "weekly"}, Scan: "weekly", Summary: summary},
			&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "db"}, StringData: map[string]string{"password": "p"}})
	}
	mustCreate(&posturev1alpha1.ClusterScan{ObjectMeta: metav1.ObjectMeta{Name: "weekly"}},
		&posturev1alpha1.ClusterScanReport{ObjectMeta: metav1.ObjectMeta{Name: "weekly"}, Scan: "weekly", Summary: summary},
		&rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "reports"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "kubeposture-scanreport-viewer"},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "team-a"}},
		},
		&rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "security-reports"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "kubeposture-clusterscan-viewer"},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "security"}},
		},
		&rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "misbound"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "kubeposture-clusterscan-viewer"},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "misbound"}},
		})

	clientFor := func(user envtest.User) client.WithWatch {
		t.Helper()
		u, err := env.AddUser(user, nil)
		if err != nil {
			t.Fatal(err)
		}
		c, err := client.NewWithWatch(u.Config(), client.Options{Scheme: scheme})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	users := map[string]client.WithWatch{
		"tenant":   clientFor(envtest.User{Name: "alice", Groups: []string{"team-a"}}),
		"security": clientFor(envtest.User{Name: "security"}),
		"misbound": clientFor(envtest.User{Name: "misbound"}),
		"nobody":   clientFor(envtest.User{Name: "nobody"}),
	}

	type action func(ctx context.Context, c client.WithWatch) error
	getReportIn := func(ns string) action {
		return func(ctx context.Context, c client.WithWatch) error {
			return c.Get(ctx, types.NamespacedName{Namespace: ns, Name: "weekly"}, &posturev1alpha1.ScanReport{})
		}
	}
	listReports := func(opts ...client.ListOption) action {
		return func(ctx context.Context, c client.WithWatch) error {
			return c.List(ctx, &posturev1alpha1.ScanReportList{}, opts...)
		}
	}
	actions := map[string]action{
		"get ScanReport in team-a":   getReportIn("team-a"),
		"list ScanReports in team-a": listReports(client.InNamespace("team-a")),
		"watch ScanReports in team-a": func(ctx context.Context, c client.WithWatch) error {
			w, err := c.Watch(ctx, &posturev1alpha1.ScanReportList{}, client.InNamespace("team-a"))
			if err == nil {
				w.Stop()
			}
			return err
		},
		"get ScanReport in team-b":           getReportIn("team-b"),
		"list ScanReports in team-b":         listReports(client.InNamespace("team-b")),
		"list ScanReports in all namespaces": listReports(),
		"get ClusterScanReport": func(ctx context.Context, c client.WithWatch) error {
			return c.Get(ctx, types.NamespacedName{Name: "weekly"}, &posturev1alpha1.ClusterScanReport{})
		},
		"list ClusterScanReports": func(ctx context.Context, c client.WithWatch) error {
			return c.List(ctx, &posturev1alpha1.ClusterScanReportList{})
		},
		"get ClusterScan": func(ctx context.Context, c client.WithWatch) error {
			return c.Get(ctx, types.NamespacedName{Name: "weekly"}, &posturev1alpha1.ClusterScan{})
		},
		"list ClusterScans": func(ctx context.Context, c client.WithWatch) error {
			return c.List(ctx, &posturev1alpha1.ClusterScanList{})
		},
		"get Secret in team-a": func(ctx context.Context, c client.WithWatch) error {
			return c.Get(ctx, types.NamespacedName{Namespace: "team-a", Name: "db"}, &corev1.Secret{})
		},
		"create ScanReport in team-a": func(ctx context.Context, c client.WithWatch) error {
			return c.Create(ctx, &posturev1alpha1.ScanReport{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "forged"}, Scan: "weekly", Summary: summary}, client.DryRunAll)
		},
		"delete ScanReport in team-a": func(ctx context.Context, c client.WithWatch) error {
			return c.Delete(ctx, &posturev1alpha1.ScanReport{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "weekly"}}, client.DryRunAll)
		},
		"create ClusterScan": func(ctx context.Context, c client.WithWatch) error {
			return c.Create(ctx, &posturev1alpha1.ClusterScan{ObjectMeta: metav1.ObjectMeta{Name: "forged"}}, client.DryRunAll)
		},
		"patch ClusterScan status": func(ctx context.Context, c client.WithWatch) error {
			scan := &posturev1alpha1.ClusterScan{ObjectMeta: metav1.ObjectMeta{Name: "weekly"}}
			return c.Status().Patch(ctx, scan, client.RawPatch(types.MergePatchType, []byte(`{"status":{"lastScanRequest":"forged"}}`)), client.DryRunAll)
		},
	}
	readOwn := []string{"get ScanReport in team-a", "list ScanReports in team-a", "watch ScanReports in team-a"}
	readAll := slices.Concat(readOwn, []string{"get ScanReport in team-b", "list ScanReports in team-b", "list ScanReports in all namespaces",
		"get ClusterScanReport", "list ClusterScanReports", "get ClusterScan", "list ClusterScans"})
	allowed := map[string][]string{
		"tenant":   readOwn,
		"misbound": readOwn,
		"security": readAll,
		"nobody":   nil,
	}
	for user, c := range users {
		for name, act := range actions {
			t.Run(user+"/"+name, func(t *testing.T) {
				want := slices.Contains(allowed[user], name)
				switch err := act(ctx, c); {
				case want && err != nil:
					t.Errorf("want allowed, got %v", err)
				case !want && !apierrors.IsForbidden(err):
					t.Errorf("want Forbidden, got %v", err)
				}
			})
		}
	}
}
