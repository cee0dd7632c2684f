package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubeposture/kubeposture/internal/checks"
	"github.com/kubeposture/kubeposture/internal/engine"
	"github.com/kubeposture/kubeposture/internal/inventory"
	"github.com/kubeposture/kubeposture/internal/output"
)

// scanFlags are the flags of `kubeposture scan`.
type scanFlags struct {
	files             []string
	cluster           bool
	kubeconfig        string
	kubeContext       string
	output            string
	outputFile        string
	frameworks        []string
	checks            []string
	skipChecks        []string
	severityThreshold string
	failBelowScore    int
	pssVersion        string
	trustedRegistries []string
	include, exclude  []string
	namespace         string
	noColor           bool
	timeout           time.Duration
}

func newScanCommand(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	f := &scanFlags{}
	cmd := &cobra.Command{
		Use:   "scan (-f PATH... | --cluster)",
		Short: "Scan manifest files, or a live cluster, for security posture problems",
		Example: `  kubeposture scan -f deploy/
  helm template my-chart | kubeposture scan -f - --severity-threshold high
  kustomize build overlays/prod | kubeposture scan -f - -o sarif --output-file kubeposture.sarif
  kubeposture scan --cluster --context prod --framework cis-1.12`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runScan(cmd.Context(), f, stdin, stdout, stderr)
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVarP(&f.files, "filename", "f", nil, "Manifest files or directories (recursive) to scan; - reads standard input. Repeatable.")
	fl.BoolVar(&f.cluster, "cluster", false, "Scan the live cluster of the current kubeconfig context (read-only).")
	fl.StringVar(&f.kubeconfig, "kubeconfig", "", "Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config).")
	fl.StringVar(&f.kubeContext, "context", "", "The kubeconfig context to use.")
	fl.StringVarP(&f.output, "output", "o", "table", "Output format: "+strings.Join(output.FormatNames(), ", ")+".")
	fl.StringVar(&f.outputFile, "output-file", "", "Write the output to this file instead of standard output.")
	fl.StringSliceVar(&f.frameworks, "framework", nil, "Frameworks to evaluate (cis-1.12, nsa-cisa, pss-baseline, pss-restricted); default all, and every check.")
	fl.StringSliceVar(&f.checks, "checks", nil, "Run only these check IDs.")
	fl.StringSliceVar(&f.skipChecks, "skip-checks", nil, "Do not run these check IDs.")
	fl.StringVar(&f.severityThreshold, "severity-threshold", "", "Exit 1 if any finding has this severity or higher (critical, high, medium, low).")
	fl.IntVar(&f.failBelowScore, "fail-below-score", 0, "Exit 1 if the score is below this value (0-100).")
	fl.StringVar(&f.pssVersion, "pss-version", "latest", "Pod Security Standards version: latest or v1.N.")
	fl.StringSliceVar(&f.trustedRegistries, "trusted-registry", nil, "Image registry prefixes images may come from (repeatable).")
	fl.StringSliceVar(&f.include, "include-namespace", nil, "Scan only namespaces matching these globs.")
	fl.StringSliceVar(&f.exclude, "exclude-namespace", nil, "Do not scan namespaces matching these globs.")
	fl.StringVarP(&f.namespace, "namespace", "n", "default", "Namespace of manifest objects that name none.")
	fl.BoolVar(&f.noColor, "no-color", false, "Never colour the table output.")
	fl.DurationVar(&f.timeout, "timeout", 5*time.Minute, "Give up a --cluster scan after this long.")
	return cmd
}

func usageErr(format string, args ...any) error {
	return &exitError{code: ExitError, err: fmt.Errorf(format, args...)}
}

func runScan(ctx context.Context, f *scanFlags, stdin io.Reader, stdout, stderr io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	format, err := output.ParseFormat(f.output)
	if err != nil {
		return usageErr("--output: %w", err)
	}
	var threshold checks.Severity
	if f.severityThreshold != "" {
		threshold = checks.Severity(strings.ToLower(f.severityThreshold))
		if threshold.Rank() == 0 {
			return usageErr("--severity-threshold: unknown severity %q (critical, high, medium, low)", f.severityThreshold)
		}
	}
	if f.failBelowScore < 0 || f.failBelowScore > 100 {
		return usageErr("--fail-below-score: %d is not between 0 and 100", f.failBelowScore)
	}
	switch {
	case f.cluster && len(f.files) > 0:
		return usageErr("-f and --cluster are mutually exclusive: scan files or a cluster")
	case !f.cluster && len(f.files) == 0:
		return usageErr("nothing to scan: give -f PATH (or -f - for standard input), or --cluster")
	}
	plan, err := engine.NewPlan(engine.Options{
		Frameworks: f.frameworks, Checks: f.checks, SkipChecks: f.skipChecks,
		PodSecurityVersion: f.pssVersion, TrustedRegistries: f.trustedRegistries,
		FieldNames: engine.FieldNames{Frameworks: "--framework", Checks: "--checks", SkipChecks: "--skip-checks", PodSecurityVersion: "--pss-version"},
	})
	if err != nil {
		return usageErr("%w", err)
	}
	scope, err := inventory.NewScope(nil, f.include, f.exclude)
	if err != nil {
		return usageErr("%s", strings.NewReplacer("spec.includeNamespaces", "--include-namespace", "spec.excludeNamespaces", "--exclude-namespace").Replace(err.Error()))
	}

	rep := &output.Report{ToolVersion: version()}
	var snap *inventory.Snapshot
	if f.cluster {
		rep.Target = "cluster"
		if snap, rep.Target, err = readCluster(ctx, f, scope, stderr); err != nil {
			return &exitError{code: ExitError, err: err}
		}
		for _, k := range snap.MissingKinds() {
			rep.Errors = append(rep.Errors, fmt.Sprintf("could not read %s: %s", k, snap.Missing[k].Reason))
		}
	} else {
		rep.Target = "manifests"
		m := inventory.LoadManifests(f.files, stdin, inventory.ManifestOptions{DefaultNamespace: f.namespace, Scope: scope})
		snap, rep.Sources, rep.Skipped = m.Snapshot, m.Sources, m.Skipped
		for _, e := range m.Errors {
			rep.Errors = append(rep.Errors, e.Error())
		}
	}
	_, rep.ScannedObjects = snap.Count()
	rep.Result = plan.Run(snap)

	w := stdout
	if f.outputFile != "" {
		file, err := os.Create(f.outputFile)
		if err != nil {
			return usageErr("--output-file: %w", err)
		}
		defer file.Close()
		w = file
	}
	color := format == output.FormatTable && !f.noColor && f.outputFile == "" && isTerminal(stdout) && os.Getenv("NO_COLOR") == ""
	if err := output.Write(w, format, rep, output.Options{Color: color, SeverityThreshold: threshold}); err != nil {
		return &exitError{code: ExitError, err: fmt.Errorf("writing the %s output: %w", f.output, err)}
	}
	if f.outputFile != "" {
		if err := w.(*os.File).Close(); err != nil {
			return usageErr("--output-file: %w", err)
		}
	}

	for _, e := range rep.Errors {
		fmt.Fprintln(stderr, "Error:", e)
	}
	if len(rep.Errors) > 0 {
		return &exitError{code: ExitError}
	}
	if n := countAtOrAbove(rep.Result, threshold); n > 0 {
		return &exitError{code: ExitFindings, err: fmt.Errorf("%d finding(s) at or above severity %s", n, threshold)}
	}
	if f.failBelowScore > 0 && rep.Result.Summary.Score < f.failBelowScore {
		return &exitError{code: ExitFindings, err: fmt.Errorf("score %d is below --fail-below-score %d", rep.Result.Summary.Score, f.failBelowScore)}
	}
	return nil
}

func countAtOrAbove(r *engine.Result, threshold checks.Severity) int {
	if threshold == "" {
		return 0
	}
	n := 0
	for i := range r.Outcomes {
		o := &r.Outcomes[i]
		if o.Evaluated && o.Check.Severity.Rank() >= threshold.Rank() {
			n += len(o.Findings)
		}
	}
	return n
}

// readCluster reads a live cluster once, read-only, through an uncached,
// paginating client. It returns the snapshot and the context's name.
func readCluster(ctx context.Context, f *scanFlags, scope inventory.Scope, stderr io.Writer) (*inventory.Snapshot, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if f.kubeconfig != "" {
		rules.ExplicitPath = f.kubeconfig
	}
	loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: f.kubeContext})
	raw, err := loader.RawConfig()
	if err != nil {
		return nil, "", fmt.Errorf("reading kubeconfig: %w", err)
	}
	contextName := raw.CurrentContext
	if f.kubeContext != "" {
		contextName = f.kubeContext
	}
	cfg, err := loader.ClientConfig()
	if err != nil {
		return nil, "", fmt.Errorf("kubeconfig context %q: %w", contextName, err)
	}
	cfg.QPS, cfg.Burst = 50, 100
	cfg.UserAgent = "kubeposture/" + version()
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, "", err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, "", fmt.Errorf("connecting to context %q: %w", contextName, err)
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	var reader client.Reader = inventory.PagedReader{Reader: c}
	if isTerminal(stderr) {
		reader = &progressReader{Reader: reader, w: stderr}
		defer fmt.Fprint(stderr, "\r\033[K")
	}
	snap, err := inventory.FromReader(ctx, reader, &inventory.SelfAccess{Client: c}, scope, inventory.DefaultKinds)
	if err != nil {
		return nil, "", fmt.Errorf("reading context %q: %w", contextName, err)
	}
	return snap, "cluster " + contextName, nil
}

// progressReader shows on a terminal which kind is being read.
type progressReader struct {
	client.Reader
	w     io.Writer
	kinds int
}

func (p *progressReader) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	p.kinds++
	name := strings.TrimSuffix(fmt.Sprintf("%T", list), "List")
	name = name[strings.LastIndex(name, ".")+1:]
	fmt.Fprintf(p.w, "\r\033[KReading %s (%d of %d kinds)...", name, p.kinds, len(inventory.DefaultKinds))
	return p.Reader.List(ctx, list, opts...)
}
