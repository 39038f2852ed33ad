package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/passwd"
	"github.com/dutycheck/dutycheck/internal/store"
)

// passwdActor is the audit trail's actor of a password set from the console.
const passwdActor = "cli:passwd"

// runPasswd sets a user's password from the console: `dutycheck passwd [--data DIR |
// --mongo-uri URI] USER`. The password is read from the terminal without echo (asked twice),
// or as the first line of standard input when it is not a terminal. On a store without any
// user, USER is created as an admin (the first start). The service's own store folder is locked
// while serve runs on it: stop serve first, or use the setup link serve prints.
func runPasswd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	cfg, user, err := storeCommand("passwd", "user name", args, stderr)
	if err != nil {
		return err
	}
	if !duty.ValidName(user) {
		return fmt.Errorf("passwd: user name %q: expected %s", user, duty.NameRule)
	}
	pw, err := readPassword(stdin, stderr, user)
	if err != nil {
		return err
	}
	if err := passwd.Check(pw); err != nil {
		return fmt.Errorf("passwd: %w; nothing was changed", err)
	}
	st, closeStore, err := openStore(ctx, cfg, newLogger(stderr, cfg.LogLevel))
	if err != nil {
		return err
	}
	defer closeStore()
	if err := ensurePasswdUser(ctx, st, user, stdout); err != nil {
		return err
	}
	if err := st.SetPassword(ctx, passwdActor, user, pw); err != nil {
		return fmt.Errorf("passwd: %w", err)
	}
	fmt.Fprintf(stdout, "password of %s set; their browser sessions ended\n", user)
	return nil
}

// ensurePasswdUser makes user the first admin on a store without users; otherwise user must
// exist.
func ensurePasswdUser(ctx context.Context, st *store.Store, user string, stdout io.Writer) error {
	_, err := st.GetUser(ctx, user)
	if err == nil || !errors.Is(err, duty.ErrNotFound) {
		return err
	}
	users, err := st.Users(ctx)
	if err != nil {
		return err
	}
	if len(users) > 0 {
		return fmt.Errorf("passwd: no user %q (create users on the admin pages or with PUT /api/v1/users/{name})", user)
	}
	if err := st.PutUser(ctx, passwdActor, duty.User{Name: user, Role: duty.RoleAdmin}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "no user yet: created %s as an admin\n", user)
	return nil
}

// readPassword reads the new password: twice from a terminal without echo, else the first line
// of stdin.
func readPassword(stdin io.Reader, stderr io.Writer, user string) (string, error) {
	if f, ok := stdin.(*os.File); ok && isTerminal(f) {
		fmt.Fprintf(stderr, "new password of %s: ", user)
		pw, err := readHidden(f)
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("passwd: read the password: %w", err)
		}
		fmt.Fprint(stderr, "again: ")
		again, err := readHidden(f)
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("passwd: read the password: %w", err)
		}
		if pw != again {
			return "", errors.New("passwd: the two passwords differ; nothing was changed")
		}
		return pw, nil
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("passwd: read the password from standard input: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// readLine reads one line from a terminal (its echo already off).
func readLine(f *os.File) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(f, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}
