package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseBenchOutput(t *testing.T) {
	out := `goos: linux
pkg: github.com/kubeposture/kubeposture/internal/engine
BenchmarkRun/pods=1000         	      66	  22586912 ns/op	      2470 objects	    109356 objects/s	       282.0 templates	     12485 templates/s	 6640842 B/op	   45655 allocs/op
BenchmarkRun/one-template      	    4803	    270862 ns/op	         2.000 objects	      7384 objects/s	         1.000 templates	      3692 templates/s	  117929 B/op	     620 allocs/op
PASS
`
	want := []EngineResult{
		{Name: "BenchmarkRun/pods=1000", Iterations: 66, NsPerOp: 22586912, Objects: 2470, ObjectsPS: 109356, Templates: 282, TemplatesPS: 12485, BytesPerOp: 6640842, AllocsPerOp: 45655},
		{Name: "BenchmarkRun/one-template", Iterations: 4803, NsPerOp: 270862, Objects: 2, ObjectsPS: 7384, Templates: 1, TemplatesPS: 3692, BytesPerOp: 117929, AllocsPerOp: 620},
	}
	if diff := cmp.Diff(want, parseBenchOutput(out)); diff != "" {
		t.Errorf("parseBenchOutput (-want +got):\n%s", diff)
	}
}

func TestComputeRatios(t *testing.T) {
	size := func(pods int, floor, cold, rss float64) SizeResult {
		return SizeResult{Pods: pods, Objects: 2 * pods, Floor: Floor{Median: floor}, Operator: Operator{ColdSeconds: cold, WarmSeconds: cold / 2, NewSeconds: cold / 3, PeakRSSMiB: rss}}
	}
	r := &Results{Sizes: []SizeResult{size(0, 0, 1, 60), size(1000, 1, 3, 80), size(10000, 8, 21, 260)}}
	r.computeRatios()
	got := map[string]float64{}
	for _, x := range r.Ratios {
		got[x.Name] = x.Value
	}
	want := map[string]float64{
		"operator new scan / floor at 1000 Pods":          1,
		"operator cold start / floor at 1000 Pods":        3,
		"operator warm / floor at 1000 Pods":              1.5,
		"operator new scan / floor at 10000 Pods":         7.0 / 8,
		"operator cold start / floor at 10000 Pods":       21.0 / 8,
		"operator warm / floor at 10000 Pods":             10.5 / 8,
		"operator new scan time, 1000 -> 10000 Pods":      7,
		"operator cold scan time, 1000 -> 10000 Pods":     7,  // 21/3: times are not taken above idle
		"operator warm scan time, 1000 -> 10000 Pods":     7,  // 10.5/1.5
		"manager peak RSS above idle, 1000 -> 10000 Pods": 10, // (260-60)/(80-60): memory is
		"floor, 1000 -> 10000 Pods":                       8,
		"objects, 1000 -> 10000 Pods":                     10,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ratios (-want +got):\n%s", diff)
	}
}
