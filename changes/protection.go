package changes

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/decom/decom/cloud"
)

// RuleKind is what a protection rule looks at.
type RuleKind string

// Protection rule kinds. Pattern holds, per kind: a tag selector ("key" or
// "key=value", cloud.TagSelector), a name glob (path.Match), an enterprise
// project ID, a cloud project ID, or a service name.
const (
	RuleTag               RuleKind = "tag"
	RuleName              RuleKind = "name"
	RuleEnterpriseProject RuleKind = "enterprise_project"
	RuleProject           RuleKind = "project"
	RuleService           RuleKind = "service"
)

// RuleKinds lists the kinds in precedence order: when several rules protect
// a resource, the one reported is of the earliest kind (the most specific),
// and among rules of one kind the oldest (lowest ID). The built-in rule comes
// before all of them.
var RuleKinds = []RuleKind{RuleTag, RuleName, RuleEnterpriseProject, RuleProject, RuleService}

// ProtectTag is the built-in protection: a resource tagged decom:protect,
// with any value, is protected whatever the stored rules say.
const ProtectTag = "decom:protect"

// Rule is one protection rule. Every rule only protects; there are no
// exceptions. Matching ignores case for every kind (tag keys and values,
// name globs, IDs, services): a rule that missed a resource over a letter's
// case would let it be deleted, while one that matches too much costs an
// edit of the rule.
type Rule struct {
	ID        int64 // 0 for the built-in rule
	Kind      RuleKind
	Pattern   string
	Note      string // why, shown beside the shield
	CreatedBy string
	CreatedAt time.Time
}

// BuiltinRule is the rule that always applies: the tag decom:protect.
func BuiltinRule() Rule {
	return Rule{Kind: RuleTag, Pattern: ProtectTag,
		Note: "built in: tag a resource decom:protect (any value) to protect it"}
}

// Builtin reports whether r is the built-in rule.
func (r Rule) Builtin() bool { return r.ID == 0 }

// KindLabel names the rule's kind for people.
func (k RuleKind) KindLabel() string {
	switch k {
	case RuleEnterpriseProject:
		return "enterprise project"
	case RuleProject:
		return "cloud project"
	}
	return string(k)
}

// String is the rule in a few words: "tag env=prod", "name prod-*".
func (r Rule) String() string { return r.Kind.KindLabel() + " " + r.Pattern }

// Reason is the text shown beside a shield: which rule protects, and why.
func (r Rule) Reason() string {
	if r.Builtin() {
		return "protected by the built-in tag " + ProtectTag
	}
	s := "protected by rule " + strconv.FormatInt(r.ID, 10) + ": " + r.String()
	if r.Note != "" {
		s += " (" + r.Note + ")"
	}
	return s
}

var ruleTokenRE = regexp.MustCompile(`^[A-Za-z0-9._:@-]{1,128}$`)

// Normalize trims the pattern and note and writes services in lower case.
func (r Rule) Normalize() Rule {
	r.Pattern = strings.TrimSpace(r.Pattern)
	r.Note = strings.TrimSpace(r.Note)
	switch r.Kind {
	case RuleService:
		r.Pattern = strings.ToLower(r.Pattern)
	case RuleTag:
		if sel, err := cloud.ParseTagSelector(r.Pattern); err == nil {
			r.Pattern = sel.String()
		}
	}
	return r
}

// Validate checks a rule an admin wants to add (normalized first).
func (r Rule) Validate() error {
	f := map[string]string{}
	switch {
	case !slices.Contains(RuleKinds, r.Kind):
		f["kind"] = "choose what the rule looks at"
	case r.Pattern == "":
		f["pattern"] = "required"
	case utf8.RuneCountInString(r.Pattern) > 300 || strings.ContainsFunc(r.Pattern, isControl):
		f["pattern"] = "at most 300 characters, no control characters"
	default:
		if msg := r.patternProblem(); msg != "" {
			f["pattern"] = msg
		}
	}
	if utf8.RuneCountInString(r.Note) > 500 {
		f["note"] = "at most 500 characters"
	}
	if len(f) > 0 {
		return &ValidationError{Fields: f}
	}
	return nil
}

func isControl(c rune) bool { return c < 0x20 || c == 0x7f }

func (r Rule) patternProblem() string {
	switch r.Kind {
	case RuleTag:
		if _, err := cloud.ParseTagSelector(r.Pattern); err != nil {
			return err.Error()
		}
	case RuleName:
		if _, err := path.Match(r.Pattern, ""); err != nil {
			return "not a valid glob (use *, ? and [a-z]; escape with \\)"
		}
	case RuleService:
		if !slices.Contains(cloud.Services, cloud.Service(r.Pattern)) {
			return fmt.Sprintf("one of %v", cloud.Services)
		}
	case RuleEnterpriseProject, RuleProject:
		if !ruleTokenRE.MatchString(r.Pattern) {
			return "an ID: letters, digits and . _ : @ -"
		}
	}
	return ""
}

// Matches reports whether the rule protects res. A pattern that cannot be
// read (only possible if the database was edited by hand) matches: protection
// fails closed.
func (r Rule) Matches(res cloud.Resource) bool {
	switch r.Kind {
	case RuleTag:
		sel, err := cloud.ParseTagSelector(r.Pattern)
		return err != nil || sel.Matches(res.Tags)
	case RuleName:
		ok, err := path.Match(strings.ToLower(r.Pattern), strings.ToLower(res.Name))
		return ok || err != nil
	case RuleEnterpriseProject:
		return res.EnterpriseProject != "" && strings.EqualFold(res.EnterpriseProject, r.Pattern)
	case RuleProject:
		return strings.EqualFold(res.Project, r.Pattern)
	case RuleService:
		return strings.EqualFold(string(res.Service), r.Pattern)
	}
	return true // an unknown kind: fail closed
}

// precedes orders matching rules: the built-in first, then by kind (RuleKinds
// order), then oldest first.
func (r Rule) precedes(o Rule) bool {
	if r.Builtin() != o.Builtin() {
		return r.Builtin()
	}
	rk, ok := slices.Index(RuleKinds, r.Kind), slices.Index(RuleKinds, o.Kind)
	if rk != ok {
		return rk < ok
	}
	return r.ID < o.ID
}

// Protected is the one decision of protection, used by the inventory, the
// plan and the re-validation at execution: whether res is protected by the
// built-in rule or one of rules, and by which (the first in precedence
// order, see RuleKinds).
func Protected(res cloud.Resource, rules []Rule) (Rule, bool) {
	if b := BuiltinRule(); b.Matches(res) {
		return b, true
	}
	var best Rule
	found := false
	for _, r := range rules {
		if r.Matches(res) && (!found || r.precedes(best)) {
			best, found = r, true
		}
	}
	return best, found
}

// Block says why a resource cannot be planned.
type Block struct {
	Protected bool   // by Rule; otherwise the cloud refuses a delete in its current status
	Rule      Rule   // the protecting rule
	Reason    string // for people: the rule, or cloud.Resource.NotDeletableReason
}

// Blocked decides whether res can be planned for deletion: not when a rule
// protects it (Protected), nor when the cloud refuses a delete in its status
// (cloud.Resource.NotDeletableReason). Protection is reported first.
func Blocked(res cloud.Resource, rules []Rule) (Block, bool) {
	if r, ok := Protected(res, rules); ok {
		return Block{Protected: true, Rule: r, Reason: r.Reason()}, true
	}
	if why := res.NotDeletableReason(); why != "" {
		return Block{Reason: why}, true
	}
	return Block{}, false
}
