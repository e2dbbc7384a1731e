package cloud

import (
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/signer/algorithm"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/request"
)

func benchRequest() *request.DefaultHttpRequest {
	return request.NewHttpRequestBuilder().WithEndpoint("https://dms.cn-north-4.myhuaweicloud.com").
		WithPath("/v2/{project_id}/instances").WithMethod("GET").WithSigningAlgorithm(algorithm.HmacSHA256).
		AddQueryParam("engine", "rabbitmq").AddHeaderParam("Content-Type", "application/json").Build()
}

// BenchmarkSignStatic is the SDK's own basic.Credentials signing a request:
// the baseline.
func BenchmarkSignStatic(b *testing.B) {
	cred := auth.NewBasicCredentialsBuilder().WithAk("HWSIMDEMOAK7Q2X9KLM4").WithSk(testSK).WithProjectId("p1").Build()
	for b.Loop() {
		if _, err := cred.ProcessAuthRequest(nil, benchRequest()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignSourceCredential is decom's refreshing credential: the
// current credentials from the cache, then the same SDK signing.
func BenchmarkSignSourceCredential(b *testing.B) {
	a := Account{Name: "a", AK: "HWSIMDEMOAK7Q2X9KLM4", SK: testSK, SecurityToken: "sts"}
	sc := &sourceCredential{cache: newCredCache(a, nil, time.Now), project: "p1"}
	for b.Loop() {
		if _, err := sc.ProcessAuthRequest(nil, benchRequest()); err != nil {
			b.Fatal(err)
		}
	}
}
