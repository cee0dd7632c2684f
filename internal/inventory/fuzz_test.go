package inventory

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// FuzzLoadManifests feeds arbitrary bytes to LoadManifests as standard
// input. Whatever the input, loading must not panic, every error must name
// the input (and a line inside it), and every object must be located in it.
// The seed corpus is in testdata/fuzz/FuzzLoadManifests.
func FuzzLoadManifests(f *testing.F) {
	f.Add([]byte(multiDoc))
	f.Add([]byte(list))
	f.Add([]byte(deploymentList))
	f.Add([]byte("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {k: dmFsdWU=}\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		m := LoadManifests([]string{"-"}, bytes.NewReader(in), ManifestOptions{MaxDocumentBytes: 64 << 10, MaxTotalBytes: 1 << 20})
		if m.Snapshot == nil {
			t.Fatal("no Snapshot")
		}
		lines := bytes.Count(in, []byte{'\n'}) + 1
		for _, err := range m.Errors {
			var me *ManifestError
			if !errors.As(err, &me) || me.File != StdinName || !strings.HasPrefix(err.Error(), StdinName) {
				t.Errorf("error does not name %s: %v", StdinName, err)
				continue
			}
			if me.Line < 0 || me.Line > lines {
				t.Errorf("error at line %d of a %d-line input: %v", me.Line, lines, err)
			}
		}
		for ref, src := range m.Sources {
			if src.File != StdinName || src.Line < 1 || src.Line > lines {
				t.Errorf("%+v located at %s in a %d-line input", ref, src, lines)
			}
		}
		for _, w := range m.Warnings {
			if !strings.HasPrefix(w, StdinName+":") {
				t.Errorf("warning does not name %s: %s", StdinName, w)
			}
		}
		for _, k := range AllKinds {
			if !m.Snapshot.Has(k) {
				t.Errorf("kind %s not read", k)
			}
		}
		for _, sec := range m.Snapshot.Secrets {
			if _, ok := sec.Annotations[lastAppliedAnnotation]; ok {
				t.Errorf("Secret %s keeps %s", sec.Name, lastAppliedAnnotation)
			}
		}
	})
}
