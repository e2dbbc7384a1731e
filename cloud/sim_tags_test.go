package cloud

import (
	"errors"
	"reflect"
	"testing"
)

func TestSimTagsAndEnterpriseProjects(t *testing.T) {
	env := newSim(t, "empty", nil)
	protect := []Tag{{Key: "decom:protect", Value: ""}, {Key: "team", Value: "payments"}}
	rocket := env.create(spec{Service: "rocketmq", Tags: protect, EP: "ep-finance"})
	plain := env.create(spec{Service: "rocketmq"})
	rabbit := env.create(spec{Service: "rabbitmq", Tags: []Tag{{Key: "env", Value: "prod"}}, EP: "ep-ops"})
	bm := env.create(spec{Service: "clouddc", Tags: []Tag{{Key: "decom:protect", Value: "yes"}}})
	ri := env.create(spec{Service: "roma", EP: "ep-int"})
	app := env.create(spec{Service: "roma", Kind: "app", InstanceID: ri})
	task := env.create(spec{Service: "roma", Kind: "task", InstanceID: ri, EP: "ep-task"})
	c, acct := env.client(authAKSK, Options{})
	ref := func(svc Service, kind Kind, parent, id string) Ref {
		return Ref{Account: acct, Project: simProject, Service: svc, Kind: kind, Parent: parent, ID: id}
	}
	want := map[string]struct {
		tags []Tag
		ep   string
	}{
		rocket: {protect, "ep-finance"}, plain: {nil, "0"}, rabbit: {[]Tag{{Key: "env", Value: "prod"}}, "ep-ops"},
		bm: {[]Tag{{Key: "decom:protect", Value: "yes"}}, ""}, ri: {nil, "ep-int"}, app: {nil, "ep-int"},
		task: {nil, "ep-task"},
	}
	check := func(t *testing.T, how string, r Resource) {
		t.Helper()
		w, ok := want[r.ID]
		if !ok {
			t.Fatalf("%s: unexpected %s", how, r.ID)
		}
		if !reflect.DeepEqual(r.Tags, w.tags) || r.EnterpriseProject != w.ep {
			t.Errorf(
				"%s %s %s: tags %v ep %q, want %v %q",
				how,
				r.Service,
				r.Kind,
				r.Tags,
				r.EnterpriseProject,
				w.tags,
				w.ep,
			)
		}
	}
	t.Run("ListInstances", func(t *testing.T) {
		for _, svc := range Services {
			list, err := c.ListInstances(ctxBG, acct, simProject, svc)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range list {
				check(t, "list", r)
			}
		}
		assets, err := c.ListROMAAssets(ctxBG, acct, simProject, ri)
		if err != nil || len(assets) != 2 {
			t.Fatalf("assets %v %v", assets, err)
		}
		for _, r := range assets {
			check(t, "assets", r)
		}
		if assets[1].Details["task tag"] != "decom" {
			t.Errorf("task details %v", assets[1].Details)
		}
	})
	refs := []Ref{ref(RocketMQ, KindInstance, "", rocket), ref(RocketMQ, KindInstance, "", plain),
		ref(RabbitMQ, KindInstance, "", rabbit), ref(CloudDC, KindInstance, "", bm), ref(ROMA, KindInstance, "", ri),
		ref(ROMA, KindApp, ri, app), ref(ROMA, KindTask, ri, task)}
	t.Run("Read", func(t *testing.T) {
		for _, r := range refs {
			got, err := c.Read(ctxBG, r)
			if err != nil {
				t.Fatal(err)
			}
			check(t, "read", got)
		}
	})
	t.Run("ReadMany", func(t *testing.T) {
		got, err := c.ReadMany(ctxBG, refs)
		if err != nil || len(got) != len(refs) {
			t.Fatalf("%d %v", len(got), err)
		}
		for _, r := range got {
			check(t, "readmany", r)
		}
	})
	t.Run("AppFollowsInstance", func(t *testing.T) {
		env.control("PATCH", "/_sim/resources/"+ri, map[string]any{"enterprise_project_id": "ep-moved"}, nil)
		got, err := c.Read(ctxBG, ref(ROMA, KindApp, ri, app))
		if err != nil || got.EnterpriseProject != "ep-moved" {
			t.Fatalf("app ep %q %v", got.EnterpriseProject, err)
		}
	})
}

func TestSimDMSTags(t *testing.T) {
	env := newSim(t, "empty", nil)
	var many []Tag
	for i := range 20 {
		many = append(many, Tag{Key: string(rune('a'+i)) + "-key", Value: "v"})
	}
	rocket := env.create(spec{Service: "rocketmq", Tags: many})
	rabbit := env.create(spec{Service: "rabbitmq", Tags: many[:2]})
	for _, mode := range []authMode{authAKSK, authToken} {
		c, acct := env.client(mode, Options{})
		t.Run(string(mode)+"/OK", func(t *testing.T) {
			got, err := c.DMSTags(
				ctxBG,
				Ref{Account: acct, Project: simProject, Service: RocketMQ, Kind: KindInstance, ID: rocket},
			)
			if err != nil || !reflect.DeepEqual(got, many) {
				t.Fatalf("rocket tags %v %v", got, err)
			}
			got, err = c.DMSTags(
				ctxBG,
				Ref{Account: acct, Project: simProject, Service: RabbitMQ, Kind: KindInstance, ID: rabbit},
			)
			if err != nil || !reflect.DeepEqual(got, many[:2]) {
				t.Fatalf("rabbit tags %v %v", got, err)
			}
		})
		t.Run(string(mode)+"/ErrNotFound", func(t *testing.T) {
			// The engine must match, as in the cloud.
			_, err := c.DMSTags(
				ctxBG,
				Ref{Account: acct, Project: simProject, Service: RabbitMQ, Kind: KindInstance, ID: rocket},
			)
			if !errors.Is(err, ErrNotFound) {
				t.Fatalf("err %v", err)
			}
		})
	}
	c, acct := env.client(authAKSK, Options{})
	if _, err := c.DMSTags(ctxBG, Ref{Account: acct, Project: simProject, Service: CloudDC, Kind: KindInstance, ID: "x"}); !errors.Is(
		err,
		ErrPermanent,
	) {
		t.Fatalf("clouddc: %v", err)
	}
}
