package main

import (
	"errors"
	"math"
	"runtime/debug"
	"testing"

	"github.com/KimMachineGun/automemlimit/memlimit"
	"github.com/go-logr/logr"
)

func TestSetMemoryLimit(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	noLimit := func() (uint64, error) { return 0, memlimit.ErrNoLimit }
	cases := map[string]struct {
		ratio    float64
		provider memlimit.Provider
		env      map[string]string
		want     int64
		wantErr  bool
	}{
		"90% of a 256 MiB container":         {ratio: 0.9, provider: memlimit.Limit(256 << 20), want: 256 << 20 * 9 / 10},
		"all of it":                          {ratio: 1, provider: memlimit.Limit(100 << 20), want: 100 << 20},
		"no container limit: none":           {ratio: 0.9, provider: noLimit, want: math.MaxInt64},
		"GOMEMLIMIT in the environment wins": {ratio: 0.9, provider: memlimit.Limit(256 << 20), env: map[string]string{"GOMEMLIMIT": "50MiB"}, want: 50 << 20},
		"ratio 0 leaves it alone":            {ratio: 0, provider: memlimit.Limit(256 << 20), want: math.MaxInt64},
		"ratio above 1":                      {ratio: 1.5, provider: memlimit.Limit(256 << 20), wantErr: true},
		"negative ratio":                     {ratio: -0.1, provider: memlimit.Limit(256 << 20), wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
				if k == "GOMEMLIMIT" {
					// The runtime reads GOMEMLIMIT at start; set what it would have.
					debug.SetMemoryLimit(tc.want)
				}
			}
			if tc.env == nil {
				debug.SetMemoryLimit(math.MaxInt64)
			}
			got, err := setMemoryLimit(tc.ratio, tc.provider, logr.Discard())
			if tc.wantErr {
				if !errors.Is(err, errMemoryLimitRatio) {
					t.Fatalf("want errMemoryLimitRatio, got limit %d and error %v", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want || debug.SetMemoryLimit(-1) != tc.want {
				t.Errorf("limit %d (runtime %d), want %d", got, debug.SetMemoryLimit(-1), tc.want)
			}
		})
	}
}
