package main

import (
	"context"
	"errors"
	"io"
)

// PLACEHOLDER: replaced by the owner of the "audit" subcommand.
func runAudit(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	return errors.New("audit: not implemented yet")
}
