package views

// RecycleBin is the DMS recycle-bin page of one service: the instances in
// the bin of every account and project, and each project's policy.
type RecycleBin struct {
	Heading  string
	Tabs     []Tab // one per DMS service
	Policies []RecyclePolicyRow
	Entries  RecycleEntries
	ReadAt   string // when the bins were read
	ReadISO  string
	Errors   []string // account/projects whose bin could not be read
	// Restore is the restore form, shown when the user may plan changes.
	Restore RestoreForm
	// PolicyForm is the admin's recycle-policy form ("" Action: not shown).
	PolicyForm RecyclePolicyForm
}

// RestoreForm plans a restore change request of the selected instances.
type RestoreForm struct {
	Action string // POST URL; "" hides the form and the checkboxes
	Reason string
	Ticket string
	Errors map[string]string
}

// RecyclePolicyForm is the admin's form to change a project's recycle policy.
type RecyclePolicyForm struct {
	Action   string   // POST URL; "" hides the form
	Service  string   // the page to come back to
	Projects []string // "account/project" choices
	Errors   map[string]string
}

// Tab is one link of a tab bar; Current marks the page shown.
type Tab struct {
	Label, URL string
	Current    bool
}

// RecyclePolicyRow is one project's recycle policy.
type RecyclePolicyRow struct {
	Account, Project string
	On               bool   // non-forced deletes go to the bin
	Retention        string // e.g. "3 days"
}

// RecycleEntries is the #recycle-bin fragment: the instances in the bin,
// the soonest purged first.
type RecycleEntries struct {
	Rows       []RecycleRow
	Empty      string
	Selectable bool // rows have a checkbox for the restore form
}

// RecycleRow is one instance in the bin.
type RecycleRow struct {
	Name, ID         string
	Key              string // the instance's reference, the restore form's value
	Account, Project string
	Status           string // the status before the delete
	Deleted          string // when it entered the bin
	DeletedISO       string
	AutoDelete       string // when the cloud deletes it for good
	AutoDeleteISO    string
	TimeLeft         string // e.g. "2 d 4 h", or "expired"
	Urgent           bool   // less than a day left
	CostPerHour      string
}
