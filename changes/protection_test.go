package changes

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/decom/decom/cloud"
)

func protRes(name string, mods ...func(*cloud.Resource)) cloud.Resource {
	r := cloud.Resource{Ref: cloud.Ref{Account: "acc", Project: "p1", Service: cloud.RocketMQ, Kind: cloud.KindInstance,
		ID: "id-" + name}, Name: name, Status: "RUNNING", Class: cloud.ClassActive, EnterpriseProject: "0"}
	for _, m := range mods {
		m(&r)
	}
	return r
}

func withTags(tags ...cloud.Tag) func(*cloud.Resource) {
	return func(r *cloud.Resource) { r.Tags = tags }
}

func withEP(ep string) func(*cloud.Resource) {
	return func(r *cloud.Resource) { r.EnterpriseProject = ep }
}

func rule(id int64, kind RuleKind, pattern string) Rule {
	return Rule{ID: id, Kind: kind, Pattern: pattern}
}

// TestProtectedKinds: every rule kind, matched and not, with case folding.
func TestProtectedKinds(t *testing.T) {
	tests := []struct {
		name string
		res  cloud.Resource
		rule Rule
		want bool
	}{
		{
			"tag key, any value",
			protRes("a", withTags(cloud.Tag{Key: "keep", Value: "x"})),
			rule(1, RuleTag, "keep"),
			true,
		},
		{"tag key, empty value", protRes("a", withTags(cloud.Tag{Key: "keep"})), rule(1, RuleTag, "keep"), true},
		{"tag key absent", protRes("a", withTags(cloud.Tag{Key: "other"})), rule(1, RuleTag, "keep"), false},
		{"tag key case", protRes("a", withTags(cloud.Tag{Key: "KEEP", Value: "x"})), rule(1, RuleTag, "keep"), true},
		{
			"tag key=value",
			protRes("a", withTags(cloud.Tag{Key: "env", Value: "prod"})),
			rule(1, RuleTag, "env=prod"),
			true,
		},
		{
			"tag key=value case",
			protRes("a", withTags(cloud.Tag{Key: "Env", Value: "PROD"})),
			rule(1, RuleTag, "env=prod"),
			true,
		},
		{
			"tag other value",
			protRes("a", withTags(cloud.Tag{Key: "env", Value: "dev"})),
			rule(1, RuleTag, "env=prod"),
			false,
		},
		{
			"tag key= wants the empty value",
			protRes("a", withTags(cloud.Tag{Key: "env", Value: "dev"})),
			rule(1, RuleTag, "env="),
			false,
		},
		{"tag no tags", protRes("a"), rule(1, RuleTag, "env"), false},
		{"name glob", protRes("prod-orders"), rule(1, RuleName, "prod-*"), true},
		{"name glob case", protRes("PROD-orders"), rule(1, RuleName, "prod-*"), true},
		{"name glob pattern case", protRes("prod-orders"), rule(1, RuleName, "PROD-*"), true},
		{"name glob class", protRes("mq-7"), rule(1, RuleName, "mq-[0-9]"), true},
		{"name glob question mark", protRes("mq-10"), rule(1, RuleName, "mq-?"), false},
		{"name glob is anchored", protRes("my-prod-orders"), rule(1, RuleName, "prod-*"), false},
		{"name exact", protRes("billing"), rule(1, RuleName, "billing"), true},
		{"name escaped star", protRes("a*b"), rule(1, RuleName, `a\*b`), true},
		{"name escaped star is literal", protRes("axb"), rule(1, RuleName, `a\*b`), false},
		{"name star does not cross /", protRes("team/a"), rule(1, RuleName, "*"), false},
		{"bad glob fails closed", protRes("x"), rule(1, RuleName, "[a-"), true},
		{"enterprise project", protRes("a", withEP("ep-fin")), rule(1, RuleEnterpriseProject, "ep-fin"), true},
		{"enterprise project case", protRes("a", withEP("EP-FIN")), rule(1, RuleEnterpriseProject, "ep-fin"), true},
		{"other enterprise project", protRes("a"), rule(1, RuleEnterpriseProject, "ep-fin"), false},
		{"default enterprise project", protRes("a"), rule(1, RuleEnterpriseProject, "0"), true},
		{"no enterprise project (CloudDC)", protRes("a", withEP("")), rule(1, RuleEnterpriseProject, "0"), false},
		{"cloud project", protRes("a"), rule(1, RuleProject, "p1"), true},
		{"cloud project case", protRes("a"), rule(1, RuleProject, "P1"), true},
		{"other cloud project", protRes("a"), rule(1, RuleProject, "p2"), false},
		{"service", protRes("a"), rule(1, RuleService, "rocketmq"), true},
		{"service case", protRes("a"), rule(1, RuleService, "RocketMQ"), true},
		{"other service", protRes("a"), rule(1, RuleService, "clouddc"), false},
		{
			"service covers ROMA assets",
			protRes("a", func(r *cloud.Resource) { r.Service, r.Kind = cloud.ROMA, cloud.KindTask }),
			rule(1, RuleService, "roma"),
			true,
		},
		{"unknown kind fails closed", protRes("a"), rule(1, "color", "red"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Protected(tt.res, []Rule{tt.rule})
			if ok != tt.want {
				t.Fatalf("Protected = %v, want %v", ok, tt.want)
			}
			if ok && got.ID != tt.rule.ID {
				t.Errorf("protected by %+v, want rule %d", got, tt.rule.ID)
			}
		})
	}
}

// TestProtectedBuiltin: the tag decom:protect protects with any value, in any
// case, with no stored rules at all.
func TestProtectedBuiltin(t *testing.T) {
	for _, tag := range []cloud.Tag{{Key: "decom:protect"}, {Key: "decom:protect", Value: "yes"},
		{Key: "Decom:Protect", Value: "no"}, {Key: " decom:protect ", Value: "false"}} {
		got, ok := Protected(protRes("a", withTags(tag)), nil)
		if !ok || !got.Builtin() {
			t.Errorf("tag %+v: Protected = %+v, %v; want the built-in rule", tag, got, ok)
		}
		if want := "protected by the built-in tag decom:protect"; got.Reason() != want {
			t.Errorf("Reason = %q, want %q", got.Reason(), want)
		}
	}
	for _, tag := range []cloud.Tag{{Key: "decom-protect"}, {Key: "protect"}, {Key: "x", Value: "decom:protect"}} {
		if got, ok := Protected(protRes("a", withTags(tag)), nil); ok {
			t.Errorf("tag %+v: protected by %+v, want unprotected", tag, got)
		}
	}
}

// TestProtectedPrecedence: the built-in rule first, then by kind in RuleKinds
// order, then the oldest rule; the order of the input does not matter.
func TestProtectedPrecedence(t *testing.T) {
	res := protRes("prod-orders", withTags(cloud.Tag{Key: "env", Value: "prod"}),
		withEP("ep-fin"))
	tagRule, nameRule := rule(7, RuleTag, "env"), rule(3, RuleName, "prod-*")
	epRule, projRule, svcRule := rule(
		2,
		RuleEnterpriseProject,
		"ep-fin",
	), rule(
		1,
		RuleProject,
		"p1",
	), rule(
		4,
		RuleService,
		"rocketmq",
	)
	olderName := rule(2, RuleName, "*orders")
	tests := []struct {
		name  string
		res   cloud.Resource
		rules []Rule
		want  int64
	}{
		{"tag before everything", res, []Rule{svcRule, projRule, epRule, nameRule, tagRule}, 7},
		{"name before enterprise project", res, []Rule{svcRule, projRule, epRule, nameRule}, 3},
		{"enterprise project before project", res, []Rule{svcRule, projRule, epRule}, 2},
		{"project before service", res, []Rule{svcRule, projRule}, 1},
		{"oldest of one kind", res, []Rule{nameRule, olderName}, 2},
		{"non-matching rules are skipped", res, []Rule{rule(1, RuleTag, "other"), svcRule}, 4},
		{
			"built-in before all",
			protRes("prod-orders", withTags(cloud.Tag{Key: "env", Value: "prod"}, cloud.Tag{Key: ProtectTag})),
			[]Rule{tagRule, nameRule},
			0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Protected(tt.res, tt.rules)
			if !ok || got.ID != tt.want {
				t.Errorf("Protected = rule %d (%v), want rule %d", got.ID, ok, tt.want)
			}
		})
	}
}

func TestRuleValidate(t *testing.T) {
	tests := []struct {
		name  string
		rule  Rule
		field string // "" = valid
	}{
		{"tag key", Rule{Kind: RuleTag, Pattern: "keep"}, ""},
		{"tag key=value", Rule{Kind: RuleTag, Pattern: "env=prod"}, ""},
		{"tag empty key", Rule{Kind: RuleTag, Pattern: "=prod"}, "pattern"},
		{"name glob", Rule{Kind: RuleName, Pattern: "prod-*"}, ""},
		{"bad glob", Rule{Kind: RuleName, Pattern: "prod-[a"}, "pattern"},
		{"service", Rule{Kind: RuleService, Pattern: "clouddc"}, ""},
		{"unknown service", Rule{Kind: RuleService, Pattern: "ecs"}, "pattern"},
		{"enterprise project", Rule{Kind: RuleEnterpriseProject, Pattern: "0"}, ""},
		{"enterprise project with a space", Rule{Kind: RuleEnterpriseProject, Pattern: "ep fin"}, "pattern"},
		{"project", Rule{Kind: RuleProject, Pattern: "0b5c8e3f2a1d4c6e9f7a8b0c1d2e3f4a"}, ""},
		{"project too long", Rule{Kind: RuleProject, Pattern: strings.Repeat("a", 129)}, "pattern"},
		{"no kind", Rule{Pattern: "x"}, "kind"},
		{"unknown kind", Rule{Kind: "color", Pattern: "x"}, "kind"},
		{"empty pattern", Rule{Kind: RuleName}, "pattern"},
		{"control characters", Rule{Kind: RuleName, Pattern: "a\x00"}, "pattern"},
		{"long note", Rule{Kind: RuleName, Pattern: "a", Note: strings.Repeat("n", 501)}, "note"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.rule.Normalize().Validate()
			var ve *ValidationError
			switch {
			case tt.field == "" && err != nil:
				t.Fatalf("Validate = %v, want nil", err)
			case tt.field != "" && (!errors.As(err, &ve) || ve.Fields[tt.field] == ""):
				t.Fatalf("Validate = %v, want a problem with %s", err, tt.field)
			}
		})
	}
}

func TestRuleNormalize(t *testing.T) {
	tests := []struct{ in, want Rule }{
		{Rule{Kind: RuleService, Pattern: " CloudDC "}, Rule{Kind: RuleService, Pattern: "clouddc"}},
		{
			Rule{Kind: RuleTag, Pattern: " env =prod", Note: " why "},
			Rule{Kind: RuleTag, Pattern: "env=prod", Note: "why"},
		},
		{Rule{Kind: RuleName, Pattern: " Prod-* "}, Rule{Kind: RuleName, Pattern: "Prod-*"}},
	}
	for _, tt := range tests {
		if got := tt.in.Normalize(); got != tt.want {
			t.Errorf("Normalize(%+v) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

// TestBlocked: protection comes first; otherwise the cloud's deletability.
func TestBlocked(t *testing.T) {
	running := cloud.Resource{
		Ref:    cloud.Ref{Service: cloud.CloudDC, ID: "bm"},
		Name:   "bm",
		Status: "running",
		Class:  cloud.ClassActive,
	}
	stopped := running
	stopped.Status = "stopped"
	protectedRunning := running
	protectedRunning.Tags = []cloud.Tag{{Key: ProtectTag}}
	tests := []struct {
		name      string
		res       cloud.Resource
		rules     []Rule
		blocked   bool
		protected bool
		reason    string
	}{
		{"deletable", stopped, nil, false, false, ""},
		{"running server", running, nil, true, false, "running: stop it first"},
		{
			"protected and running: protection first",
			protectedRunning,
			nil,
			true,
			true,
			"protected by the built-in tag decom:protect",
		},
		{
			"stored rule with a note",
			stopped,
			[]Rule{{ID: 5, Kind: RuleService, Pattern: "clouddc", Note: "racks are decommissioned by hand"}},
			true,
			true,
			"protected by rule 5: service clouddc (racks are decommissioned by hand)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, ok := Blocked(tt.res, tt.rules)
			if ok != tt.blocked || b.Protected != tt.protected || b.Reason != tt.reason {
				t.Errorf(
					"Blocked = %+v, %v; want blocked %v, protected %v, reason %q",
					b,
					ok,
					tt.blocked,
					tt.protected,
					tt.reason,
				)
			}
		})
	}
}

// benchRules are 20 stored rules of every kind, none matching benchResource,
// the worst case: every rule is evaluated.
func benchRules() []Rule {
	var rules []Rule
	for i := range 4 {
		n := strconv.Itoa(i)
		rules = append(rules, Rule{ID: int64(5*i + 1), Kind: RuleTag, Pattern: "keep" + n + "=yes"},
			Rule{ID: int64(5*i + 2), Kind: RuleName, Pattern: "prod-" + n + "-*"},
			Rule{ID: int64(5*i + 3), Kind: RuleEnterpriseProject, Pattern: "ep-" + n},
			Rule{ID: int64(5*i + 4), Kind: RuleProject, Pattern: "project-" + n},
			Rule{ID: int64(5*i + 5), Kind: RuleService, Pattern: []string{"clouddc", "roma", "rabbitmq", "clouddc"}[i]})
	}
	return rules
}

// BenchmarkBlocked is the per-row cost of deciding protection and
// deletability with 20 rules (none matching, so all are tried) and 5 tags on
// the resource, and the cost of preparing the rules once per page or plan.
func BenchmarkBlocked(b *testing.B) {
	rules := benchRules()
	r := protRes("team07-mq-00042", withEP("ep-9"), withTags(
		cloud.Tag{Key: "env", Value: "prod"},
		cloud.Tag{
			Key:   "team",
			Value: "payments",
		},
		cloud.Tag{Key: "owner", Value: "ops"},
		cloud.Tag{Key: "cost", Value: "cc-1"},
		cloud.Tag{Key: "keep0", Value: "no"},
	))
	b.Run("per-resource", func(b *testing.B) {
		m := NewMatcher(rules)
		for b.Loop() {
			if _, blocked := m.Blocked(r); blocked {
				b.Fatal("blocked")
			}
		}
	})
	b.Run("NewMatcher", func(b *testing.B) {
		for b.Loop() {
			NewMatcher(rules)
		}
	})
}
