package engine_test

import (
	"flag"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubeposture/kubeposture/internal/engine"
	"github.com/kubeposture/kubeposture/internal/inventory"
	"github.com/kubeposture/kubeposture/test/bench/synth"
)

// The engine benchmarks judge synthetic clusters (test/bench/synth) with
// the full catalogue. make bench runs them with -cpu 1: templates/s is then
// per core. -engine.pods sets the cluster sizes.
var benchPods = flag.String("engine.pods", "1000,10000", "Comma-separated cluster sizes, in Pods, of the engine benchmarks.")

func benchSizes(b *testing.B) []int {
	var out []int
	for _, f := range strings.Split(*benchPods, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			b.Fatalf("-engine.pods: %q is not a positive number of Pods", f)
		}
		out = append(out, n)
	}
	return out
}

// BenchmarkRun is one full scan of a whole cluster (every check, every
// framework): the cost per Snapshot, and per pod template and per object.
// Each iteration judges a fresh Snapshot, so that attributing Pods to their
// workloads is measured too; building it (and collecting the previous
// iteration's garbage) is not.
func BenchmarkRun(b *testing.B) {
	plan, err := engine.NewPlan(engine.Options{})
	if err != nil {
		b.Fatal(err)
	}
	for _, pods := range benchSizes(b) {
		objs := synth.Generate(synth.Options{Pods: pods}).Materialize()
		b.Run(fmt.Sprintf("pods=%d", pods), func(b *testing.B) { runBench(b, plan, objs) })
	}
	// One Deployment: the cost of a scan with (almost) nothing to judge.
	var one []client.Object
	for _, o := range synth.Generate(synth.Options{Pods: 1}).Materialize() {
		if k := o.GetObjectKind().GroupVersionKind().Kind; k == "Deployment" || k == "Namespace" {
			one = append(one, o)
		}
	}
	b.Run("one-template", func(b *testing.B) { runBench(b, plan, one) })
}

func runBench(b *testing.B, plan *engine.Plan, objs []client.Object) {
	templates := synth.Templates(objs)
	b.ReportAllocs()
	var s *inventory.Snapshot
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s = synth.Snapshot(objs)
		runtime.GC() // collect the last iteration's garbage, not this one's, on the clock
		b.StartTimer()
		if r := plan.Run(s); len(r.Outcomes) == 0 {
			b.Fatal("no outcomes")
		}
	}
	_, total := s.Count()
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(templates*b.N)/sec, "templates/s")
	b.ReportMetric(float64(total*b.N)/sec, "objects/s")
	b.ReportMetric(float64(templates), "templates")
	b.ReportMetric(float64(total), "objects")
}
