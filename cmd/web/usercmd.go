package main

import (
	"context"
	"errors"
	"io"
)

// PLACEHOLDER: replaced by the owner of the "user" subcommand.
func runUser(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	return errors.New("user: not implemented yet")
}
