package v1alpha1_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	"github.com/kubeposture/kubeposture/test/cluster"
)

// The CRD's schema and CEL rules are judged by a real kube-apiserver: each
// malformed ClusterScan must be rejected at admission with a message naming
// the field, and each valid one admitted.

var k8sClient client.Client

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	assets, err := cluster.AssetsDir(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     []string{filepath.Join("..", "..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := env.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting envtest:", err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	// Unstructured, so that malformed values reach the API server as written.
	if k8sClient, err = client.New(cfg, client.Options{}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

func applyScan(t *testing.T, name, spec string) error {
	t.Helper()
	obj := &unstructured.Unstructured{}
	doc := fmt.Sprintf("apiVersion: posture.kubeposture.io/v1alpha1\nkind: ClusterScan\nmetadata:\n  name: %s\nspec:\n%s", name, indent(spec))
	if err := yaml.Unmarshal([]byte(doc), &obj.Object); err != nil {
		t.Fatalf("test fixture %q is not YAML: %v", name, err)
	}
	err := k8sClient.Create(context.Background(), obj, client.FieldValidation("Strict"))
	if err == nil {
		t.Cleanup(func() { _ = k8sClient.Delete(context.Background(), obj) })
	}
	return err
}

func indent(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := range lines {
		lines[i] = "  " + lines[i]
	}
	return strings.Join(lines, "\n")
}

func TestMalformedClusterScansAreRejected(t *testing.T) {
	long := strings.Repeat("a", 300)
	tcs := map[string]struct {
		spec string
		// wantField is the field path the API server's message must name.
		wantField string
		// wantText is a further part of the message.
		wantText string
	}{
		"schedule with four fields":            {spec: `schedule: "0 2 * *"`, wantField: "spec.schedule", wantText: "five fields"},
		"schedule with six fields":             {spec: `schedule: "0 0 2 * * *"`, wantField: "spec.schedule", wantText: "five fields"},
		"schedule of one word":                 {spec: `schedule: "daily"`, wantField: "spec.schedule", wantText: "five fields"},
		"schedule too long":                    {spec: "schedule: \"" + strings.Repeat("1,", 60) + "1 * * * *\"", wantField: "spec.schedule", wantText: "100"},
		"schedule not a string":                {spec: `schedule: 5`, wantField: "spec.schedule", wantText: "string"},
		"suspend not a boolean":                {spec: `suspend: "yes"`, wantField: "spec.suspend", wantText: "boolean"},
		"unknown framework":                    {spec: `frameworks: [cis-1.8]`, wantField: "spec.frameworks[0]", wantText: "Unsupported value"},
		"framework in the wrong case":          {spec: `frameworks: [CIS-1.12]`, wantField: "spec.frameworks[0]", wantText: "Unsupported value"},
		"duplicate framework":                  {spec: `frameworks: [nsa-cisa, nsa-cisa]`, wantField: "spec.frameworks[1]", wantText: "Duplicate value"},
		"too many frameworks":                  {spec: `frameworks: [cis-1.12, nsa-cisa, pss-baseline, pss-restricted, cis-1.12]`, wantField: "spec.frameworks", wantText: "at most 4"},
		"frameworks not a list":                {spec: `frameworks: cis-1.12`, wantField: "spec.frameworks", wantText: "array"},
		"pod security version without v":       {spec: `podSecurityVersion: "1.30"`, wantField: "spec.podSecurityVersion", wantText: "should match"},
		"pod security version v2":              {spec: `podSecurityVersion: "v2.0"`, wantField: "spec.podSecurityVersion", wantText: "should match"},
		"pod security version with patch":      {spec: `podSecurityVersion: "v1.30.1"`, wantField: "spec.podSecurityVersion", wantText: "should match"},
		"pod security version Latest":          {spec: `podSecurityVersion: "Latest"`, wantField: "spec.podSecurityVersion", wantText: "should match"},
		"pod security version leading zero":    {spec: `podSecurityVersion: "v1.05"`, wantField: "spec.podSecurityVersion", wantText: "should match"},
		"selector operator unknown":            {spec: "namespaceSelector:\n  matchExpressions:\n  - {key: team, operator: Equals, values: [a]}", wantField: "spec.namespaceSelector", wantText: "operator must be"},
		"selector In without values":           {spec: "namespaceSelector:\n  matchExpressions:\n  - {key: team, operator: In}", wantField: "spec.namespaceSelector", wantText: "values must be non-empty"},
		"selector Exists with values":          {spec: "namespaceSelector:\n  matchExpressions:\n  - {key: team, operator: Exists, values: [a]}", wantField: "spec.namespaceSelector", wantText: "values must be non-empty for In"},
		"selector matchLabels not a map":       {spec: "namespaceSelector:\n  matchLabels: [a]", wantField: "spec.namespaceSelector.matchLabels", wantText: "object"},
		"include glob with upper case":         {spec: `includeNamespaces: ["Shop"]`, wantField: "spec.includeNamespaces[0]", wantText: "should match"},
		"include glob with a slash":            {spec: `includeNamespaces: ["shop/web"]`, wantField: "spec.includeNamespaces[0]", wantText: "should match"},
		"include glob empty":                   {spec: `includeNamespaces: [""]`, wantField: "spec.includeNamespaces[0]", wantText: "at least 1"},
		"include glob too long":                {spec: "includeNamespaces: [\"" + long + "\"]", wantField: "spec.includeNamespaces[0]", wantText: "253"},
		"include duplicate":                    {spec: `includeNamespaces: [shop, shop]`, wantField: "spec.includeNamespaces[1]", wantText: "Duplicate value"},
		"exclude glob with a space":            {spec: `excludeNamespaces: ["kube system"]`, wantField: "spec.excludeNamespaces[0]", wantText: "should match"},
		"too many exclude globs":               {spec: "excludeNamespaces: [" + globs(65) + "]", wantField: "spec.excludeNamespaces", wantText: "at most 64"},
		"namespace both included and excluded": {spec: "includeNamespaces: [shop]\nexcludeNamespaces: [shop]", wantField: "spec", wantText: "both included and excluded"},
		"registry with a scheme":               {spec: `trustedRegistries: ["https://registry.example.com"]`, wantField: "spec.trustedRegistries[0]", wantText: "should match"},
		"registry empty":                       {spec: `trustedRegistries: [""]`, wantField: "spec.trustedRegistries[0]", wantText: "at least 1"},
		"registry with a space":                {spec: `trustedRegistries: ["ghcr.io/ acme"]`, wantField: "spec.trustedRegistries[0]", wantText: "should match"},
		"max findings zero":                    {spec: `maxFindingsPerReport: 0`, wantField: "spec.maxFindingsPerReport", wantText: "greater than or equal to 1"},
		"max findings negative":                {spec: `maxFindingsPerReport: -5`, wantField: "spec.maxFindingsPerReport", wantText: "greater than or equal to 1"},
		"max findings over the bound":          {spec: `maxFindingsPerReport: 5000`, wantField: "spec.maxFindingsPerReport", wantText: "less than or equal to 2000"},
		"max findings not a number":            {spec: `maxFindingsPerReport: many`, wantField: "spec.maxFindingsPerReport", wantText: "integer"},
		"misspelt field":                       {spec: `schedul: "0 2 * * *"`, wantField: "spec.schedul", wantText: "unknown field"},
		"openReports not an object":            {spec: `openReports: true`, wantField: "spec.openReports", wantText: "object"},
		"openReports enabled not a boolean":    {spec: `openReports: {enabled: "yes"}`, wantField: "spec.openReports.enabled", wantText: "boolean"},
		"openReports misspelt enabled":         {spec: `openReports: {enable: true}`, wantField: "spec.openReports.enable", wantText: "unknown field"},
	}
	if len(tcs) < 30 {
		t.Fatalf("only %d malformed specs; the suite promises at least 30", len(tcs))
	}
	i := 0
	for name, tc := range tcs {
		i++
		t.Run(name, func(t *testing.T) {
			err := applyScan(t, fmt.Sprintf("malformed-%d", i), tc.spec)
			if err == nil {
				t.Fatalf("spec admitted:\n%s", tc.spec)
			}
			if !apierrors.IsInvalid(err) && !apierrors.IsBadRequest(err) {
				t.Fatalf("error is not a validation error: %v", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.wantField) || !strings.Contains(msg, tc.wantText) {
				t.Errorf("message does not name %q with %q:\n%s", tc.wantField, tc.wantText, msg)
			}
		})
	}
}

// TestScanNameLongerThanALabelValueIsRejected: the scan's name is the value
// of the label that finds its reports, so it may be no longer than a label
// value (63), though object names may be 253 characters.
func TestScanNameLongerThanALabelValueIsRejected(t *testing.T) {
	if err := applyScan(t, strings.Repeat("a", 63), "{}"); err != nil {
		t.Errorf("a 63-character name was rejected: %v", err)
	}
	err := applyScan(t, strings.Repeat("b", 64), "{}")
	if err == nil {
		t.Fatal("a 64-character name was admitted")
	}
	if msg := err.Error(); !apierrors.IsInvalid(err) || !strings.Contains(msg, "metadata.name") || !strings.Contains(msg, "63") {
		t.Errorf("error does not name metadata.name and its bound: %v", err)
	}
}

func globs(n int) string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("ns-%d", i)
	}
	return strings.Join(out, ", ")
}

func TestValidClusterScansAreAdmitted(t *testing.T) {
	tcs := map[string]string{
		"empty spec":          `{}`,
		"five-field schedule": `schedule: "*/15 2-4 * * 1-5"`,
		"descriptor":          `schedule: "@daily"`,
		"every":               `schedule: "@every 6h"`,
		"all fields": `schedule: "0 2 * * *"
suspend: true
frameworks: [cis-1.12, pss-restricted]
podSecurityVersion: v1.30
namespaceSelector:
  matchLabels: {team: shop}
  matchExpressions:
  - {key: env, operator: In, values: [prod]}
  - {key: legacy, operator: DoesNotExist}
includeNamespaces: ["shop-*", "pay[0-9]"]
excludeNamespaces: ["kube-*"]
trustedRegistries: ["registry.example.com/", "ghcr.io/acme", "localhost:5000/team"]
maxFindingsPerReport: 2000
openReports: {enabled: true}`,
		"openReports off":   `openReports: {enabled: false}`,
		"openReports empty": `openReports: {}`,
		"latest version":    `podSecurityVersion: latest`,
	}
	i := 0
	for name, spec := range tcs {
		i++
		t.Run(name, func(t *testing.T) {
			if err := applyScan(t, fmt.Sprintf("valid-%d", i), spec); err != nil {
				t.Fatalf("valid spec rejected: %v\n%s", err, spec)
			}
		})
	}
}
