package inventory

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// multiDoc exercises the YAML document markers. Its objects are at lines 3, 14, 27 and 30.
const multiDoc = `# leading comment
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: sa-1
  namespace: apps
--- # the next document is empty
---

# only a comment
---
# a comment before the object
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: apps
spec:
  template:
    spec:
      containers:
      - name: web
        image: nginx
...
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: apps}
--- {apiVersion: v1, kind: ServiceAccount, metadata: {name: inline, namespace: apps}}
`

// list is a v1 List: items at lines 4, 8 and 12.
const list = `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ServiceAccount
  metadata:
    name: first
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: cm
- apiVersion: rbac.authorization.k8s.io/v1
  kind: ClusterRole
  metadata:
    name: reader
`

// deploymentList is a typed list whose items leave out apiVersion and kind, as the API server writes it.
const deploymentList = `{
  "apiVersion": "apps/v1",
  "kind": "DeploymentList",
  "metadata": {"resourceVersion": "1"},
  "items": [
    {
      "metadata": {"name": "api", "namespace": "apps"},
      "spec": {"template": {"spec": {"containers": [{"name": "api", "image": "api:1"}]}}}
    },
    {"metadata": {"name": "worker", "namespace": "apps"}}
  ]
}
`

func serviceAccount(name, ns string) string {
	s := "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: " + name + "\n"
	if ns != "" {
		s += "  namespace: " + ns + "\n"
	}
	return s
}

func src(file string, line int) Source { return Source{File: file, Line: line} }

func objRef(apiVersion, kind, ns, name string) ObjectRef {
	return ObjectRef{APIVersion: apiVersion, Kind: kind, Namespace: ns, Name: name}
}

// contents lists the Snapshot's objects as "List namespace/name", in order.
func contents(s *Snapshot) []string {
	out := []string{}
	v := reflect.ValueOf(s).Elem()
	for i := 0; i < v.NumField(); i++ {
		f, field := v.Field(i), v.Type().Field(i)
		if !field.IsExported() || f.Kind() != reflect.Slice {
			continue
		}
		for j := 0; j < f.Len(); j++ {
			m := f.Index(j).Addr().Interface().(metav1.ObjectMetaAccessor).GetObjectMeta()
			out = append(out, field.Name+" "+namespacedName(m.GetNamespace(), m.GetName()))
		}
	}
	return out
}

func errorStrings(errs []error) []string {
	out := []string{}
	for _, err := range errs {
		out = append(out, err.Error())
	}
	return out
}

// writeFiles writes files (path -> content) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func mustScope(t *testing.T, selector *metav1.LabelSelector, include, exclude []string) Scope {
	t.Helper()
	s, err := NewScope(selector, include, exclude)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLoadManifests(t *testing.T) {
	testCases := map[string]struct {
		files map[string]string
		paths []string
		stdin string
		opts  ManifestOptions
		scope func(t *testing.T) Scope

		wantContents []string
		wantSources  map[ObjectRef]Source
		wantSkipped  map[string]int
		wantWarnings []string
		wantErrors   []string
	}{
		"multi-document YAML with markers, comments and empty documents": {
			files: map[string]string{"multi.yaml": multiDoc},
			paths: []string{"multi.yaml"},
			wantContents: []string{
				"Namespaces apps", "Services apps/web", "ServiceAccounts apps/inline", "ServiceAccounts apps/sa-1", "Deployments apps/web",
			},
			wantSources: map[ObjectRef]Source{
				objRef("v1", "ServiceAccount", "apps", "sa-1"):   src("multi.yaml", 3),
				objRef("apps/v1", "Deployment", "apps", "web"):   src("multi.yaml", 14),
				objRef("v1", "Service", "apps", "web"):           src("multi.yaml", 27),
				objRef("v1", "ServiceAccount", "apps", "inline"): src("multi.yaml", 30),
			},
		},
		"CRLF line endings": {
			files:        map[string]string{"crlf.yaml": strings.ReplaceAll(serviceAccount("a", "")+"---\n"+serviceAccount("b", ""), "\n", "\r\n")},
			paths:        []string{"crlf.yaml"},
			wantContents: []string{"Namespaces default", "ServiceAccounts default/a", "ServiceAccounts default/b"},
			wantSources: map[ObjectRef]Source{
				objRef("v1", "ServiceAccount", "default", "a"): src("crlf.yaml", 1),
				objRef("v1", "ServiceAccount", "default", "b"): src("crlf.yaml", 6),
			},
		},
		"JSON file and a JSON stream on stdin": {
			files: map[string]string{
				"pod.json": `{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "apps"}, "spec": {"containers": []}}`,
			},
			paths: []string{"pod.json", "-"},
			stdin: "{\"apiVersion\": \"v1\", \"kind\": \"ServiceAccount\", \"metadata\": {\"name\": \"one\"}}\n\n  {\n \"apiVersion\": \"v1\", \"kind\": \"ServiceAccount\", \"metadata\": {\"name\": \"two\"}}\n",
			wantContents: []string{
				"Namespaces apps", "Namespaces default", "Pods apps/p", "ServiceAccounts default/one", "ServiceAccounts default/two",
			},
			wantSources: map[ObjectRef]Source{
				objRef("v1", "Pod", "apps", "p"):                 src("pod.json", 1),
				objRef("v1", "ServiceAccount", "default", "one"): src(StdinName, 1),
				objRef("v1", "ServiceAccount", "default", "two"): src(StdinName, 3),
			},
		},
		"v1 List in YAML: item lines, skipped items": {
			files:        map[string]string{"list.yaml": list},
			paths:        []string{"list.yaml"},
			wantContents: []string{"Namespaces default", "ServiceAccounts default/first", "ClusterRoles reader"},
			wantSources: map[ObjectRef]Source{
				objRef("v1", "ServiceAccount", "default", "first"):                  src("list.yaml", 4),
				objRef("rbac.authorization.k8s.io/v1", "ClusterRole", "", "reader"): src("list.yaml", 12),
			},
			wantSkipped: map[string]int{"v1/ConfigMap": 1},
		},
		"typed List in JSON: items without apiVersion and kind": {
			files:        map[string]string{"deployments.json": deploymentList},
			paths:        []string{"deployments.json"},
			wantContents: []string{"Namespaces apps", "Deployments apps/api", "Deployments apps/worker"},
			wantSources: map[ObjectRef]Source{
				objRef("apps/v1", "Deployment", "apps", "api"):    src("deployments.json", 6),
				objRef("apps/v1", "Deployment", "apps", "worker"): src("deployments.json", 10),
			},
		},
		"List on stdin, in JSON": {
			paths:        []string{"-"},
			stdin:        `{"apiVersion": "v1", "kind": "List", "items": [` + "\n" + `{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns"}}]}`,
			wantContents: []string{"Namespaces ns"},
			wantSources:  map[ObjectRef]Source{objRef("v1", "Namespace", "", "ns"): src(StdinName, 2)},
		},
		"a custom kind named ...List with items is not a List": {
			paths:       []string{"-"},
			stdin:       "apiVersion: example.com/v1\nkind: AllowList\nmetadata:\n  name: registries\nitems: [a, b]\n",
			wantSkipped: map[string]int{"example.com/v1/AllowList": 1},
		},
		"directory walked in lexical order, hidden entries and other files left out": {
			files: map[string]string{
				"dir/b.yaml":              "kind: ServiceAccount\n",
				"dir/a/z.yml":             "kind: ServiceAccount\n",
				"dir/a/y.JSON":            `{"kind": "Role"}`,
				"dir/a/.hidden/x.yaml":    "kind: Pod\n",
				"dir/.git/config.yaml":    "kind: Pod\n",
				"dir/.gitlab-ci.yml":      "kind: Pod\n",
				"dir/notes.txt":           "kind: Pod\n",
				"dir/c/d/deep.yaml":       "\n\nkind: Service\n",
				"dir/c/ignored/README.md": "kind: Pod\n",
			},
			paths: []string{"dir"},
			wantErrors: []string{
				filepath.FromSlash("dir/a/y.JSON") + ":1: the Role has no apiVersion",
				filepath.FromSlash("dir/a/z.yml") + ":1: the ServiceAccount has no apiVersion",
				filepath.FromSlash("dir/b.yaml") + ":1: the ServiceAccount has no apiVersion",
				filepath.FromSlash("dir/c/d/deep.yaml") + ":3: the Service has no apiVersion",
			},
		},
		"a file given by name is read whatever its extension": {
			files:        map[string]string{"manifest.txt": serviceAccount("sa", "apps")},
			paths:        []string{"manifest.txt"},
			wantContents: []string{"Namespaces apps", "ServiceAccounts apps/sa"},
			wantSources:  map[ObjectRef]Source{objRef("v1", "ServiceAccount", "apps", "sa"): src("manifest.txt", 1)},
		},
		"kinds and versions the scan does not read are counted": {
			paths: []string{"-"},
			stdin: `apiVersion: v1
kind: ConfigMap
metadata: {name: a}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: b}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
---
apiVersion: extensions/v1beta1
kind: Deployment
metadata: {name: old}
---
apiVersion: batch/v1beta1
kind: CronJob
metadata: {name: old}
`,
			wantSkipped: map[string]int{
				"v1/ConfigMap": 2, "apiextensions.k8s.io/v1/CustomResourceDefinition": 1, "example.com/v1/Widget": 1,
				"extensions/v1beta1/Deployment": 1, "batch/v1beta1/CronJob": 1,
			},
			wantWarnings: []string{
				`<stdin>:17: extensions/v1beta1 Deployment "old" is not judged: the scan reads Deployment only as apps/v1, the version current API servers serve`,
				`<stdin>:21: batch/v1beta1 CronJob "old" is not judged: the scan reads CronJob only as batch/v1, the version current API servers serve`,
			},
		},
		"default namespace, and no namespace on cluster-scoped objects": {
			paths: []string{"-"},
			opts:  ManifestOptions{DefaultNamespace: "team-a"},
			stdin: serviceAccount("sa", "") + "---\n" +
				"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: cr\n  namespace: ignored\n",
			wantContents: []string{"Namespaces team-a", "ServiceAccounts team-a/sa", "ClusterRoles cr"},
			wantSources: map[ObjectRef]Source{
				objRef("v1", "ServiceAccount", "team-a", "sa"):                  src(StdinName, 1),
				objRef("rbac.authorization.k8s.io/v1", "ClusterRole", "", "cr"): src(StdinName, 6),
			},
		},
		"namespaces synthesized for those no Namespace object defines": {
			paths: []string{"-"},
			stdin: serviceAccount("sa", "given") + "---\n" + serviceAccount("sa", "implied") + "---\n" +
				"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: given\n  labels: {team: a}\n",
			wantContents: []string{"Namespaces given", "Namespaces implied", "ServiceAccounts given/sa", "ServiceAccounts implied/sa"},
			wantSources: map[ObjectRef]Source{
				objRef("v1", "ServiceAccount", "given", "sa"):   src(StdinName, 1),
				objRef("v1", "ServiceAccount", "implied", "sa"): src(StdinName, 7),
				objRef("v1", "Namespace", "", "given"):          src(StdinName, 13),
			},
		},
		"scope by namespace labels and names": {
			paths: []string{"-"},
			stdin: serviceAccount("sa", "a") + "---\n" + serviceAccount("sa", "b") + "---\n" + serviceAccount("sa", "c") + "---\n" +
				"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  labels: {scan: \"yes\"}\n---\n" +
				"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: c\n  labels: {scan: \"yes\"}\n---\n" +
				"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: cr\n",
			scope: func(t *testing.T) Scope {
				return mustScope(t, &metav1.LabelSelector{MatchLabels: map[string]string{"scan": "yes"}}, nil, []string{"c"})
			},
			wantContents: []string{"Namespaces a", "ServiceAccounts a/sa", "ClusterRoles cr"},
			wantSources: map[ObjectRef]Source{
				objRef("v1", "ServiceAccount", "a", "sa"):                       src(StdinName, 1),
				objRef("v1", "Namespace", "", "a"):                              src(StdinName, 19),
				objRef("rbac.authorization.k8s.io/v1", "ClusterRole", "", "cr"): src(StdinName, 31),
			},
		},
		"duplicate object: the first is kept, the error names both places": {
			files: map[string]string{
				"a.yaml": serviceAccount("sa", "apps"),
				"b.yaml": "# again\n" + serviceAccount("sa", "apps") + "---\n" + serviceAccount("sa", "other"),
			},
			paths:        []string{"a.yaml", "b.yaml"},
			wantContents: []string{"Namespaces apps", "Namespaces other", "ServiceAccounts apps/sa", "ServiceAccounts other/sa"},
			wantSources: map[ObjectRef]Source{
				objRef("v1", "ServiceAccount", "apps", "sa"):  src("a.yaml", 1),
				objRef("v1", "ServiceAccount", "other", "sa"): src("b.yaml", 8),
			},
			wantErrors: []string{"b.yaml:2: duplicate v1 ServiceAccount apps/sa: first defined at a.yaml:1, which is the one loaded"},
		},
		"invalid YAML names file and line, and the rest is loaded": {
			files: map[string]string{
				"bad.yaml":  serviceAccount("before", "") + "---\n# comment\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: [oops\n---\n" + serviceAccount("after", ""),
				"good.yaml": serviceAccount("good", ""),
			},
			paths:        []string{"bad.yaml", "good.yaml"},
			wantContents: []string{"Namespaces default", "ServiceAccounts default/after", "ServiceAccounts default/before", "ServiceAccounts default/good"},
			wantSources: map[ObjectRef]Source{
				objRef("v1", "ServiceAccount", "default", "before"): src("bad.yaml", 1),
				objRef("v1", "ServiceAccount", "default", "after"):  src("bad.yaml", 12),
				objRef("v1", "ServiceAccount", "default", "good"):   src("good.yaml", 1),
			},
			wantErrors: []string{"bad.yaml:10: invalid YAML: did not find expected ',' or ']'"},
		},
		"invalid YAML at the end of the input names its last line": {
			paths:      []string{"-"},
			stdin:      "apiVersion: v1\nkind: Pod\nmetadata: {name: p\n\n\n",
			wantErrors: []string{"<stdin>:3: invalid YAML: did not find expected ',' or '}'"},
		},
		"invalid JSON names file and line": {
			files:      map[string]string{"bad.json": "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"Pod\"\n  \"metadata\": {}\n}\n"},
			paths:      []string{"bad.json"},
			wantErrors: []string{`bad.json:4: invalid JSON: invalid character '"' after object key:value pair`},
		},
		"documents that are not objects, or lack apiVersion, kind or name": {
			paths: []string{"-"},
			stdin: "- a\n- b\n---\nkind: Pod\nmetadata: {name: p}\n---\napiVersion: v1\nmetadata: {name: p}\n---\nfoo: bar\n---\n" +
				"apiVersion: v1\nkind: Pod\nmetadata: {namespace: apps}\n---\napiVersion: a/b/c\nkind: Pod\nmetadata: {name: p}\n",
			wantErrors: []string{
				"<stdin>:1: the document is not an object",
				"<stdin>:4: the Pod has no apiVersion",
				"<stdin>:7: the v1 object has no kind",
				"<stdin>:10: the object has no apiVersion and no kind",
				"<stdin>:12: the v1 Pod has no metadata.name",
				`<stdin>:16: invalid apiVersion: unexpected GroupVersion string: a/b/c`,
			},
		},
		"a field of the wrong type names the object's line": {
			paths:        []string{"-"},
			stdin:        serviceAccount("ok", "apps") + "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: apps}\nspec:\n  replicas: three\n",
			wantErrors:   []string{`<stdin>:7: decoding the apps/v1 Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32`},
			wantContents: []string{"Namespaces apps", "ServiceAccounts apps/ok"},
			wantSources:  map[ObjectRef]Source{objRef("v1", "ServiceAccount", "apps", "ok"): src(StdinName, 1)},
		},
		"missing file, and the others are still loaded": {
			files:        map[string]string{"there.yaml": serviceAccount("sa", "apps")},
			paths:        []string{"missing.yaml", "there.yaml"},
			wantErrors:   []string{"missing.yaml: no such file or directory"},
			wantContents: []string{"Namespaces apps", "ServiceAccounts apps/sa"},
			wantSources:  map[ObjectRef]Source{objRef("v1", "ServiceAccount", "apps", "sa"): src("there.yaml", 1)},
		},
		"oversized document is not loaded, the next one is": {
			paths: []string{"-"},
			opts:  ManifestOptions{MaxDocumentBytes: 100},
			stdin: "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: big\n  annotations:\n    a: " + strings.Repeat("x", 100) + "\n---\n" +
				serviceAccount("small", ""),
			wantErrors:   []string{"<stdin>:1: the document is 181 bytes, over the limit of 100 bytes: not loaded"},
			wantContents: []string{"Namespaces default", "ServiceAccounts default/small"},
			wantSources:  map[ObjectRef]Source{objRef("v1", "ServiceAccount", "default", "small"): src(StdinName, 8)},
		},
		"total input over the limit stops reading": {
			files: map[string]string{
				"1.yaml": serviceAccount("one", ""),
				"2.yaml": serviceAccount("two", "") + strings.Repeat("# padding\n", 10),
				"3.yaml": serviceAccount("three", ""),
			},
			paths:        []string{"1.yaml", "2.yaml", "3.yaml"},
			opts:         ManifestOptions{MaxTotalBytes: 150},
			wantErrors:   []string{"2.yaml: the input is over 150 bytes in all: stopped reading; this input and any after it are not loaded"},
			wantContents: []string{"Namespaces default", "ServiceAccounts default/one"},
			wantSources:  map[ObjectRef]Source{objRef("v1", "ServiceAccount", "default", "one"): src("1.yaml", 1)},
		},
		"stdin given but none to read": {
			paths:      []string{"-"},
			wantErrors: []string{"<stdin>: no standard input"},
		},
	}
	for name, tc := range testCases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tc.files)
			t.Chdir(dir)
			opts := tc.opts
			if tc.scope != nil {
				opts.Scope = tc.scope(t)
			}
			var stdin *strings.Reader
			if tc.stdin != "" {
				stdin = strings.NewReader(tc.stdin)
			}
			var m *Manifests
			if stdin != nil {
				m = LoadManifests(tc.paths, stdin, opts)
			} else {
				m = LoadManifests(tc.paths, nil, opts)
			}

			if diff := cmp.Diff(tc.wantErrors, errorStrings(m.Errors), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Errors (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantContents, contents(m.Snapshot), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Snapshot contents (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantSources, m.Sources, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Sources (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantSkipped, m.Skipped, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Skipped (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantWarnings, m.Warnings, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Warnings (-want +got):\n%s", diff)
			}
			wantKinds := slices.Sorted(slices.Values(AllKinds))
			if diff := cmp.Diff(wantKinds, m.Snapshot.ReadKinds()); diff != "" {
				t.Errorf("read kinds (-want +got):\n%s", diff)
			}
			if len(m.Snapshot.MissingKinds()) != 0 {
				t.Errorf("missing kinds: %v", m.Snapshot.MissingKinds())
			}
		})
	}
}

// TestLoadManifestsAsWritten checks that nothing the user did not write is
// added: no defaults, and synthesized namespaces are bare.
func TestLoadManifestsAsWritten(t *testing.T) {
	m := LoadManifests([]string{"-"}, strings.NewReader(`apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - name: web
        image: nginx
`), ManifestOptions{})
	if len(m.Errors) != 0 {
		t.Fatalf("errors: %v", m.Errors)
	}
	if len(m.Snapshot.Deployments) != 1 || len(m.Snapshot.Namespaces) != 1 {
		t.Fatalf("contents: %v", contents(m.Snapshot))
	}
	d := m.Snapshot.Deployments[0]
	if d.Spec.Replicas != nil || d.Spec.Strategy.Type != "" || d.Spec.Template.Spec.RestartPolicy != "" ||
		d.Spec.Template.Spec.Containers[0].ImagePullPolicy != "" || d.Spec.Template.Spec.Containers[0].TerminationMessagePath != "" {
		t.Errorf("defaults applied: %+v", d.Spec)
	}
	if ns := m.Snapshot.Namespaces[0]; ns.Name != "default" || ns.Labels != nil || ns.Annotations != nil {
		t.Errorf("synthesized namespace is not bare: %+v", ns.ObjectMeta)
	}
}

func TestLoadManifestsDropsSecretData(t *testing.T) {
	const canary = "kp-canary-3f9a1c"
	encoded := base64.StdEncoding.EncodeToString([]byte(canary))
	in := `apiVersion: v1
kind: Secret
metadata:
  name: creds
  namespace: apps
  labels: {app: web}
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: '{"apiVersion":"v1","kind":"Secret","data":{"password":"` + encoded + `"},"stringData":{"token":"` + canary + `"}}'
    team: platform
type: Opaque
data:
  password: ` + encoded + `
stringData:
  token: ` + canary + `
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Secret
  metadata: {name: listed, namespace: apps}
  stringData: {token: ` + canary + `}
`
	m := LoadManifests([]string{"-"}, strings.NewReader(in), ManifestOptions{})
	if len(m.Errors) != 0 {
		t.Fatalf("errors: %v", m.Errors)
	}
	if diff := cmp.Diff([]string{"Namespaces apps", "Secrets apps/creds", "Secrets apps/listed"}, contents(m.Snapshot)); diff != "" {
		t.Fatalf("contents (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"team": "platform"}, m.Snapshot.Secrets[0].Annotations); diff != "" {
		t.Errorf("Secret annotations (-want +got):\n%s", diff)
	}
	snapshot, err := json.Marshal(m.Snapshot)
	if err != nil {
		t.Fatal(err)
	}
	out := string(snapshot) + fmt.Sprintf("%+v", *m)
	for _, v := range []string{canary, encoded} {
		if strings.Contains(out, v) {
			t.Errorf("the loaded manifests hold the secret value %q: %s", v, out)
		}
	}
}

// runWithDeadline fails the test if fn does not return in time: bad input
// must fail fast, not hang.
func runWithDeadline(t *testing.T, d time.Duration, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		t.Fatalf("did not return within %v", d)
	}
}

func TestLoadManifestsAliasBomb(t *testing.T) {
	// The classic "billion laughs": 9^9 strings if expanded.
	const laughs = `  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
  e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
  f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
  g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
  h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
  i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
`
	bomb := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lol\ndata:\n" + laughs
	testCases := map[string]struct {
		in           string
		wantErrors   []string
		wantContents []string
	}{
		"in a document between two good ones": {
			in:           serviceAccount("before", "") + "---\n" + bomb + "---\n" + serviceAccount("after", ""),
			wantErrors:   []string{"<stdin>:6: invalid YAML: document contains excessive aliasing"},
			wantContents: []string{"Namespaces default", "ServiceAccounts default/after", "ServiceAccounts default/before"},
		},
		"as a List's items": {
			in:         "apiVersion: v1\nkind: List\nx:\n" + laughs + "items: *i\n",
			wantErrors: []string{"<stdin>:1: invalid YAML: document contains excessive aliasing"},
		},
	}
	for name, tc := range testCases {
		t.Run(name, func(t *testing.T) {
			var m *Manifests
			runWithDeadline(t, 30*time.Second, func() {
				m = LoadManifests([]string{"-"}, strings.NewReader(tc.in), ManifestOptions{})
			})
			if diff := cmp.Diff(tc.wantErrors, errorStrings(m.Errors)); diff != "" {
				t.Errorf("Errors (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantContents, contents(m.Snapshot), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("contents (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadManifestsDeepNesting(t *testing.T) {
	const depth = 10000
	var block strings.Builder
	block.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\ndata:\n")
	for i := 0; i < depth; i++ {
		block.WriteString(strings.Repeat(" ", 2+i) + "a:\n")
	}
	testCases := map[string]struct {
		in string
		// wantError is in the only error.
		wantError string
	}{
		"YAML flow sequences": {
			in:        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: deep\nspec:\n  containers: " + strings.Repeat("[", depth) + strings.Repeat("]", depth) + "\n",
			wantError: "max depth",
		},
		"YAML flow mappings": {
			in:        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\ndata: " + strings.Repeat("{a: ", depth) + "b" + strings.Repeat("}", depth) + "\n",
			wantError: "max depth",
		},
		"YAML block sequences": {
			in:        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: deep\nspec:\n  containers:\n  " + strings.Repeat("- ", depth) + "x\n",
			wantError: "max depth",
		},
		"YAML block mappings": {
			in:        block.String(),
			wantError: "max depth",
		},
		"JSON": {
			in:        `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"deep"},"spec":` + strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat("}", depth) + "}",
			wantError: "max depth",
		},
		"Lists in Lists": {
			in:        strings.Repeat(`{"apiVersion":"v1","kind":"List","items":[`, 100) + strings.Repeat("]}", 100),
			wantError: "lists nested more than 8 deep",
		},
	}
	for name, tc := range testCases {
		t.Run(name, func(t *testing.T) {
			var m *Manifests
			runWithDeadline(t, 60*time.Second, func() {
				m = LoadManifests([]string{"-"}, strings.NewReader(tc.in), ManifestOptions{MaxDocumentBytes: 64 << 20})
			})
			if len(m.Errors) != 1 || !strings.Contains(m.Errors[0].Error(), tc.wantError) || !strings.HasPrefix(m.Errors[0].Error(), StdinName+":") {
				t.Errorf("Errors: want one naming %s and saying %q, got %v", StdinName, tc.wantError, m.Errors)
			}
		})
	}
}
