package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/decom/decom/audit"
	"github.com/decom/decom/store"
)

const auditUsage = `usage: web audit verify [--data DIR] [--pubkey FILE] [--sign]
       web audit export [--data DIR] [--format csv|jsonl] [--out FILE] [filters]
`

// runAudit runs "audit verify" (exit status non-zero naming the first bad
// event) and "audit export" (streamed, itself recorded as an audit event).
func runAudit(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("audit: missing subcommand\n" + auditUsage)
	}
	switch args[0] {
	case "verify":
		return runAuditVerify(ctx, args[1:], getenv, stdout)
	case "export":
		return runAuditExport(ctx, args[1:], getenv, stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, auditUsage)
		return nil
	}
	return fmt.Errorf("audit: unknown subcommand %q\n%s", args[0], auditUsage)
}

// auditDataFlag registers --data (default ./data, env DECOM_DATA).
func auditDataFlag(fs *flag.FlagSet, getenv func(string) string) *string {
	def := getenv("DECOM_DATA")
	if def == "" {
		def = "./data"
	}
	return fs.String("data", def, "data directory holding decom.db (env DECOM_DATA)")
}

// auditOpenLog opens an existing database; it never creates one.
func auditOpenLog(dataDir string) (*audit.Log, func() error, error) {
	path := filepath.Join(dataDir, "decom.db")
	if _, err := os.Stat(path); err != nil {
		return nil, nil, fmt.Errorf("audit: no database: %w", err)
	}
	db, err := store.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("audit: %w", err)
	}
	return audit.New(db, audit.Options{Now: time.Now}), db.Close, nil
}

func runAuditVerify(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	fs.SetOutput(stdout)
	data := auditDataFlag(fs, getenv)
	pubPath := fs.String(
		"pubkey",
		"",
		"Ed25519 public key for checkpoints (default <data>/"+audit.PublicKeyFile+" if present)",
	)
	sign := fs.Bool("sign", false, "after a clean verify, sign a checkpoint of the head with <data>/"+audit.KeyFile)
	if err := fs.Parse(args); err != nil {
		return auditFlagErr(err)
	}
	pub, err := auditPublicKey(*data, *pubPath)
	if err != nil {
		return err
	}
	log, closeDB, err := auditOpenLog(*data)
	if err != nil {
		return err
	}
	defer closeDB()
	rep, err := log.Verify(ctx, pub)
	if err != nil {
		return err
	}
	if rep.Unchecked > 0 {
		return fmt.Errorf("audit: %d signed checkpoints but no public key to check them (give --pubkey)", rep.Unchecked)
	}
	fmt.Fprintf(stdout, "ok: %d events, head %d %s, %d checkpoints verified (last at event %d)\n",
		rep.Events, rep.HeadSeq, rep.HeadHash, rep.Checkpoints, rep.LastCheckpoint)
	if !*sign {
		return nil
	}
	key, err := audit.LoadOrCreateKey(*data)
	if err != nil {
		return err
	}
	cp, made, err := log.Checkpoint(ctx, key)
	if err != nil {
		return err
	}
	if made {
		fmt.Fprintf(stdout, "signed checkpoint at event %d (key %s)\n", cp.Seq, cp.KeyID)
	}
	return nil
}

// auditPublicKey loads path, or the data directory's public key if present.
func auditPublicKey(dataDir, path string) (ed25519.PublicKey, error) {
	if path == "" {
		path = filepath.Join(dataDir, audit.PublicKeyFile)
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
	}
	return audit.LoadPublicKey(path)
}

func runAuditExport(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("audit export", flag.ContinueOnError)
	fs.SetOutput(stdout)
	data := auditDataFlag(fs, getenv)
	format := fs.String("format", "jsonl", "csv or jsonl")
	out := fs.String("out", "-", "output file (- for stdout)")
	by := fs.String("by", "cli:"+getenv("USER"), "who is exporting, recorded in the audit_export event")
	var f audit.Filter
	var action, from, to string
	fs.StringVar(&f.Actor, "actor", "", "only events by this actor")
	fs.StringVar(&action, "action", "", "only this action")
	fs.StringVar(&f.Service, "service", "", "only this service")
	fs.StringVar(&f.ResourceID, "resource-id", "", "only this resource id")
	fs.Int64Var(&f.ChangeID, "change-id", 0, "only this change")
	fs.StringVar(&f.Outcome, "outcome", "", "only this outcome")
	fs.StringVar(&from, "from", "", "from this time (RFC 3339 or YYYY-MM-DD, inclusive)")
	fs.StringVar(&to, "to", "", "until this time (RFC 3339 or YYYY-MM-DD, exclusive)")
	fs.StringVar(&f.Text, "q", "", "full-text words in resource name or details")
	if err := fs.Parse(args); err != nil {
		return auditFlagErr(err)
	}
	fmtv, err := audit.ParseFormat(*format)
	if err != nil {
		return err
	}
	f.Action = audit.Action(action)
	if f.From, err = auditParseTime("from", from); err != nil {
		return err
	}
	if f.To, err = auditParseTime("to", to); err != nil {
		return err
	}
	log, closeDB, err := auditOpenLog(*data)
	if err != nil {
		return err
	}
	defer closeDB()
	w, closeOut, err := auditExportOutput(*out, stdout)
	if err != nil {
		return err
	}
	_, err = log.Export(ctx, w, fmtv, f, audit.Event{Actor: *by, ClientIP: "local", UserAgent: "decom-cli"})
	if cerr := closeOut(); err == nil {
		err = cerr
	}
	return err
}

func auditExportOutput(path string, stdout io.Writer) (io.Writer, func() error, error) {
	if path == "-" {
		return stdout, func() error { return nil }, nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("audit export: %w", err)
	}
	return f, f.Close, nil
}

func auditParseTime(name, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("audit export: --%s %q: want RFC 3339 or YYYY-MM-DD", name, s)
}

func auditFlagErr(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}
