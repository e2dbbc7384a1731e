package cloudsim_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/decom/decom/cloudsim"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	cm "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/clouddc/v1/model"
	rmq "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/rocketmq/v2/model"
	rm "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/roma/v2/model"

	clouddc "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/clouddc/v1"
)

var listRocket = &rmq.ListInstancesRequest{Engine: rmq.GetListInstancesRequestEngineEnum().ROCKETMQ}

func TestAuthSignatureAccepted(t *testing.T) {
	e := newEnv(t, "demo", nil)
	// Query values needing escapes, a JSON body and a charset content type
	// all verify.
	_, err := e.rocket(e.akskCred(prod)).
		ListInstances(&rmq.ListInstancesRequest{Engine: rmq.GetListInstancesRequestEngineEnum().ROCKETMQ,
			Name: ptr("a b/c+d~é"), Limit: ptr(int32(5))})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.cdc(e.akskCred(prod)).
		DeleteInstances(&cm.DeleteInstancesRequest{Body: &cm.BatchDeleteOptions{InstanceIdSet: &[]string{"x"}}})
	wantSDKError(t, err, http.StatusBadRequest, "CLOUDDC.00000409")
}

func TestAuthSignatureNegatives(t *testing.T) {
	e := newEnv(t, "demo", nil)
	_, err := e.rocket(e.akskCredWith(cloudsim.DemoAK, strings.Repeat("x", 40), prod)).ListInstances(listRocket)
	wantSDKError(t, err, http.StatusUnauthorized, "APIGW.0301")
	_, err = e.rocket(e.akskCredWith("NOSUCHAKNOSUCHAK0000", cloudsim.DemoSK, prod)).ListInstances(listRocket)
	wantSDKError(t, err, http.StatusUnauthorized, "APIGW.0301")

	// Stale: the SDK signs with an X-Sdk-Date it is given.
	stale := time.Now().UTC().Add(-16 * time.Minute).Format("20060102T150405Z")
	_, err = e.rocket(e.akskCred(prod)).
		ListInstancesInvoker(listRocket).
		AddHeaders(map[string]string{"X-Sdk-Date": stale}).
		Invoke()
	wantSDKError(t, err, http.StatusUnauthorized, "APIGW.0301")
	fresh := time.Now().UTC().Add(-14 * time.Minute).Format("20060102T150405Z")
	if _, err = e.rocket(e.akskCred(prod)).ListInstancesInvoker(listRocket).AddHeaders(map[string]string{"X-Sdk-Date": fresh}).Invoke(); err != nil {
		t.Fatalf("14 minutes of skew must pass: %v", err)
	}

	// Tampered body: a round tripper changes the body after signing.
	id := e.create(map[string]any{"service": "clouddc", "kind": "instance", "project_id": prod, "status": "stopped"})
	tamper := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		b, _ := io.ReadAll(r.Body)
		b = bytes.Replace(b, []byte("decoy"), []byte(id), 1)
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
		return http.DefaultTransport.RoundTrip(r)
	})
	hc := e.hc(
		clouddc.CloudDCClientBuilder().WithHttpConfig(config.DefaultHttpConfig().WithHttpRoundTripper(tamper)),
		e.akskCred(prod),
	)
	_, err = clouddc.NewCloudDCClient(hc).
		DeleteInstances(&cm.DeleteInstancesRequest{Body: &cm.BatchDeleteOptions{InstanceIdSet: &[]string{"decoy"}}})
	wantSDKError(t, err, http.StatusUnauthorized, "APIGW.0301")
	if d := e.stats().Deletes; len(d) != 0 {
		t.Fatalf("tampered request deleted %+v", d)
	}

	// Raw requests: no auth at all, a malformed header.
	for _, h := range []map[string]string{{}, {"Authorization": "Basic Zm9vOmJhcg=="}, {"X-Auth-Token": "wrong"}} {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/v1/"+prod+"/instances", nil)
		for k, v := range h {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(b), `"APIGW.0301"`) ||
			resp.Header.Get("X-Request-Id") == "" {
			t.Fatalf("headers %v: %d %s", h, resp.StatusCode, b)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestAuthSignatureCheckOff(t *testing.T) {
	e := newEnv(t, "demo", func(o *cloudsim.Options) { o.Faults.CheckSignatures = false })
	if _, err := e.rocket(e.akskCredWith(cloudsim.DemoAK, strings.Repeat("x", 40), prod)).ListInstances(listRocket); err != nil {
		t.Fatalf("check_signatures=false must accept a known AK: %v", err)
	}
	_, err := e.rocket(e.akskCredWith("NOSUCHAKNOSUCHAK0000", cloudsim.DemoSK, prod)).ListInstances(listRocket)
	wantSDKError(t, err, http.StatusUnauthorized, "APIGW.0301")
}

func TestAuthIgnoresTestClock(t *testing.T) {
	e := newEnv(t, "demo", func(o *cloudsim.Options) {
		o.Now = func() time.Time { return time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC) }
	})
	if _, err := e.rocket(e.akskCred(prod)).ListInstances(listRocket); err != nil {
		t.Fatalf("a test clock far from now must not make signatures stale: %v", err)
	}
}

func TestAuthTokenAndProjectScope(t *testing.T) {
	e := newEnv(t, "demo", func(o *cloudsim.Options) {
		o.Credentials = append(
			cloudsim.DemoCredentials(),
			cloudsim.Credential{
				AK:       "STAGINGONLYAK0000001",
				SK:       strings.Repeat("s", 40),
				User:     "stg",
				Projects: []string{staging},
			},
		)
	})
	tok := TokenCredential{Token: cloudsim.DemoToken, ProjectID: prod}
	if _, err := e.rocket(tok).ListInstances(listRocket); err != nil {
		t.Fatal(err)
	}
	if _, err := e.roma(tok).CheckRomaInstanceListV2(&rm.CheckRomaInstanceListV2Request{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cdc(tok).ListInstances(&cm.ListInstancesRequest{}); err != nil {
		t.Fatal(err)
	}
	_, err := e.rocket(TokenCredential{Token: "expired", ProjectID: prod}).ListInstances(listRocket)
	wantSDKError(t, err, http.StatusUnauthorized, "APIGW.0301")
	_, err = e.rocket(TokenCredential{Token: cloudsim.DemoToken, ProjectID: "0123456789abcdef0123456789abcdef"}).
		ListInstances(listRocket)
	wantSDKError(t, err, http.StatusForbidden, "APIGW.0302")
	_, err = e.cdc(e.akskCredWith("STAGINGONLYAK0000001", strings.Repeat("s", 40), prod)).
		ListInstances(&cm.ListInstancesRequest{})
	wantSDKError(t, err, http.StatusForbidden, "APIGW.0302")
	if _, err := e.cdc(e.akskCredWith("STAGINGONLYAK0000001", strings.Repeat("s", 40), staging)).ListInstances(&cm.ListInstancesRequest{}); err != nil {
		t.Fatal(err)
	}
}
