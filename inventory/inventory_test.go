package inventory

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/decom/decom/cloud"
)

type stubCloud struct {
	mu    sync.Mutex
	items map[string][]cloud.Resource // by project
	fail  map[string]bool
	calls int
}

func (s *stubCloud) Accounts() []cloud.AccountInfo {
	return []cloud.AccountInfo{{Name: "a", Projects: []string{"p1", "p2"}}}
}

func (s *stubCloud) ListInstances(
	ctx context.Context,
	account, project string,
	svc cloud.Service,
) ([]cloud.Resource, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.fail[project] {
		return nil, errors.New("boom")
	}
	return s.items[project], nil
}

func (s *stubCloud) ListROMAAssets(ctx context.Context, account, project, id string) ([]cloud.Resource, error) {
	return nil, nil
}

func (s *stubCloud) callCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

func waitCalls(t *testing.T, sc *stubCloud, n int) {
	t.Helper()
	for range 200 {
		if sc.callCount() >= n {
			time.Sleep(10 * time.Millisecond) // let the read be stored
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("calls = %d, want %d", sc.callCount(), n)
}

func res(project, name, status string, class cloud.StatusClass) cloud.Resource {
	return cloud.Resource{
		Ref: cloud.Ref{
			Account: "a",
			Project: project,
			Service: cloud.RocketMQ,
			Kind:    cloud.KindInstance,
			ID:      "id-" + name,
		},
		Name:   name,
		Status: status,
		Class:  class,
	}
}

func TestParseFilter(t *testing.T) {
	tests := []struct {
		name  string
		query string
		want  Filter
		err   string // param named in the error, "" for none
	}{
		{"defaults", "", Filter{Page: 1, PerPage: 50}, ""},
		{"all", "account=a&project=p1&status=failed&q=+x+&sort=created&dir=desc&page=3&per=25",
			Filter{
				Account: "a",
				Project: "p1",
				Status:  "failed",
				Q:       "x",
				Sort:    "created",
				Desc:    true,
				Page:    3,
				PerPage: 25,
			}, ""},
		{"page zero", "page=0", Filter{}, "page"},
		{"page text", "page=two", Filter{}, "page"},
		{"per odd", "per=33", Filter{}, "per"},
		{"sort unknown", "sort=id", Filter{}, "sort"},
		{"dir unknown", "dir=sideways", Filter{}, "dir"},
		{"status markup", "status=%3Cb%3E", Filter{}, "status"},
		{"kind not allowed", "kind=app", Filter{}, "kind"},
		{"repeated", "q=a&q=b", Filter{}, "q"},
		{"tag key", "tag=env", Filter{Tag: &cloud.TagSelector{Key: "env", AnyValue: true}, Page: 1, PerPage: 50}, ""},
		{
			"tag key=value",
			"tag=env%3Dprod",
			Filter{Tag: &cloud.TagSelector{Key: "env", Value: "prod"}, Page: 1, PerPage: 50},
			"",
		},
		{
			"tag key=",
			"tag=decom:protect=",
			Filter{Tag: &cloud.TagSelector{Key: "decom:protect"}, Page: 1, PerPage: 50},
			"",
		},
		{"tag empty is no filter", "tag=", Filter{Page: 1, PerPage: 50}, ""},
		{"tag without key", "tag=%3Dprod", Filter{}, "tag"},
		{"tag key too long", "tag=" + strings.Repeat("k", 129), Filter{}, "tag"},
		{"tag control character", "tag=a%0Ab", Filter{}, "tag"},
		{"tag repeated", "tag=a&tag=b", Filter{}, "tag"},
		{"ep", "ep=0", Filter{EP: "0", Page: 1, PerPage: 50}, ""},
		{"ep markup", "ep=%3Cb%3E", Filter{}, "ep"},
		{"ep with a space", "ep=a+b", Filter{}, "ep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, _ := url.ParseQuery(tt.query)
			got, err := ParseFilter(q, nil)
			var fe *FilterError
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("error %v", err)
			case tt.err != "" && (!errors.As(err, &fe) || fe.Param != tt.err):
				t.Fatalf("error %v, want one about %s", err, tt.err)
			case tt.err == "":
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("filter (-want +got):\n%s", diff)
				}
				back, _ := ParseFilter(got.Values(), nil)
				if diff := cmp.Diff(got, back); diff != "" {
					t.Errorf("Values does not round-trip:\n%s", diff)
				}
			}
		})
	}
}

func TestQuery(t *testing.T) {
	var items []cloud.Resource
	for i := range 30 {
		st, cl := "RUNNING", cloud.ClassActive
		if i%3 == 0 {
			st, cl = "CREATEFAILED", cloud.ClassFailed
		}
		items = append(items, res([]string{"p1", "p2"}[i%2], fmt.Sprintf("mq-%02d", i), st, cl))
	}
	s := newSnapshot(items, time.Now(), nil)
	tests := []struct {
		name      string
		f         Filter
		total     int
		first     string
		pages, to int
	}{
		{"all, page 2 of 25", Filter{Page: 2, PerPage: 25}, 30, "mq-25", 2, 30},
		{"class", Filter{Status: "failed", Page: 1, PerPage: 25}, 10, "mq-00", 1, 10},
		{"raw status any case", Filter{Status: "createFailed", Page: 1, PerPage: 25}, 10, "mq-00", 1, 10},
		{"project", Filter{Project: "p2", Page: 1, PerPage: 25}, 15, "mq-01", 1, 15},
		{"search by name, descending", Filter{Q: "MQ-1", Desc: true, Page: 1, PerPage: 25}, 10, "mq-19", 1, 10},
		{"search by id", Filter{Q: "id-mq-07", Page: 1, PerPage: 25}, 1, "mq-07", 1, 1},
		{"page past the end", Filter{Page: 9, PerPage: 25}, 30, "mq-25", 2, 30},
		{"nothing", Filter{Q: "zzz", Page: 1, PerPage: 25}, 0, "", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := s.Query(tt.f)
			first := ""
			if len(p.Items) > 0 {
				first = p.Items[0].Name
			}
			if p.Total != tt.total || first != tt.first || p.Pages != tt.pages || p.To != tt.to {
				t.Errorf(
					"total %d first %q pages %d to %d; want %d %q %d %d",
					p.Total,
					first,
					p.Pages,
					p.To,
					tt.total,
					tt.first,
					tt.pages,
					tt.to,
				)
			}
		})
	}
	if got := len(s.Matching(Filter{Status: "failed"})); got != 10 {
		t.Errorf("Matching = %d", got)
	}
}

func TestQueryTagsAndEP(t *testing.T) {
	mk := func(name, ep string, tags ...cloud.Tag) cloud.Resource {
		r := res("p1", name, "RUNNING", cloud.ClassActive)
		r.EnterpriseProject, r.Tags = ep, tags
		return r
	}
	s := newSnapshot([]cloud.Resource{
		mk("a", "0", cloud.Tag{Key: "env", Value: "prod"}),
		mk("b", "ep-fin", cloud.Tag{Key: "Env", Value: "dev"}, cloud.Tag{Key: "decom:protect"}),
		mk("c", "EP-FIN"),
		mk("d", ""),
	}, time.Now(), nil)
	sel := func(s string) *cloud.TagSelector { t, _ := cloud.ParseTagSelector(s); return &t }
	tests := []struct {
		name string
		f    Filter
		want []string
	}{
		{"tag key, any case", Filter{Tag: sel("ENV")}, []string{"a", "b"}},
		{"tag key=value", Filter{Tag: sel("env=prod")}, []string{"a"}},
		{"tag value case", Filter{Tag: sel("env=DEV")}, []string{"b"}},
		{"tag with empty value", Filter{Tag: sel("decom:protect=")}, []string{"b"}},
		{"no such tag", Filter{Tag: sel("owner")}, nil},
		{"ep", Filter{EP: "ep-fin"}, []string{"b", "c"}},
		{"default ep", Filter{EP: "0"}, []string{"a"}},
		{"tag and ep", Filter{Tag: sel("env"), EP: "ep-fin"}, []string{"b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, r := range s.Matching(tt.f) {
				got = append(got, r.Name)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("matches (-want +got):\n%s", diff)
			}
		})
	}
	if diff := cmp.Diff([]string{"0", "EP-FIN", "ep-fin"}, s.EnterpriseProjects()); diff != "" {
		t.Errorf("EnterpriseProjects (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"Env", "decom:protect", "env"}, s.TagKeys()); diff != "" {
		t.Errorf("TagKeys (-want +got):\n%s", diff)
	}
}

func TestCache(t *testing.T) {
	var clockMu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return now }
	advance := func(d time.Duration) { clockMu.Lock(); defer clockMu.Unlock(); now = now.Add(d) }
	sc := &stubCloud{
		items: map[string][]cloud.Resource{"p1": {res("p1", "x", "RUNNING", cloud.ClassActive)}},
		fail:  map[string]bool{"p2": true},
	}
	inv := New(sc, Options{TTL: time.Minute, Now: clock})
	ctx := context.Background()

	s1, err := inv.Service(ctx, cloud.RocketMQ)
	if err != nil || len(s1.Items) != 1 || len(s1.Errors) != 1 {
		t.Fatalf("partial read: %v items %d errors %v", err, len(s1.Items), s1.Errors)
	}
	inv.Service(ctx, cloud.RocketMQ)
	if sc.calls != 2 {
		t.Errorf("cached read called the cloud: %d calls", sc.calls)
	}
	advance(2 * time.Minute)
	if s, _ := inv.Service(ctx, cloud.RocketMQ); s != s1 {
		t.Error("a stale read should be served while a new one is made")
	}
	waitCalls(t, sc, 4)
	if s, _ := inv.Service(ctx, cloud.RocketMQ); s == s1 {
		t.Error("background read not used")
	}
	advance(30 * time.Minute) // older than MaxStale: blocks for a new read
	if s, _ := inv.Service(ctx, cloud.RocketMQ); !s.ReadAt.Equal(clock()) {
		t.Error("a read older than MaxStale was served")
	}
	if sc.callCount() != 6 {
		t.Errorf("calls = %d, want 6", sc.callCount())
	}
	inv.Refresh(cloud.RocketMQ, "")
	inv.Service(ctx, cloud.RocketMQ)
	if sc.callCount() != 8 {
		t.Errorf("refresh not re-read: %d calls", sc.calls)
	}
	sc.mu.Lock()
	sc.fail["p1"] = true
	sc.mu.Unlock()
	inv.Refresh("", "")
	var re *ReadError
	if _, err := inv.Service(ctx, cloud.RocketMQ); !errors.As(err, &re) {
		t.Errorf("all failed: %v, want *ReadError", err)
	}
}

func TestSelection(t *testing.T) {
	inv := New(&stubCloud{}, Options{})
	a, b := res("p1", "a", "RUNNING", cloud.ClassActive), res("p1", "b", "RUNNING", cloud.ClassActive)
	inv.Select(1, "rocketmq", b, a, a)
	inv.Select(2, "rocketmq", a)
	inv.Select(1, "rabbitmq", a)
	if got := inv.SelectedRefs(1, "rocketmq"); len(got) != 2 || got[0].ID != "id-a" {
		t.Errorf("user 1 = %v", got)
	}
	n, sel := inv.SelectionState(1, "rocketmq", []string{a.Key(), "other"})
	if n != 2 || !sel[a.Key()] || sel["other"] {
		t.Errorf("state = %d %v", n, sel)
	}
	inv.Deselect(1, "rocketmq", a.Key())
	inv.ClearSelection(2, "rocketmq")
	if len(inv.Selected(1, "rocketmq")) != 1 || len(inv.Selected(2, "rocketmq")) != 0 ||
		len(inv.Selected(1, "rabbitmq")) != 1 {
		t.Error("scopes or users leak into each other")
	}
}
