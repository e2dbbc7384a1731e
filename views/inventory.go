package views

// InventoryOverview is the overview page's view model.
type InventoryOverview struct {
	Services []ServiceSummary
	Columns  []string // service labels, the project table's columns
	Projects []ProjectRow
	Read     ReadInfo
}

// ServiceSummary is one service's card: its total and counts per class.
type ServiceSummary struct {
	Key, Label, URL string
	Total           int
	Classes         []ClassCount
}

// ClassCount is a count of one status class with a link to the filtered list.
type ClassCount struct {
	Class, Label, URL string
	Count             int
}

// ProjectRow is one account/project line of the overview.
type ProjectRow struct {
	Account, Project, Region string
	Cells                    []ProjectCell // one per service, in Columns order
}

// ProjectCell is one service's numbers in one project.
type ProjectCell struct {
	Total, Failed  int
	URL, FailedURL string
}

// ReadInfo says when the data shown was read from the cloud and how to refresh it.
type ReadInfo struct {
	At, ISO, Ago string
	Errors       []string // account/projects whose read failed
	Service      string   // refresh form: service to drop ("" = all)
	Instance     string   // refresh form: ROMA instance key for its assets
	Back         string   // refresh form: where to return
}

// InventoryList is a per-service list page, or a ROMA instance's assets page.
type InventoryList struct {
	Heading string
	Path    string // the list's URL path, for the filter form
	Crumbs  []Crumb
	Filters FilterForm
	Results ResourceTable
	Read    ReadInfo
}

// Crumb is one breadcrumb link.
type Crumb struct{ Label, URL string }

// FilterForm is the filter bar's state and choices.
type FilterForm struct {
	Path                        string
	Account, Project, Status, Q string
	Kind, Sort, Dir, Per        string
	Accounts, Projects, Kinds   []Option
	Classes, Statuses           []Option
	PerChoices                  []Option
	Tag, EP                     string   // tag ("key" or "key=value") and enterprise project filters
	EPs                         []Option // enterprise projects present
	TagKeys                     []string // tag keys present, suggested for the tag filter
}

// Field is a name and a value: a hidden input, or a line of a detail list.
type Field struct{ Name, Value string }

// Option is one <option>.
type Option struct{ Value, Label string }

// ResourceTable is the #inventory-results fragment: selection bar,
// table and pager.
type ResourceTable struct {
	Rows       []ResourceRow
	Columns    []Column
	Pager      Pager
	Selection  Selection
	Hidden     []Field // the current filter as hidden fields for the selection form
	ShowKind   bool    // assets: a Kind column
	ShowAssets bool    // ROMA instances: a link to their apps and tasks
	Empty      string
	Filters    FilterForm // for the out-of-band refresh of the filter form's hidden fields
	// RefreshFilters: an htmx answer also refreshes the filter form's
	// hidden sort fields out of band (the full page renders them in place).
	RefreshFilters bool
}

// Column is one sortable column header.
type Column struct {
	Label, URL string
	Class      string // "col-minor": hidden on small screens
	Sorted     string // "", "ascending" or "descending" (aria-sort)
}

// ResourceRow is one table row.
type ResourceRow struct {
	Key, Name, ID, Kind      string
	Account, Project, Region string
	Status, Class, Created   string
	DetailURL, AssetsURL     string
	Selected                 bool
	Tags                     []string // "key=value" (or "key" when the value is empty)
	EnterpriseProject        string
	Block                    Block // blocked rows show why and have no working checkbox
}

// Selection is the #selection-bar fragment: the count and the actions.
type Selection struct {
	CanSelect bool // the user may select (requesters)
	Count     int  // selected in this scope, across pages
	Matching  int  // resources matching the current filter
	// Skips: some rows cannot be selected (protected, or not deletable
	// now), and "select all" leaves such resources out.
	Skips     bool
	Scope     string
	SelectURL string
	PlanURL   string
}

// ResourceDetail is the detail page of one resource.
type ResourceDetail struct {
	Crumbs    []Crumb
	Name      string
	Fields    []Field
	Details   []Field
	Status    string
	Class     string
	AssetsURL string
	Read      ReadInfo
	Tags      []string // "key=value" chips
	Block     Block    // protected (shield and rule) or not deletable now (reason)
}
