package cloud

import (
	"fmt"

	sdkregion "github.com/huaweicloud/huaweicloud-sdk-go-v3/core/region"
	clouddcregion "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/clouddc/v1/region"
	rabbitmqregion "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/rabbitmq/v2/region"
	rocketmqregion "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/rocketmq/v2/region"
	romaregion "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/roma/v2/region"
)

// RegionEndpoint returns the endpoint the SDK's region provider of svc gives
// for region: its provider chain (the HUAWEICLOUD_SDK_REGION_<SERVICE>_<REGION>
// variable, then the SDK's regions.yaml profile), then the region table the
// SDK ships. A region where the service is not offered is an ErrNotOffered.
func RegionEndpoint(svc Service, region string) (string, error) {
	if region == "" {
		return "", notOffered(svc, region)
	}
	var r *sdkregion.Region
	var err error
	switch svc {
	case RocketMQ:
		r, err = rocketmqregion.SafeValueOf(region)
	case RabbitMQ:
		r, err = rabbitmqregion.SafeValueOf(region)
	case ROMA:
		r, err = romaregion.SafeValueOf(region)
	case CloudDC:
		r, err = clouddcregion.SafeValueOf(region)
	default:
		return "", configError("", "unknown service %q", svc)
	}
	if err != nil || r == nil || len(r.Endpoints) == 0 || r.Endpoints[0] == "" {
		return "", notOffered(svc, region)
	}
	return r.Endpoints[0], nil
}

// notOffered says that svc has no endpoint in region.
func notOffered(svc Service, region string) *Error {
	msg := fmt.Sprintf("%s is not offered in region %q (the SDK's region table has no endpoint for it); "+
		"set its endpoint in the cloud config to use one anyway", serviceTitle(svc), region)
	if region == "" {
		msg = fmt.Sprintf("%s has no endpoint: the account has no region and no explicit endpoint", serviceTitle(svc))
	}
	return &Error{Class: ErrNotOffered, Service: svc, Operation: "endpoint", Message: msg}
}

// serviceTitle is the service's product name for messages.
func serviceTitle(svc Service) string {
	switch svc {
	case RocketMQ:
		return "DMS for RocketMQ"
	case RabbitMQ:
		return "DMS for RabbitMQ"
	case ROMA:
		return "ROMA Connect"
	case CloudDC:
		return "CloudDC"
	}
	return string(svc)
}

// DefaultEndpoints derives the endpoints of a region from the SDK's region
// providers. A family the region does not offer is left empty. RocketMQ and
// RabbitMQ share the DMS endpoint (their SDK tables are the same; a test
// keeps them so).
func DefaultEndpoints(region string) Endpoints {
	var e Endpoints
	e.DMS, _ = RegionEndpoint(RocketMQ, region)
	e.ROMA, _ = RegionEndpoint(ROMA, region)
	e.CloudDC, _ = RegionEndpoint(CloudDC, region)
	return e
}

// NotOffered lists, for display at start and in `cloud check`, the services
// the account cannot reach because its region does not offer them and no
// endpoint was given.
func (a Account) NotOffered() []error {
	var out []error
	for _, svc := range Services {
		if _, err := a.ServiceEndpoint(svc); err != nil {
			out = append(out, err)
		}
	}
	return out
}

// ServiceEndpoint returns the account's endpoint for svc: the explicit one
// from the cloud config, else the SDK's for the account's region, else an
// ErrNotOffered error naming the service and region.
func (a Account) ServiceEndpoint(svc Service) (string, error) {
	if u := a.Endpoint(svc); u != "" {
		return u, nil
	}
	u, err := RegionEndpoint(svc, a.Region)
	if err != nil {
		e := err.(*Error)
		e.Account = a.Name
		return "", e
	}
	return u, nil
}
