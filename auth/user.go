// Package auth holds decom's console users: their roles, password hashing,
// sign-in with failed-login throttling, and the session keys.
package auth

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Role grants a set of console actions. A user may hold several.
type Role string

// The five roles, least to most privileged.
const (
	RoleViewer    Role = "viewer"    // read the inventory
	RoleRequester Role = "requester" // select resources and plan deletions
	RoleApprover  Role = "approver"  // approve or reject change requests
	RoleAuditor   Role = "auditor"   // read and export the audit log
	RoleAdmin     Role = "admin"     // everything, including users and policy
)

// AllRoles lists every role in display order.
var AllRoles = Roles{RoleViewer, RoleRequester, RoleApprover, RoleAuditor, RoleAdmin}

// Roles is the set of roles a user or actor holds. Has is the one meaning of
// "holds a role", for auth, changes and the console alike: membership, with
// no implied roles. Admin's extra powers are written where they apply (the
// route table, changes.CanPlan, changes.CanCancel), never implied here.
type Roles []Role

// Has reports whether r is in the set.
func (rs Roles) Has(r Role) bool { return slices.Contains(rs, r) }

// Errors callers match with errors.Is.
var (
	ErrInvalidCredentials = errors.New("invalid username or password")
	ErrThrottled          = errors.New("too many failed sign-ins; try again later")
	ErrDisabled           = errors.New("user is disabled")
	ErrNotFound           = errors.New("no such user")
	ErrConflict           = errors.New("a user with this name exists")
)

// ValidationError reports bad user input, naming the field.
type ValidationError struct {
	Field   string
	Message string
}

// Error formats the field and the message.
func (e *ValidationError) Error() string { return e.Field + ": " + e.Message }

// FieldErrors is the message by field, as every validation error offers it.
func (e *ValidationError) FieldErrors() map[string]string {
	return map[string]string{e.Field: e.Message}
}

// User is one console account. PasswordHash never leaves this package.
type User struct {
	ID        int64
	Username  string
	Roles     Roles
	Disabled  bool
	CreatedAt time.Time
	UpdatedAt time.Time

	passwordHash string
}

// Origin says who did something and from where, for the audit log.
type Origin struct {
	Actor     string
	ClientIP  string
	UserAgent string
}

var usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// ValidateUsername checks a username: lower-case letters, digits, ".", "_"
// and "-", at most 64 characters.
func ValidateUsername(name string) error {
	if !usernameRE.MatchString(name) {
		return &ValidationError{Field: "username", Message: "use 1-64 lower-case letters, digits, '.', '_' or '-'"}
	}
	return nil
}

// MinPasswordLen is the shortest password accepted.
const MinPasswordLen = 10

// ValidatePassword checks a new password's length.
func ValidatePassword(pw string) error {
	if len(pw) < MinPasswordLen || len(pw) > 1024 {
		return &ValidationError{Field: "password", Message: fmt.Sprintf("use %d to 1024 characters", MinPasswordLen)}
	}
	return nil
}

// ParseRoles parses a comma-separated role list such as "requester,approver".
func ParseRoles(s string) (Roles, error) {
	var out Roles
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		r := Role(f)
		if !AllRoles.Has(r) {
			return nil, &ValidationError{Field: "roles", Message: fmt.Sprintf("unknown role %q", f)}
		}
		if !out.Has(r) {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil, &ValidationError{Field: "roles", Message: "give at least one role"}
	}
	return out, nil
}

// String is the comma-separated form the database and the audit log keep.
func (rs Roles) String() string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, ",")
}
