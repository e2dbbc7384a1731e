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
	Rows  []RecycleRow
	Empty string
}

// RecycleRow is one instance in the bin.
type RecycleRow struct {
	Name, ID         string
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
