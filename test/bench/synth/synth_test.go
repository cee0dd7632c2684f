package synth

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/kubeposture/kubeposture/internal/engine"
)

func TestGenerateIsDeterministic(t *testing.T) {
	render := func() []byte {
		var buf bytes.Buffer
		for _, o := range Generate(Options{Pods: 450}).Materialize() {
			data, err := yaml.Marshal(o)
			if err != nil {
				t.Fatal(err)
			}
			buf.Write(data)
		}
		return buf.Bytes()
	}
	if a, b := render(), render(); !bytes.Equal(a, b) {
		t.Error("two generations with the same options differ")
	}
	other := Generate(Options{Pods: 450, Seed: 2}).Materialize()
	if fmt.Sprint(other) == fmt.Sprint(Generate(Options{Pods: 450}).Materialize()) {
		t.Error("another seed gives the same objects")
	}
}

func TestGenerateSizes(t *testing.T) {
	for _, pods := range []int{1, 7, 99, 100, 101, 250, 1000, 2345} {
		t.Run(fmt.Sprint(pods), func(t *testing.T) {
			c := Generate(Options{Pods: pods})
			if c.Pods != pods {
				t.Errorf("Cluster.Pods = %d, want %d", c.Pods, pods)
			}
			objs := c.Materialize()
			count := map[string]int{}
			seen := map[string]bool{}
			uids := map[types.UID]bool{}
			for _, o := range objs {
				kind := o.GetObjectKind().GroupVersionKind().Kind
				if kind == "" {
					t.Fatalf("%T %s has no kind", o, o.GetName())
				}
				key := kind + "/" + o.GetNamespace() + "/" + o.GetName()
				if seen[key] {
					t.Errorf("two objects are %s", key)
				}
				seen[key] = true
				uids[o.GetUID()] = true
				count[kind]++
			}
			if count["Pod"] != pods {
				t.Errorf("Materialize made %d Pods, want %d", count["Pod"], pods)
			}
			if count["ReplicaSet"] != c.ReplicaSets {
				t.Errorf("Materialize made %d ReplicaSets, want %d", count["ReplicaSet"], c.ReplicaSets)
			}
			for _, o := range objs {
				for _, ref := range o.GetOwnerReferences() {
					if !uids[ref.UID] || !seen[ref.Kind+"/"+o.GetNamespace()+"/"+ref.Name] {
						t.Errorf("%s %s/%s: owner %s %s is not generated", o.GetObjectKind().GroupVersionKind().Kind, o.GetNamespace(), o.GetName(), ref.Kind, ref.Name)
					}
				}
			}
			// Every Pod is judged through the template its user wrote, once.
			s := Snapshot(objs)
			for _, w := range s.Workloads() {
				if w.Ref.Kind == "Pod" && len(s.Pods) > 0 {
					if p := findPod(s.Pods, w.Ref.Namespace, w.Ref.Name); p != nil && len(p.OwnerReferences) > 0 {
						t.Errorf("pod %s/%s has an owner and is judged as a pod", p.Namespace, p.Name)
					}
				}
			}
		})
	}
}

func findPod(pods []corev1.Pod, ns, name string) *corev1.Pod {
	for i := range pods {
		if pods[i].Namespace == ns && pods[i].Name == name {
			return &pods[i]
		}
	}
	return nil
}

func TestTemplateMix(t *testing.T) {
	s := Snapshot(Generate(Options{Pods: 2000}).Materialize())
	var privileged, hostPath, total int
	for _, w := range s.Workloads() {
		total++
		for _, c := range w.Spec.Containers {
			if c.SecurityContext != nil && c.SecurityContext.Privileged != nil && *c.SecurityContext.Privileged {
				privileged++
			}
		}
		for _, v := range w.Spec.Volumes {
			if v.HostPath != nil {
				hostPath++
			}
		}
	}
	got := map[string]bool{"some privileged": privileged > 0, "some hostPath": hostPath > 0, "mostly not privileged": privileged < total/5}
	want := map[string]bool{"some privileged": true, "some hostPath": true, "mostly not privileged": true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("template mix over %d templates (-want +got):\n%s", total, diff)
	}
}

// The Pods and ReplicaSets that Materialize adds are judged on their
// controllers: the findings are those of the objects a user wrote.
func TestMaterializeChangesNoFinding(t *testing.T) {
	c := Generate(Options{Pods: 300})
	plan, err := engine.NewPlan(engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	findings := func(objs []client.Object) []string {
		var out []string
		for _, o := range plan.Run(Snapshot(objs)).Outcomes {
			for _, f := range o.Findings {
				out = append(out, f.Check.ID+" "+f.Object.Kind+" "+f.Object.Namespace+"/"+f.Object.Name+": "+f.Message)
			}
		}
		slices.Sort(out)
		return out
	}
	written := findings(c.Objects)
	if len(written) < 100 {
		t.Fatalf("only %d findings: the generated cluster should exercise the catalogue", len(written))
	}
	if diff := cmp.Diff(written, findings(c.Materialize())); diff != "" {
		t.Errorf("findings differ (-as written +materialized):\n%s", diff)
	}
}
