package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/netutil"

	"github.com/dutycheck/dutycheck/internal/clock"
	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/embeddb"
	"github.com/dutycheck/dutycheck/internal/httpapi"
	"github.com/dutycheck/dutycheck/internal/ledger"
	"github.com/dutycheck/dutycheck/internal/live"
	"github.com/dutycheck/dutycheck/internal/metrics"
	"github.com/dutycheck/dutycheck/internal/notify"
	"github.com/dutycheck/dutycheck/internal/policy"
	"github.com/dutycheck/dutycheck/internal/priority"
	"github.com/dutycheck/dutycheck/internal/ratelimit"
	"github.com/dutycheck/dutycheck/internal/scan"
	"github.com/dutycheck/dutycheck/internal/schedule"
	"github.com/dutycheck/dutycheck/internal/sheet"
	"github.com/dutycheck/dutycheck/internal/store"
	"github.com/dutycheck/dutycheck/internal/web"
)

// storeConfig is where the records live: a MongoDB URI, or the embedded store's folder.
type storeConfig struct {
	MongoURI string
	Database string
	DataDir  string
	LogLevel slog.Level
	// Hook is the store's test hook (store.Config.Hook); nil outside tests.
	Hook func(point string) error
	// OnTakeover is told of the leases this process takes over (the metrics).
	OnTakeover func(lease string)
	// AdoptScans: this process runs scans, and takes over those of dead replicas (serve).
	AdoptScans bool
}

// serveConfig is everything `dutycheck serve` needs, built from flags and environment.
type serveConfig struct {
	Addr        string
	PoliciesDir string
	LoadDir     string
	// LoadAsOf is the as-of date of the scan of everything that serve runs once --load has
	// imported its folder (--as-of): "dataset" for the latest date the folder's records are dated
	// by (duty.LatestDate), "today", or a date YYYY-MM-DD; the pages' scan form proposes the same
	// date (not for "today"). "" or "none" runs no such scan.
	LoadAsOf   string
	Store      storeConfig
	AdminToken string
	// Sandbox bounds the gate's test runs and every policy evaluation (scans, previews), each
	// run in a child process (policy.Sandbox).
	Sandbox policy.Limits
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names the client
	// (--trusted-proxies); none by default.
	TrustedProxies []string
	// MaxScans bounds the scans running at once (--max-scans).
	MaxScans int
	// MaxConns bounds the client connections open at once (--max-conns); the next waits in the
	// system's accept queue until one closes.
	MaxConns int
	// Schedule is the local time of the daily scan of everything, "HH:MM" (--schedule); ""
	// runs none. TimeZone is the IANA zone of that time and of the scan's as-of date (--tz);
	// "" is the machine's.
	Schedule string
	TimeZone string
	// Clock drives the scheduled scans and the webhook retries; nil is the real clock (tests
	// set a fake one).
	Clock clock.Clock
	// Retention keeps the findings of the last --keep-scans scans of each scope and of every
	// scan younger than --keep-days days.
	Retention store.Retention
	// Ledger holds the evidence file limit (--evidence-max-mb). The ledger's parameters
	// (rectification periods, waiver maximum, standing weights) are data of the policy bundle.
	Ledger ledger.Config
}

// scheduleOf reads the schedule and time zone of cfg; ok is false when no scan is scheduled.
func scheduleOf(cfg serveConfig) (hour, minute int, loc *time.Location, ok bool, err error) {
	if loc, err = schedule.ParseZone(cfg.TimeZone); err != nil {
		return 0, 0, nil, false, fmt.Errorf("serve: --tz: %w", err)
	}
	if cfg.Schedule == "" {
		return 0, 0, loc, false, nil
	}
	if hour, minute, err = schedule.ParseTime(cfg.Schedule); err != nil {
		return 0, 0, nil, false, fmt.Errorf("serve: --schedule: %w", err)
	}
	return hour, minute, loc, true, nil
}

func storeFlags(fs *flag.FlagSet, cfg *storeConfig) *string {
	fs.StringVar(&cfg.MongoURI, "mongo-uri", os.Getenv("MONGODB_URI"), "MongoDB URI (env MONGODB_URI); empty starts the embedded store")
	fs.StringVar(&cfg.Database, "mongo-db", "dutycheck", "database name")
	fs.StringVar(&cfg.DataDir, "data", "./data", "folder of the embedded store")
	return fs.String("log-level", "info", "log level: debug, info, warn or error (debug also shows the embedded store's logs)")
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("--log-level must be debug, info, warn or error, got %q", s)
	}
	return l, nil
}

// openStore connects to MongoDB, or starts the embedded store first. The returned func closes
// both.
func openStore(ctx context.Context, cfg storeConfig, log *slog.Logger) (*store.Store, func(), error) {
	uri := cfg.MongoURI
	var db *embeddb.DB
	if uri == "" {
		var ferretLog *slog.Logger
		if cfg.LogLevel <= slog.LevelDebug {
			ferretLog = log.With("component", "ferretdb")
		}
		var err error
		db, err = embeddb.Start(ctx, embeddb.Config{Dir: filepath.Join(cfg.DataDir, "db"), Logger: ferretLog})
		if err != nil {
			return nil, nil, err
		}
		uri = db.URI()
		log.Info("embedded store started", "folder", filepath.Join(cfg.DataDir, "db"))
	}
	// The embedded store is this process's alone (its folder lock says so): whatever an earlier
	// process left under way is a dead process's, completed by Open.
	st, err := store.Open(ctx, store.Config{URI: uri, Database: cfg.Database, Exclusive: db != nil, Hook: cfg.Hook,
		OnTakeover: cfg.OnTakeover, AdoptScans: cfg.AdoptScans})
	if err != nil {
		if db != nil {
			db.Close()
		}
		return nil, nil, err
	}
	stopIndex := func() {}
	if db != nil {
		stopIndex = keepIDsIndexed(ctx, db, st.Databases(), log)
	}
	return st, func() {
		stopIndex()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = st.Close(ctx)
		if db != nil {
			db.Close()
		}
	}, nil
}

// reindexEvery is how often the embedded store's collections created since the last look
// (ledger, reports of a new organ) get their _id index (embeddb.DB.IndexIDs).
const reindexEvery = time.Minute

// keepIDsIndexed indexes the _id of the collections of the embedded store's databases (the
// store's and its shards, store.Store.Databases) now and every reindexEvery until the returned
// func is called. A shard without a file yet (no organ of it has tables) is passed over. A
// failure is logged: it costs speed only.
func keepIDsIndexed(ctx context.Context, db *embeddb.DB, databases []string, log *slog.Logger) func() {
	index := func(ctx context.Context) {
		for _, database := range databases {
			n, err := db.IndexIDs(ctx, database, store.LookedUpByID)
			switch {
			case errors.Is(err, fs.ErrNotExist):
			case err != nil:
				log.Warn("index the embedded store's ids", "database", database, "err", err)
			case n > 0:
				log.Info("indexed the embedded store's ids", "database", database, "collections", n)
			}
		}
	}
	index(ctx)
	loopCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(reindexEvery)
		defer t.Stop()
		for {
			select {
			case <-loopCtx.Done():
				return
			case <-t.C:
				index(loopCtx)
			}
		}
	}()
	return func() { cancel(); <-done }
}

// pauseHook is for the kill tests only (env DUTYCHECK_PAUSE_AT, a comma-separated list of the
// store's hook points, store.Config.Hook): the first time the process reaches one of them it
// says so on stderr and stops there for good, so that the test kills it with SIGKILL at exactly
// that point. Empty: no hook.
func pauseHook(points string, stderr io.Writer) func(string) error {
	if points == "" {
		return nil
	}
	want := map[string]bool{}
	for _, p := range strings.Split(points, ",") {
		want[strings.TrimSpace(p)] = true
	}
	var mu sync.Mutex
	return func(point string) error {
		mu.Lock()
		hit := want[point]
		delete(want, point)
		mu.Unlock()
		if !hit {
			return nil
		}
		fmt.Fprintf(stderr, "dutycheck: paused at %s (DUTYCHECK_PAUSE_AT)\n", point)
		for {
			time.Sleep(time.Hour) // until killed
		}
	}
}

func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

func runServe(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg serveConfig
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&cfg.PoliciesDir, "policies", "", "policy bundle folder (default: the built-in bundle)")
	fs.StringVar(&cfg.LoadDir, "load", "", "import this dataset folder at start (e.g. fixtures/sample)")
	fs.StringVar(&cfg.LoadAsOf, "as-of", "dataset", "with --load, scan everything once the folder is imported, as of: dataset (the latest date its records are dated by), today, YYYY-MM-DD, or none")
	proxies := fs.String("trusted-proxies", "", "comma-separated addresses or CIDR ranges of reverse proxies whose X-Forwarded-For names the client (default: none, the peer is the client)")
	fs.IntVar(&cfg.MaxConns, "max-conns", defaultMaxConns, "client connections open at once; the next waits until one closes")
	fs.IntVar(&cfg.MaxScans, "max-scans", scan.DefaultMaxScans, "scans that may run at once; one more answers 429 with Retry-After")
	fs.StringVar(&cfg.Schedule, "schedule", os.Getenv("DUTYCHECK_SCHEDULE"), "run a scan of everything every day at this local time, HH:MM (env DUTYCHECK_SCHEDULE; default: none)")
	fs.StringVar(&cfg.TimeZone, "tz", os.Getenv("DUTYCHECK_TZ"), "IANA time zone of --schedule and of its scans' as-of date, e.g. Asia/Shanghai (env DUTYCHECK_TZ; default: the machine's)")
	fs.IntVar(&cfg.Retention.KeepScans, "keep-scans", store.DefaultKeepScans, "keep the findings of the last N scans of each scope (older ones keep their summaries for the trend)")
	fs.IntVar(&cfg.Retention.KeepDays, "keep-days", store.DefaultKeepDays, "keep the findings of every scan younger than D days")
	evidenceMB := fs.Int64("evidence-max-mb", 20, "largest evidence file accepted, in MiB (413 above)")
	level := storeFlags(fs, &cfg.Store)
	memory := fs.Int64("policy-memory", policy.DefaultMemory>>20, "MiB a policy evaluation may use (the gate's tests, one organ of a scan or preview)")
	fs.DurationVar(&cfg.Sandbox.Timeout, "policy-timeout", policy.DefaultTimeout, "wall-clock time of the gate's tests, and of one organ's evaluation")
	if err := movedToParams(args); err != nil {
		return err
	}
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	var err error
	if cfg.TrustedProxies, err = parseTrustedProxies(*proxies); err != nil {
		return err
	}
	if cfg.MaxConns < 1 {
		return fmt.Errorf("serve: --max-conns must be 1 or more, got %d", cfg.MaxConns)
	}
	if cfg.MaxScans < 1 {
		return fmt.Errorf("serve: --max-scans must be 1 or more, got %d", cfg.MaxScans)
	}
	if cfg.Retention.KeepScans < 1 || cfg.Retention.KeepDays < 0 {
		return fmt.Errorf("serve: --keep-scans must be 1 or more and --keep-days 0 or more")
	}
	if *evidenceMB < 1 {
		return fmt.Errorf("serve: --evidence-max-mb must be 1 or more")
	}
	cfg.Ledger.MaxFileBytes = *evidenceMB << 20
	if fs.NArg() > 0 {
		return fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	if err := checkLoadAsOf(fs, cfg); err != nil {
		return err
	}
	if _, _, _, _, err := scheduleOf(cfg); err != nil {
		return err
	}
	if *memory < 64 || cfg.Sandbox.Timeout < time.Second {
		return fmt.Errorf("serve: --policy-memory must be at least 64 (MiB) and --policy-timeout at least 1s")
	}
	cfg.Sandbox.Memory = *memory << 20
	lvl, err := parseLevel(*level)
	if err != nil {
		return err
	}
	cfg.Store.LogLevel = lvl
	cfg.Store.Hook = pauseHook(os.Getenv("DUTYCHECK_PAUSE_AT"), stderr)
	cfg.AdminToken = os.Getenv("DUTYCHECK_ADMIN_TOKEN")
	return serve(ctx, cfg, newLogger(stderr, lvl), nil)
}

// assistEvery is how often a replica looks for other replicas' shared scans to help with.
const assistEvery = 200 * time.Millisecond

// serve runs the service until ctx ends. When ready is not nil it receives the listening
// address once the service accepts requests (used by tests).
func serve(ctx context.Context, cfg serveConfig, log *slog.Logger, ready chan<- string) error {
	hour, minute, loc, scheduled, err := scheduleOf(cfg)
	if err != nil {
		return err
	}
	mets := metrics.New()
	cfg.Store.OnTakeover = mets.LeaseTakeover
	cfg.Store.AdoptScans = true
	st, closeStore, err := openStore(ctx, cfg.Store, log)
	if err != nil {
		return err
	}
	defer closeStore()
	if err := bootstrapAdmin(ctx, st, cfg, log); err != nil {
		return err
	}
	if rec := st.Recovered(); len(rec.Completed)+len(rec.FailedScans)+len(rec.AdoptedScans) > 0 || rec.Rebuilt {
		log.Warn("recovered the store after an interrupted run", "completed", rec.Completed,
			"failed_scans", rec.FailedScans, "adopted_scans", rec.AdoptedScans, "organ_tables_rebuilt", rec.Rebuilt)
	}
	keepCtx, stopKeep := context.WithCancel(ctx)
	defer stopKeep()
	go st.KeepAlive(keepCtx, func(err error) { log.Warn("store lease", "err", err) })
	loadAsOf := ""
	if cfg.LoadDir != "" {
		n, latest, err := loadDir(ctx, st, cfg.LoadDir)
		if err != nil {
			return err
		}
		log.Info("dataset imported", "folder", cfg.LoadDir, "records", n, "latest_date", latest)
		loadAsOf = resolveLoadAsOf(cfg.LoadAsOf, latest, time.Now().In(loc))
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the dutycheck binary for the policy sandbox: %w", err)
	}
	sandbox := policy.NewSandbox(exe, cfg.Sandbox)
	policies, err := live.New(ctx, live.Config{Store: st, Builtin: policy.Builtin(), Dir: cfg.PoliciesDir, Log: log, Sandbox: sandbox})
	if err != nil {
		return err
	}
	if r := policies.Refused(); r != nil {
		// The last good revision serves only if the folder was once good: otherwise the policies
		// in force (the built-in ones, or those changed through the API) are not the ones asked
		// for, and every scan would check other rules than the operator's.
		rev, err := st.RevisionMeta(ctx, policies.Revision())
		if err != nil {
			return err
		}
		if rev.Source != duty.SourceDirectory {
			return fmt.Errorf("the policy folder %s is refused, and no revision of a policy folder was ever in force (%s came from %q): fix the folder, or start without --policies: %v: %w",
				cfg.PoliciesDir, rev.ID, rev.Source, r.Problems, duty.ErrInvalid)
		}
		log.Warn("the policy folder was refused; the last good revision serves", "folder", cfg.PoliciesDir, "problems", r.Problems)
	}
	log.Info("policies in force", "revision", policies.Revision(), "hash", policies.Engine().Revision(), "policies", len(policies.Engine().Policies()))
	pollCtx, stopPoll := context.WithCancel(ctx)
	defer stopPoll()
	go policies.Run(pollCtx)
	notifier := notify.New(notify.Config{Store: st, Clock: cfg.Clock, Log: log, Title: func(id string) string {
		return policies.Engine().PolicyTitle(id, "zh")
	}})
	defer notifier.Shutdown(context.Background()) // on an early return; a no-op after the one below
	cfg.Ledger.Log = log
	ledgerSvc := ledger.New(cfg.Ledger, ledger.Deps{Store: st, Engine: policies.Engine})
	if err := ledgerSvc.Recover(ctx); err != nil {
		return fmt.Errorf("bring the ledger up to date: %w", err)
	}
	// The reads of the API and the pages come before a scan's work (priority.Reads).
	reads := priority.New(0, nil)
	scans := scan.NewService(scan.ServiceConfig{Store: st, Engine: policies.Engine, Log: log, MaxScans: cfg.MaxScans, Observe: mets.Scan, Retention: cfg.Retention, Reads: reads,
		BeforeSave: ledgerSvc.BeforeSave,
		AfterScan:  []func(context.Context, *duty.Scan, *duty.Report){ledgerSvc.AfterScan, notifier.AfterScan}})
	schedCtx, cancelSched := context.WithCancel(ctx)
	schedDone := make(chan struct{})
	stopSched := func() { cancelSched(); <-schedDone }
	defer stopSched()
	if !scheduled {
		close(schedDone)
	} else {
		sched := schedule.New(schedule.Config{Hour: hour, Minute: minute, Location: loc, Scans: scans, Store: st, Clock: cfg.Clock, Log: log})
		go func() { defer close(schedDone); _ = sched.Run(schedCtx) }()
		log.Info("scans scheduled", "at", cfg.Schedule, "zone", loc.String())
	}
	// Retention of old scans and expired sessions: at start, after every scan and hourly.
	houseCtx, stopHouse := context.WithCancel(ctx)
	houseTick := time.NewTicker(time.Hour)
	defer houseTick.Stop()
	houseDone := make(chan struct{})
	go func() { defer close(houseDone); scans.Housekeep(houseCtx, houseTick.C) }()
	defer func() { stopHouse(); <-houseDone }()
	if st.Shared() {
		// Several replicas on one server: help with the others' scans whenever a slot is free.
		assistCtx, stopAssist := context.WithCancel(ctx)
		assistTick := time.NewTicker(assistEvery)
		defer assistTick.Stop()
		assistDone := make(chan struct{})
		go func() { defer close(assistDone); scans.Assist(assistCtx, assistTick.C) }()
		defer func() { stopAssist(); <-assistDone }()
	}
	limiter := ratelimit.New(10, time.Minute)                         // one count of failed sign-ins for the API and the pages
	limiter.Shared = st                                               // and for every process sharing the store
	accounts := ratelimit.New(web.AccountFailures, web.AccountWindow) // failed passwords per user name
	accounts.Shared = st
	// One registry of imports: an import started on the pages is seen by the API.
	imports := sheet.NewJobs(sheet.JobsConfig{Log: log}, st)
	webCfg := web.Config{Log: log}
	if loadAsOf != "" && cfg.LoadAsOf != "today" {
		webCfg.Today = func() string { return loadAsOf }
	}
	if loadAsOf != "" {
		// The state the pages open on: the loaded records scanned as of their own date, not a
		// scan of a past year's sample at today's date that reports every duty of this year.
		sc, err := scans.Start(ctx, scan.Request{AsOf: loadAsOf}, false)
		if err != nil {
			return fmt.Errorf("scan the loaded dataset as of %s: %w", loadAsOf, err)
		}
		log.Info("scan of the loaded dataset started", "scan", sc.ID, "as_of", loadAsOf)
	}
	pages := web.New(webCfg, web.Deps{Store: st, Scans: scans, Policies: policies, Limiter: limiter, Accounts: accounts, Ledger: ledgerSvc, Imports: imports})
	handler := httpapi.New(httpapi.Config{Log: log, TrustedProxies: cfg.TrustedProxies, Reads: reads},
		httpapi.Deps{Store: st, Scans: scans, Policies: policies, Pages: pages, Limiter: limiter, Metrics: mets, Ledger: ledgerSvc, Imports: imports})

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	if cfg.MaxConns == 0 {
		cfg.MaxConns = defaultMaxConns
	}
	ln = netutil.LimitListener(ln, cfg.MaxConns)
	srv := newHTTPServer(handler)
	errCh := make(chan error, 1)
	go func() { errCh <- srv.Serve(ln) }()
	log.Info("dutycheck serving", "addr", "http://"+ln.Addr().String())
	if err := setupLink(ctx, st, ln.Addr().String(), log); err != nil {
		return err
	}
	if ready != nil {
		ready <- ln.Addr().String()
	}
	select {
	case err := <-errCh:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests and scans")
	shutCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("shutdown", "err", err)
	}
	stopSched() // no scheduled scan starts after this
	scans.Shutdown(shutCtx)
	imports.Shutdown(shutCtx)
	// The last scans' messages go out while the shutdown's time lasts; the rest are recorded
	// as abandoned.
	notifier.Shutdown(shutCtx)
	return nil
}

// The server's read limits: a client has ReadHeaderTimeout to send its headers and ReadTimeout
// for the whole request, which lets the largest body (32 MiB) through at about 2.2 Mbit/s, far
// below an intranet's speed, while a body trickled a byte at a time loses its connection after
// two minutes; an idle keep-alive connection is closed after IdleTimeout. Handlers (a scan the
// client waits for) are bounded by httpapi.Config.RequestTimeout, not by these.
//
// defaultMaxConns bounds the connections open at once: each is a file descriptor, and the
// store's own files and connections need theirs. Without a bound, a load the service cannot
// keep up with opened connections until the process ran out of descriptors (18,000 in the
// bench at 1,000 organs) and the store's next file open failed.
const (
	defaultMaxConns   = 1024
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 2 * time.Minute
	idleTimeout       = time.Minute
	maxHeaderBytes    = 64 << 10
)

func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: readHeaderTimeout, ReadTimeout: readTimeout,
		IdleTimeout: idleTimeout, MaxHeaderBytes: maxHeaderBytes}
}

// parseTrustedProxies reads --trusted-proxies: addresses or CIDR ranges, comma-separated.
func parseTrustedProxies(s string) ([]string, error) {
	var out []string
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if _, err := netip.ParsePrefix(part); err != nil {
			if _, err := netip.ParseAddr(part); err != nil {
				return nil, fmt.Errorf("serve: --trusted-proxies: %q is neither an address nor a CIDR range (e.g. 10.0.0.5 or 10.0.0.0/24)", part)
			}
		}
		out = append(out, part)
	}
	return out, nil
}

// bootstrapAdmin makes DUTYCHECK_ADMIN_TOKEN an admin token, or, on a store without users,
// creates the first admin with a one-time token: printed once and, for the embedded store,
// written to DATA/admin-token (mode 0600).
func bootstrapAdmin(ctx context.Context, st *store.Store, cfg serveConfig, log *slog.Logger) error {
	if cfg.AdminToken != "" {
		return st.EnsureAdminToken(ctx, cfg.AdminToken)
	}
	token, err := st.Bootstrap(ctx)
	if err != nil || token == "" {
		return err
	}
	where := "printed here only"
	if cfg.Store.MongoURI == "" {
		file := filepath.Join(cfg.Store.DataDir, "admin-token")
		if err := os.WriteFile(file, []byte(token+"\n"), 0o600); err != nil {
			return fmt.Errorf("write the first admin token: %w", err)
		}
		where = "also written to " + file
	}
	log.Warn("first start: created user admin with a one-time token ("+where+"); use it as \"Authorization: Bearer <token>\" and create other users and tokens with it",
		"token", token)
	return nil
}

// setupTTL is how long the first admin password's setup link works.
const setupTTL = 24 * time.Hour

// setupLink prints the one-time link that sets the first admin's password, while no active
// admin has one (each start makes a new link; the previous one stops working).
func setupLink(ctx context.Context, st *store.Store, addr string, log *slog.Logger) error {
	user, token, err := st.SetupToken(ctx, setupTTL)
	if err != nil || token == "" {
		return err
	}
	log.Warn("no admin has a password yet: open this link once, within 24 hours, to set the password of "+user+
		" (or run \"dutycheck passwd "+user+"\" with the service stopped)", "link", "http://"+addr+"/setup?token="+token)
	return nil
}

// importDir loads a dataset folder and writes it through the store's batch validation.
func importDir(ctx context.Context, st *store.Store, dir string) (int, error) {
	n, _, err := loadDir(ctx, st, dir)
	return n, err
}

// loadDir is importDir that also returns the latest date the folder's records are dated by
// (duty.LatestDate).
func loadDir(ctx context.Context, st *store.Store, dir string) (int, string, error) {
	raw, err := duty.ReadDir(dir)
	if err != nil {
		return 0, "", fmt.Errorf("dataset %s: %w", dir, err)
	}
	n, err := st.PutMany(ctx, duty.System("import "+dir), raw)
	if err != nil {
		return 0, "", fmt.Errorf("import %s: %w", dir, err)
	}
	return n, duty.LatestDate(raw), nil
}

// checkLoadAsOf checks serve's --as-of: dataset, today, none or a date, and only with --load.
func checkLoadAsOf(fs *flag.FlagSet, cfg serveConfig) error {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == "as-of" })
	switch {
	case set && cfg.LoadDir == "":
		return fmt.Errorf("serve: --as-of is the date of the scan after --load; give --load DIR too")
	case cfg.LoadAsOf == "dataset" || cfg.LoadAsOf == "today" || cfg.LoadAsOf == "none":
		return nil
	}
	if err := duty.CheckDate("serve: --as-of", cfg.LoadAsOf); err != nil {
		return fmt.Errorf("%w (or dataset, today, none)", err)
	}
	return nil
}

// resolveLoadAsOf turns --as-of into the date of the scan after --load ("" for none): the
// dataset's latest date (none when no record is dated), today's date in the server's zone, or
// the date given.
func resolveLoadAsOf(asOf, latest string, now time.Time) string {
	switch asOf {
	case "", "none":
		return ""
	case "dataset":
		return latest
	case "today":
		return now.Format(time.DateOnly)
	}
	return asOf
}

// storeCommand parses the flags of a command that works on the store (storeFlags) and its one
// argument, what it names.
func storeCommand(name, what string, args []string, stderr io.Writer) (storeConfig, string, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg storeConfig
	level := storeFlags(fs, &cfg)
	if err := fs.Parse(args); err != nil {
		return cfg, "", errUsage
	}
	if fs.NArg() != 1 {
		return cfg, "", fmt.Errorf("%s: expected one %s, got %d arguments", name, what, fs.NArg())
	}
	lvl, err := parseLevel(*level)
	if err != nil {
		return cfg, "", err
	}
	cfg.LogLevel = lvl
	return cfg, fs.Arg(0), nil
}

func runImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg storeConfig
	level := storeFlags(fs, &cfg)
	collection := fs.String("collection", "", "a workbook's or CSV file's collection (required for CSV)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("import: expected one dataset folder or workbook, got %d arguments", fs.NArg())
	}
	lvl, err := parseLevel(*level)
	if err != nil {
		return err
	}
	cfg.LogLevel = lvl
	cfg.Hook = pauseHook(os.Getenv("DUTYCHECK_PAUSE_AT"), stderr)
	log := newLogger(stderr, lvl)
	st, closeStore, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer closeStore()
	var n int
	if isSheetFile(fs.Arg(0)) {
		n, err = importSheet(ctx, st, fs.Arg(0), *collection, stderr)
	} else {
		n, err = importDir(ctx, st, fs.Arg(0))
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "imported %d records from %s\n", n, fs.Arg(0))
	return nil
}

// movedToParams refuses the flags that set the ledger's parameters before they became data of
// the policy bundle, saying where they are now, rather than starting with other values than
// the ones asked for.
func movedToParams(args []string) error {
	for _, a := range args {
		if a == "--" {
			return nil
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		switch {
		case !strings.HasPrefix(a, "-"):
		case name == "rectify-days", name == "waiver-max-days", name == "standing-weights":
			return fmt.Errorf("serve: --%s is no flag any more: the rectification periods, the waiver maximum and the standing weights are parameters of the policy bundle (data.params.ledger), changed with PUT /api/v1/policies/ledger/params or on the page /policies/ledger", name)
		}
	}
	return nil
}
