package cloudsim_test

import (
	"fmt"
	"net/http/httptest"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	rocketmq "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/rocketmq/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/rocketmq/v2/model"

	"github.com/decom/decom/cloudsim"
)

// Drive the simulator with the official SDK exactly as the README shows: the
// same base URL for every service, the project on the credential, no region.
func Example_sdk() {
	srv := httptest.NewServer(cloudsim.New(cloudsim.Options{Fleet: "demo", Seed: 1, Faults: cloudsim.DefaultFaults()}))
	defer srv.Close()
	base := srv.URL // with `go run ./cmd/web sim`: http://127.0.0.1:8081

	cred, err := basic.NewCredentialsBuilder().
		WithAk(cloudsim.DemoAK).WithSk(cloudsim.DemoSK).
		WithProjectId(cloudsim.DemoProjects[0]).SafeBuild()
	if err != nil {
		panic(err)
	}
	hc, err := rocketmq.RocketMQClientBuilder().WithEndpoints([]string{base}).WithCredential(cred).SafeBuild()
	if err != nil {
		panic(err)
	}
	client := rocketmq.NewRocketMQClient(hc)
	failed := model.GetListInstancesRequestStatusEnum().CREATEFAILED
	resp, err := client.ListInstances(&model.ListInstancesRequest{
		Engine: model.GetListInstancesRequestEngineEnum().ROCKETMQ,
		Status: &failed,
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("instances that failed to create:", *resp.InstanceNum > 0)
	// Output: instances that failed to create: true
}
