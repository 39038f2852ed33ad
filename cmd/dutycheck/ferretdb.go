package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/dutycheck/dutycheck/internal/embeddb"
)

// runFerretDB runs FerretDB v1 with its PostgreSQL backend on a loopback address: the separate
// database server of development and CI (scripts/pgferret), built from this module's own
// dependencies (go install of FerretDB's own command at v1.24.2 panics on a missing version file).
func runFerretDB(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ferretdb", flag.ContinueOnError)
	fs.SetOutput(stderr)
	pgURL := fs.String("postgresql-url", "postgres://127.0.0.1:5432/ferretdb?pool_max_conns=200", "PostgreSQL connection string (pgx; pool_max_conns sets FerretDB's pool)")
	listen := fs.String("listen", "127.0.0.1:27017", "loopback TCP address to listen on")
	verbose := fs.Bool("v", false, "log FerretDB's own messages to stderr")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	var logger *slog.Logger
	if *verbose {
		logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return embeddb.ServePostgreSQL(ctx, *pgURL, *listen, logger, func(uri string) {
		fmt.Fprintln(stdout, uri)
	})
}
