package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/dutycheck/dutycheck/internal/policy"
)

func runPolicy(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	if len(args) == 0 {
		return exitBadInput, fmt.Errorf("policy: expected a subcommand: test")
	}
	switch args[0] {
	case "test":
		fs := flag.NewFlagSet("policy test", flag.ContinueOnError)
		fs.SetOutput(stderr)
		verbose := fs.Bool("v", false, "print every test, not only failures")
		dirs, err := parseInterspersed(fs, args[1:])
		if err != nil {
			return exitBadInput, errUsage
		}
		if len(dirs) > 1 {
			return exitBadInput, fmt.Errorf("policy test: expected at most one policy folder, got %d arguments", len(dirs))
		}
		b := policy.Builtin()
		if len(dirs) == 1 {
			if b, err = policy.LoadDir(dirs[0]); err != nil {
				return exitBadInput, err
			}
		}
		// The service's gate: capabilities, a test for every policy, then the tests (a failing
		// test is reported below, with the others).
		_, results, err := policy.Check(ctx, b)
		if err != nil && results == nil {
			return exitBadInput, err
		}
		pass, fail := 0, 0
		for _, r := range results {
			if r.Pass || r.Skip {
				pass++
			} else {
				fail++
			}
			if *verbose || (!r.Pass && !r.Skip) {
				fmt.Fprintln(stdout, r)
			}
		}
		fmt.Fprintf(stdout, "%d passed, %d failed\n", pass, fail)
		if fail > 0 {
			return exitViolations, nil
		}
		return exitOK, nil
	case "push":
		return policyPush(ctx, args[1:], stdout, stderr)
	case "revisions":
		return policyRevisions(ctx, args[1:], stdout, stderr)
	case "activate":
		return policyActivate(ctx, args[1:], stdout, stderr)
	case "adopt-builtin":
		return policyAdopt(ctx, args[1:], stdout, stderr)
	}
	return exitBadInput, fmt.Errorf("policy: unknown subcommand %q (expected test, push, revisions, activate or adopt-builtin)", args[0])
}

// exitStale is the exit status of a policy change refused because it was made on a revision
// that is no longer in force (the service answered 409): nothing was changed.
const exitStale = 3

// changeFailed turns a refused change into its exit status: 3 when made on a stale base, else 2.
func changeFailed(cmd string, err error) (int, error) {
	var ce *callError
	if errors.As(err, &ce) && ce.status == http.StatusConflict && ce.code == "stale_base" {
		return exitStale, fmt.Errorf("%s: refused, nothing was changed: %w\n"+
			"  (another change came first; see `dutycheck policy revisions`, then redo the change on the revision in force)", cmd, err)
	}
	return exitBadInput, fmt.Errorf("%s: %w", cmd, err)
}

// inForce reads the revision in force, the base of a change made without --base.
func inForce(ctx context.Context, c *apiClient) (string, error) {
	var out struct {
		Revision string `json:"revision"`
	}
	if err := c.call(ctx, "GET", "/api/v1/policies", nil, &out); err != nil {
		return "", err
	}
	if out.Revision == "" {
		return "", fmt.Errorf("the service did not say which revision is in force")
	}
	return out.Revision, nil
}

// policyPush sends a whole policy folder to the service as a new revision: it passes the same
// gate as any change (compile and Rego tests) and becomes active at once. It is made on --base
// (the revision the folder was taken from), else on the revision in force when it is read.
func policyPush(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("policy push", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := clientFlags(fs)
	message := fs.String("m", "", "why: kept with the revision")
	base := fs.String("base", "", "the revision the folder was made on (default: the one in force, read first)")
	if err := fs.Parse(args); err != nil {
		return exitBadInput, errUsage
	}
	if fs.NArg() != 1 {
		return exitBadInput, fmt.Errorf("policy push: expected one policy folder")
	}
	b, err := policy.LoadDir(fs.Arg(0))
	if err != nil {
		return exitBadInput, err
	}
	files := map[string]*string{}
	for p, content := range b.Files {
		files[p] = &content
	}
	msg := *message
	if msg == "" {
		msg = "pushed from " + fs.Arg(0)
	}
	if *base == "" {
		if *base, err = inForce(ctx, c); err != nil {
			return exitBadInput, fmt.Errorf("policy push: %w", err)
		}
	}
	var out struct {
		Revision struct {
			ID, Hash, Parent string
		} `json:"revision"`
	}
	body := map[string]any{"files": files, "replace": true, "message": msg, "base": *base}
	if err := c.call(ctx, "POST", "/api/v1/policies/revisions", body, &out); err != nil {
		return changeFailed("policy push", err)
	}
	fmt.Fprintf(stdout, "revision %s (%s) is in force, made on %s\n", out.Revision.ID, out.Revision.Hash, out.Revision.Parent)
	return exitOK, nil
}

func policyRevisions(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("policy revisions", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := clientFlags(fs)
	if err := fs.Parse(args); err != nil {
		return exitBadInput, errUsage
	}
	var out struct {
		Active    string `json:"active"`
		Revisions []struct {
			ID, Hash, Author, Message, Source string
			CreatedAt                         string `json:"created_at"`
			RestoredFrom                      string `json:"restored_from"`
		} `json:"revisions"`
	}
	if err := c.call(ctx, "GET", "/api/v1/policies/revisions", nil, &out); err != nil {
		return exitBadInput, fmt.Errorf("policy revisions: %w", err)
	}
	for _, r := range out.Revisions {
		mark := " "
		if r.ID == out.Active {
			mark = "*"
		}
		msg := r.Message
		if r.RestoredFrom != "" && !strings.Contains(msg, r.RestoredFrom) {
			msg += " (restores " + r.RestoredFrom + ")"
		}
		fmt.Fprintf(stdout, "%s %-5s %s  %s  %-20s %-9s %s\n", mark, r.ID, r.Hash, r.CreatedAt, r.Author, r.Source, msg)
	}
	return exitOK, nil
}

// policyActivate brings an earlier revision back into force, as a new revision made on --base
// (default: the revision in force, read first).
func policyActivate(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("policy activate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := clientFlags(fs)
	base := fs.String("base", "", "the revision in force the rollback is made on (default: read first)")
	message := fs.String("m", "", "why: kept with the revision")
	if err := fs.Parse(args); err != nil {
		return exitBadInput, errUsage
	}
	if fs.NArg() != 1 {
		return exitBadInput, fmt.Errorf("policy activate: expected one revision id, e.g. r3")
	}
	if *base == "" {
		var err error
		if *base, err = inForce(ctx, c); err != nil {
			return exitBadInput, fmt.Errorf("policy activate: %w", err)
		}
	}
	var out struct {
		Revision struct{ ID string } `json:"revision"`
	}
	body := map[string]any{"base": *base, "message": *message}
	if err := c.call(ctx, "POST", "/api/v1/policies/revisions/"+url.PathEscape(fs.Arg(0))+"/activate", body, &out); err != nil {
		return changeFailed("policy activate", err)
	}
	fmt.Fprintf(stdout, "revision %s is in force again as revision %s\n", fs.Arg(0), out.Revision.ID)
	return exitOK, nil
}

// policyAdopt makes the service's built-in bundle a new revision when it differs from the one
// the store was seeded with (parameter changes kept), on --base (default: read first).
func policyAdopt(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("policy adopt-builtin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := clientFlags(fs)
	base := fs.String("base", "", "the revision in force the adoption is made on (default: read first)")
	message := fs.String("m", "", "why: kept with the revision")
	if err := fs.Parse(args); err != nil {
		return exitBadInput, errUsage
	}
	var info struct {
		Revision string          `json:"revision"`
		Drift    json.RawMessage `json:"drift"`
		Changes  []struct{ Path, Status string }
	}
	if err := c.call(ctx, "GET", "/api/v1/policies/builtin", nil, &info); err != nil {
		return exitBadInput, fmt.Errorf("policy adopt-builtin: %w", err)
	}
	if len(info.Drift) == 0 || string(info.Drift) == "null" {
		fmt.Fprintf(stdout, "the service's built-in bundle is the one the store has: nothing to adopt\n")
		return exitOK, nil
	}
	if *base == "" {
		*base = info.Revision
	}
	for _, ch := range info.Changes {
		fmt.Fprintf(stdout, "  %-8s %s\n", ch.Status, ch.Path)
	}
	var out struct {
		Revision struct{ ID, Hash string } `json:"revision"`
	}
	if err := c.call(ctx, "POST", "/api/v1/policies/builtin/adopt", map[string]any{"base": *base, "message": *message}, &out); err != nil {
		return changeFailed("policy adopt-builtin", err)
	}
	fmt.Fprintf(stdout, "the built-in bundle is in force as revision %s (%s)\n", out.Revision.ID, out.Revision.Hash)
	return exitOK, nil
}

// parseInterspersed parses fs's flags wherever they stand among the arguments (the usage
// `policy test [DIR] [-v]` puts the flag last, where the flag package stops) and returns the
// other arguments in order.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return rest, nil
		}
		rest, args = append(rest, args[0]), args[1:]
	}
}
