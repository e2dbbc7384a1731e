package cloud

import (
	"context"
	"errors"
	"time"

	rocketmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/rocketmq/v2/model"
)

// MaxDMSRestore is the most IDs one restore call takes (cloud-api.md §2.9).
const MaxDMSRestore = 50

// RecyclePolicy is a project's DMS recycle-bin policy, one for both
// engines (cloud-api.md §2.7).
type RecyclePolicy struct {
	// RetentionDays (1..7) is how long an instance deleted from now on stays
	// restorable.
	RetentionDays int `json:"retention_days"`
	// DefaultUseRecycle: deletes that are not forced go to the bin.
	DefaultUseRecycle bool `json:"default_use_recycle"`
}

// RecyclePolicyChange changes a recycle policy; nil fields keep their value.
type RecyclePolicyChange struct {
	RetentionDays     *int
	DefaultUseRecycle *bool
}

// RecycleEntry is one DMS instance in the recycle bin. AutoDelete is the
// cloud's own auto_delete_time, never recomputed.
type RecycleEntry struct {
	Ref         Ref       `json:"ref"` // Service from the entry's engine
	Name        string    `json:"name"`
	Status      string    `json:"status"` // the status before the delete, as the cloud reports it
	InRecycle   time.Time `json:"in_recycle"`
	AutoDelete  time.Time `json:"auto_delete"`
	SaveDays    int       `json:"save_days"`
	CostPerHour float64   `json:"cost_per_hour"`
	ProductID   string    `json:"product_id,omitempty"`
}

// RecycleBin is a project's recycle policy and the instances in its bin.
type RecycleBin struct {
	Policy  RecyclePolicy  `json:"policy"`
	Entries []RecycleEntry `json:"entries"`
}

// Restorable reports whether the entry can still be restored at now.
func (e RecycleEntry) Restorable(now time.Time) bool { return now.Before(e.AutoDelete) }

// recycleSession is the session every bin call goes through: the RocketMQ
// client, because the RabbitMQ SDK cannot decode a non-empty bin (§2.7).
func (c *Client) recycleSession(account, project string) (*session, error) {
	return c.session(account, project, RocketMQ)
}

// ReadRecycleBin reads a project's recycle policy and every instance in its
// bin, both engines, newest first.
func (c *Client) ReadRecycleBin(ctx context.Context, account, project string) (RecycleBin, error) {
	s, err := c.recycleSession(account, project)
	if err != nil {
		return RecycleBin{}, err
	}
	var resp *rocketmodel.ShowRecycleInstancesResponse
	err = c.call(ctx, s, "dms.recycle", retryReads, func(h map[string]string) error {
		inv := s.rocket.ShowRecycleInstancesInvoker(&rocketmodel.ShowRecycleInstancesRequest{})
		inv.AddHeaders(h)
		var err error
		resp, err = inv.Invoke()
		return err
	})
	if err != nil {
		return RecycleBin{}, err
	}
	bin := RecycleBin{Policy: RecyclePolicy{RetentionDays: int(deref(resp.RetentionDays)),
		DefaultUseRecycle: deref(resp.DefaultUseRecycle)}}
	for _, in := range deref(resp.RecycleInstances) {
		svc := RocketMQ
		if deref(in.Engine) == "rabbitmq" {
			svc = RabbitMQ
		}
		ref := Ref{Account: account, Project: project, Service: svc, Kind: KindInstance, ID: deref(in.InstanceId)}
		bin.Entries = append(bin.Entries, RecycleEntry{Ref: ref, Name: deref(in.Name), Status: deref(in.Status),
			InRecycle: epochMillis(in.InRecycleTime), AutoDelete: epochMillis(in.AutoDeleteTime),
			SaveDays: int(deref(in.SaveTime)), CostPerHour: deref(in.CostPerHour), ProductID: deref(in.ProductId)})
	}
	return bin, nil
}

func epochMillis(p *int64) time.Time {
	if p == nil {
		return time.Time{}
	}
	return time.UnixMilli(*p).UTC()
}

// RecyclePolicy reads a project's DMS recycle policy.
func (c *Client) RecyclePolicy(ctx context.Context, account, project string) (RecyclePolicy, error) {
	bin, err := c.ReadRecycleBin(ctx, account, project)
	return bin.Policy, err
}

// RecycleBin lists the instances of one DMS engine in a project's bin.
func (c *Client) RecycleBin(ctx context.Context, account, project string, svc Service) ([]RecycleEntry, error) {
	if svc != RocketMQ && svc != RabbitMQ {
		return nil, errUnsupported("dms.recycle", svc)
	}
	bin, err := c.ReadRecycleBin(ctx, account, project)
	if err != nil {
		return nil, err
	}
	var out []RecycleEntry
	for _, e := range bin.Entries {
		if e.Ref.Service == svc {
			out = append(out, e)
		}
	}
	return out, nil
}

// SetRecyclePolicy changes a project's recycle policy and returns the policy
// now in force. Retention outside 1..7 or an empty change is refused by the
// cloud (ErrPermanent).
func (c *Client) SetRecyclePolicy(ctx context.Context, account, project string,
	ch RecyclePolicyChange) (RecyclePolicy, error) {
	s, err := c.recycleSession(account, project)
	if err != nil {
		return RecyclePolicy{}, err
	}
	body := &rocketmodel.ModifyRecyclePolicyReq{DefaultUseRecycle: ch.DefaultUseRecycle}
	if ch.RetentionDays != nil {
		body.RetentionDays = ptr(int32(*ch.RetentionDays))
	}
	var resp *rocketmodel.ModifyRecyclePolicyResponse
	// Setting a policy twice is harmless, so transient failures are retried.
	err = c.call(ctx, s, "dms.recycle_policy", retryReads, func(h map[string]string) error {
		inv := s.rocket.ModifyRecyclePolicyInvoker(&rocketmodel.ModifyRecyclePolicyRequest{Body: body})
		inv.AddHeaders(h)
		var err error
		resp, err = inv.Invoke()
		return err
	})
	if err != nil {
		return RecyclePolicy{}, err
	}
	return RecyclePolicy{RetentionDays: int(deref(resp.RetentionDays)),
		DefaultUseRecycle: deref(resp.DefaultUseRecycle)}, nil
}

// RestoreDMS restores instances of svc from a project's recycle bin, at most
// MaxDMSRestore per call, and returns one outcome per ID in order: Accepted
// with the cloud's JobID, or Err with the cloud's reason. An ID the cloud
// says is not in the bin but that is live and not deleting (restored by an
// earlier call whose answer was lost) counts as accepted. Each restored instance is
// STARTING until it runs again: poll it with Read.
func (c *Client) RestoreDMS(ctx context.Context, account, project string, svc Service,
	ids []string) ([]Outcome, error) {
	ds, err := dmsSession(c, account, project, svc, "dms.restore")
	if err != nil {
		return nil, err
	}
	s, err := c.recycleSession(account, project)
	if err != nil {
		return nil, err
	}
	out := make([]Outcome, 0, len(ids))
	for _, chunk := range Chunk(ids, MaxDMSRestore) {
		got, err := c.restoreCall(ctx, s, chunk)
		if err != nil {
			return out, err
		}
		for i, id := range chunk {
			o := Outcome{Ref: ds.ref(id)}
			if i < len(got) && deref(got[i].InstanceId) == id && deref(got[i].JobId) != "" {
				o.Accepted, o.JobID = true, deref(got[i].JobId)
			} else {
				o.Err = "not restored"
				if i < len(got) && deref(got[i].ErrorMsg) != "" {
					o.Err = deref(got[i].ErrorMsg)
				}
				if in, serr := c.showDMS(ctx, ds, id); serr == nil && DMSClass(in.Status) != ClassDeleting {
					o.Accepted, o.Err = true, ""
				} else if serr != nil && !errors.Is(serr, ErrNotFound) {
					return out, serr
				}
			}
			out = append(out, o)
		}
	}
	return out, nil
}

// restoreCall sends one restore; only throttling is retried, because a lost
// answer may hide an applied restore (RestoreDMS re-reads those).
func (c *Client) restoreCall(ctx context.Context, s *session,
	ids []string) ([]rocketmodel.InstanceResumeResult, error) {
	var res []rocketmodel.InstanceResumeResult
	err := c.call(ctx, s, "dms.restore", retryThrottled, func(h map[string]string) error {
		inv := s.rocket.RestoreRecycleInstanceInvoker(&rocketmodel.RestoreRecycleInstanceRequest{
			Body: &rocketmodel.BatchResumeInstanceReq{Instances: &ids}})
		inv.AddHeaders(h)
		resp, err := inv.Invoke()
		if err != nil {
			return err
		}
		res = deref(resp.Results)
		return nil
	})
	return res, err
}
