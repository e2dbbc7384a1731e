package cloud

import (
	"context"

	rabbitmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/rabbitmq/v2/model"
	rocketmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/rocketmq/v2/model"
)

// dmsTagPage is the page size of RocketMQ's per-instance tag list; an
// instance has at most 20 tags, so one call reads them all.
const dmsTagPage = 50

func rocketTags(in *[]rocketmodel.TagEntity) []Tag {
	var out []Tag
	for _, t := range deref(in) {
		out = append(out, Tag{Key: t.Key, Value: t.Value})
	}
	return out
}

func rabbitTags(in *[]rabbitmodel.TagEntity) []Tag {
	var out []Tag
	for _, t := range deref(in) {
		out = append(out, Tag{Key: deref(t.Key), Value: deref(t.Value)})
	}
	return out
}

// DMSTags reads one DMS instance's tags with the per-instance tag call
// (cloud-api.md §2.11), the authoritative source to re-check right before
// acting on a protection decision. A missing instance (also one in the
// recycle bin) gives an error wrapping ErrNotFound.
func (c *Client) DMSTags(ctx context.Context, ref Ref) ([]Tag, error) {
	s, err := dmsSession(c, ref.Account, ref.Project, ref.Service, "dms.tags")
	if err != nil {
		return nil, err
	}
	if err := checkRef(ref); err != nil {
		return nil, err
	}
	if s.svc == RabbitMQ {
		var out []Tag
		err := c.call(ctx, s, "dms.tags", retryReads, func(h map[string]string) error {
			inv := s.rabbit.ShowRabbitMqTagsInvoker(&rabbitmodel.ShowRabbitMqTagsRequest{InstanceId: ref.ID})
			inv.AddHeaders(h)
			resp, err := inv.Invoke()
			if err != nil {
				return err
			}
			out = rabbitTags(resp.Tags)
			return nil
		})
		return out, err
	}
	var out []Tag
	for offset := 0; ; {
		var page []Tag
		var total int
		err := c.call(ctx, s, "dms.tags", retryReads, func(h map[string]string) error {
			inv := s.rocket.ShowRocketmqTagsInvoker(&rocketmodel.ShowRocketmqTagsRequest{InstanceId: ref.ID,
				Limit: ptr(int32(dmsTagPage)), Offset: ptr(int32(offset))})
			inv.AddHeaders(h)
			resp, err := inv.Invoke()
			if err != nil {
				return err
			}
			page, total = rocketTags(resp.Tags), int(resp.Total)
			return nil
		})
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		offset += len(page)
		if len(page) == 0 || offset >= total {
			return out, nil
		}
	}
}
