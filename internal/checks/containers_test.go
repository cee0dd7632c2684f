package checks

import (
	"strconv"
	"testing"
)

// TestAppendQuoted checks that the fast path quotes exactly as strconv does.
func TestAppendQuoted(t *testing.T) {
	testCases := map[string]string{
		"empty":           "",
		"plain":           "app-1.web_x:latest",
		"space and tilde": "a b~",
		"double quote":    `say "hi"`,
		"backslash":       `C:\dir`,
		"newline":         "a\nb",
		"tab":             "a\tb",
		"DEL":             "a\x7fb",
		"printable UTF-8": "café",
		"invalid UTF-8":   "a\xffb",
		"non-printable":   "a\u200bb",
	}
	for name, s := range testCases {
		t.Run(name, func(t *testing.T) {
			want := strconv.AppendQuote([]byte("x: "), s)
			if got := appendQuoted([]byte("x: "), s); string(got) != string(want) {
				t.Errorf("appendQuoted(%q) = %s, want %s", s, got, want)
			}
		})
	}
}
