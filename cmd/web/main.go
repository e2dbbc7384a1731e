// Command web is decom's single binary: the console (default, "serve"), the
// standalone simulated cloud ("sim"), and the admin subcommands ("user",
// "audit", "cloud").
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// run dispatches to a subcommand; with none (or only flags) it serves the console.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	getenv, err := withSecretFiles(getenv)
	if err != nil {
		return err
	}
	cmd, rest := "serve", args
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, rest = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return runServe(ctx, rest, getenv, stdout)
	case "sim":
		return runSim(ctx, rest, getenv, stdout)
	case "user":
		return runUser(ctx, rest, getenv, stdout)
	case "audit":
		return runAudit(ctx, rest, getenv, stdout)
	case "cloud":
		return runCloud(ctx, rest, getenv, stdout)
	case "healthcheck":
		return runHealthcheck(ctx, rest, getenv, stdout)
	case "help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		return fmt.Errorf("unknown command %q\n%s", cmd, usage)
	}
}

const usage = `usage: web [command] [flags]

commands:
  serve         run the console (default)
  sim           run the simulated Huawei Cloud alone
  user          add | passwd | disable console users
  audit         verify | export the audit log
  cloud check   check cloud account configuration and reachability
  healthcheck   ask a running console for /healthz (used by the container image)

Run "web <command> --help" for the flags of a command.
`
