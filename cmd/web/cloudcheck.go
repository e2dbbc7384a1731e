package main

import (
	"context"
	"errors"
	"io"
)

// PLACEHOLDER: replaced by the owner of the "cloud" subcommand.
func runCloud(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	return errors.New("cloud: not implemented yet")
}
