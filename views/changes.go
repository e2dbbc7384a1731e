package views

// ChangeList is a list of change requests: my requests, the approval
// queue, or all changes with filters.
type ChangeList struct {
	Title   string
	Tabs    []NavItem // Mine / Pending approvals / All
	Active  string    // key of the active tab
	Filter  ChangeListFilter
	Rows    []ChangeRow
	Empty   string
	NewURL  string // "" when the user may not plan
	SweepOK bool   // show the "delete all failed" planner link
}

// ChangeListFilter is the filter form of the all-changes list.
type ChangeListFilter struct {
	Show      bool
	State     string
	States    []string
	Requester string
	Project   string
	Service   string
	Services  []string
}

// ChangeRow is one change in a list.
type ChangeRow struct {
	ID         string
	Name       string
	URL        string
	State      string
	StateClass string // badge class
	Requester  string
	Reason     string
	Resources  string
	Approvals  string // "1 / 2"
	Projects   string
	Created    string
	CreatedISO string
}

// NewChange is the plan form: what was selected (or the sweep), reason,
// ticket and the force-delete option, with the input kept on a 422.
type NewChange struct {
	Scope      string
	Sweep      Sweep
	Count      int
	Sample     []string // first resource names
	HasDMS     bool
	HasROMA    bool // the selection has ROMA assets: offer "no backup"
	NoBackup   bool
	Reason     string
	Ticket     string
	Force      bool
	Errors     map[string]string
	SweepForms []Sweep       // choices for "all instances that failed to create"
	Blocked    []ExcludedRow // selected but protected or not deletable: left out of the plan
}

// Sweep identifies a DMS "all failed" sweep.
type Sweep struct {
	Service, Account, Project string
	Label                     string
}

// ChangeDetail is the change page.
type ChangeDetail struct {
	ID          string
	Name        string
	State       string
	StateClass  string
	Requester   string
	Reason      string
	Ticket      string
	Force       bool
	NoBackup    bool   // ROMA assets deleted without an export
	Kind        string // "delete" or "restore"
	PlanHash    string
	Revision    string
	Required    int
	Approvals   int
	Created     string
	Expires     string
	Warnings    []WarningRow
	Differences []DifferenceRow
	Decisions   []DecisionRow
	Batches     []BatchRow
	Actions     ChangeActions
	Progress    Progress
	Excluded    []ExcludedRow // left out of the plan, and why
	Backups     Backups
	Discussion  Discussion
	Deliveries  []DeliveryRow
}

// Backups lists the ROMA archives stored before a change's deletes.
type Backups struct {
	Rows       []BackupRow
	RestoreURL string // "" hides "Restore assets"
}

// BackupRow is one stored archive.
type BackupRow struct {
	SHA256, Instance, Assets, Stored string
}

// Discussion is the comment thread of a change and, when the user may
// post, its form (input and message kept on a 422).
type Discussion struct {
	Comments []CommentRow
	CanPost  bool
	PostURL  string
	Draft    string
	Error    string
	MaxLen   int
}

// CommentRow is one comment.
type CommentRow struct{ Actor, Body, At, ISO string }

// DeliveryRow is one notification delivery (outbox row); Channel is the
// redacted URL.
type DeliveryRow struct {
	ID, EventID, Change, ChangeURL, Kind string
	Format, Project, Channel             string
	State, StateClass                    string
	Attempts, LastError                  string
	Created, Delivered, NextAt           string
	Tries                                []TryRow // shown on the change page
}

// TryRow is one recorded delivery attempt.
type TryRow struct{ N, At, Status, Error, Duration string }

// ChangeActions says which action forms the user sees; the server checks
// again on every POST.
type ChangeActions struct {
	Approve, Reject, Cancel, Execute, Retry bool
	Confirm                                 bool   // execute needs typed confirmation
	ConfirmHint                             string // what to type
	BaseURL                                 string // /changes/{id}
}

// WarningRow is one plan warning.
type WarningRow struct{ Code, Resource, Message string }

// DifferenceRow is one live-state difference found at execution.
type DifferenceRow struct{ Kind, Name, ID, Planned, Live, Reason string }

// DecisionRow is one approval, rejection or cancellation.
type DecisionRow struct{ Actor, Kind, Comment, At, Revision string }

// BatchRow is one planned API call.
type BatchRow struct {
	Seq   string
	Call  string
	Count string
	Force bool
}

// TimelineRow is one step of the change's history.
type TimelineRow struct{ At, ISO, What string }

// Progress is the #change-progress fragment: bars, counts,
// per-resource results and the timeline. Polling stops once Finished.
type Progress struct {
	URL         string
	Finished    bool
	Executing   bool
	State       string
	StateClass  string
	Total       int
	Done        int
	Failed      int
	Running     int
	Queued      int
	DonePct     int
	FailedPct   int
	RunningPct  int
	Rows        []ResultRow
	CanRetry    bool
	RetryURL    string
	PollSeconds int
	Timeline    []TimelineRow
}

// ResultRow is one planned resource with its planned state and, once
// executing, its operation's state and result.
type ResultRow struct {
	Service, Kind, Name, ID, Project string
	Planned                          string
	State                            string
	StateLabel                       string // what the user reads (changes.OpState.Label)
	StateClass                       string
	Attempts                         string
	Error                            string
	Batch                            string
	// RequestIDs are the cloud's X-Request-Id of the delete calls made for
	// the resource, StatusRequestID that of its latest status read: what a
	// support ticket names.
	RequestIDs      string
	StatusRequestID string
}

// Policies is the approval-policy admin page: the global policy, the
// per-project ones, and the form (kept on a 422).
type Policies struct {
	Rows   []PolicyRow
	Form   PolicyRow
	Errors map[string]string
}

// PolicyRow is one policy as shown and edited.
type PolicyRow struct {
	Project        string // "" = global
	Scope          string
	Approvals      string
	ForceApprovals string
	Roles          string // comma-separated
	TTLHours       string
}
