// Package migrations holds decom's numbered, forward-only SQL migrations,
// embedded so the binary carries its own schema. cmd/web passes FS to
// store.Migrate. Numbering: 0001 users (auth), 0002 audit, 0003 change
// requests and operations, 0004 approvals bound to the plan revision,
// 0005 operation request IDs, 0006 server-side sessions, 0007 protection
// rules, 0010 OIDC identities and throttling indexes,
// 0011 notification channels and outbox, 0012 change comments.
package migrations

import "embed"

// FS holds every migration file, applied in name order.
//
//go:embed *.sql
var FS embed.FS
