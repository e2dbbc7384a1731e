package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/decom/decom/auth"
)

func TestUserCommands(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	env := map[string]string{"DECOM_DATA": data, "USER": "ops"}
	getenv := func(k string) string { return env[k] }
	run := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := runUser(ctx, args, getenv, &out)
		return out.String(), err
	}

	out, err := run("add", "--roles", "requester,approver", "erin")
	if err != nil || !strings.Contains(out, "created erin") || !strings.Contains(out, "password: ") {
		t.Fatalf("add: %v\n%s", err, out)
	}
	if _, err := run("add", "--roles", "requester", "erin"); err == nil {
		t.Error("duplicate add succeeded")
	}
	if _, err := run("add", "--roles", "wizard", "frank"); err == nil {
		t.Error("unknown role accepted")
	}
	pwFile := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwFile, []byte("a-new-long-password\n"), 0o600)
	if out, err := run("passwd", "--password-file", pwFile, "erin"); err != nil || strings.Contains(out, "password: ") {
		t.Fatalf("passwd: %v\n%s", err, out)
	}

	db, err := openDB(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	users := auth.New(db, auth.Options{})
	u, err := users.SignIn(ctx, auth.Attempt{Username: "erin", Password: "a-new-long-password"})
	if err != nil || !u.Roles.Has(auth.RoleApprover) {
		t.Fatalf("sign in with new password: %v", err)
	}
	// A role change ends the user's sessions.
	if _, err := users.StartSession(ctx, u, auth.SessionMeta{}); err != nil {
		t.Fatal(err)
	}
	if out, err := run("roles", "--roles", "auditor", "erin"); err != nil ||
		!strings.Contains(out, "sessions have ended") {
		t.Fatalf("roles: %v\n%s", err, out)
	}
	if list, _ := users.ListSessions(ctx, "erin"); len(list) != 0 {
		t.Errorf("%d sessions survived the role change", len(list))
	}
	if u, _ := users.ByUsername(ctx, "erin"); !u.Roles.Has(auth.RoleAuditor) || u.Roles.Has(auth.RoleApprover) {
		t.Errorf("roles = %v", u.Roles)
	}
	users.StartSession(ctx, u, auth.SessionMeta{})
	users.StartSession(ctx, u, auth.SessionMeta{})
	if out, err := run("signout", "erin"); err != nil || !strings.Contains(out, "2 session(s) of erin ended") {
		t.Errorf("signout: %v\n%s", err, out)
	}
	if _, err := run("disable", "erin"); err != nil {
		t.Fatal(err)
	}
	if _, err := users.SignIn(ctx, auth.Attempt{Username: "erin", Password: "a-new-long-password"}); err == nil {
		t.Error("disabled user signed in")
	}
	if _, err := run("disable", "nobody"); err == nil {
		t.Error("disabling a missing user succeeded")
	}
	if out, err := run("--help"); err != nil || !strings.Contains(out, "user add") {
		t.Errorf("help: %v %s", err, out)
	}
}
