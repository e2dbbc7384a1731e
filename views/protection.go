package views

// Block says why a resource cannot be selected or planned: a protection
// rule (a shield) or a status the cloud refuses to delete in. The handlers
// fill it from changes.Blocked; views never decide it.
type Block struct {
	Blocked   bool
	Protected bool   // by a rule: the shield
	Reason    string // the rule, or the status and what to do ("running: stop it first")
}

// Protection is the admin page of protection rules.
type Protection struct {
	Rules  []ProtectionRuleRow // the built-in rule first, then stored rules oldest first
	Form   ProtectionForm
	Kinds  []Option // what a rule may look at, with help in Label
	Errors map[string]string
}

// ProtectionRuleRow is one rule of the table.
type ProtectionRuleRow struct {
	ID, Kind, Pattern, Note string
	CreatedBy, Created      string
	Builtin                 bool
	RemoveURL               string // "" for the built-in rule
}

// ProtectionForm is the add-a-rule form with the admin's input.
type ProtectionForm struct {
	Kind, Pattern, Note string
}

// ExcludedRow is a resource left out of a plan, and why.
type ExcludedRow struct {
	Service, Name, ID, Status string
	Block                     Block
}
