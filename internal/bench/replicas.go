package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"
)

// Replica is a running `dutycheck serve` process of `dutycheck bench --replicas`.
type Replica interface {
	// URL is its base URL (http://127.0.0.1:port).
	URL() string
	// Paused is closed once the process stopped at its pause point (DUTYCHECK_PAUSE_AT).
	Paused() <-chan struct{}
	// Kill ends it with SIGKILL; Stop with SIGTERM, waiting for its orderly end.
	Kill()
	Stop()
}

// ReplicasConfig says how to measure replicas sharing one database server whose store already
// holds the generated organs.
type ReplicasConfig struct {
	// Replicas is how many processes share the scans (at least 2).
	Replicas int
	// Start starts one more replica on the store; pauseAt, when not "", makes it stop at that
	// point of the store (a replica that holds a chunk when it is killed).
	Start func(ctx context.Context, pauseAt string) (Replica, error)
	Token string // an admin's bearer token
	// Year is the generated year: the scans run as of distinct days of its December, so that
	// none reuses another's results.
	Year int
	// Changes is how many policy changes are timed.
	Changes int
	Log     io.Writer
}

// ReplicasResult is what `dutycheck bench --replicas` measured.
type ReplicasResult struct {
	Replicas int `json:"replicas"`
	// OneS and ManyS are a full scan by one replica alone, then by Replicas replicas.
	OneS  float64 `json:"one_replica_scan_s"`
	ManyS float64 `json:"replicas_scan_s"`
	// KilledS is a full scan by Replicas replicas of which one is killed with SIGKILL while it
	// holds a chunk; AfterKillS the part of it after the kill.
	KilledS    float64 `json:"killed_scan_s"`
	AfterKillS float64 `json:"after_kill_s"`
	// CoordinatorKilledS is the time from the SIGKILL of a scan's coordinator (at its first
	// organ) to the end of the scan, taken over by another replica.
	CoordinatorKilledS float64 `json:"coordinator_killed_s"`
	// Violations are the four scans' counts.
	Violations []int `json:"violations"`
	// PropagationMs are the times a policy change made on one replica took to be served by all
	// the others, sorted.
	PropagationMs []float64 `json:"propagation_ms"`
}

func (c *ReplicasConfig) logf(format string, a ...any) {
	if c.Log != nil {
		fmt.Fprintf(c.Log, "bench --replicas: "+format+"\n", a...)
	}
}

// Replicas runs the measures: one replica scans; the others join and scan; one more joins
// that stops at its first organ read, holding a chunk, and is killed there; a scan is asked of
// one more that stops at its first organ read and is killed there, and another replica takes
// the scan over; policy changes are made on the first and awaited on the others.
func Replicas(ctx context.Context, cfg ReplicasConfig) (*ReplicasResult, error) {
	res := &ReplicasResult{Replicas: cfg.Replicas}
	first, err := cfg.Start(ctx, "")
	if err != nil {
		return nil, err
	}
	defer first.Stop()
	day := 31
	scan := func(r Replica) (float64, int, error) {
		asOf := fmt.Sprintf("%04d-12-%02d", cfg.Year, day)
		day--
		start := time.Now()
		var sc struct {
			Status string `json:"status"`
			Report struct {
				Summary struct {
					Violations int `json:"violations"`
				} `json:"summary"`
			} `json:"report"`
		}
		if err := call(ctx, r, cfg.Token, http.MethodPost, "/api/v1/scans", map[string]any{"as_of": asOf}, http.StatusCreated, &sc); err != nil {
			return 0, 0, err
		}
		return time.Since(start).Seconds(), sc.Report.Summary.Violations, nil
	}

	cfg.logf("a full scan by one replica")
	s, n, err := scan(first)
	if err != nil {
		return nil, err
	}
	res.OneS, res.Violations = s, append(res.Violations, n)

	var others []Replica
	for range cfg.Replicas - 1 {
		r, err := cfg.Start(ctx, "")
		if err != nil {
			return nil, err
		}
		defer func() { r.Stop() }()
		others = append(others, r)
	}
	cfg.logf("a full scan by %d replicas", cfg.Replicas)
	if s, n, err = scan(first); err != nil {
		return nil, err
	}
	res.ManyS, res.Violations = s, append(res.Violations, n)

	// One of the others is replaced by a replica that stops holding its first chunk.
	last := others[len(others)-1]
	last.Stop()
	dying, err := cfg.Start(ctx, "scan.organ-read")
	if err != nil {
		return nil, err
	}
	defer dying.Kill()
	others[len(others)-1] = dying
	cfg.logf("a full scan by %d replicas, one killed holding a chunk", cfg.Replicas)
	asOf := fmt.Sprintf("%04d-12-%02d", cfg.Year, day)
	sc := ServeConfig{Addr: first.URL(), Token: cfg.Token, ScanAsOf: asOf}
	start := time.Now()
	id, err := startScan(ctx, http.DefaultClient, sc)
	if err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- waitScan(ctx, http.DefaultClient, sc, id, 20*time.Millisecond) }()
	var killed time.Time
	select {
	case <-dying.Paused():
		dying.Kill()
		killed = time.Now()
	case err := <-done:
		if err == nil {
			err = fmt.Errorf("the scan ended before the replica to be killed took a chunk")
		}
		return nil, err
	}
	if err := <-done; err != nil {
		return nil, err
	}
	res.KilledS, res.AfterKillS = time.Since(start).Seconds(), time.Since(killed).Seconds()
	var got struct {
		Report struct {
			Summary struct {
				Violations int `json:"violations"`
			} `json:"summary"`
		} `json:"report"`
	}
	if err := call(ctx, first, cfg.Token, http.MethodGet, "/api/v1/scans/"+id, nil, http.StatusOK, &got); err != nil {
		return nil, err
	}
	res.Violations = append(res.Violations, got.Report.Summary.Violations)

	day--
	alive := others[:len(others)-1]

	cfg.logf("a full scan whose coordinator is killed at its first organ")
	coordinator, err := cfg.Start(ctx, "scan.organ-read")
	if err != nil {
		return nil, err
	}
	defer coordinator.Kill()
	sc = ServeConfig{Addr: coordinator.URL(), Token: cfg.Token, ScanAsOf: fmt.Sprintf("%04d-12-%02d", cfg.Year, day)}
	if id, err = startScan(ctx, http.DefaultClient, sc); err != nil {
		return nil, err
	}
	select {
	case <-coordinator.Paused():
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	coordinator.Kill()
	killed = time.Now()
	sc.Addr = first.URL()
	if err := waitScan(ctx, http.DefaultClient, sc, id, 50*time.Millisecond); err != nil {
		return nil, err
	}
	res.CoordinatorKilledS = time.Since(killed).Seconds()
	if err := call(ctx, first, cfg.Token, http.MethodGet, "/api/v1/scans/"+id, nil, http.StatusOK, &got); err != nil {
		return nil, err
	}
	res.Violations = append(res.Violations, got.Report.Summary.Violations)

	cfg.logf("%d policy changes", cfg.Changes)
	for i := range cfg.Changes {
		var cur struct {
			Revision string `json:"revision"`
		}
		if err := call(ctx, first, cfg.Token, http.MethodGet, "/api/v1/policies", nil, http.StatusOK, &cur); err != nil {
			return nil, err
		}
		var made struct {
			Revision struct {
				ID string `json:"id"`
			} `json:"revision"`
		}
		if err := call(ctx, first, cfg.Token, http.MethodPut, "/api/v1/policies/talk.pre_appointment/params",
			map[string]any{"base": cur.Revision, "params": map[string]any{"max_days_before": 40 + i}, "message": "bench"}, http.StatusCreated, &made); err != nil {
			return nil, err
		}
		changed := time.Now()
		for _, r := range alive {
			for {
				var rev struct {
					Revision string `json:"revision"`
				}
				if err := call(ctx, r, cfg.Token, http.MethodGet, "/api/v1/policies", nil, http.StatusOK, &rev); err != nil {
					return nil, err
				}
				if rev.Revision == made.Revision.ID {
					break
				}
				if time.Since(changed) > time.Minute {
					return nil, fmt.Errorf("replica %s still serves %s a minute after %s", r.URL(), rev.Revision, made.Revision.ID)
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		res.PropagationMs = append(res.PropagationMs, float64(time.Since(changed).Microseconds())/1000)
	}
	slices.Sort(res.PropagationMs)
	return res, nil
}

// call sends a request as the admin, expects status want and decodes the answer into out.
func call(ctx context.Context, r Replica, token, method, path string, body any, want int, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.URL()+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %s %s", method, path, resp.Status, b)
	}
	return json.Unmarshal(b, out)
}
