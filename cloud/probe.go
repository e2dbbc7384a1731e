package cloud

import (
	"context"
	"fmt"
	"strconv"

	cdcmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/clouddc/v1/model"
	romamodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/roma/v2/model"
)

// Probe makes the cheapest read of svc for account and project (one list
// call of one item; for ROMA also the app and task lists of the first
// instance) and says what it saw. It proves the endpoint, the credentials and
// the read permissions; a 403 comes back as an ErrPermission *Error whose
// Action names the missing permission.
func (c *Client) Probe(ctx context.Context, account, project string, svc Service) (string, error) {
	s, err := c.session(account, project, svc)
	if err != nil {
		return "", err
	}
	switch svc {
	case RocketMQ, RabbitMQ:
		_, total, err := c.dmsPage(ctx, s, 0, 1, false)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%d instances", total), nil
	case ROMA:
		return c.probeROMA(ctx, s)
	case CloudDC:
		err := c.call(ctx, s, "clouddc.list", retryReads, func(h map[string]string) error {
			inv := s.clouddc.ListInstancesInvoker(&cdcmodel.ListInstancesRequest{Limit: ptr(strconv.Itoa(1))})
			inv.AddHeaders(h)
			_, err := inv.Invoke()
			return err
		})
		if err != nil {
			return "", err
		}
		return "instance list readable", nil
	}
	return "", errUnsupported("probe", svc)
}

func (c *Client) probeROMA(ctx context.Context, s *session) (string, error) {
	var resp *romamodel.CheckRomaInstanceListV2Response
	err := c.call(ctx, s, "roma.instances.list", retryReads, func(h map[string]string) error {
		inv := s.roma.CheckRomaInstanceListV2Invoker(&romamodel.CheckRomaInstanceListV2Request{Limit: ptr(int32(1))})
		inv.AddHeaders(h)
		var err error
		resp, err = inv.Invoke()
		return err
	})
	if err != nil {
		return "", err
	}
	line := fmt.Sprintf("%d instances", deref(resp.Total))
	items := deref(resp.Instances)
	if len(items) == 0 {
		return line + " (apps and tasks not checked: no instance)", nil
	}
	inst := deref(items[0].Id)
	err = c.call(ctx, s, "roma.apps.list", retryReads, func(h map[string]string) error {
		inv := s.roma.ListRomaAppInvoker(&romamodel.ListRomaAppRequest{InstanceId: inst, Limit: ptr(int32(1))})
		inv.AddHeaders(h)
		_, err := inv.Invoke()
		return err
	})
	if err != nil {
		return "", err
	}
	err = c.call(ctx, s, "roma.tasks.list", retryReads, func(h map[string]string) error {
		inv := s.roma.ListTasksInvoker(&romamodel.ListTasksRequest{InstanceId: inst, Limit: ptr(int32(1))})
		inv.AddHeaders(h)
		_, err := inv.Invoke()
		return err
	})
	if err != nil {
		return "", err
	}
	return line + ", apps and tasks readable", nil
}
