package main

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestServerReadLimits: a trickled body or header cannot hold a connection open for long, and
// the largest body still gets through on a slow link.
func TestServerReadLimits(t *testing.T) {
	srv := newHTTPServer(http.NotFoundHandler())
	const maxBody = 32 << 20
	slowLink := 4e6 / 8 // bytes per second of a 4 Mbit/s link
	needed := time.Duration(maxBody / slowLink * float64(time.Second))
	switch {
	case srv.ReadHeaderTimeout <= 0 || srv.ReadHeaderTimeout > 30*time.Second:
		t.Errorf("ReadHeaderTimeout %v, want set and at most 30s", srv.ReadHeaderTimeout)
	case srv.ReadTimeout < needed || srv.ReadTimeout > 5*time.Minute:
		t.Errorf("ReadTimeout %v, want enough for 32 MiB at 4 Mbit/s (%v) and at most 5 minutes", srv.ReadTimeout, needed)
	case srv.IdleTimeout <= 0 || srv.IdleTimeout > 5*time.Minute:
		t.Errorf("IdleTimeout %v, want set and at most 5 minutes", srv.IdleTimeout)
	case srv.MaxHeaderBytes <= 0 || srv.MaxHeaderBytes > 1<<20:
		t.Errorf("MaxHeaderBytes %d, want set and at most 1 MiB", srv.MaxHeaderBytes)
	}
}

func TestParseTrustedProxies(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr string
	}{
		{"", nil, ""},
		{"10.0.0.5", []string{"10.0.0.5"}, ""},
		{"10.0.0.0/24, ::1/128 ,192.168.1.1", []string{"10.0.0.0/24", "::1/128", "192.168.1.1"}, ""},
		{"10.0.0.0/33", nil, `"10.0.0.0/33" is neither`},
		{"proxy.example", nil, `"proxy.example" is neither`},
		{"*", nil, `"*" is neither`},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseTrustedProxies(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// --max-conns bounds the connections the service holds (netutil.LimitListener); it must allow
// at least one.
func TestServeMaxConnsFlag(t *testing.T) {
	run1(t, []string{"serve", "--max-conns", "0"}, []string{"--max-conns", "1 or more"})
	run1(t, []string{"serve", "--max-conns", "-3"}, []string{"--max-conns"})
}
