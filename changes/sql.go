package changes

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/decom/decom/auth"
	"github.com/decom/decom/cloud"
	"github.com/decom/decom/store"
)

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

const changeColumns = `id, state, requester, reason, ticket, force_delete, plan_json, plan_hash, revision,
	approvals_required, differences_json, COALESCE(retry_of, 0), projects, created_at, updated_at,
	submitted_at, approved_at, expires_at, executed_at, executed_by, finished_at`

type scanner interface{ Scan(dest ...any) error }

func scanChange(sc scanner) (Change, error) {
	var c Change
	var planJSON, diffJSON, projects string
	var created, updated, submitted, approved, expires, executed, finished string
	err := sc.Scan(&c.ID, &c.State, &c.Requester, &c.Reason, &c.Ticket, &c.Force, &planJSON, &c.PlanHash,
		&c.Revision, &c.ApprovalsRequired, &diffJSON, &c.RetryOf, &projects, &created, &updated,
		&submitted, &approved, &expires, &executed, &c.ExecutedBy, &finished)
	if err != nil {
		return Change{}, err
	}
	if err := json.Unmarshal([]byte(planJSON), &c.Plan); err != nil {
		return Change{}, fmt.Errorf("decode plan of change %d: %w", c.ID, err)
	}
	if err := json.Unmarshal([]byte(diffJSON), &c.Differences); err != nil {
		return Change{}, fmt.Errorf("decode differences of change %d: %w", c.ID, err)
	}
	c.Projects = splitList(projects)
	c.CreatedAt, c.UpdatedAt, c.SubmittedAt = store.ParseTime(
		created,
	), store.ParseTime(
		updated,
	), store.ParseTime(
		submitted,
	)
	c.ApprovedAt, c.ExpiresAt = store.ParseTime(approved), store.ParseTime(expires)
	c.ExecutedAt, c.FinishedAt = store.ParseTime(executed), store.ParseTime(finished)
	return c, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

func joinList(xs []string) string {
	if len(xs) == 0 {
		return ""
	}
	return "," + strings.Join(xs, ",") + ","
}

// getChange reads one change with its decisions and operations.
func getChange(ctx context.Context, q querier, id int64) (Change, error) {
	row := q.QueryRowContext(ctx, `SELECT `+changeColumns+` FROM changes WHERE id = ?`, id)
	c, err := scanChange(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Change{}, fmt.Errorf("change %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Change{}, fmt.Errorf("get change %d: %w", id, err)
	}
	if c.Decisions, err = listDecisions(ctx, q, id); err != nil {
		return Change{}, err
	}
	if c.Operations, err = listOperations(ctx, q, id); err != nil {
		return Change{}, err
	}
	return c, nil
}

func listDecisions(ctx context.Context, q querier, id int64) ([]Decision, error) {
	rows, err := q.QueryContext(ctx, `SELECT actor, kind, comment, plan_hash, revision, at
		FROM change_decisions WHERE change_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("list decisions of change %d: %w", id, err)
	}
	defer rows.Close()
	var out []Decision
	for rows.Next() {
		var d Decision
		var at string
		if err := rows.Scan(&d.Actor, &d.Kind, &d.Comment, &d.PlanHash, &d.Revision, &at); err != nil {
			return nil, fmt.Errorf("scan decision: %w", err)
		}
		d.At = store.ParseTime(at)
		out = append(out, d)
	}
	return out, rows.Err()
}

func listOperations(ctx context.Context, q querier, id int64) ([]Operation, error) {
	rows, err := q.QueryContext(ctx, `SELECT seq, batch, account, project, service, kind, parent,
		resource_id, name, planned_status, state, attempts, polls, last_error, last_status, job_id,
		submitted_at, finished_at, request_ids
		FROM change_operations WHERE change_id = ? ORDER BY seq`, id)
	if err != nil {
		return nil, fmt.Errorf("list operations of change %d: %w", id, err)
	}
	defer rows.Close()
	var out []Operation
	for rows.Next() {
		var o Operation
		var submitted, finished, trail string
		if err := rows.Scan(&o.Seq, &o.Batch, &o.Item.Account, &o.Item.Project, &o.Item.Service,
			&o.Item.Kind, &o.Item.Parent, &o.Item.ID, &o.Item.Name, &o.Item.Status, &o.State, &o.Attempts,
			&o.Polls, &o.LastError, &o.LastStatus, &o.JobID, &submitted, &finished, &trail); err != nil {
			return nil, fmt.Errorf("scan operation: %w", err)
		}
		_ = json.Unmarshal([]byte(trail), &o.Trail) // a bad trail loses only the request IDs
		o.Submitted, o.Finished = store.ParseTime(submitted), store.ParseTime(finished)
		out = append(out, o)
	}
	return out, rows.Err()
}

// listChanges reads changes newest first, without decisions or operations.
func listChanges(ctx context.Context, q querier, f ChangeFilter) ([]Change, error) {
	query := `SELECT ` + changeColumns + ` FROM changes WHERE 1 = 1`
	var args []any
	if f.State != "" {
		query += ` AND state = ?`
		args = append(args, f.State)
	}
	if f.Requester != "" {
		query += ` AND requester = ?`
		args = append(args, f.Requester)
	}
	if f.Project != "" {
		query += ` AND instr(projects, ?) > 0`
		args = append(args, ","+f.Project+",")
	}
	if f.Service != "" {
		query += ` AND instr(services, ?) > 0`
		args = append(args, ","+f.Service+",")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	query += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list changes: %w", err)
	}
	defer rows.Close()
	var out []Change
	for rows.Next() {
		c, err := scanChange(rows)
		if err != nil {
			return nil, fmt.Errorf("scan change: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func insertChange(ctx context.Context, tx *sql.Tx, c Change) (int64, error) {
	planJSON, err := json.Marshal(c.Plan)
	if err != nil {
		return 0, fmt.Errorf("encode plan: %w", err)
	}
	var retry any
	if c.RetryOf != 0 {
		retry = c.RetryOf
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO changes (state, requester, reason, ticket, force_delete,
		plan_json, plan_hash, revision, resource_count, approvals_required, retry_of, projects, services,
		created_at, updated_at, submitted_at) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.State, c.Requester, c.Reason, c.Ticket, c.Force, string(planJSON), c.PlanHash, len(c.Plan.Items),
		c.ApprovalsRequired, retry, joinList(c.Plan.Projects()), joinList(planServices(c.Plan)),
		store.FormatTime(c.CreatedAt), store.FormatTime(c.UpdatedAt), store.FormatTime(c.SubmittedAt))
	if err != nil {
		return 0, fmt.Errorf("insert change: %w", err)
	}
	return res.LastInsertId()
}

func planServices(p Plan) []string {
	var out []string
	seen := map[cloud.Service]bool{}
	for _, it := range p.Items {
		if !seen[it.Service] {
			seen[it.Service] = true
			out = append(out, string(it.Service))
		}
	}
	return out
}

// move changes the state only if it is still from: the conditional UPDATE is
// what makes concurrent approve and cancel end with exactly one winner.
// sets are extra "column = ?" assignments with their values.
// update lists what a lifecycle move writes beside state and updated_at;
// nil fields leave their column as it is, and a zero time clears one.
type update struct {
	SubmittedAt, ApprovedAt, ExpiresAt, ExecutedAt, FinishedAt *time.Time
	ExecutedBy                                                 *string
	DifferencesJSON                                            *string
	Plan                                                       *revisedPlan
}

// revisedPlan is a re-built plan written back by re-validation.
type revisedPlan struct {
	JSON, Hash                             string
	Revision, Resources, ApprovalsRequired int
}

// assignments returns u's "col = ?" list and arguments in a fixed order.
func (u update) assignments() (cols []string, args []any) {
	set := func(col string, v any) { cols, args = append(cols, col+" = ?"), append(args, v) }
	for _, t := range []struct {
		col string
		v   *time.Time
	}{{"submitted_at", u.SubmittedAt}, {"approved_at", u.ApprovedAt}, {"expires_at", u.ExpiresAt},
		{"executed_at", u.ExecutedAt}, {"finished_at", u.FinishedAt}} {
		if t.v != nil {
			set(t.col, store.FormatTime(*t.v))
		}
	}
	if u.ExecutedBy != nil {
		set("executed_by", *u.ExecutedBy)
	}
	if u.DifferencesJSON != nil {
		set("differences_json", *u.DifferencesJSON)
	}
	if p := u.Plan; p != nil {
		set("plan_json", p.JSON)
		set("plan_hash", p.Hash)
		set("revision", p.Revision)
		set("resource_count", p.Resources)
		set("approvals_required", p.ApprovalsRequired)
	}
	return cols, args
}

// move changes a change's state from -> to with u's columns, refusing
// (ErrConflict) when the row is no longer in from.
func move(ctx context.Context, tx *sql.Tx, id int64, from, to State, now time.Time, u update) error {
	cols, args := u.assignments()
	query := `UPDATE changes SET ` + strings.Join(append([]string{"state = ?", "updated_at = ?"}, cols...), ", ") +
		` WHERE id = ? AND state = ?`
	args = append(append([]any{to, store.FormatTime(now)}, args...), id, from)
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("change %d %s -> %s: %w", id, from, to, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("change %d %s -> %s: %w", id, from, to, err)
	}
	if n != 1 {
		return fmt.Errorf("change %d %s -> %s: %w", id, from, to, ErrConflict)
	}
	return nil
}

func insertDecision(ctx context.Context, tx *sql.Tx, id int64, d Decision) error {
	_, err := tx.ExecContext(
		ctx,
		`INSERT INTO change_decisions (change_id, actor, kind, comment, plan_hash, revision, at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		id,
		d.Actor,
		d.Kind,
		d.Comment,
		d.PlanHash,
		d.Revision,
		store.FormatTime(d.At),
	)
	if err != nil {
		err = store.Translate(err)
		if errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("change %d: %w: %s already decided this plan", id, ErrConflict, d.Actor)
		}
		return fmt.Errorf("insert decision: %w", err)
	}
	return nil
}

// insertOperations writes one queued row per planned resource, numbered in
// plan order and tagged with the batch that will carry it.
func insertOperations(ctx context.Context, tx *sql.Tx, id int64, p Plan, now time.Time) error {
	batchOf := map[string]Batch{}
	for _, b := range p.Batches {
		for _, rid := range b.IDs {
			batchOf[string(b.Service)+"/"+b.Parent+"/"+b.Account+"/"+b.Project+"/"+rid] = b
		}
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO change_operations (change_id, seq, batch, account,
		project, service, kind, parent, resource_id, name, planned_status, force_delete, state, updated_at, action, backup, archive)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("prepare operations: %w", err)
	}
	defer stmt.Close()
	for i, it := range p.Items {
		b := batchOf[string(it.Service)+"/"+it.Parent+"/"+it.Account+"/"+it.Project+"/"+it.ID]
		if _, err := stmt.ExecContext(ctx, id, i+1, b.Seq, it.Account, it.Project, it.Service, it.Kind,
			it.Parent, it.ID, it.Name, it.Status, b.Force, OpQueued, store.FormatTime(now), p.Kind.Action(),
			p.BacksUp() && it.Service == cloud.ROMA, b.Archive); err != nil {
			return fmt.Errorf("insert operation %d: %w", i+1, err)
		}
	}
	return nil
}

// dueExpiry lists approved changes whose approval lapsed at now.
func dueExpiry(ctx context.Context, q querier, now time.Time) ([]int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT id FROM changes
		WHERE state = ? AND expires_at <> '' AND expires_at <= ? ORDER BY id`, StateApproved, store.FormatTime(now))
	if err != nil {
		return nil, fmt.Errorf("list expired changes: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("scan change id: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// policyColumns leave out webhook_url: migration 0011 moved its values to notify_channels.
const policyColumns = `project, approvals_required, force_approvals_required, approver_roles, ttl_seconds`

// getPolicies reads the stored policies for the global scope and projects;
// missing ones are simply absent from the map.
func getPolicies(ctx context.Context, q querier) (map[string]Policy, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+policyColumns+` FROM change_policies ORDER BY project`)
	if err != nil {
		return nil, fmt.Errorf("list policies: %w", err)
	}
	defer rows.Close()
	out := map[string]Policy{}
	for rows.Next() {
		var p Policy
		var roles string
		var ttl int64
		if err := rows.Scan(&p.Project, &p.ApprovalsRequired, &p.ForceApprovalsRequired, &roles, &ttl); err != nil {
			return nil, fmt.Errorf("scan policy: %w", err)
		}
		for _, r := range splitList(roles) {
			p.ApproverRoles = append(p.ApproverRoles, auth.Role(r))
		}
		p.TTL = time.Duration(ttl) * time.Second
		out[p.Project] = p
	}
	return out, rows.Err()
}

func upsertPolicy(ctx context.Context, tx *sql.Tx, p Policy, by string, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO change_policies (`+policyColumns+`, updated_by, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (project) DO UPDATE SET approvals_required = excluded.approvals_required,
		force_approvals_required = excluded.force_approvals_required, approver_roles = excluded.approver_roles,
		ttl_seconds = excluded.ttl_seconds,
		updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
		p.Project, p.ApprovalsRequired, p.ForceApprovalsRequired, p.ApproverRoles.String(),
		int64(p.TTL/time.Second), by, store.FormatTime(now))
	if err != nil {
		return fmt.Errorf("save policy %q: %w", p.Project, err)
	}
	return nil
}
