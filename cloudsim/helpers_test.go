package cloudsim_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/decom/decom/cloudsim"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/impl"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/request"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
	clouddc "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/clouddc/v1"
	rabbitmq "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/rabbitmq/v2"
	rocketmq "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/rocketmq/v2"
	roma "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/roma/v2"
)

var (
	prod    = cloudsim.DemoProjects[0]
	staging = cloudsim.DemoProjects[1]
)

const demoToken = cloudsim.DemoToken

// clock is a settable test clock that starts at the real time, so the SDK's
// X-Sdk-Date stays within the allowed skew.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is one simulator on an httptest server with a test clock.
type env struct {
	t     testing.TB
	sim   *cloudsim.Sim
	srv   *httptest.Server
	clock *clock
}

// newEnv starts a simulator with the demo credentials and DefaultFaults,
// modified by tweak when it is non-nil.
func newEnv(t testing.TB, fleet string, tweak func(*cloudsim.Options)) *env {
	t.Helper()
	clk := &clock{t: time.Now().UTC()}
	opts := cloudsim.Options{Credentials: cloudsim.DemoCredentials(), Fleet: fleet, Seed: 42,
		Faults: cloudsim.DefaultFaults(), Now: clk.Now}
	if tweak != nil {
		tweak(&opts)
	}
	sim := cloudsim.New(opts)
	srv := httptest.NewServer(sim)
	t.Cleanup(func() { srv.Close(); sim.Close() })
	return &env{t: t, sim: sim, srv: srv, clock: clk}
}

func (e *env) akskCred(project string) auth.ICredential {
	return e.akskCredWith(cloudsim.DemoAK, cloudsim.DemoSK, project)
}

func (e *env) akskCredWith(ak, sk, project string) auth.ICredential {
	c, err := basic.NewCredentialsBuilder().WithAk(ak).WithSk(sk).WithProjectId(project).SafeBuild()
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) hc(b *core.HcHttpClientBuilder, cred auth.ICredential) *core.HcHttpClient {
	if _, ok := cred.(TokenCredential); ok {
		b = b.WithCredentialsType("cloudsim_test.TokenCredential")
	}
	hc, err := b.WithEndpoints([]string{e.srv.URL}).WithCredential(cred).SafeBuild()
	if err != nil {
		e.t.Fatal(err)
	}
	return hc
}

func (e *env) rocket(cred auth.ICredential) *rocketmq.RocketMQClient {
	return rocketmq.NewRocketMQClient(e.hc(rocketmq.RocketMQClientBuilder(), cred))
}

func (e *env) rabbit(cred auth.ICredential) *rabbitmq.RabbitMQClient {
	return rabbitmq.NewRabbitMQClient(e.hc(rabbitmq.RabbitMQClientBuilder(), cred))
}

func (e *env) roma(cred auth.ICredential) *roma.RomaClient {
	return roma.NewRomaClient(e.hc(roma.RomaClientBuilder(), cred))
}

func (e *env) cdc(cred auth.ICredential) *clouddc.CloudDCClient {
	return clouddc.NewCloudDCClient(e.hc(clouddc.CloudDCClientBuilder(), cred))
}

// TokenCredential sends an IAM token as cloud-api.md §1.3 describes.
type TokenCredential struct{ Token, ProjectID string }

// ProcessAuthParams returns the credential unchanged.
func (c TokenCredential) ProcessAuthParams(*impl.DefaultHttpClient, string) (auth.ICredential, error) {
	return c, nil
}

// ProcessAuthRequest fills the project and adds X-Auth-Token.
func (c TokenCredential) ProcessAuthRequest(
	_ *impl.DefaultHttpClient,
	req *request.DefaultHttpRequest,
) (*request.DefaultHttpRequest, error) {
	return req.Builder().AddAutoFilledPathParam("project_id", c.ProjectID).
		AddHeaderParam("X-Auth-Token", c.Token).AddHeaderParam("X-Project-Id", c.ProjectID).Build(), nil
}

// ctl calls the control API and decodes a JSON answer into out (if non-nil).
func (e *env) ctl(method, path string, body any, out any) int {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			e.t.Fatalf("%s %s: decode %q: %v", method, path, b, err)
		}
	}
	return resp.StatusCode
}

// create makes one resource through the control API and returns its ID.
func (e *env) create(spec map[string]any) string {
	e.t.Helper()
	var out struct{ ID string }
	if st := e.ctl(http.MethodPost, "/_sim/resources", spec, &out); st != http.StatusCreated {
		e.t.Fatalf("create %v: status %d", spec, st)
	}
	return out.ID
}

func (e *env) faults(knobs map[string]any) {
	e.t.Helper()
	if st := e.ctl(http.MethodPut, "/_sim/faults", knobs, nil); st != http.StatusOK {
		e.t.Fatalf("faults %v: status %d", knobs, st)
	}
}

// stats is GET /_sim/stats.
type stats struct {
	Total           int                       `json:"total"`
	ByOperation     map[string]int            `json:"by_operation"`
	ByStatus        map[string]int            `json:"by_status"`
	ByOperationCode map[string]map[string]int `json:"by_operation_status"`
	Deletes         []struct {
		Service, Kind, ID string
		ProjectID         string `json:"project_id"`
		Force             bool   `json:"force_delete"`
		Recycled          bool   `json:"recycled"`
	} `json:"deletes"`
	DeleteCalls []struct {
		Operation string
		RequestID string `json:"request_id"`
		Status    int
	} `json:"delete_calls"`
}

func (e *env) stats() stats {
	var s stats
	e.ctl(http.MethodGet, "/_sim/stats", nil, &s)
	return s
}

type resource struct {
	Service, Kind, ID, Name, Status, Parent string
	ProjectID                               string `json:"project_id"`
}

func (e *env) resources() []resource {
	var out struct{ Resources []resource }
	e.ctl(http.MethodGet, "/_sim/resources", nil, &out)
	return out.Resources
}

// wantSDKError checks err is a ServiceResponseError with status and code.
func wantSDKError(t testing.TB, err error, status int, code string) *sdkerr.ServiceResponseError {
	t.Helper()
	var se *sdkerr.ServiceResponseError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v (%T), want ServiceResponseError %d %s", err, err, status, code)
	}
	if se.StatusCode != status || se.ErrorCode != code || se.ErrorMessage == "" || se.RequestId == "" {
		t.Fatalf(
			"err = status %d code %q msg %q request %q, want %d %s",
			se.StatusCode,
			se.ErrorCode,
			se.ErrorMessage,
			se.RequestId,
			status,
			code,
		)
	}
	return se
}

func ptr[T any](v T) *T { return &v }
