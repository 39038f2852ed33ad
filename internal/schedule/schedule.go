// Package schedule runs a scan of everything every day at a set local time, as of that day, so
// that reports and warnings are fresh without anyone pressing a button.
//
// Each day's run is claimed in the store first (a record whose _id is the day, which only one
// insert can create), so that several processes sharing a store scan once a day between them,
// and a restarted process knows the last run: when the latest scheduled time passed while no
// process was up, the scan runs once at start. Time comes from a clock.Clock, so tests move it
// by hand.
package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/dutycheck/dutycheck/internal/clock"
	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/scan"
	"github.com/dutycheck/dutycheck/internal/store"
)

// Scanner starts scans (scan.Service).
type Scanner interface {
	Start(ctx context.Context, req scan.Request, wait bool) (*duty.Scan, error)
}

// Store keeps the claims of the days' runs (store.Store).
type Store interface {
	ClaimScheduledRun(ctx context.Context, day, asOf string) (bool, error)
	SetScheduledScan(ctx context.Context, day, scanID string) error
	LastScheduledRun(ctx context.Context) (*store.ScheduledRun, error)
	RetakeScheduledRun(ctx context.Context, day string) (*store.ScheduledRun, bool, error)
}

// Config sets a Scheduler up.
type Config struct {
	// Hour and Minute are the local time of the daily scan.
	Hour, Minute int
	// Location is the time zone of that time and of the as-of date; nil means time.Local.
	Location *time.Location
	Scans    Scanner
	Store    Store
	// Clock is the time source; nil means the real clock.
	Clock clock.Clock
	Log   *slog.Logger
	// BusyRetry is the wait before claiming the day or starting its scan again when the scan
	// service is at its limit of running scans or the store answered an error; 0 means a
	// minute. BusyTries bounds the tries; 0 means 120.
	BusyRetry time.Duration
	BusyTries int
}

// Scheduler runs the daily scan.
type Scheduler struct{ cfg Config }

// ParseTime reads a time of day "HH:MM" (24-hour clock).
func ParseTime(s string) (hour, minute int, err error) {
	h, m, ok := strings.Cut(s, ":")
	if ok && len(h) == 2 && len(m) == 2 {
		hour, err1 := strconv.Atoi(h)
		minute, err2 := strconv.Atoi(m)
		if err1 == nil && err2 == nil && hour >= 0 && hour <= 23 && minute >= 0 && minute <= 59 {
			return hour, minute, nil
		}
	}
	return 0, 0, fmt.Errorf("%q is not a time of day: expected HH:MM from 00:00 to 23:59, e.g. 02:30", s)
}

// ParseZone reads an IANA time zone name such as "Asia/Shanghai"; "" is the machine's zone.
func ParseZone(name string) (*time.Location, error) {
	if name == "" {
		return time.Local, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil || strings.EqualFold(name, "local") {
		return nil, fmt.Errorf("%q is not a known IANA time zone name (e.g. Asia/Shanghai, UTC)", name)
	}
	return loc, nil
}

// New returns a scheduler.
func New(cfg Config) *Scheduler {
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.BusyRetry <= 0 {
		cfg.BusyRetry = time.Minute
	}
	if cfg.BusyTries <= 0 {
		cfg.BusyTries = 120
	}
	return &Scheduler{cfg: cfg}
}

// maxNap bounds one sleep, so that a clock set forward, a suspended machine or a change of
// daylight saving time is noticed within minutes.
const maxNap = 10 * time.Minute

// Run runs the daily scans until ctx ends (its error then). First, when a scheduled run is on
// record and the latest scheduled time passed since without a run, it runs that day's scan at
// once. At start and at every wake it also runs again a day's scan whose claimant died before
// the scan was done (retake).
func (s *Scheduler) Run(ctx context.Context) error {
	last := s.lastSlot(s.now())
	prev, err := s.cfg.Store.LastScheduledRun(ctx)
	switch {
	case err == nil && prev.Day < day(last):
		s.cfg.Log.Info("scheduled scan missed while the service was down; running it now", "missed", day(last), "last_run", prev.Day)
		s.fire(ctx, day(last))
	case err == nil, errors.Is(err, duty.ErrNotFound):
		s.retake(ctx, day(last))
	default:
		s.cfg.Log.Warn("scheduled scans: read the last run", "err", err)
	}
	for {
		now := s.now()
		next := s.slot(now)
		if !next.After(now) {
			next = s.slot(now.AddDate(0, 0, 1))
		}
		s.cfg.Log.Info("next scheduled scan", "at", next.Format(time.RFC3339))
		for now.Before(next) {
			if err := s.cfg.Clock.Sleep(ctx, min(next.Sub(now), maxNap)); err != nil {
				return err
			}
			now = s.now()
			if now.Before(next) {
				s.retake(ctx, day(s.lastSlot(now)))
			}
		}
		s.fire(ctx, day(next))
	}
}

func (s *Scheduler) now() time.Time { return s.cfg.Clock.Now().In(s.cfg.Location) }

// slot is the scheduled time on t's day.
func (s *Scheduler) slot(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), s.cfg.Hour, s.cfg.Minute, 0, 0, s.cfg.Location)
}

// lastSlot is the latest scheduled time at or before t.
func (s *Scheduler) lastSlot(t time.Time) time.Time {
	if last := s.slot(t); !last.After(t) {
		return last
	}
	return s.slot(t.AddDate(0, 0, -1))
}

func day(t time.Time) string { return t.Format(time.DateOnly) }

// fire claims day's run and, when this process got it, starts a scan of everything as of
// today, waiting while the scan service is busy.
func (s *Scheduler) fire(ctx context.Context, d string) {
	asOf := day(s.now())
	var ok bool
	// Unclaimed, the day's run would be lost: no process retakes a run nobody claimed.
	err := s.retry(ctx, "claim", d, func() (err error) {
		ok, err = s.cfg.Store.ClaimScheduledRun(ctx, d, asOf)
		return err
	})
	if err != nil {
		return
	}
	if !ok {
		s.cfg.Log.Info("scheduled scan already run by another process", "day", d)
		return
	}
	s.start(ctx, d, asOf)
}

// retake runs day d's scheduled scan again when the process that claimed it died before its
// scan was done (store.RetakeScheduledRun): the scheduler looks at every wake, at most maxNap
// apart, so such a run is done again within minutes by one of the processes left.
func (s *Scheduler) retake(ctx context.Context, d string) {
	run, ok, err := s.cfg.Store.RetakeScheduledRun(ctx, d)
	if err != nil {
		s.cfg.Log.Warn("scheduled scan: look for a run a dead process left", "day", d, "err", err)
		return
	}
	if ok {
		s.cfg.Log.Warn("scheduled scan claimed again: the process that claimed it died before its scan was done", "day", d, "claim", run.Day)
		s.start(ctx, run.Day, run.AsOf)
	}
}

// start starts the scan of claim id (a day, or a day claimed again), waiting while the scan
// service is busy.
func (s *Scheduler) start(ctx context.Context, id, asOf string) {
	var sc *duty.Scan
	// The run is claimed by this live process, so no other process would retake it.
	err := s.retry(ctx, "start", id, func() (err error) {
		sc, err = s.cfg.Scans.Start(ctx, scan.Request{AsOf: asOf}, false)
		return err
	})
	if err != nil {
		return
	}
	s.cfg.Log.Info("scheduled scan started", "day", id, "as_of", asOf, "scan", sc.ID)
	if err := s.cfg.Store.SetScheduledScan(ctx, id, sc.ID); err != nil {
		s.cfg.Log.Warn("scheduled scan: record its id", "day", id, "err", err)
	}
}

// retry calls step (claiming day id's run, or starting its scan) until it succeeds, waiting
// BusyRetry between tries: a busy scan service or a store error is waited out, or the day
// would go unchecked. A refusal is final (duty.ErrInvalid, or duty.ErrConflict: a store with
// no department, which waiting does not fill), and so is the BusyTries-th failure; both are
// logged and returned, as is the context's end.
func (s *Scheduler) retry(ctx context.Context, what, id string, step func() error) error {
	for try := 1; ; try++ {
		err := step()
		if err == nil {
			return nil
		}
		if errors.Is(err, duty.ErrInvalid) || errors.Is(err, duty.ErrConflict) || try >= s.cfg.BusyTries {
			s.cfg.Log.Error("scheduled scan: "+what+" failed", "day", id, "tries", try, "err", err)
			return err
		}
		if !errors.Is(err, duty.ErrBusy) {
			s.cfg.Log.Warn("scheduled scan: "+what+" failed; trying again", "day", id, "try", try, "err", err)
		}
		if err := s.cfg.Clock.Sleep(ctx, s.cfg.BusyRetry); err != nil {
			return err
		}
	}
}
