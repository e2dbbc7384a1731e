package cloud

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/clouddc/v1/model"
)

func (c *Client) cloudDCResource(s *session, in model.QueryInstanceResponseBody) Resource {
	state, opState, errType, image := "", "", "", ""
	if in.State != nil {
		state = in.State.Value()
	}
	if in.OperationState != nil {
		opState = in.OperationState.Value()
	}
	if in.Error != nil {
		errType = in.Error.ErrorType.Value()
	}
	if in.Image != nil {
		image = in.Image.Name
	}
	return Resource{
		Ref:       s.ref(in.Id),
		Region:    s.account.Region,
		Name:      in.Name,
		Status:    state,
		Class:     CloudDCClass(state),
		CreatedAt: parseTime(in.CreatedAt),
		Details: details("server", in.ServerId, "image", image, "operation", opState,
			"error", errType, "vpc", in.VpcId),
		Tags:   cloudDCTags(in.Tags),
		ReadAt: c.now().UTC(),
	}
}

// cloudDCTags converts CloudDC tags; a tag without value reads as "" (§4.7).
func cloudDCTags(in []model.Tag) []Tag {
	if len(in) == 0 {
		return nil
	}
	out := make([]Tag, 0, len(in))
	for _, t := range in {
		out = append(out, Tag{Key: t.Key, Value: deref(t.Value)})
	}
	return out
}

// listCloudDC pages by marker at the largest page (1000). With ids it
// filters by instance_id (at most 100 per call).
func (c *Client) listCloudDC(ctx context.Context, s *session, ids []string) ([]Resource, error) {
	var out []Resource
	marker := ""
	for {
		req := &model.ListInstancesRequest{Limit: ptr(strconv.Itoa(cloudDCPageSize))}
		if marker != "" {
			req.Marker = ptr(marker)
		}
		if len(ids) > 0 {
			req.InstanceId = ptr(strings.Join(ids, ","))
		}
		var resp *model.ListInstancesResponse
		err := c.call(ctx, s, "clouddc.list", retryReads, func(h map[string]string) error {
			inv := s.clouddc.ListInstancesInvoker(req)
			inv.AddHeaders(h)
			var err error
			resp, err = inv.Invoke()
			return err
		})
		if err != nil {
			return nil, err
		}
		items := deref(resp.Instances)
		for _, in := range items {
			out = append(out, c.cloudDCResource(s, in))
		}
		next := ""
		if resp.PageInfo != nil {
			next = deref(resp.PageInfo.NextMarker)
		}
		if next == "" || len(items) == 0 || next == marker {
			return out, nil
		}
		marker = next
	}
}

func cloudDCSession(c *Client, account, project string) (*session, error) {
	return c.session(account, project, CloudDC)
}

// DeleteCloudDC deletes one CloudDC instance. Already gone (404) or already
// shutting down counts as success. After a 5xx or timeout the instance is
// re-read once the account's settle time has passed, and the delete is
// resent only if it is unchanged and deletable (Confirm).
func (c *Client) DeleteCloudDC(ctx context.Context, ref Ref) error {
	if ref.Service != CloudDC {
		return errUnsupported("clouddc.delete", ref.Service)
	}
	s, err := cloudDCSession(c, ref.Account, ref.Project)
	if err != nil {
		return err
	}
	return c.deleteOne(ctx, s, ref, "clouddc.delete", func(h map[string]string) error {
		inv := s.clouddc.DeleteInstanceInvoker(&model.DeleteInstanceRequest{Id: ref.ID})
		inv.AddHeaders(h)
		_, err := inv.Invoke()
		return err
	})
}

// DeleteCloudDCBatch deletes CloudDC instances in batches of at most 50 and
// returns one outcome per ID: Accepted for the IDs the cloud listed back
// (the accepted-ID diff), or for IDs found already shutting down or gone.
// After an ambiguous answer it returns the outcomes so far and the error;
// the caller confirms the rest (see deleteBatches).
func (c *Client) DeleteCloudDCBatch(ctx context.Context, account, project string, ids []string) ([]Outcome, error) {
	s, err := cloudDCSession(c, account, project)
	if err != nil {
		return nil, err
	}
	return c.deleteBatches(ctx, s, ids, MaxCloudDCBatch, func(pending []string) (map[string]bool, error) {
		accepted, err := c.cloudDCBatchCall(ctx, s, pending)
		if errors.Is(err, ErrPermanent) {
			// A 400 means none was accepted (§4.4); the re-read afterwards says why.
			return map[string]bool{}, nil
		}
		return accepted, err
	})
}

func (c *Client) cloudDCBatchCall(ctx context.Context, s *session, ids []string) (map[string]bool, error) {
	accepted := map[string]bool{}
	err := c.call(ctx, s, "clouddc.batch_delete", retryThrottled, func(h map[string]string) error {
		clear(accepted)
		req := &model.DeleteInstancesRequest{Body: &model.BatchDeleteOptions{InstanceIdSet: &ids}}
		inv := s.clouddc.DeleteInstancesInvoker(req)
		inv.AddHeaders(h)
		resp, err := inv.Invoke()
		if err != nil {
			return err
		}
		for _, in := range deref(resp.Instances) {
			accepted[deref(in.Id)] = true
		}
		return nil
	})
	return accepted, err
}
