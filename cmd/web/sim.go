package main

import (
	"context"
	"errors"
	"io"
)

// PLACEHOLDER: replaced by the owner of the "sim" subcommand.
func runSim(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	return errors.New("sim: not implemented yet")
}
