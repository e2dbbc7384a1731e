package handlers

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/decom/decom/auth"
	"github.com/decom/decom/changes"
	"github.com/decom/decom/cloud"
	"github.com/decom/decom/views"
)

func showTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

func isoTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func changeListVM(u *auth.User, a changes.Actor, tab string, f changes.ChangeFilter,
	list []changes.Change) views.ChangeList {
	vm := views.ChangeList{Active: tab, Empty: "No change requests."}
	if changes.CanPlan(a) == nil {
		vm.Tabs = append(vm.Tabs, views.NavItem{Key: "mine", Label: "My requests", URL: "/changes/mine"})
		vm.NewURL = "/changes/new"
	}
	if mayOpen(u, approvers) {
		vm.Tabs = append(vm.Tabs, views.NavItem{Key: "approvals", Label: "Pending approvals", URL: "/approvals"})
	}
	vm.Tabs = append(vm.Tabs, views.NavItem{Key: "all", Label: "All changes", URL: "/changes"})
	switch tab {
	case "mine":
		vm.Title = "My change requests"
	case "approvals":
		vm.Title, vm.Empty = "Pending approvals", "Nothing waits for approval."
	default:
		vm.Title = "All change requests"
		vm.Filter = views.ChangeListFilter{Show: true, State: string(f.State), Requester: f.Requester,
			Project: f.Project, Service: f.Service}
		for _, s := range changes.States {
			vm.Filter.States = append(vm.Filter.States, string(s))
		}
		for _, s := range cloud.Services {
			vm.Filter.Services = append(vm.Filter.Services, string(s))
		}
	}
	for _, c := range list {
		vm.Rows = append(vm.Rows, views.ChangeRow{ID: strconv.FormatInt(c.ID, 10), Name: c.Name(), URL: changeURL(c.ID),
			State: string(c.State), StateClass: string(c.State.Class()), Requester: c.Requester, Reason: c.Reason,
			Resources: strconv.Itoa(
				len(c.Plan.Items),
			), Approvals: fmt.Sprintf("%d / %d", c.Approvals(), c.ApprovalsRequired),
			Projects: strings.Join(c.Projects, ", "), Created: showTime(c.CreatedAt), CreatedISO: isoTime(c.CreatedAt)})
	}
	return vm
}

func changeVM(c changes.Change, acts changes.Actions) views.ChangeDetail {
	vm := views.ChangeDetail{ID: strconv.FormatInt(c.ID, 10), Name: c.Name(), State: string(c.State),
		StateClass: string(c.State.Class()), Requester: c.Requester, Reason: c.Reason, Ticket: c.Ticket,
		Force: c.Plan.HasForce(), Kind: c.Plan.Kind.Label(), NoBackup: c.Plan.SkipsBackup(), PlanHash: c.PlanHash, Revision: strconv.Itoa(c.Revision),
		Required: c.ApprovalsRequired, Approvals: c.Approvals(), Created: showTime(c.CreatedAt),
		Expires: showTime(c.ExpiresAt), Progress: progressVM(c, acts)}
	for _, w := range c.Plan.Warnings {
		vm.Warnings = append(vm.Warnings, views.WarningRow{Code: w.Code, Resource: w.Resource, Message: w.Message})
	}
	for _, d := range c.Differences {
		vm.Differences = append(vm.Differences, views.DifferenceRow{Kind: string(d.Kind), Name: d.Name, ID: d.Ref.ID,
			Planned: d.Planned, Live: d.Live, Reason: d.Reason})
	}
	vm.Excluded = excludedRows(c.Plan.Excluded)
	for _, d := range c.Decisions {
		rev := "earlier"
		if d.Current(c) {
			rev = "current"
		}
		vm.Decisions = append(vm.Decisions, views.DecisionRow{Actor: d.Actor, Kind: string(d.Kind), Comment: d.Comment,
			At: showTime(d.At), Revision: rev})
	}
	for _, b := range c.Plan.Batches {
		vm.Batches = append(
			vm.Batches,
			views.BatchRow{Seq: strconv.Itoa(b.Seq), Call: b.Call, Count: strconv.Itoa(len(b.IDs)), Force: b.Force},
		)
	}
	vm.Actions = actionsVM(c, acts)
	return vm
}

// discussionVM shows the comments and, when the domain allows, the form.
func discussionVM(
	c changes.Change,
	acts changes.Actions,
	list []changes.Comment,
	draft views.Discussion,
) views.Discussion {
	d := views.Discussion{CanPost: acts.Comment, PostURL: changeURL(c.ID) + "/comments", MaxLen: changes.MaxText,
		Draft: draft.Draft, Error: draft.Error}
	for _, cm := range list {
		d.Comments = append(
			d.Comments,
			views.CommentRow{Actor: cm.Actor, Body: cm.Body, At: showTime(cm.At), ISO: isoTime(cm.At)},
		)
	}
	return d
}

// actionsVM shows the forms of the actions the domain allows; every POST
// checks the same rules again.
func actionsVM(c changes.Change, acts changes.Actions) views.ChangeActions {
	a := views.ChangeActions{BaseURL: changeURL(c.ID), Approve: acts.Approve, Reject: acts.Reject,
		Cancel: acts.Cancel, Execute: acts.Execute}
	if acts.Execute && c.Plan.NeedsConfirmation() {
		a.Confirm = true
		a.ConfirmHint = fmt.Sprintf("%s or %d", c.Name(), len(c.Plan.Items))
	}
	return a
}

func progressVM(c changes.Change, acts changes.Actions) views.Progress {
	p := c.Progress()
	vm := views.Progress{URL: changeURL(c.ID) + "/progress", State: string(c.State),
		StateClass: string(c.State.Class()), Executing: c.State == changes.StateExecuting,
		Finished: c.State.Finished(),
		Total:    max(p.Total, len(c.Plan.Items)),
		Done:     p.Done, Failed: p.Failed + p.TimedOut, Running: p.Submitted + p.InProgress, Queued: p.Queued,
		RetryURL: changeURL(c.ID) + "/retry", PollSeconds: 2, Timeline: timeline(c)}
	vm.CanRetry = acts.Retry && vm.Failed > 0
	if len(c.Operations) > 0 {
		for _, op := range c.Operations {
			row := resultRow(op.Item, op.State, strconv.Itoa(op.Attempts), op.LastError, strconv.Itoa(op.Batch))
			row.RequestIDs = strings.Join(op.RequestIDs(true), " ")
			if reads := op.RequestIDs(false); len(reads) > 0 {
				row.StatusRequestID = reads[len(reads)-1]
			}
			vm.Rows = append(vm.Rows, row)
		}
		return vm
	}
	batchOf := map[string]int{}
	for _, b := range c.Plan.Batches {
		for _, id := range b.IDs {
			batchOf[id] = b.Seq
		}
	}
	for _, it := range c.Plan.Items {
		vm.Rows = append(vm.Rows, resultRow(it, "", "", "", strconv.Itoa(batchOf[it.ID])))
	}
	return vm
}

func resultRow(it changes.Item, state changes.OpState, attempts, errText, batch string) views.ResultRow {
	return views.ResultRow{Service: string(it.Service), Kind: string(it.Kind), Name: it.Name, ID: it.ID,
		Project: it.Project, Planned: it.Status, State: string(state), StateLabel: state.Label(),
		StateClass: string(state.Class()), Attempts: attempts,
		Error: errText, Batch: batch}
}

// timeline lists the change's steps in time order.
func timeline(c changes.Change) []views.TimelineRow {
	type step struct {
		at   time.Time
		what string
	}
	steps := []step{{c.CreatedAt, "planned by " + c.Requester}, {c.SubmittedAt, "sent for approval"}}
	done := map[changes.DecisionKind]string{
		changes.DecisionApprove: "approved",
		changes.DecisionReject:  "rejected",
		changes.DecisionCancel:  "cancelled",
	}
	for _, d := range c.Decisions {
		steps = append(steps, step{d.At, done[d.Kind] + " by " + d.Actor})
	}
	steps = append(
		steps,
		step{c.ApprovedAt, "all approvals in"},
		step{c.ExecutedAt, "execution started by " + c.ExecutedBy},
	)
	batches := map[int]time.Time{}
	for _, op := range c.Operations {
		if t, ok := batches[op.Batch]; !op.Submitted.IsZero() && (!ok || op.Submitted.Before(t)) {
			batches[op.Batch] = op.Submitted
		}
	}
	for b, t := range batches {
		steps = append(steps, step{t, fmt.Sprintf("batch %d sent", b)})
	}
	if c.State.Final() {
		steps = append(steps, step{c.FinishedAt, "finished: " + string(c.State)})
	}
	sort.SliceStable(steps, func(i, j int) bool { return steps[i].at.Before(steps[j].at) })
	var out []views.TimelineRow
	for _, s := range steps {
		if !s.at.IsZero() {
			out = append(out, views.TimelineRow{At: showTime(s.at), ISO: isoTime(s.at), What: s.what})
		}
	}
	return out
}
