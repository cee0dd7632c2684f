package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

// Results is what one run measured.
type Results struct {
	Machine  Machine `json:"machine"`
	Started  string  `json:"started"`
	Finished string  `json:"finished,omitempty"`
	// SecretMetadata is whether the manager read Secrets (as metadata).
	SecretMetadata bool           `json:"secretMetadata"`
	Sizes          []SizeResult   `json:"sizes"`
	Engine         []EngineResult `json:"engine,omitempty"`
	Ratios         []Ratio        `json:"ratios,omitempty"`
}

// Machine describes where the run happened. The load averages say how busy
// it was: on a shared machine, ratios are the figures to trust.
type Machine struct {
	CPU        string `json:"cpu"`
	Cores      int    `json:"cores"`
	MemoryMiB  int64  `json:"memoryMiB"`
	Kernel     string `json:"kernel"`
	GoVersion  string `json:"goVersion"`
	LoadBefore string `json:"loadAverageBefore"`
	LoadAfter  string `json:"loadAverageAfter,omitempty"`
}

// SizeResult is the measurements at one size.
type SizeResult struct {
	Pods int `json:"pods"`
	// Objects is the number of objects of the kinds the manager reads.
	Objects       int            `json:"objects"`
	ObjectsByKind map[string]int `json:"objectsByKind"`
	LoadSeconds   float64        `json:"loadSeconds"`
	Floor         Floor          `json:"floor"`
	// CacheSync is the manager's cache, in the harness's process, from its
	// start until every informer has synced (no scan).
	CacheSync   Floor    `json:"cacheSync"`
	Operator    Operator `json:"operator"`
	CLI         CLI      `json:"cli"`
	LoadAverage string   `json:"loadAverage"`
}

// Floor is a bare paginated LIST of every kind the scan reads.
type Floor struct {
	// Seconds are the wall times of each repetition; Median is the one compared.
	Seconds []float64 `json:"seconds"`
	Median  float64   `json:"medianSeconds"`
}

// Operator is the manager as a process.
type Operator struct {
	// ColdSeconds is from the manager's start to the first scan Ready:
	// informers listing everything, the scan, the report writes.
	ColdSeconds float64 `json:"coldSeconds"`
	// WarmSeconds is from a scan request to Ready, with the cache synced.
	WarmSeconds float64 `json:"warmSeconds"`
	// NewRuns are the times from a new ClusterScan's creation to its
	// Ready, for each of newScanRuns ClusterScans created one after another
	// with the manager running and its cache synced: every report is new
	// and written (the "ClusterScan created -> Ready"). NewSeconds
	// is their median, the figure compared with the floor.
	NewRuns    []float64 `json:"newRuns"`
	NewSeconds float64   `json:"newSeconds"`
	// ScanSeconds and NewScanSeconds are the scans' own durations
	// (status.lastScanDuration) of the cold scan and, the median, of the
	// new scans.
	ScanSeconds    float64 `json:"scanSeconds"`
	NewScanSeconds float64 `json:"newScanSeconds"`
	// PeakRSSMiB is VmHWM after every scan: the most resident memory
	// the manager ever had.
	PeakRSSMiB float64 `json:"peakRSSMiB"`
	// RSSMiB is VmRSS after every scan, and RSSAnonMiB and
	// RSSFileMiB its parts: the Go runtime's memory, and the pages of the
	// binary mapped in.
	RSSMiB     float64 `json:"rssMiB"`
	RSSAnonMiB float64 `json:"rssAnonMiB"`
	RSSFileMiB float64 `json:"rssFileMiB"`
	// HeapAllocMiB and HeapInuseMiB are go_memstats_heap_alloc_bytes and
	// go_memstats_heap_inuse_bytes after every scan.
	HeapAllocMiB float64 `json:"heapAllocMiB"`
	HeapInuseMiB float64 `json:"heapInuseMiB"`
	// Score, Findings and ResourcesScanned are from the ClusterScan's status.
	Score            int32  `json:"score"`
	Findings         int32  `json:"findings"`
	ResourcesScanned int32  `json:"resourcesScanned"`
	LogPath          string `json:"logPath"`
	// Env is the environment given to the manager (-manager-env).
	Env []string `json:"env,omitempty"`
}

// CLI is bin/kubeposture scan -f on the same objects as manifest files.
type CLI struct {
	Skipped      string  `json:"skipped,omitempty"`
	ManifestMiB  float64 `json:"manifestMiB"`
	WallSeconds  float64 `json:"wallSeconds"`
	PeakRSSMiB   float64 `json:"peakRSSMiB"`
	Score        int     `json:"score"`
	Findings     int     `json:"findings"`
	ObjectsFound int     `json:"objectsScanned"`
}

// EngineResult is one Go benchmark of internal/engine.
type EngineResult struct {
	Name        string  `json:"name"`
	Iterations  int     `json:"iterations"`
	NsPerOp     float64 `json:"nsPerOp"`
	BytesPerOp  float64 `json:"bytesPerOp"`
	AllocsPerOp float64 `json:"allocsPerOp"`
	Templates   float64 `json:"templates"`
	Objects     float64 `json:"objects"`
	TemplatesPS float64 `json:"templatesPerSecond"`
	ObjectsPS   float64 `json:"objectsPerSecond"`
}

// Ratio is a figure that means something on a noisy machine.
type Ratio struct {
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Target string  `json:"target,omitempty"`
}

const mib = 1 << 20

func machine() Machine {
	m := Machine{Cores: runtime.NumCPU(), GoVersion: runtime.Version()}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
		_ = f.Close()
	}
	if kb, ok := procField("/proc/meminfo", "MemTotal"); ok {
		m.MemoryMiB = kb / 1024
	}
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(data))
	}
	return m
}

// loadAverage is the 1, 5 and 15 minute load averages.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// procField reads a "Name:   123 kB" line of a /proc file, in kB.
func procField(path, name string) (int64, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || k != name {
			continue
		}
		var n int64
		if _, err := fmt.Sscanf(strings.TrimSpace(v), "%d", &n); err == nil {
			return n, true
		}
	}
	return 0, false
}

func seconds(d time.Duration) float64 {
	return float64(d.Round(time.Millisecond)) / float64(time.Second)
}

// computeRatios derives the figures that matter: the operator against the
// floor at each size, and the growth from each size to the next, above the
// idle baseline.
func (r *Results) computeRatios() {
	r.Ratios = nil
	var idle *SizeResult
	var loaded []*SizeResult
	for i := range r.Sizes {
		if r.Sizes[i].Pods == 0 {
			idle = &r.Sizes[i]
		} else {
			loaded = append(loaded, &r.Sizes[i])
		}
	}
	for _, s := range loaded {
		if s.Floor.Median > 0 {
			r.Ratios = append(r.Ratios,
				Ratio{Name: fmt.Sprintf("operator new scan / floor at %d Pods", s.Pods), Value: s.Operator.NewSeconds / s.Floor.Median, Target: "<= 1.5 at 10000 Pods"},
				Ratio{Name: fmt.Sprintf("operator cold start / floor at %d Pods", s.Pods), Value: s.Operator.ColdSeconds / s.Floor.Median},
				Ratio{Name: fmt.Sprintf("operator warm / floor at %d Pods", s.Pods), Value: s.Operator.WarmSeconds / s.Floor.Median})
		}
	}
	// Growth between each pair of consecutive sizes.
	for i := 1; i < len(loaded); i++ {
		r.growth(idle, loaded[i-1], loaded[i])
	}
}

// growth adds the ratios of what the larger size costs to what the smaller
// costs: times as they are, and memory above the idle baseline when there
// is one (the issue's "multiplies scan time, and memory above the idle
// baseline"). A time above idle would be ill-conditioned: at 1,000 Pods a
// warm scan takes about as long as on an empty cluster.
func (r *Results) growth(idle, small, large *SizeResult) {
	growth := fmt.Sprintf("%d -> %d Pods", small.Pods, large.Pods)
	target := fmt.Sprintf("<= %.1f (%.1fx the Pods, +20%%)", 1.2*float64(large.Pods)/float64(small.Pods), float64(large.Pods)/float64(small.Pods))
	ratio := func(name string, aboveIdle bool, get func(*SizeResult) float64) {
		base := 0.0
		if idle != nil && aboveIdle {
			base = get(idle)
			name += " above idle"
		}
		if d := get(small) - base; d > 0 {
			r.Ratios = append(r.Ratios, Ratio{Name: name + ", " + growth, Value: (get(large) - base) / d, Target: target})
		}
	}
	ratio("operator new scan time", false, func(s *SizeResult) float64 { return s.Operator.NewSeconds })
	ratio("operator cold scan time", false, func(s *SizeResult) float64 { return s.Operator.ColdSeconds })
	ratio("operator warm scan time", false, func(s *SizeResult) float64 { return s.Operator.WarmSeconds })
	ratio("manager peak RSS", true, func(s *SizeResult) float64 { return s.Operator.PeakRSSMiB })
	ratio("manager heap", true, func(s *SizeResult) float64 { return s.Operator.HeapAllocMiB })
	ratio("floor", false, func(s *SizeResult) float64 { return s.Floor.Median })
	ratio("objects", false, func(s *SizeResult) float64 { return float64(s.Objects) })
	if small.CLI.Skipped == "" && large.CLI.Skipped == "" && small.CLI.WallSeconds > 0 {
		r.Ratios = append(r.Ratios,
			Ratio{Name: "CLI wall time, " + growth, Value: large.CLI.WallSeconds / small.CLI.WallSeconds},
			Ratio{Name: "CLI peak RSS, " + growth, Value: large.CLI.PeakRSSMiB / small.CLI.PeakRSSMiB})
	}
}

func (r *Results) print(w io.Writer) {
	fmt.Fprintf(w, "\nMachine: %s, %d cores, %d MiB, %s; load average %s before, %s after\n",
		r.Machine.CPU, r.Machine.Cores, r.Machine.MemoryMiB, r.Machine.GoVersion, r.Machine.LoadBefore, r.Machine.LoadAfter)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "Pods\tObjects\tFloor s\tSync s\tNew s\tNew/floor\tCold s\tCold/floor\tWarm s\tPeak RSS MiB\tAnon/file MiB\tHeap MiB\tCLI s\tCLI RSS MiB\tFindings\t")
	for _, s := range r.Sizes {
		ratio, newRatio := "-", "-"
		if s.Floor.Median > 0 {
			ratio = fmt.Sprintf("%.2f", s.Operator.ColdSeconds/s.Floor.Median)
			newRatio = fmt.Sprintf("%.2f", s.Operator.NewSeconds/s.Floor.Median)
		}
		cli, cliRSS := "-", "-"
		if s.CLI.Skipped == "" && s.CLI.WallSeconds > 0 {
			cli, cliRSS = fmt.Sprintf("%.2f", s.CLI.WallSeconds), fmt.Sprintf("%.0f", s.CLI.PeakRSSMiB)
		}
		fmt.Fprintf(tw, "%d\t%d\t%.2f\t%.2f\t%.2f\t%s\t%.2f\t%s\t%.2f\t%.0f\t%.0f/%.0f\t%.0f\t%s\t%s\t%d\t\n",
			s.Pods, s.Objects, s.Floor.Median, s.CacheSync.Median, s.Operator.NewSeconds, newRatio, s.Operator.ColdSeconds, ratio, s.Operator.WarmSeconds,
			s.Operator.PeakRSSMiB, s.Operator.RSSAnonMiB, s.Operator.RSSFileMiB, s.Operator.HeapAllocMiB, cli, cliRSS, s.Operator.Findings)
	}
	_ = tw.Flush()
	if len(r.Engine) > 0 {
		fmt.Fprintln(w, "\nEngine (one core):")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "Benchmark\tms/op\tMiB/op\tallocs/op\ttemplates\ttemplates/s\tobjects/s\t")
		for _, e := range r.Engine {
			fmt.Fprintf(tw, "%s\t%.2f\t%.1f\t%.0f\t%.0f\t%.0f\t%.0f\t\n", e.Name, e.NsPerOp/1e6, e.BytesPerOp/mib, e.AllocsPerOp, e.Templates, e.TemplatesPS, e.ObjectsPS)
		}
		_ = tw.Flush()
	}
	if len(r.Ratios) > 0 {
		fmt.Fprintln(w, "\nRatios:")
		for _, x := range r.Ratios {
			t := ""
			if x.Target != "" {
				t = " (target " + x.Target + ")"
			}
			fmt.Fprintf(w, "  %-60s %6.2f%s\n", x.Name, x.Value, t)
		}
	}
}
