package main

import (
	"context"
	"fmt"
	"io"

	"github.com/decom/decom/auth"
)

// demoUsers are created on the first start against the simulated cloud.
var demoUsers = []struct {
	name  string
	roles []auth.Role
}{
	{"alice", []auth.Role{auth.RoleRequester}},
	{"bob", []auth.Role{auth.RoleApprover}},
	{"carol", []auth.Role{auth.RoleApprover}},
	{"dave", []auth.Role{auth.RoleAuditor}},
	{"admin", []auth.Role{auth.RoleAdmin}},
}

// ensureUsers creates the first users when there are none: the demo users
// for a simulated cloud, only "admin" for a real one. The password is
// DECOM_DEMO_PASSWORD or generated, and printed once.
func ensureUsers(ctx context.Context, users *auth.Service, simulated bool, password string, stdout io.Writer) error {
	n, err := users.Count(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		if simulated {
			fmt.Fprintln(
				stdout,
				"demo users: alice (requester), bob and carol (approvers), dave (auditor), admin (admin); password as printed at first start",
			)
		}
		return nil
	}
	shown := "from DECOM_DEMO_PASSWORD"
	if password == "" {
		password = auth.GeneratePassword()
		shown = password
	}
	o := auth.Origin{Actor: "system", ClientIP: "local"}
	created := demoUsers
	if !simulated {
		created = demoUsers[len(demoUsers)-1:]
	}
	for _, u := range created {
		if _, err := users.Create(ctx, o, u.name, password, u.roles); err != nil {
			return err
		}
	}
	if simulated {
		fmt.Fprintf(
			stdout,
			"demo users: alice (requester), bob and carol (approvers), dave (auditor), admin (admin)\npassword:   %s\n",
			shown,
		)
	} else {
		fmt.Fprintf(stdout, "first user: admin (admin)\npassword:   %s\nadd more with: web user add --roles requester NAME\n", shown)
	}
	return nil
}
