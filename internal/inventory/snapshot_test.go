package inventory

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestSnapshotKinds(t *testing.T) {
	testCases := map[string]struct {
		mark        func(s *Snapshot)
		wantRead    []Kind
		wantMissing map[Kind]Missing
	}{
		"nothing marked": {
			mark:     func(*Snapshot) {},
			wantRead: []Kind{},
		},
		"read kinds are sorted": {
			mark: func(s *Snapshot) {
				s.MarkRead(KindPod)
				s.MarkRead(KindDeployment)
				s.MarkRead(KindNamespace)
			},
			wantRead: []Kind{KindDeployment, KindNamespace, KindPod},
		},
		"missing after read is missing": {
			mark: func(s *Snapshot) {
				s.MarkRead(KindSecret)
				s.MarkMissing(KindSecret, MissingForbidden, `secrets is forbidden: User "system:serviceaccount:kp:kp" cannot list`)
			},
			wantRead: []Kind{},
			wantMissing: map[Kind]Missing{
				KindSecret: {Reason: MissingForbidden, Message: `secrets is forbidden: User "system:serviceaccount:kp:kp" cannot list`},
			},
		},
		"read after missing is read": {
			mark: func(s *Snapshot) {
				s.MarkMissing(KindNetworkPolicy, MissingNotServed, "the server could not find the requested resource")
				s.MarkRead(KindNetworkPolicy)
			},
			wantRead:    []Kind{KindNetworkPolicy},
			wantMissing: map[Kind]Missing{},
		},
		"read and missing kinds kept apart": {
			mark: func(s *Snapshot) {
				s.MarkRead(KindRole)
				s.MarkMissing(KindIngress, MissingError, "timeout")
				s.MarkMissing(KindCronJob, MissingNotServed, "not served")
			},
			wantRead: []Kind{KindRole},
			wantMissing: map[Kind]Missing{
				KindIngress: {Reason: MissingError, Message: "timeout"},
				KindCronJob: {Reason: MissingNotServed, Message: "not served"},
			},
		},
	}
	for name, tc := range testCases {
		t.Run(name, func(t *testing.T) {
			var s Snapshot
			tc.mark(&s)

			if diff := cmp.Diff(tc.wantRead, s.ReadKinds()); diff != "" {
				t.Errorf("ReadKinds() mismatch (-want +got):\n%s", diff)
			}
			wantMissingKinds := []Kind{}
			for k := range tc.wantMissing {
				wantMissingKinds = append(wantMissingKinds, k)
			}
			slices.Sort(wantMissingKinds)
			if diff := cmp.Diff(wantMissingKinds, s.MissingKinds()); diff != "" {
				t.Errorf("MissingKinds() mismatch (-want +got):\n%s", diff)
			}
			for k, want := range tc.wantMissing {
				if diff := cmp.Diff(want, s.Missing[k]); diff != "" {
					t.Errorf("Missing[%s] mismatch (-want +got):\n%s", k, diff)
				}
			}
			// Has is true exactly for the kinds read: an unmarked kind is not read.
			for _, k := range AllKinds {
				wantHas := slices.Contains(tc.wantRead, k)
				if got := s.Has(k); got != wantHas {
					t.Errorf("Has(%s) = %t, want %t", k, got, wantHas)
				}
			}
		})
	}
}

type nsName struct{ Namespace, Name string }

func namesOf[T any](items []T, m func(*T) *metav1.ObjectMeta) []nsName {
	out := make([]nsName, 0, len(items))
	for i := range items {
		mm := m(&items[i])
		out = append(out, nsName{mm.Namespace, mm.Name})
	}
	return out
}

func TestSnapshotSort(t *testing.T) {
	s := Snapshot{
		Namespaces: []corev1.Namespace{namespace("zeta"), namespace("alpha"), namespace("mid")},
		Pods: []corev1.Pod{
			pod("shop", "b"), pod("billing", "z"), pod("shop", "a"), pod("billing", "a"),
		},
		Deployments: []appsv1.Deployment{deployment("shop", "web"), deployment("billing", "web"), deployment("billing", "api")},
		ClusterRoleBindings: []rbacv1.ClusterRoleBinding{
			{ObjectMeta: metav1.ObjectMeta{Name: "system:node"}},
			{ObjectMeta: metav1.ObjectMeta{Name: "cluster-admin"}},
			{ObjectMeta: metav1.ObjectMeta{Name: "ops"}},
		},
	}
	s.Sort()

	if diff := cmp.Diff([]nsName{{"", "alpha"}, {"", "mid"}, {"", "zeta"}},
		namesOf(s.Namespaces, func(o *corev1.Namespace) *metav1.ObjectMeta { return &o.ObjectMeta })); diff != "" {
		t.Errorf("Namespaces order mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]nsName{{"billing", "a"}, {"billing", "z"}, {"shop", "a"}, {"shop", "b"}},
		namesOf(s.Pods, func(o *corev1.Pod) *metav1.ObjectMeta { return &o.ObjectMeta })); diff != "" {
		t.Errorf("Pods order mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]nsName{{"billing", "api"}, {"billing", "web"}, {"shop", "web"}},
		namesOf(s.Deployments, func(o *appsv1.Deployment) *metav1.ObjectMeta { return &o.ObjectMeta })); diff != "" {
		t.Errorf("Deployments order mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]nsName{{"", "cluster-admin"}, {"", "ops"}, {"", "system:node"}},
		namesOf(s.ClusterRoleBindings, func(o *rbacv1.ClusterRoleBinding) *metav1.ObjectMeta { return &o.ObjectMeta })); diff != "" {
		t.Errorf("ClusterRoleBindings order mismatch (-want +got):\n%s", diff)
	}
}

// TestSortMakesWorkloadsDeterministic builds the same objects in two read
// orders: after Sort, Workloads must agree.
func TestSortMakesWorkloadsDeterministic(t *testing.T) {
	build := func(reverse bool) *Snapshot {
		pods := []corev1.Pod{pod("b", "p2"), pod("a", "p1"), pod("b", "p1"), pod("a", "p3")}
		deps := []appsv1.Deployment{deployment("b", "web"), deployment("a", "web"), deployment("a", "api")}
		if reverse {
			for i, j := 0, len(pods)-1; i < j; i, j = i+1, j-1 {
				pods[i], pods[j] = pods[j], pods[i]
			}
			for i, j := 0, len(deps)-1; i < j; i, j = i+1, j-1 {
				deps[i], deps[j] = deps[j], deps[i]
			}
		}
		s := &Snapshot{Pods: pods, Deployments: deps}
		s.Sort()
		return s
	}
	want := []ObjectRef{
		wantRef("apps/v1", "Deployment", "a", "api"),
		wantRef("apps/v1", "Deployment", "a", "web"),
		wantRef("apps/v1", "Deployment", "b", "web"),
		wantRef("v1", "Pod", "a", "p1"),
		wantRef("v1", "Pod", "a", "p3"),
		wantRef("v1", "Pod", "b", "p1"),
		wantRef("v1", "Pod", "b", "p2"),
	}
	for name, reverse := range map[string]bool{"forward": false, "reversed": true} {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(want, refs(build(reverse).Workloads())); diff != "" {
				t.Errorf("Workloads() after Sort mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
