// Command dutycheck checks duty records against the Rego duties: offline over a dataset folder
// (scan), as an HTTP service over MongoDB (serve), and for policy authors (policy test).
//
// This file and its siblings only wire flags and environment into the internal packages.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/dutycheck/dutycheck/internal/policy"
)

// Exit statuses of every subcommand.
const (
	exitOK         = 0
	exitViolations = 1 // scan: the report has violations; policy test: a test failed
	exitBadInput   = 2 // bad flags, bad dataset, bad policies
)

const usage = `dutycheck — rules-based compliance checker for Party conduct duties (履责留痕)

Usage:
  dutycheck scan --input DIR [--as-of YYYY-MM-DD] [--department ID] [--policies DIR] [--format json|csv|table] [--lang zh|en] [--header codes|zh]
  dutycheck serve [--addr HOST:PORT] [--data DIR] [--mongo-uri URI] [--policies DIR] [--load DIR [--as-of dataset|today|YYYY-MM-DD|none]] [--log-level LEVEL]
  dutycheck import [--mongo-uri URI] [--data DIR] DIR | FILE.xlsx | --collection NAME FILE.csv
  dutycheck passwd [--mongo-uri URI] [--data DIR] USER   (the password from the terminal, or stdin's first line)
  dutycheck gen --organs N [--seed S] [--year Y] [--rate R] --out DIR
  dutycheck bench [--organs 10,100,1000] [--runs 3] [--json] [--offline] [--data DIR] [--mongo-uri URI]
  dutycheck bench --replicas N [--organs 100] [--changes 5] [--json] [--mongo-uri URI]
  dutycheck policy test [DIR] [-v]
  dutycheck ferretdb [--postgresql-url URL] [--listen 127.0.0.1:PORT]   (development and CI: scripts/pgferret)
  dutycheck policy push [--server URL] [--base REVISION] [-m MESSAGE] DIR
  dutycheck policy revisions [--server URL]
  dutycheck policy activate [--server URL] [--base REVISION] [-m MESSAGE] REVISION
  dutycheck policy adopt-builtin [--server URL] [--base REVISION] [-m MESSAGE]

Run "dutycheck <command> -h" for a command's flags.
`

func main() {
	policy.SandboxMain() // a policy sandbox child: evaluate, answer, exit
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one command line and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitBadInput
	}
	var err error
	code := exitOK
	switch args[0] {
	case "scan":
		code, err = runScan(ctx, args[1:], stdout, stderr)
	case "policy":
		code, err = runPolicy(ctx, args[1:], stdout, stderr)
	case "serve":
		err = runServe(ctx, args[1:], stderr)
	case "import":
		err = runImport(ctx, args[1:], stdout, stderr)
	case "passwd":
		err = runPasswd(ctx, args[1:], os.Stdin, stdout, stderr)
	case "gen":
		err = runGen(ctx, args[1:], stdout, stderr)
	case "bench":
		err = runBench(ctx, args[1:], stdout, stderr)
	case "ferretdb":
		err = runFerretDB(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "dutycheck: unknown command %q\n\n%s", args[0], usage)
		return exitBadInput
	}
	if err != nil {
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(stderr, "dutycheck:", err)
		}
		if code == exitOK {
			code = exitBadInput
		}
	}
	return code
}

// errUsage marks an error the flag package has already printed.
var errUsage = errors.New("usage")
