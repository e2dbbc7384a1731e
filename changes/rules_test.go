package changes

import (
	"errors"
	"testing"
	"time"

	"github.com/decom/decom/auth"
	"github.com/decom/decom/cloud"
)

func TestCanMove(t *testing.T) {
	allowed := map[[2]State]bool{
		{StatePending, StateApproved}:          true,
		{StatePending, StateRejected}:          true,
		{StatePending, StateCancelled}:         true,
		{StateApproved, StateExecuting}:        true,
		{StateApproved, StateCancelled}:        true,
		{StateApproved, StateExpired}:          true,
		{StateApproved, StatePending}:          true,
		{StateExecuting, StateSucceeded}:       true,
		{StateExecuting, StatePartiallyFailed}: true,
		{StateExecuting, StateFailed}:          true,
	}
	for _, from := range States {
		for _, to := range States {
			t.Run(string(from)+"->"+string(to), func(t *testing.T) {
				if got, want := CanMove(from, to), allowed[[2]State{from, to}]; got != want {
					t.Errorf("CanMove(%s, %s) = %v, want %v", from, to, got, want)
				}
				if from.Final() && CanMove(from, to) {
					t.Errorf("final state %s may move to %s", from, to)
				}
			})
		}
	}
}

func actor(name string, roles ...auth.Role) Actor { return Actor{Name: name, Roles: roles} }

func testChange(state State) Change {
	p := BuildPlan(
		PlanInput{Reason: "r", Resources: []cloud.Resource{res("i1", cloud.CloudDC, "stopped", cloud.ClassActive)}},
	)
	return Change{ID: 7, State: state, Requester: "alice", Plan: p, PlanHash: p.Hash(), ApprovalsRequired: 1}
}

func TestCanApprove(t *testing.T) {
	pol := DefaultPolicy()
	approved := testChange(StatePending)
	approved.Decisions = []Decision{{Actor: "bob", Kind: DecisionApprove, PlanHash: approved.PlanHash}}
	oldRevision := testChange(StatePending)
	oldRevision.Decisions = []Decision{{Actor: "bob", Kind: DecisionApprove, PlanHash: "old"}}
	tests := []struct {
		name   string
		actor  Actor
		change Change
		want   error
	}{
		{"approver", actor("bob", auth.RoleApprover), testChange(StatePending), nil},
		{
			"self approval",
			actor("alice", auth.RoleApprover, auth.RoleRequester),
			testChange(StatePending),
			ErrForbidden,
		},
		{"viewer", actor("carol", auth.RoleViewer), testChange(StatePending), ErrForbidden},
		{"requester role", actor("carol", auth.RoleRequester), testChange(StatePending), ErrForbidden},
		{"auditor", actor("carol", auth.RoleAuditor), testChange(StatePending), ErrForbidden},
		{"admin is not an approver by default", actor("carol", auth.RoleAdmin), testChange(StatePending), ErrForbidden},
		{"twice", actor("bob", auth.RoleApprover), approved, ErrConflict},
		{"again after re-plan", actor("bob", auth.RoleApprover), oldRevision, nil},
	}
	for _, s := range States {
		if s != StatePending {
			tests = append(tests, struct {
				name   string
				actor  Actor
				change Change
				want   error
			}{"state " + string(s), actor("bob", auth.RoleApprover), testChange(s), ErrInvalidState})
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CanApprove(tt.actor, tt.change, pol)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("CanApprove = %v, want %v", err, tt.want)
			}
			if tt.name != "twice" && tt.name != "again after re-plan" {
				if err := CanReject(tt.actor, tt.change, pol); !errors.Is(err, tt.want) ||
					(tt.want == nil && err != nil) {
					t.Errorf("CanReject = %v, want %v", err, tt.want)
				}
			}
		})
	}
}

func TestCanApprovePolicyRoles(t *testing.T) {
	pol := DefaultPolicy()
	pol.ApproverRoles = auth.Roles{auth.RoleAdmin}
	if err := CanApprove(actor("bob", auth.RoleApprover), testChange(StatePending), pol); !errors.Is(
		err,
		ErrForbidden,
	) {
		t.Errorf("approver under admin-only policy: %v, want ErrForbidden", err)
	}
	if err := CanApprove(actor("carol", auth.RoleAdmin), testChange(StatePending), pol); err != nil {
		t.Errorf("admin under admin-only policy: %v", err)
	}
}

func TestCanCancel(t *testing.T) {
	tests := []struct {
		name  string
		actor Actor
		state State
		want  error
	}{
		{"requester pending", actor("alice", auth.RoleRequester), StatePending, nil},
		{"requester approved", actor("alice", auth.RoleRequester), StateApproved, nil},
		{"admin pending", actor("root", auth.RoleAdmin), StatePending, nil},
		{"approver pending", actor("bob", auth.RoleApprover), StatePending, ErrForbidden},
		{"viewer", actor("carol", auth.RoleViewer), StatePending, ErrForbidden},
		{"executing", actor("alice", auth.RoleRequester), StateExecuting, ErrInvalidState},
		{"rejected is final", actor("alice", auth.RoleRequester), StateRejected, ErrInvalidState},
		{"expired is final", actor("alice", auth.RoleRequester), StateExpired, ErrInvalidState},
		{"succeeded is final", actor("alice", auth.RoleRequester), StateSucceeded, ErrInvalidState},
		{"cancelled is final", actor("alice", auth.RoleRequester), StateCancelled, ErrInvalidState},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CanCancel(tt.actor, testChange(tt.state))
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("CanCancel = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestCanExecute(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	live := testChange(StateApproved)
	live.ExpiresAt = now.Add(time.Hour)
	lapsed := testChange(StateApproved)
	lapsed.ExpiresAt = now
	tests := []struct {
		name   string
		actor  Actor
		change Change
		want   error
	}{
		{"requester", actor("alice", auth.RoleRequester), live, nil},
		{"approver", actor("bob", auth.RoleApprover), live, nil},
		{"other requester", actor("dave", auth.RoleRequester), live, ErrForbidden},
		{"viewer", actor("carol", auth.RoleViewer), live, ErrForbidden},
		{"expired at the instant", actor("alice", auth.RoleRequester), lapsed, ErrExpired},
		{"pending", actor("alice", auth.RoleRequester), testChange(StatePending), ErrInvalidState},
		{"executing", actor("alice", auth.RoleRequester), testChange(StateExecuting), ErrInvalidState},
		{"cancelled", actor("alice", auth.RoleRequester), testChange(StateCancelled), ErrInvalidState},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CanExecute(tt.actor, tt.change, DefaultPolicy(), now)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("CanExecute = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestCanPlanAndSubmit(t *testing.T) {
	for _, tt := range []struct {
		roles auth.Roles
		ok    bool
	}{{auth.Roles{auth.RoleRequester}, true}, {auth.Roles{auth.RoleAdmin}, true}, {auth.Roles{auth.RoleApprover}, false},
		{auth.Roles{auth.RoleViewer}, false}, {auth.Roles{auth.RoleAuditor}, false}, {nil, false}} {
		if err := CanPlan(actor("x", tt.roles...)); (err == nil) != tt.ok {
			t.Errorf("CanPlan(%v) = %v, want ok=%v", tt.roles, err, tt.ok)
		}
	}
}

func TestCheckConfirmation(t *testing.T) {
	var many []cloud.Resource
	for i := range 11 {
		many = append(many, res(string(rune('a'+i)), cloud.CloudDC, "stopped", cloud.ClassActive))
	}
	big := Change{ID: 12, Plan: BuildPlan(PlanInput{Resources: many})}
	force := Change{
		ID: 13,
		Plan: BuildPlan(
			PlanInput{Force: true, Resources: []cloud.Resource{res("m", cloud.RocketMQ, "RUNNING", cloud.ClassActive)}},
		),
	}
	small := testChange(StateApproved)
	tests := []struct {
		name   string
		change Change
		typed  string
		ok     bool
	}{
		{"small needs nothing", small, "", true},
		{"big by name", big, "CR-12", true},
		{"big by name lower case", big, " cr-12 ", true},
		{"big by count", big, "11", true},
		{"big wrong", big, "10", false},
		{"big empty", big, "", false},
		{"force by count", force, "1", true},
		{"force empty", force, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckConfirmation(tt.change, tt.typed)
			if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrConfirmation)) {
				t.Errorf("CheckConfirmation(%q) = %v, want ok=%v", tt.typed, err, tt.ok)
			}
		})
	}
}

func TestExpired(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	c := testChange(StateApproved)
	c.ExpiresAt = now.Add(time.Second)
	if Expired(c, now) {
		t.Error("expired a second early")
	}
	if !Expired(c, now.Add(time.Second)) {
		t.Error("not expired at TTL")
	}
	c.State = StatePending
	if Expired(c, now.Add(time.Hour)) {
		t.Error("pending change expired")
	}
}

func TestCanRetry(t *testing.T) {
	for _, s := range States {
		err := CanRetry(actor("alice", auth.RoleRequester), testChange(s))
		ok := s == StatePartiallyFailed || s == StateFailed
		if (err == nil) != ok {
			t.Errorf("CanRetry in %s = %v, want ok=%v", s, err, ok)
		}
	}
}

func TestCanMoveOp(t *testing.T) {
	all := []OpState{OpQueued, OpSubmitted, OpInProgress, OpDone, OpFailed, OpTimedOut}
	allowed := map[[2]OpState]bool{
		{OpQueued, OpSubmitted}: true, {OpSubmitted, OpInProgress}: true, {OpSubmitted, OpDone}: true,
		{OpSubmitted, OpFailed}: true, {OpSubmitted, OpTimedOut}: true, {OpSubmitted, OpQueued}: true,
		{OpInProgress, OpDone}: true, {OpInProgress, OpFailed}: true, {OpInProgress, OpTimedOut}: true,
	}
	for _, from := range all {
		for _, to := range all {
			if got, want := CanMoveOp(from, to), allowed[[2]OpState{from, to}]; got != want {
				t.Errorf("CanMove(%s, %s) = %v, want %v", from, to, got, want)
			}
		}
	}
}

func TestFinal(t *testing.T) {
	for _, tt := range []struct {
		done, failed int
		want         State
	}{{3, 0, StateSucceeded}, {0, 3, StateFailed}, {2, 1, StatePartiallyFailed}, {0, 0, StateSucceeded}} {
		if got := FinalState(tt.done, tt.failed); got != tt.want {
			t.Errorf("FinalState(%d, %d) = %s, want %s", tt.done, tt.failed, got, tt.want)
		}
	}
}

// TestAllowedActions pins the actions the console offers to the Can* rules:
// an admin who is not an approver under the policy is offered no Approve
// (the console once derived it from "admin holds every role").
func TestAllowedActions(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	pol := DefaultPolicy()
	approved := testChange(StateApproved)
	approved.ExpiresAt = now.Add(time.Hour)
	for _, tt := range []struct {
		name string
		a    Actor
		c    Change
		want Actions
	}{
		{"admin on pending", actor("root", auth.RoleAdmin), testChange(StatePending), Actions{Cancel: true, Comment: true}},
		{"approver on pending", actor("bob", auth.RoleApprover), testChange(StatePending),
			Actions{Approve: true, Reject: true, Comment: true}},
		{"requester on pending", actor("alice", auth.RoleRequester), testChange(StatePending),
			Actions{Cancel: true, Comment: true}},
		{"requester on approved", actor("alice", auth.RoleRequester), approved,
			Actions{Cancel: true, Execute: true, Comment: true}},
		{"admin on approved", actor("root", auth.RoleAdmin), approved, Actions{Cancel: true, Comment: true}},
		{"auditor on pending", actor("dave", auth.RoleAuditor), testChange(StatePending), Actions{Comment: true}},
		{"requester on failed", actor("alice", auth.RoleRequester), testChange(StateFailed),
			Actions{Retry: true, Comment: true}},
		{"viewer on pending", actor("vic", auth.RoleViewer), testChange(StatePending), Actions{}},
		{"other requester on pending", actor("zed", auth.RoleRequester), testChange(StatePending), Actions{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := AllowedActions(tt.a, tt.c, pol, now); got != tt.want {
				t.Errorf("AllowedActions = %+v, want %+v", got, tt.want)
			}
		})
	}
	// With admin named an approver role by the policy, the admin may approve.
	pol.ApproverRoles = auth.Roles{auth.RoleApprover, auth.RoleAdmin}
	if got := AllowedActions(actor("root", auth.RoleAdmin), testChange(StatePending), pol, now); !got.Approve {
		t.Error("admin listed as approver role is not offered Approve")
	}
}

func TestValidationErrorOrder(t *testing.T) {
	e := &ValidationError{
		Fields: map[string]string{"ttl": "c", "approvals_required": "a", "reason": "b", "ticket": "d"},
	}
	want := "invalid input: approvals_required: a; reason: b; ticket: d; ttl: c"
	for range 20 { // map iteration would differ between runs
		if got := e.Error(); got != want {
			t.Fatalf("Error() = %q, want %q", got, want)
		}
	}
}
