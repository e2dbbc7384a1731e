package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/decom/decom/auth"
)

const userUsage = `usage: web user <command> [flags] USERNAME

commands:
  add      create a user:            web user add --roles requester,approver NAME
  passwd   set a user's password:    web user passwd NAME
  disable  stop a user signing in:   web user disable NAME
  roles    replace a user's roles:   web user roles --roles auditor NAME
  signout  end all a user's sessions: web user signout NAME

A password change, disabling and a role change also end all the user's
sessions, at once.

The password comes from --password-file (use - for standard input), else the
environment variable DECOM_USER_PASSWORD, else a random one is generated and
printed once. Changes are recorded in the audit log.
`

// runUser manages console users directly in the database.
func runUser(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, userUsage)
		return nil
	}
	cmd := args[0]
	if cmd != "add" && cmd != "passwd" && cmd != "disable" && cmd != "roles" && cmd != "signout" {
		return fmt.Errorf("unknown user command %q\n%s", cmd, userUsage)
	}
	fs := flag.NewFlagSet("user "+cmd, flag.ContinueOnError)
	fs.SetOutput(stdout)
	data := fs.String("data", envOr(getenv, "DECOM_DATA", "./data"), "data directory (env DECOM_DATA)")
	roles := fs.String(
		"roles",
		"viewer",
		"add, roles: comma-separated roles: viewer, requester, approver, auditor, admin",
	)
	pwFile := fs.String("password-file", "", "read the password from this file's first line (- for standard input)")
	fs.Usage = func() { fmt.Fprint(stdout, userUsage+"\nflags:\n"); fs.PrintDefaults() }
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("user %s: give exactly one USERNAME\n%s", cmd, userUsage)
	}
	name := fs.Arg(0)
	db, err := openDB(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	users := auth.New(db, auth.Options{})
	o := auth.Origin{Actor: "cli:" + envOr(getenv, "USER", "unknown"), ClientIP: "local"}
	return userAction(ctx, users, o, userArgs{cmd: cmd, name: name, roles: *roles, pwFile: *pwFile}, getenv, stdout)
}

type userArgs struct{ cmd, name, roles, pwFile string }

// userAction runs one user subcommand against the store.
func userAction(
	ctx context.Context,
	users *auth.Service,
	o auth.Origin,
	a userArgs,
	getenv func(string) string,
	stdout io.Writer,
) error {
	switch a.cmd {
	case "add":
		rs, err := auth.ParseRoles(a.roles)
		if err != nil {
			return err
		}
		pw, generated, err := newPassword(a.pwFile, getenv)
		if err != nil {
			return err
		}
		if _, err := users.Create(ctx, o, a.name, pw, rs); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created %s (%s)\n", a.name, a.roles)
		printGenerated(stdout, generated, pw)
	case "passwd":
		pw, generated, err := newPassword(a.pwFile, getenv)
		if err != nil {
			return err
		}
		if err := users.SetPassword(ctx, o, a.name, pw); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "password of %s changed\n", a.name)
		printGenerated(stdout, generated, pw)
	case "disable":
		if err := users.Disable(ctx, o, a.name); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s disabled; their sessions have ended\n", a.name)
	case "roles":
		rs, err := auth.ParseRoles(a.roles)
		if err != nil {
			return err
		}
		if err := users.SetRoles(ctx, o, a.name, rs); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "roles of %s: %s; their sessions have ended\n", a.name, a.roles)
	case "signout":
		n, err := users.RevokeUserSessions(ctx, o, a.name, "signed out by an operator")
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%d session(s) of %s ended\n", n, a.name)
	default:
		return fmt.Errorf("unknown user command %q\n%s", a.cmd, userUsage)
	}
	return nil
}

func printGenerated(w io.Writer, generated bool, pw string) {
	if generated {
		fmt.Fprintf(w, "password: %s\n", pw)
	}
}

// newPassword reads the password from file (or stdin for "-"), else
// DECOM_USER_PASSWORD, else generates one.
func newPassword(file string, getenv func(string) string) (pw string, generated bool, err error) {
	if file != "" {
		var r io.Reader = os.Stdin
		if file != "-" {
			f, err := os.Open(file)
			if err != nil {
				return "", false, err
			}
			defer f.Close()
			r = f
		}
		line, err := bufio.NewReader(r).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", false, fmt.Errorf("read password: %w", err)
		}
		return strings.TrimRight(line, "\r\n"), false, nil
	}
	if pw := getenv("DECOM_USER_PASSWORD"); pw != "" {
		return pw, false, nil
	}
	return auth.GeneratePassword(), true, nil
}
