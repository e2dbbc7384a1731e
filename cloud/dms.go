package cloud

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	rabbitmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/rabbitmq/v2/model"
	rocketmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/rocketmq/v2/model"
)

// dmsInstance is the part of a DMS instance decom uses, from either engine.
type dmsInstance struct {
	ID, Name, Engine, Version, Status, Type, Spec, CreatedAt string
	ChargingMode                                             *int32
	EnterpriseProject                                        string
	Tags                                                     []Tag
}

func (s *session) dmsResource(in dmsInstance, now func() time.Time) Resource {
	r := Resource{
		Ref:       Ref{Account: s.account.Name, Project: s.project, Service: s.svc, Kind: KindInstance, ID: in.ID},
		Region:    s.account.Region,
		Name:      in.Name,
		Status:    in.Status,
		Class:     DMSClass(in.Status),
		CreatedAt: parseEpochMillis(in.CreatedAt),
		Prepaid:   in.ChargingMode != nil && *in.ChargingMode == 0,
		Tags:      in.Tags,
		ReadAt:    now().UTC(),

		EnterpriseProject: in.EnterpriseProject,
	}
	r.Details = details("engine", in.Engine, "engine version", in.Version, "type", in.Type, "specification", in.Spec)
	return r
}

// details builds a map from label/value pairs, leaving out empty values.
func details(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			m[kv[i]] = kv[i+1]
		}
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

// dmsFilter narrows a DMS list.
type dmsFilter struct {
	createFailedOnly bool
	offset           int // first item
	limit            int // page size; 0 = dmsPageSize
	maxPages         int // 0 = all
}

// listDMS pages through the engine's instances (offset paging, limit 50,
// include_failure=true) and returns them with the reported total. stable is
// false if the total changed between pages: offset paging may then have
// skipped instances, so absence from the list proves nothing.
func (c *Client) listDMS(
	ctx context.Context,
	s *session,
	f dmsFilter,
) (items []dmsInstance, total int, stable bool, err error) {
	limit := f.limit
	if limit == 0 {
		limit = dmsPageSize
	}
	stable = true
	for page, offset := 0, f.offset; ; page++ {
		got, num, err := c.dmsPage(ctx, s, offset, limit, f.createFailedOnly)
		if err != nil {
			return nil, 0, false, err
		}
		if page > 0 && num != total {
			stable = false
		}
		items = append(items, got...)
		total = num
		offset += len(got)
		if len(got) == 0 || offset >= num || (f.maxPages > 0 && page+1 >= f.maxPages) {
			break
		}
	}
	if !f.createFailedOnly && f.maxPages == 0 && f.offset == 0 {
		c.rememberDMSCount(s, total)
	}
	return items, total, stable, nil
}

func (c *Client) rememberDMSCount(s *session, n int) {
	c.mu.Lock()
	c.dmsCounts[s.account.Name+"|"+s.project+"|"+string(s.svc)] = n
	c.mu.Unlock()
}

func (c *Client) dmsPage(
	ctx context.Context,
	s *session,
	offset, limit int,
	failedOnly bool,
) ([]dmsInstance, int, error) {
	var items []dmsInstance
	var num int32
	err := c.call(ctx, s, "dms.list", retryReads, func(h map[string]string) error {
		items, num = nil, 0
		if s.svc == RocketMQ {
			req := &rocketmodel.ListInstancesRequest{
				Engine:         rocketmodel.GetListInstancesRequestEngineEnum().ROCKETMQ,
				IncludeFailure: ptr(rocketmodel.GetListInstancesRequestIncludeFailureEnum().TRUE),
				Limit:          ptr(int32(limit)), Offset: ptr(int32(offset)),
			}
			if failedOnly {
				req.Status = ptr(rocketmodel.GetListInstancesRequestStatusEnum().CREATEFAILED)
			}
			inv := s.rocket.ListInstancesInvoker(req)
			inv.AddHeaders(h)
			resp, err := inv.Invoke()
			if err != nil {
				return err
			}
			for _, in := range deref(resp.Instances) {
				d := rocketInstance(in.InstanceId, in.Name, in.Engine, in.EngineVersion, in.Status,
					in.Type, in.Specification, in.CreatedAt, in.ChargingMode)
				d.EnterpriseProject, d.Tags = deref(in.EnterpriseProjectId), rocketTags(in.Tags)
				items = append(items, d)
			}
			num = deref(resp.InstanceNum)
			return nil
		}
		req := &rabbitmodel.ListInstancesDetailsRequest{
			Engine:         rabbitmodel.GetListInstancesDetailsRequestEngineEnum().RABBITMQ,
			IncludeFailure: ptr(rabbitmodel.GetListInstancesDetailsRequestIncludeFailureEnum().TRUE),
			Limit:          ptr(strconv.Itoa(limit)), Offset: ptr(strconv.Itoa(offset)),
		}
		if failedOnly {
			req.Status = ptr(rabbitmodel.GetListInstancesDetailsRequestStatusEnum().CREATEFAILED)
		}
		inv := s.rabbit.ListInstancesDetailsInvoker(req)
		inv.AddHeaders(h)
		resp, err := inv.Invoke()
		if err != nil {
			return err
		}
		for _, in := range deref(resp.Instances) {
			typ := ""
			if in.Type != nil {
				typ = in.Type.Value()
			}
			items = append(items, dmsInstance{ID: deref(in.InstanceId), Name: deref(in.Name), Engine: deref(in.Engine),
				Version: deref(in.EngineVersion), Status: deref(in.Status), Type: typ, Spec: deref(in.Specification),
				CreatedAt: deref(in.CreatedAt), ChargingMode: in.ChargingMode,
				EnterpriseProject: deref(in.EnterpriseProjectId), Tags: rabbitTags(in.Tags)})
		}
		num = deref(resp.InstanceNum)
		return nil
	})
	return items, int(num), err
}

func rocketInstance(id, name, engine, version, status, typ, spec, created *string, charging *int32) dmsInstance {
	return dmsInstance{ID: deref(id), Name: deref(name), Engine: deref(engine), Version: deref(version),
		Status: deref(status), Type: deref(typ), Spec: deref(spec), CreatedAt: deref(created), ChargingMode: charging}
}

// showDMS reads one DMS instance (404 → ErrNotFound).
func (c *Client) showDMS(ctx context.Context, s *session, id string) (dmsInstance, error) {
	var out dmsInstance
	err := c.call(ctx, s, "dms.show", retryReads, func(h map[string]string) error {
		if s.svc == RocketMQ {
			inv := s.rocket.ShowInstanceInvoker(&rocketmodel.ShowInstanceRequest{InstanceId: id})
			inv.AddHeaders(h)
			in, err := inv.Invoke()
			if err != nil {
				return err
			}
			out = rocketInstance(in.InstanceId, in.Name, in.Engine, in.EngineVersion, in.Status, in.Type,
				in.Specification, in.CreatedAt, in.ChargingMode)
			out.EnterpriseProject, out.Tags = deref(in.EnterpriseProjectId), rocketTags(in.Tags)
			return nil
		}
		inv := s.rabbit.ShowInstanceInvoker(&rabbitmodel.ShowInstanceRequest{InstanceId: id})
		inv.AddHeaders(h)
		in, err := inv.Invoke()
		if err != nil {
			return err
		}
		typ := ""
		if in.Type != nil {
			typ = in.Type.Value()
		}
		out = dmsInstance{ID: deref(in.InstanceId), Name: deref(in.Name), Engine: deref(in.Engine),
			Version: deref(in.EngineVersion), Status: deref(in.Status), Type: typ, Spec: deref(in.Specification),
			CreatedAt: deref(in.CreatedAt), ChargingMode: in.ChargingMode,
			EnterpriseProject: deref(in.EnterpriseProjectId), Tags: rabbitTags(in.Tags)}
		return nil
	})
	if err == nil && out.ID == "" {
		out.ID = id
	}
	return out, err
}

func dmsSession(c *Client, account, project string, svc Service, op string) (*session, error) {
	if svc != RocketMQ && svc != RabbitMQ {
		return nil, errUnsupported(op, svc)
	}
	return c.session(account, project, svc)
}

// DeleteDMSInstance deletes one DMS instance. Already gone (404) or already
// DELETING counts as success. It is never resent blindly: after a 5xx or a
// timeout the instance is re-read once the account's settle time has
// passed, and the delete is resent only if it is unchanged and deletable
// (Confirm).
func (c *Client) DeleteDMSInstance(ctx context.Context, ref Ref) error {
	s, err := dmsSession(c, ref.Account, ref.Project, ref.Service, "dms.delete")
	if err != nil {
		return err
	}
	return c.deleteOne(ctx, s, ref, "dms.delete", func(h map[string]string) error {
		if s.svc == RocketMQ {
			inv := s.rocket.DeleteInstanceInvoker(&rocketmodel.DeleteInstanceRequest{InstanceId: ref.ID})
			inv.AddHeaders(h)
			_, err := inv.Invoke()
			return err
		}
		inv := s.rabbit.DeleteInstanceInvoker(&rabbitmodel.DeleteInstanceRequest{InstanceId: ref.ID})
		inv.AddHeaders(h)
		_, err := inv.Invoke()
		return err
	})
}

// DeleteDMS batch-deletes explicit DMS instance IDs, at most 50 per call,
// and returns one outcome per ID in order. IDs the cloud reports "failed"
// are re-read: one already deleting or gone counts as accepted. After an
// ambiguous answer it returns the outcomes so far and the error; the
// caller confirms the rest (see deleteBatches).
func (c *Client) DeleteDMS(
	ctx context.Context,
	account, project string,
	svc Service,
	ids []string,
	force bool,
) ([]Outcome, error) {
	s, err := dmsSession(c, account, project, svc, "dms.batch_delete")
	if err != nil {
		return nil, err
	}
	return c.deleteBatches(ctx, s, ids, MaxDMSBatch, func(pending []string) (map[string]bool, error) {
		return c.dmsBatchCall(ctx, s, pending, force)
	})
}

func (s *session) ref(id string) Ref {
	return Ref{Account: s.account.Name, Project: s.project, Service: s.svc, Kind: KindInstance, ID: id}
}

// dmsBatchCall sends one batch delete and returns success per ID.
func (c *Client) dmsBatchCall(ctx context.Context, s *session, ids []string, force bool) (map[string]bool, error) {
	res := map[string]bool{}
	err := c.call(ctx, s, "dms.batch_delete", retryThrottled, func(h map[string]string) error {
		clear(res)
		if s.svc == RocketMQ {
			body := &rocketmodel.BatchDeleteInstanceReq{Instances: &ids,
				Action: rocketmodel.GetBatchDeleteInstanceReqActionEnum().DELETE, ForceDelete: ptr(force)}
			inv := s.rocket.BatchDeleteInstancesInvoker(&rocketmodel.BatchDeleteInstancesRequest{Body: body})
			inv.AddHeaders(h)
			resp, err := inv.Invoke()
			if err != nil {
				return err
			}
			for _, r := range deref(resp.Results) {
				res[deref(r.Instance)] = r.Result != nil && r.Result.Value() == "success"
			}
			return nil
		}
		body := &rabbitmodel.BatchRestartOrDeleteInstanceReq{Instances: &ids,
			Action: rabbitmodel.GetBatchRestartOrDeleteInstanceReqActionEnum().DELETE, ForceDelete: ptr(force)}
		inv := s.rabbit.BatchRestartOrDeleteInstancesInvoker(
			&rabbitmodel.BatchRestartOrDeleteInstancesRequest{Body: body},
		)
		inv.AddHeaders(h)
		resp, err := inv.Invoke()
		if err != nil {
			return err
		}
		for _, r := range deref(resp.Results) {
			res[deref(r.Instance)] = deref(r.Result) == "success"
		}
		return nil
	})
	return res, err
}

// DeleteDMSAllFailed sends the "all instances that failed to create" batch
// delete for svc (RocketMQ or RabbitMQ). After a transient failure it waits
// the account's settle time, lists CREATEFAILED instances and resends only
// if some remain.
func (c *Client) DeleteDMSAllFailed(ctx context.Context, account, project string, svc Service, force bool) error {
	s, err := dmsSession(c, account, project, svc, "dms.delete_all_failed")
	if err != nil {
		return err
	}
	for attempt := 1; ; attempt++ {
		err := c.call(ctx, s, "dms.delete_all_failed", retryThrottled, func(h map[string]string) error {
			if s.svc == RocketMQ {
				body := &rocketmodel.BatchDeleteInstanceReq{
					Action: rocketmodel.GetBatchDeleteInstanceReqActionEnum().DELETE,
					AllFailure: ptr(
						rocketmodel.GetBatchDeleteInstanceReqAllFailureEnum().RELIABILITY,
					),
					ForceDelete: ptr(force),
				}
				inv := s.rocket.BatchDeleteInstancesInvoker(&rocketmodel.BatchDeleteInstancesRequest{Body: body})
				inv.AddHeaders(h)
				_, err := inv.Invoke()
				return err
			}
			body := &rabbitmodel.BatchRestartOrDeleteInstanceReq{
				Action: rabbitmodel.GetBatchRestartOrDeleteInstanceReqActionEnum().DELETE,
				AllFailure: ptr(
					rabbitmodel.GetBatchRestartOrDeleteInstanceReqAllFailureEnum().RABBITMQ,
				),
				ForceDelete: ptr(force),
			}
			inv := s.rabbit.BatchRestartOrDeleteInstancesInvoker(
				&rabbitmodel.BatchRestartOrDeleteInstancesRequest{Body: body},
			)
			inv.AddHeaders(h)
			_, err := inv.Invoke()
			return err
		})
		if err == nil || !errors.Is(err, ErrTransient) || attempt >= MaxAttempts {
			return err
		}
		if serr := c.sleep(ctx, s.account.SettleTime); serr != nil {
			return err
		}
		left, _, _, lerr := c.listDMS(ctx, s, dmsFilter{createFailedOnly: true, limit: 1, maxPages: 1})
		if lerr != nil {
			return fmt.Errorf("%w (re-list after failed sweep: %v)", err, lerr)
		}
		if len(left) == 0 {
			return nil
		}
		if serr := c.sleep(ctx, BackoffDelay(attempt, c.rand())); serr != nil {
			return err
		}
	}
}
