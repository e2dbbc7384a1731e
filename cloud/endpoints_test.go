package cloud

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// sdkRegionTables reads every (region, endpoint) pair of the four services'
// region packages from the SDK module source, independently of the code
// under test.
func sdkRegionTables(t *testing.T) map[Service]map[string]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/huaweicloud/huaweicloud-sdk-go-v3").
		Output()
	if err != nil {
		t.Fatalf("locate the SDK module: %v", err)
	}
	dir := strings.TrimSpace(string(out))
	re := regexp.MustCompile(`region\.NewRegion\("([^"]+)",\s*"([^"]+)"\)`)
	tables := map[Service]map[string]string{}
	for svc, pkg := range map[Service]string{RocketMQ: "rocketmq/v2", RabbitMQ: "rabbitmq/v2", ROMA: "roma/v2",
		CloudDC: "clouddc/v1"} {
		b, err := os.ReadFile(filepath.Join(dir, "services", pkg, "region", "region.go"))
		if err != nil {
			t.Fatal(err)
		}
		tables[svc] = map[string]string{}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			tables[svc][m[1]] = m[2]
		}
		if len(tables[svc]) == 0 {
			t.Fatalf("%s: no regions parsed", svc)
		}
	}
	return tables
}

func TestRegionEndpointEveryRegion(t *testing.T) {
	tables := sdkRegionTables(t)
	all := map[string]bool{"eu-west-1": true, "xx-nowhere-9": true} // two regions no table has
	for _, regions := range tables {
		for r := range regions {
			all[r] = true
		}
	}
	for _, svc := range Services {
		for region := range all {
			t.Run(string(svc)+"/"+region, func(t *testing.T) {
				got, err := RegionEndpoint(svc, region)
				want, offered := tables[svc][region]
				if !offered {
					if !errors.Is(err, ErrNotOffered) || got != "" ||
						!strings.Contains(err.Error(), "not offered in region \""+region+"\"") {
						t.Fatalf("got %q, %v; want ErrNotOffered naming the region", got, err)
					}
					return
				}
				if err != nil || got != want {
					t.Fatalf("got %q, %v; want %q", got, err, want)
				}
			})
		}
	}
	// One DMS endpoint serves both engines: the two tables must agree.
	for r, u := range tables[RocketMQ] {
		if tables[RabbitMQ][r] != u {
			t.Errorf("region %s: RocketMQ %q but RabbitMQ %q", r, u, tables[RabbitMQ][r])
		}
	}
	if len(tables[RocketMQ]) != len(tables[RabbitMQ]) {
		t.Errorf("RocketMQ has %d regions, RabbitMQ %d", len(tables[RocketMQ]), len(tables[RabbitMQ]))
	}
}

func TestEndpointsEuWest101(t *testing.T) {
	a := Account{Name: "eu", Region: "eu-west-101", Projects: []string{"p1"}, AK: "AKIDEXAMPLE12345", SK: testSK}
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	a = a.withDefaults()
	if got, _ := a.ServiceEndpoint(RabbitMQ); got != "https://dms.eu-west-101.myhuaweicloud.eu" {
		t.Fatalf("DMS endpoint %q", got)
	}
	missing := a.NotOffered()
	if len(missing) != 2 || !errors.Is(missing[0], ErrNotOffered) ||
		!strings.Contains(missing[0].Error(), "ROMA Connect") || !strings.Contains(missing[1].Error(), "CloudDC") {
		t.Fatalf("NotOffered = %v", missing)
	}
	// An explicit endpoint still wins.
	a.Endpoints.ROMA = "https://roma.example.internal"
	if got, err := a.ServiceEndpoint(ROMA); err != nil || got != "https://roma.example.internal" {
		t.Fatalf("explicit ROMA: %q %v", got, err)
	}
}

// A call to a service the region lacks fails at once with ErrNotOffered,
// never with a DNS error.
func TestClientServiceNotOffered(t *testing.T) {
	c, err := New(Config{Accounts: []Account{{Name: "eu", Region: "eu-west-101", Projects: []string{"p1"},
		AK: "AKIDEXAMPLE12345", SK: testSK}}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ListInstances(context.Background(), "eu", "p1", CloudDC)
	if !errors.Is(err, ErrNotOffered) ||
		!strings.Contains(err.Error(), `CloudDC is not offered in region "eu-west-101"`) {
		t.Fatalf("err = %v", err)
	}
}
