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

// Matcher is a set of rules prepared for deciding many resources: patterns
// lower-cased and tag selectors parsed once, rules in precedence order so the
// first match is the one reported. Build one per page or plan with
// NewMatcher; Protected and Blocked are the same decision for one resource.
type Matcher struct {
	rules []compiledRule
}

type compiledRule struct {
	Rule
	pattern string            // lower case
	tag     cloud.TagSelector // RuleTag
	bad     bool              // the pattern cannot be read: the rule matches everything (fail closed)
}

// NewMatcher prepares the built-in rule and rules.
func NewMatcher(rules []Rule) *Matcher {
	all := append([]Rule{BuiltinRule()}, rules...)
	slices.SortStableFunc(all, func(a, b Rule) int {
		switch {
		case a.precedes(b):
			return -1
		case b.precedes(a):
			return 1
		}
		return 0
	})
	m := &Matcher{rules: make([]compiledRule, len(all))}
	for i, r := range all {
		c := compiledRule{Rule: r, pattern: strings.ToLower(r.Pattern)}
		switch r.Kind {
		case RuleTag:
			sel, err := cloud.ParseTagSelector(r.Pattern)
			c.tag, c.bad = sel, err != nil
		case RuleName:
			_, err := path.Match(c.pattern, "")
			c.bad = err != nil
		case RuleEnterpriseProject, RuleProject, RuleService:
		default:
			c.bad = true // an unknown kind (a hand-edited database)
		}
		m.rules[i] = c
	}
	return m
}

// Protected reports the first rule, in precedence order, that protects res.
func (m *Matcher) Protected(res cloud.Resource) (Rule, bool) {
	lowName := ""
	for i := range m.rules {
		c := &m.rules[i]
		var hit bool
		switch {
		case c.bad:
			hit = true
		case c.Kind == RuleTag:
			hit = c.tag.Matches(res.Tags)
		case c.Kind == RuleName:
			if lowName == "" {
				lowName = strings.ToLower(res.Name)
			}
			hit, _ = path.Match(c.pattern, lowName)
		case c.Kind == RuleEnterpriseProject:
			hit = res.EnterpriseProject != "" && strings.EqualFold(res.EnterpriseProject, c.pattern)
		case c.Kind == RuleProject:
			hit = strings.EqualFold(res.Project, c.pattern)
		case c.Kind == RuleService:
			hit = strings.EqualFold(string(res.Service), c.pattern)
		}
		if hit {
			return c.Rule, true
		}
	}
	return Rule{}, false
}

// Blocked decides whether res can be planned for deletion: not when a rule
// protects it, nor when the cloud refuses a delete in its status
// (cloud.Resource.NotDeletableReason). Protection is reported first.
func (m *Matcher) Blocked(res cloud.Resource) (Block, bool) {
	if r, ok := m.Protected(res); ok {
		return Block{Protected: true, Rule: r, Reason: r.Reason()}, true
	}
	if why := res.NotDeletableReason(); why != "" {
		return Block{Reason: why}, true
	}
	return Block{}, false
}

// precedes orders rules: the built-in first, then by kind (RuleKinds order),
// then oldest first.
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
// order, see RuleKinds). Matching ignores case; a rule whose pattern cannot
// be read protects everything (fail closed). For many resources, build one
// Matcher.
func Protected(res cloud.Resource, rules []Rule) (Rule, bool) {
	return NewMatcher(rules).Protected(res)
}

// Block says why a resource cannot be planned.
type Block struct {
	Protected bool   // by Rule; otherwise the cloud refuses a delete in its current status
	Rule      Rule   // the protecting rule
	Reason    string // for people: the rule, or cloud.Resource.NotDeletableReason
}

// Blocked decides whether res can be planned for deletion (Matcher.Blocked):
// not when a rule protects it, nor when the cloud refuses a delete in its
// status. For many resources, build one Matcher.
func Blocked(res cloud.Resource, rules []Rule) (Block, bool) {
	return NewMatcher(rules).Blocked(res)
}
