package main

import (
	"errors"
	"runtime/debug"
	"testing"
)

func TestSetGCPercent(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	testCases := map[string]struct {
		percent int
		env     string
		want    int
		wantErr error
	}{
		"the flag":               {percent: 25, want: 25},
		"GOGC in the env wins":   {percent: 25, env: "80", want: 80},
		"zero is an error":       {percent: 0, wantErr: errGCPercent},
		"negative is an error":   {percent: -1, wantErr: errGCPercent},
		"one":                    {percent: 1, want: 1},
		"the flag, again at 100": {percent: 100, want: 100},
	}
	for name, tc := range testCases {
		t.Run(name, func(t *testing.T) {
			if tc.env != "" {
				debug.SetGCPercent(80) // what the runtime read from GOGC at start
			}
			got, err := setGCPercent(tc.percent, func(k string) string {
				if k == "GOGC" {
					return tc.env
				}
				return ""
			})
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("setGCPercent() error = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if got != tc.want {
				t.Errorf("setGCPercent() = %d, want %d", got, tc.want)
			}
			if now := debug.SetGCPercent(100); now != tc.want {
				t.Errorf("GOGC in force = %d, want %d", now, tc.want)
			}
		})
	}
}
