package inventory

// Manifest loading builds the same Snapshot FromReader builds, from the files
// a user is about to apply, so that the same checks judge them.
//
// Every input is read whole (under MaxTotalBytes), split into documents
// (YAML on "---" and "..." lines, JSON as a stream of values), and each
// document is converted to JSON and decoded twice: once into a small header
// (apiVersion, kind, metadata, items) that decides what it is, and once, for
// the kinds the scan reads, into the typed object with the client-go scheme's
// universal deserializer, which neither converts nor defaults: the checks
// judge what the user wrote. Bad input never stops the load: each problem is
// an error naming its file and line, and loading goes on with the next
// document. Memory is bounded by the byte limits, by the YAML library's limits
// on nesting depth and aliasing, and by encoding/json's nesting limit.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	yamlv3 "go.yaml.in/yaml/v3"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	sigsyaml "sigs.k8s.io/yaml"
)

// StdinName is the file name of objects read from standard input.
const StdinName = "<stdin>"

// The default bounds of LoadManifests.
const (
	DefaultMaxDocumentBytes int64 = 8 << 20
	DefaultMaxTotalBytes    int64 = 256 << 20
)

// maxListNesting bounds Lists inside Lists (kubectl accepts them, nobody writes them).
const maxListNesting = 8

// lastAppliedAnnotation is kubectl's copy of the whole object; on a Secret it holds the data.
const lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// Source locates an object in the manifests.
type Source struct {
	File string
	// Line is 1-based: the first line of the document, or of the List item, that defines the object.
	// It is 0 when the error is about a whole file.
	Line int
}

func (s Source) String() string {
	if s.Line <= 0 {
		return s.File
	}
	return s.File + ":" + strconv.Itoa(s.Line)
}

// ManifestError is an input error at a place in the manifests.
type ManifestError struct {
	Source
	Err error
}

func (e *ManifestError) Error() string { return e.String() + ": " + e.Err.Error() }
func (e *ManifestError) Unwrap() error { return e.Err }

// ManifestOptions configures LoadManifests. The zero value is usable.
type ManifestOptions struct {
	// DefaultNamespace is the namespace of namespaced objects without
	// metadata.namespace, as kubectl apply would use; "default" when empty.
	DefaultNamespace string
	// Scope filters namespaced objects and namespaces, as FromReader does.
	Scope Scope
	// MaxDocumentBytes bounds one document: a larger one is an error and is not
	// loaded. 0 means DefaultMaxDocumentBytes.
	MaxDocumentBytes int64
	// MaxTotalBytes bounds all input together: reading stops with an error at
	// the input that would pass it. 0 means DefaultMaxTotalBytes.
	MaxTotalBytes int64
}

// Manifests is what LoadManifests built.
type Manifests struct {
	// Snapshot holds the objects of the kinds the scan reads, in scope, sorted.
	// Every kind is read: a kind the manifests lack has no objects.
	Snapshot *Snapshot
	// Sources locates every object of the Snapshot, except the namespaces
	// synthesized for namespaces no Namespace object defines.
	Sources map[ObjectRef]Source
	// Skipped counts, by "apiVersion/Kind", the objects of kinds (or versions)
	// the scan does not read.
	Skipped map[string]int
	// Warnings are about input that is valid but not judged as the user may
	// expect (a scanned kind in a version the scan does not read), each
	// naming file and line.
	Warnings []string
	// Errors holds every input error, each a *ManifestError naming file and line.
	Errors []error
}

// LoadManifests loads the objects of the given files, directories (walked
// recursively for *.yaml, *.yml and *.json files, in lexical order, skipping
// hidden files and directories) and "-" (stdin, named StdinName) into a
// Snapshot. It loads everything it can: the rest of the input is still
// loaded after an error, and every error is in Errors.
//
// Namespaced objects without a namespace are put in opts.DefaultNamespace.
// Every namespace that an object is in but that no Namespace object defines
// gets a Namespace without labels or annotations, so that namespace-level
// checks judge it as a bare namespace, as a cluster that had just created it
// would hold it.
// Secrets are kept as metadata only, without kubectl's last-applied annotation.
func LoadManifests(paths []string, stdin io.Reader, opts ManifestOptions) *Manifests {
	if opts.DefaultNamespace == "" {
		opts.DefaultNamespace = metav1.NamespaceDefault
	}
	if opts.MaxDocumentBytes <= 0 {
		opts.MaxDocumentBytes = DefaultMaxDocumentBytes
	}
	if opts.MaxTotalBytes <= 0 {
		opts.MaxTotalBytes = DefaultMaxTotalBytes
	}
	l := &loader{
		opts:       opts,
		m:          &Manifests{Snapshot: &Snapshot{}, Sources: map[ObjectRef]Source{}, Skipped: map[string]int{}},
		seen:       map[objectKey]Source{},
		referenced: map[string]bool{},
	}
	for _, p := range paths {
		if l.stopped {
			break
		}
		if p == "-" {
			if stdin == nil {
				l.fail(Source{File: StdinName}, errors.New("no standard input"))
				continue
			}
			l.loadReader(StdinName, stdin)
			continue
		}
		info, err := os.Stat(p)
		switch {
		case err != nil:
			l.fail(Source{File: p}, pathError(err))
		case info.IsDir():
			l.loadDir(p)
		default:
			l.loadFile(p)
		}
	}
	l.finish()
	return l.m
}

// objectKey identifies an object for duplicate detection.
type objectKey struct{ apiVersion, kind, namespace, name string }

type loader struct {
	opts    ManifestOptions
	m       *Manifests
	total   int64 // bytes read so far
	stopped bool  // the total limit was reached

	seen       map[objectKey]Source
	referenced map[string]bool // namespaces that loaded objects are in
}

func (l *loader) fail(src Source, err error) {
	l.m.Errors = append(l.m.Errors, &ManifestError{Source: src, Err: err})
}

// pathError drops the operation and path an *fs.PathError repeats: the Source names the path.
func pathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func (l *loader) loadDir(root string) {
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			l.fail(Source{File: path}, pathError(err))
			return nil // WalkDir skips what it cannot read
		}
		if path != root && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		switch strings.ToLower(filepath.Ext(path)) {
		case ".yaml", ".yml", ".json":
		default:
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			// Follow links to files, never to directories: no cycles.
			if info, err := os.Stat(path); err != nil || info.IsDir() {
				if err != nil {
					l.fail(Source{File: path}, pathError(err))
				}
				return nil
			}
		}
		l.loadFile(path)
		if l.stopped {
			return filepath.SkipAll
		}
		return nil
	})
	if err != nil {
		l.fail(Source{File: root}, pathError(err))
	}
}

func (l *loader) loadFile(path string) {
	f, err := os.Open(path)
	if err != nil {
		l.fail(Source{File: path}, pathError(err))
		return
	}
	defer f.Close()
	l.loadReader(path, f)
}

func (l *loader) loadReader(name string, r io.Reader) {
	remaining := l.opts.MaxTotalBytes - l.total
	data, err := io.ReadAll(io.LimitReader(r, remaining+1))
	l.total += int64(len(data))
	if err != nil {
		l.fail(Source{File: name}, fmt.Errorf("reading: %w", pathError(err)))
		return
	}
	if int64(len(data)) > remaining {
		l.stopped = true
		l.fail(Source{File: name}, fmt.Errorf("the input is over %d bytes in all: stopped reading; this input and any after it are not loaded", l.opts.MaxTotalBytes))
		return
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if strings.EqualFold(filepath.Ext(name), ".json") || firstByte(data) == '{' {
		l.loadJSON(name, data)
		return
	}
	l.loadYAML(name, data)
}

// firstByte returns the first byte that is not white space, or 0.
func firstByte(b []byte) byte {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return c
	}
	return 0
}

// loadJSON loads a stream of JSON values. A syntax error ends the stream:
// nothing after it can be trusted to be where it seems.
func (l *loader) loadJSON(name string, data []byte) {
	dec := json.NewDecoder(bytes.NewReader(data))
	lines := lineCounter{data: data}
	for {
		start := dec.InputOffset()
		for start < int64(len(data)) && bytes.IndexByte([]byte(" \t\r\n"), data[start]) >= 0 {
			start++
		}
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return
		}
		src := Source{File: name, Line: lines.at(start)}
		if err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) && se.Offset > 0 {
				src.Line = lines.at(se.Offset - 1)
			}
			l.fail(src, fmt.Errorf("invalid JSON: %w", err))
			return
		}
		if int64(len(raw)) > l.opts.MaxDocumentBytes {
			l.fail(src, l.tooLarge(int64(len(raw))))
			continue
		}
		if string(raw) == "null" {
			continue
		}
		if raw[0] != '{' {
			l.fail(src, errors.New("the document is not an object"))
			continue
		}
		l.loadObject(src, raw, func() []int { return jsonItemLines(raw, src.Line) }, nil, 0)
	}
}

func (l *loader) tooLarge(n int64) error {
	return fmt.Errorf("the document is %d bytes, over the limit of %d bytes: not loaded", n, l.opts.MaxDocumentBytes)
}

// lineCounter maps byte offsets, asked for in increasing order, to 1-based lines.
type lineCounter struct {
	data []byte
	off  int64
	line int
}

func (c *lineCounter) at(off int64) int {
	if off > int64(len(c.data)) {
		off = int64(len(c.data))
	}
	if off < c.off { // out of order: count again
		c.off, c.line = 0, 0
	}
	c.line += bytes.Count(c.data[c.off:off], []byte{'\n'})
	c.off = off
	return c.line + 1
}

// yamlDoc is one document of a YAML stream.
type yamlDoc struct {
	data      []byte
	firstLine int // the line of data's first byte
}

// splitYAML splits a YAML stream on its document markers: lines that are
// "---" or "..." alone or followed by white space. A marker followed by
// content (other than a comment) belongs to the document it starts, so that
// the parser sees that content.
func splitYAML(data []byte) []yamlDoc {
	var docs []yamlDoc
	start, startLine := 0, 1
	for pos, line := 0, 1; pos < len(data); line++ {
		end := bytes.IndexByte(data[pos:], '\n')
		next := len(data)
		if end >= 0 {
			next = pos + end + 1
		}
		text := strings.TrimRight(string(data[pos:next]), "\r\n")
		if isMarker(text, "---") || isMarker(text, "...") {
			docs = append(docs, yamlDoc{data: data[start:pos], firstLine: startLine})
			rest := strings.TrimSpace(text[3:])
			if rest == "" || strings.HasPrefix(rest, "#") {
				start, startLine = next, line+1
			} else {
				start, startLine = pos, line
			}
		}
		pos = next
	}
	return append(docs, yamlDoc{data: data[start:], firstLine: startLine})
}

func isMarker(line, marker string) bool {
	if !strings.HasPrefix(line, marker) {
		return false
	}
	return len(line) == len(marker) || line[len(marker)] == ' ' || line[len(marker)] == '\t'
}

// contentLine returns the line of a document's first content (not blank, a
// comment, a directive or a bare marker), or 0 for an empty document.
func (d yamlDoc) contentLine() int {
	data := d.data
	for line := d.firstLine; len(data) > 0; line++ {
		text := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			text, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		t := strings.TrimSpace(string(text))
		if t == "" || t[0] == '#' || t[0] == '%' || t == "---" || t == "..." {
			continue
		}
		return line
	}
	return 0
}

// yamlErrorLine finds the line a YAML error is at, relative to its document.
var yamlErrorLine = regexp.MustCompile(`(?s)^yaml: line (\d+): (.*)$`)

func (l *loader) loadYAML(name string, data []byte) {
	for _, doc := range splitYAML(data) {
		line := doc.contentLine()
		if line == 0 {
			continue
		}
		src := Source{File: name, Line: line}
		if int64(len(doc.data)) > l.opts.MaxDocumentBytes {
			l.fail(src, l.tooLarge(int64(len(doc.data))))
			continue
		}
		raw, err := sigsyaml.YAMLToJSON(doc.data)
		if err != nil {
			msg := strings.TrimPrefix(err.Error(), "error converting YAML to JSON: ")
			errSrc := src
			if m := yamlErrorLine.FindStringSubmatch(msg); m != nil {
				if n, err := strconv.Atoi(m[1]); err == nil && n > 0 {
					// An error at the end of the input is "at" the line after it: say the last line.
					last := doc.firstLine + bytes.Count(bytes.TrimRight(doc.data, " \t\r\n"), []byte{'\n'})
					errSrc.Line = min(doc.firstLine+n-1, last)
					msg = m[2]
				}
			}
			l.fail(errSrc, fmt.Errorf("invalid YAML: %s", strings.TrimPrefix(msg, "yaml: ")))
			continue
		}
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 || string(raw) == "null" {
			continue // only comments, or an explicit null
		}
		if raw[0] != '{' {
			l.fail(src, errors.New("the document is not an object"))
			continue
		}
		l.loadObject(src, raw, func() []int { return yamlItemLines(doc) }, nil, 0)
	}
}

// yamlItemLines returns the line of every item of a List document, or nil.
// The document parsed already: parsing it again into nodes costs no more,
// and nodes keep aliases unexpanded.
func yamlItemLines(doc yamlDoc) []int {
	var n yamlv3.Node
	if err := yamlv3.Unmarshal(doc.data, &n); err != nil || n.Kind != yamlv3.DocumentNode || len(n.Content) != 1 {
		return nil
	}
	top := n.Content[0]
	if top.Kind != yamlv3.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value != "items" || top.Content[i+1].Kind != yamlv3.SequenceNode {
			continue
		}
		items := top.Content[i+1].Content
		lines := make([]int, len(items))
		for j, item := range items {
			lines[j] = doc.firstLine + item.Line - 1
		}
		return lines
	}
	return nil
}

// jsonItemLines returns the line of every item of a List object, or nil.
func jsonItemLines(raw []byte, firstLine int) []int {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	lines := lineCounter{data: raw}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return nil
		}
		if key != "items" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil
			}
			continue
		}
		if t, err := dec.Token(); err != nil || t != json.Delim('[') {
			return nil
		}
		var out []int
		for dec.More() {
			off := dec.InputOffset()
			for off < int64(len(raw)) && bytes.IndexByte([]byte(" \t\r\n,"), raw[off]) >= 0 {
				off++
			}
			out = append(out, firstLine+lines.at(off)-1)
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil
			}
		}
		return out
	}
	return nil
}

// header is what decides what a document is.
type header struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   *struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
	Items json.RawMessage `json:"items"`
}

// scannedKinds maps the group and kind of every kind the scan reads to it.
var scannedKinds = func() map[schema.GroupKind]Kind {
	m := make(map[schema.GroupKind]Kind, len(AllKinds))
	for _, k := range AllKinds {
		m[GVK(k).GroupKind()] = k
	}
	return m
}()

// movedKinds are scanned kinds in the group they were served in before
// Kubernetes 1.16: worth a warning, not a silent skip.
var movedKinds = map[schema.GroupKind]Kind{
	{Group: "extensions", Kind: "Deployment"}:    KindDeployment,
	{Group: "extensions", Kind: "ReplicaSet"}:    KindReplicaSet,
	{Group: "extensions", Kind: "DaemonSet"}:     KindDaemonSet,
	{Group: "extensions", Kind: "Ingress"}:       KindIngress,
	{Group: "extensions", Kind: "NetworkPolicy"}: KindNetworkPolicy,
}

// clusterScoped are the kinds the scan reads that have no namespace.
var clusterScoped = map[Kind]bool{
	KindNamespace: true, KindClusterRole: true, KindClusterRoleBinding: true, KindStorageClass: true,
	KindValidatingWebhookConfiguration: true, KindMutatingWebhookConfiguration: true,
	KindValidatingAdmissionPolicy: true, KindValidatingAdmissionPolicyBinding: true,
}

// decoder decodes without conversion or defaulting.
var decoder = scheme.Codecs.UniversalDeserializer()

// loadObject loads one JSON object: a List's items, or an object. def gives
// the apiVersion and kind of List items that leave them out.
func (l *loader) loadObject(src Source, raw []byte, itemLines func() []int, def *schema.GroupVersionKind, depth int) {
	var h header
	if err := utiljson.Unmarshal(raw, &h); err != nil {
		l.fail(src, fmt.Errorf("decoding the object: %w", err))
		return
	}
	if def != nil && h.APIVersion == "" {
		h.APIVersion = def.GroupVersion().String()
	}
	if def != nil && h.Kind == "" {
		h.Kind = def.Kind
	}
	switch {
	case h.APIVersion == "" && h.Kind == "":
		l.fail(src, errors.New("the object has no apiVersion and no kind"))
		return
	case h.APIVersion == "":
		l.fail(src, fmt.Errorf("the %s has no apiVersion", h.Kind))
		return
	case h.Kind == "":
		l.fail(src, fmt.Errorf("the %s object has no kind", h.APIVersion))
		return
	}
	gv, err := schema.ParseGroupVersion(h.APIVersion)
	if err != nil {
		l.fail(src, fmt.Errorf("invalid apiVersion: %w", err))
		return
	}
	gvk := gv.WithKind(h.Kind)
	// Lists have no name; a custom resource named "...List" does.
	isList := h.Kind == "List" || (strings.HasSuffix(h.Kind, "List") && firstByte(h.Items) == '[' && (h.Metadata == nil || h.Metadata.Name == ""))
	if isList {
		l.loadList(src, gvk, h.Items, itemLines, depth)
		return
	}
	if h.Metadata == nil || h.Metadata.Name == "" {
		l.fail(src, fmt.Errorf("the %s %s has no metadata.name", h.APIVersion, h.Kind))
		return
	}
	k, ok := scannedKinds[gvk.GroupKind()]
	if !ok {
		k, ok = movedKinds[gvk.GroupKind()]
	}
	if !ok {
		l.m.Skipped[h.APIVersion+"/"+h.Kind]++
		return
	}
	if want := GVK(k); want != gvk {
		l.m.Skipped[h.APIVersion+"/"+h.Kind]++
		l.m.Warnings = append(l.m.Warnings, fmt.Sprintf("%s: %s %s %q is not judged: the scan reads %s only as %s, the version current API servers serve",
			src, h.APIVersion, h.Kind, h.Metadata.Name, h.Kind, want.GroupVersion()))
		return
	}
	l.loadTyped(src, k, gvk, raw)
}

func (l *loader) loadList(src Source, gvk schema.GroupVersionKind, rawItems json.RawMessage, itemLines func() []int, depth int) {
	if depth >= maxListNesting {
		l.fail(src, fmt.Errorf("lists nested more than %d deep", maxListNesting))
		return
	}
	var items []json.RawMessage
	if len(rawItems) > 0 && string(rawItems) != "null" {
		if err := json.Unmarshal(rawItems, &items); err != nil {
			l.fail(src, fmt.Errorf("the %s items are not a list of objects: %w", gvk.Kind, err))
			return
		}
	}
	if len(items) == 0 {
		return
	}
	var def *schema.GroupVersionKind
	if gvk.Kind != "List" {
		d := gvk.GroupVersion().WithKind(strings.TrimSuffix(gvk.Kind, "List"))
		def = &d
	}
	var lines []int
	if itemLines != nil {
		lines = itemLines()
	}
	for i, item := range items {
		itemSrc := src
		if len(lines) == len(items) {
			itemSrc.Line = lines[i]
		}
		if firstByte(item) != '{' {
			l.fail(itemSrc, fmt.Errorf("%s item %d is not an object", gvk.Kind, i))
			continue
		}
		l.loadObject(itemSrc, item, nil, def, depth+1)
	}
}

// loadTyped decodes an object of a kind the scan reads and adds it to the Snapshot.
func (l *loader) loadTyped(src Source, k Kind, gvk schema.GroupVersionKind, raw []byte) {
	into := Object(k)
	if k == KindSecret {
		into = &corev1.Secret{} // decoded whole, so that a malformed Secret is an error; kept as metadata
	}
	obj, _, err := decoder.Decode(raw, &gvk, into)
	if err != nil {
		l.fail(src, fmt.Errorf("decoding the %s %s: %w", gvk.GroupVersion(), gvk.Kind, err))
		return
	}
	o, ok := obj.(client.Object)
	if !ok {
		l.fail(src, fmt.Errorf("decoding the %s %s: unexpected %T", gvk.GroupVersion(), gvk.Kind, obj))
		return
	}
	// As the manager's cache does: these can hold a Secret's data, and no check reads them.
	o.SetManagedFields(nil)
	if a := o.GetAnnotations(); a != nil {
		if _, found := a[lastAppliedAnnotation]; found {
			delete(a, lastAppliedAnnotation)
			o.SetAnnotations(a)
		}
	}
	if clusterScoped[k] {
		o.SetNamespace("") // as the API server does
	} else if o.GetNamespace() == "" {
		o.SetNamespace(l.opts.DefaultNamespace)
	}
	key := objectKey{apiVersion: gvk.GroupVersion().String(), kind: gvk.Kind, namespace: o.GetNamespace(), name: o.GetName()}
	if first, dup := l.seen[key]; dup {
		l.fail(src, fmt.Errorf("duplicate %s %s %s: first defined at %s, which is the one loaded", key.apiVersion, key.kind, namespacedName(key.namespace, key.name), first))
		return
	}
	l.seen[key] = src
	if ns := o.GetNamespace(); ns != "" {
		l.referenced[ns] = true
	}
	l.m.Sources[ObjectRef{APIVersion: key.apiVersion, Kind: key.kind, Namespace: key.namespace, Name: key.name, UID: o.GetUID()}] = src
	l.m.Snapshot.Add(o)
}

func namespacedName(ns, name string) string {
	if ns == "" {
		return name
	}
	return ns + "/" + name
}

// finish synthesizes the namespaces no Namespace object defines, filters to
// the scope, marks every kind read and sorts.
func (l *loader) finish() {
	s := l.m.Snapshot
	defined := make(map[string]bool, len(s.Namespaces))
	for i := range s.Namespaces {
		defined[s.Namespaces[i].Name] = true
	}
	missing := make([]string, 0, len(l.referenced))
	for ns := range l.referenced {
		if !defined[ns] {
			missing = append(missing, ns)
		}
	}
	slices.Sort(missing)
	for _, ns := range missing {
		s.Namespaces = append(s.Namespaces, corev1.Namespace{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
			ObjectMeta: metav1.ObjectMeta{Name: ns},
		})
	}

	inScope := map[string]bool{}
	namespaces := s.Namespaces[:0]
	for i := range s.Namespaces {
		if l.opts.Scope.Matches(&s.Namespaces[i]) {
			inScope[s.Namespaces[i].Name] = true
			namespaces = append(namespaces, s.Namespaces[i])
		}
	}
	s.Namespaces = namespaces
	keep := func(ns string) bool { return ns == "" || inScope[ns] }
	s.Pods = filter(s.Pods, keep, func(o *corev1.Pod) string { return o.Namespace })
	s.Services = filter(s.Services, keep, func(o *corev1.Service) string { return o.Namespace })
	s.ServiceAccounts = filter(s.ServiceAccounts, keep, func(o *corev1.ServiceAccount) string { return o.Namespace })
	s.Secrets = filter(s.Secrets, keep, func(o *metav1.PartialObjectMetadata) string { return o.Namespace })
	s.Deployments = filter(s.Deployments, keep, func(o *appsv1.Deployment) string { return o.Namespace })
	s.ReplicaSets = filter(s.ReplicaSets, keep, func(o *appsv1.ReplicaSet) string { return o.Namespace })
	s.StatefulSets = filter(s.StatefulSets, keep, func(o *appsv1.StatefulSet) string { return o.Namespace })
	s.DaemonSets = filter(s.DaemonSets, keep, func(o *appsv1.DaemonSet) string { return o.Namespace })
	s.Jobs = filter(s.Jobs, keep, func(o *batchv1.Job) string { return o.Namespace })
	s.CronJobs = filter(s.CronJobs, keep, func(o *batchv1.CronJob) string { return o.Namespace })
	s.Ingresses = filter(s.Ingresses, keep, func(o *networkingv1.Ingress) string { return o.Namespace })
	s.NetworkPolicies = filter(s.NetworkPolicies, keep, func(o *networkingv1.NetworkPolicy) string { return o.Namespace })
	s.Roles = filter(s.Roles, keep, func(o *rbacv1.Role) string { return o.Namespace })
	s.RoleBindings = filter(s.RoleBindings, keep, func(o *rbacv1.RoleBinding) string { return o.Namespace })
	s.LimitRanges = filter(s.LimitRanges, keep, func(o *corev1.LimitRange) string { return o.Namespace })
	s.ResourceQuotas = filter(s.ResourceQuotas, keep, func(o *corev1.ResourceQuota) string { return o.Namespace })
	for ref := range l.m.Sources {
		if (ref.Kind == "Namespace" && ref.APIVersion == "v1" && !inScope[ref.Name]) || !keep(ref.Namespace) {
			delete(l.m.Sources, ref)
		}
	}

	for _, k := range AllKinds {
		s.MarkRead(k)
		s.Partial = true
	}
	s.Sort()
}
