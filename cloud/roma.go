package cloud

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/roma/v2/model"
)

// listROMAInstances pages through ROMA instances (offset, limit 100).
func (c *Client) listROMAInstances(ctx context.Context, s *session) ([]Resource, error) {
	var out []Resource
	for offset := 0; ; {
		var resp *model.CheckRomaInstanceListV2Response
		err := c.call(ctx, s, "roma.instances.list", retryReads, func(h map[string]string) error {
			inv := s.roma.CheckRomaInstanceListV2Invoker(&model.CheckRomaInstanceListV2Request{
				Offset: ptr(int32(offset)), Limit: ptr(int32(romaInstancePage))})
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
			out = append(out, c.romaInstanceResource(s, in))
		}
		offset += len(items)
		if len(items) == 0 || offset >= int(deref(resp.Total)) {
			return out, nil
		}
	}
}

func (c *Client) romaInstanceResource(s *session, in model.RomaInstanceCheckListRespInstances) Resource {
	status, charge, arch := "", "", ""
	if in.Status != nil {
		status = in.Status.Value()
	}
	if in.ChargeType != nil {
		charge = in.ChargeType.Value()
	}
	if in.CpuArch != nil {
		arch = in.CpuArch.Value()
	}
	return Resource{
		Ref:       s.ref(deref(in.Id)),
		Region:    s.account.Region,
		Name:      deref(in.Name),
		Status:    status,
		Class:     ROMAInstanceClass(status),
		CreatedAt: parseTime(deref(in.CreateTime)),
		Prepaid:   charge == "prePaid",
		Details:   details("flavor", deref(in.FlavorType), "cpu arch", arch, "charge type", charge),
		ReadAt:    c.now().UTC(),

		EnterpriseProject: deref(in.EnterpriseProjectId),
	}
}

// romaInstanceEP returns the enterprise project of a ROMA instance, which
// its apps belong to (the app model has none, §3.13). A missing instance
// gives an error wrapping ErrNotFound.
func (c *Client) romaInstanceEP(ctx context.Context, s *session, instanceID string) (string, error) {
	list, err := c.listROMAInstances(ctx, s)
	if err != nil {
		return "", err
	}
	for _, r := range list {
		if r.ID == instanceID {
			return r.EnterpriseProject, nil
		}
	}
	return "", &Error{Class: ErrNotFound, Account: s.account.Name, Service: ROMA, Operation: "roma.apps.list",
		Message: "ROMA instance " + instanceID + " not found"}
}

// listApps pages through the integration apps of a ROMA instance. Each
// carries its instance's enterprise project, which costs one instance list.
func (c *Client) listApps(ctx context.Context, s *session, instanceID string) ([]Resource, error) {
	ep, err := c.romaInstanceEP(ctx, s, instanceID)
	if err != nil {
		return nil, err
	}
	var out []Resource
	for offset := 0; ; {
		var resp *model.ListRomaAppResponse
		err := c.call(ctx, s, "roma.apps.list", retryReads, func(h map[string]string) error {
			inv := s.roma.ListRomaAppInvoker(&model.ListRomaAppRequest{InstanceId: instanceID,
				Offset: ptr(int32(offset)), Limit: ptr(int32(romaAppPage))})
			inv.AddHeaders(h)
			var err error
			resp, err = inv.Invoke()
			return err
		})
		if err != nil {
			return nil, err
		}
		items := deref(resp.Apps)
		for _, a := range items {
			user := ""
			if a.CreatedUser != nil {
				user = deref(a.CreatedUser.UserName)
			}
			out = append(out, Resource{
				Ref: Ref{Account: s.account.Name, Project: s.project, Service: ROMA, Kind: KindApp,
					ID: deref(a.Id), Parent: instanceID},
				Region: s.account.Region, Name: deref(a.Name), Status: "ACTIVE", Class: ClassActive,
				CreatedAt: parseTime(
					deref(a.CreateTime),
				), Details: details("remark", deref(a.Remark), "created by", user),
				EnterpriseProject: ep, ReadAt: c.now().UTC(),
			})
		}
		offset += len(items)
		if len(items) == 0 || offset >= int(deref(resp.Total)) {
			return out, nil
		}
	}
}

// listTasks pages through the data-integration tasks of a ROMA instance,
// optionally only the one with taskID.
func (c *Client) listTasks(ctx context.Context, s *session, instanceID, taskID string) ([]Resource, error) {
	var out []Resource
	for offset := 0; ; {
		var resp *model.ListTasksResponse
		err := c.call(ctx, s, "roma.tasks.list", retryReads, func(h map[string]string) error {
			req := &model.ListTasksRequest{
				InstanceId: instanceID,
				Offset:     ptr(int32(offset)),
				Limit:      ptr(int32(romaTaskPage)),
			}
			if taskID != "" {
				req.TaskId = ptr(taskID)
			}
			inv := s.roma.ListTasksInvoker(req)
			inv.AddHeaders(h)
			var err error
			resp, err = inv.Invoke()
			return err
		})
		if err != nil {
			return nil, err
		}
		items := deref(resp.Entities)
		for _, t := range items {
			out = append(out, c.taskResource(s, instanceID, t))
		}
		offset += len(items)
		if len(items) == 0 || int64(offset) >= deref(resp.Total) {
			return out, nil
		}
	}
}

func (c *Client) taskResource(s *session, instanceID string, t model.BriefTaskRespBean) Resource {
	status, typ := "STOPPED", ""
	if t.Status != nil && t.Status.Value() == 1 {
		status = "RUNNING"
	}
	if t.TaskType != nil {
		typ = t.TaskType.Value()
	}
	return Resource{
		Ref: Ref{Account: s.account.Name, Project: s.project, Service: ROMA, Kind: KindTask,
			ID: deref(t.TaskId), Parent: instanceID},
		Region: s.account.Region, Name: deref(t.TaskName), Status: status, Class: ClassActive,
		CreatedAt: parseTime(deref(t.CreatedDate)),
		Details:   details("type", typ, "execute status", deref(t.ExecuteStatus), "task tag", deref(t.TaskTag)),
		ReadAt:    c.now().UTC(),

		EnterpriseProject: deref(t.EnterpriseProjectId),
	}
}

// ListROMAAssets lists every integration app and data-integration task of one
// ROMA instance (Kind app or task, Parent = instanceID).
func (c *Client) ListROMAAssets(ctx context.Context, account, project, instanceID string) ([]Resource, error) {
	s, err := c.session(account, project, ROMA)
	if err != nil {
		return nil, err
	}
	if instanceID == "" {
		return nil, &Error{
			Class:     ErrPermanent,
			Account:   account,
			Service:   ROMA,
			Operation: "roma.assets.list",
			Message:   "empty instance ID",
		}
	}
	apps, err := c.listApps(ctx, s, instanceID)
	if err != nil {
		return nil, err
	}
	tasks, err := c.listTasks(ctx, s, instanceID, "")
	if err != nil {
		return nil, err
	}
	return append(apps, tasks...), nil
}

// romaIdentity serialises asset jobs of one cloud identity: the API allows
// only one running asset job per user (§3.4).
type romaIdentity struct {
	sem chan struct{} // held while waiting for and submitting a job

	mu           sync.Mutex
	lastJob      string
	lastInstance string
}

func (c *Client) romaIdentity(key string) *romaIdentity {
	c.mu.Lock()
	defer c.mu.Unlock()
	id, ok := c.roma[key]
	if !ok {
		id = &romaIdentity{sem: make(chan struct{}, 1)}
		c.roma[key] = id
	}
	return id
}

// SubmitROMADelete waits until the account's identity has no asset job
// running (the last job this client submitted for it is polled, and a
// ROMA.10012 "busy" answer is waited out and retried), then submits one
// asset-deletion job of at most 100 apps+tasks and returns its ID. After a
// busy answer the running job (perhaps one of ours whose answer was lost)
// may have deleted some of the assets meanwhile, so each retry first
// re-lists them and sends only those still listed; if none is left it
// returns "" and no error. It is not resent after a 5xx or timeout: the
// caller re-reads the assets after the account's SettleTime (Confirm).
func (c *Client) SubmitROMADelete(
	ctx context.Context,
	account, project, instanceID string,
	apps, tasks []string,
) (string, error) {
	const op = "roma.assets.delete"
	if err := checkAssets(account, op, instanceID, apps, tasks); err != nil {
		return "", err
	}
	body := assetBody(apps, tasks)
	send := func(s *session, h map[string]string) (*string, error) {
		inv := s.roma.DeleteAssetInvoker(&model.DeleteAssetRequest{InstanceId: instanceID, Body: body})
		inv.AddHeaders(h)
		resp, err := inv.Invoke()
		if err != nil {
			return nil, err
		}
		return resp.JobId, nil
	}
	// While the identity was busy, its job may have deleted some of these.
	afterBusy := func(s *session) (bool, error) {
		var err error
		if apps, tasks, err = c.stillListed(ctx, s, instanceID, apps, tasks); err != nil {
			return false, err
		}
		body = assetBody(apps, tasks)
		return len(apps)+len(tasks) == 0, nil
	}
	return c.submitAssetJob(ctx, account, project, instanceID, op, send, afterBusy)
}

// checkAssets rejects an asset job with no or too many assets or an empty ID.
func checkAssets(account, op, instanceID string, apps, tasks []string) error {
	if n := len(apps) + len(tasks); n == 0 || n > MaxROMABatch {
		return &Error{Class: ErrPermanent, Account: account, Service: ROMA, Operation: op,
			Message: fmt.Sprintf("%d assets in one job; want 1..%d (use ChunkROMA)", n, MaxROMABatch)}
	}
	if instanceID == "" || slices.Contains(apps, "") || slices.Contains(tasks, "") {
		return &Error{
			Class:     ErrPermanent,
			Account:   account,
			Service:   ROMA,
			Operation: op,
			Message:   "empty instance or asset ID",
		}
	}
	return nil
}

// submitAssetJob runs the one-job-per-identity protocol around send, which
// submits one asset job (delete, export or import) and returns its job_id.
// After each busy wait, afterBusy (if not nil) may update what send sends;
// when it reports nothing left to send, the answer is "" and no error.
func (c *Client) submitAssetJob(ctx context.Context, account, project, instanceID, op string,
	send func(s *session, h map[string]string) (*string, error),
	afterBusy func(s *session) (nothingLeft bool, err error)) (string, error) {
	s, err := c.session(account, project, ROMA)
	if err != nil {
		return "", err
	}
	ident := c.romaIdentity(s.identity)
	select {
	case ident.sem <- struct{}{}:
	case <-ctx.Done():
		return "", &Error{Class: ErrTransient, Account: account, Service: ROMA, Operation: op,
			Message: "gave up waiting for the previous asset job", Err: ctx.Err()}
	}
	defer func() { <-ident.sem }()
	if err := c.waitIdentityIdle(ctx, s, ident); err != nil {
		return "", err
	}
	for {
		var jobID string
		err := c.call(ctx, s, op, retryThrottled, func(h map[string]string) error {
			id, err := send(s, h)
			jobID = deref(id)
			return err
		})
		if err == nil {
			if jobID == "" {
				return "", &Error{
					Class:     ErrContract,
					Account:   account,
					Service:   ROMA,
					Operation: op,
					Message:   "no job_id in answer",
				}
			}
			ident.mu.Lock()
			ident.lastJob, ident.lastInstance = jobID, instanceID
			ident.mu.Unlock()
			return jobID, nil
		}
		if !errors.Is(err, ErrBusy) {
			return "", err
		}
		// Another job of this identity (perhaps from elsewhere) is running.
		c.countRetry()
		if serr := c.sleep(ctx, c.poll/2+time.Duration(c.rand()*float64(c.poll))); serr != nil {
			return "", err
		}
		if afterBusy == nil {
			continue
		}
		if done, aerr := afterBusy(s); aerr != nil || done {
			return "", aerr
		}
	}
}

// stillListed keeps the apps and tasks the instance still lists.
func (c *Client) stillListed(ctx context.Context, s *session, instanceID string,
	apps, tasks []string) ([]string, []string, error) {
	keep := func(ids []string, list func() ([]Resource, error)) ([]string, error) {
		if len(ids) == 0 {
			return ids, nil
		}
		found, err := list()
		if err != nil {
			return nil, err
		}
		listed := pick(found, ids)
		return slices.DeleteFunc(slices.Clone(ids), func(id string) bool { _, ok := listed[id]; return !ok }), nil
	}
	apps, err := keep(apps, func() ([]Resource, error) { return c.listApps(ctx, s, instanceID) })
	if err != nil {
		return nil, nil, err
	}
	tasks, err = keep(tasks, func() ([]Resource, error) { return c.listTasks(ctx, s, instanceID, "") })
	return apps, tasks, err
}

// assetBody is the delete-assets body: {"apps":[{"id"}],"tasks":[{"id"}]}.
func assetBody(apps, tasks []string) *model.AssetOperateRequest {
	body := &model.AssetOperateRequest{Apps: []model.AssetExportRequestApps{}, Tasks: []model.AssetExportRequestTasks{}}
	for _, a := range apps {
		body.Apps = append(body.Apps, model.AssetExportRequestApps{Id: ptr(a)})
	}
	for _, t := range tasks {
		body.Tasks = append(body.Tasks, model.AssetExportRequestTasks{Id: ptr(t)})
	}
	return body
}

// waitIdentityIdle polls the identity's last job until it is no longer
// running (or no longer known to the cloud).
func (c *Client) waitIdentityIdle(ctx context.Context, s *session, ident *romaIdentity) error {
	for {
		ident.mu.Lock()
		job, inst := ident.lastJob, ident.lastInstance
		ident.mu.Unlock()
		if job == "" {
			return nil
		}
		j, err := c.romaJob(ctx, s, inst, job)
		switch {
		case errors.Is(err, ErrNotFound):
			c.forgetJob(ident, job)
			return nil
		case err != nil:
			return err
		case j.Status != JobRunning:
			return nil // romaJob forgot it already
		}
		if err := c.sleep(ctx, c.poll); err != nil {
			return &Error{Class: ErrTransient, Account: s.account.Name, Service: ROMA, Operation: "roma.assets.delete",
				Message: "gave up waiting for running asset job " + job, Err: err}
		}
	}
}

func (c *Client) forgetJob(ident *romaIdentity, job string) {
	ident.mu.Lock()
	if ident.lastJob == job {
		ident.lastJob, ident.lastInstance = "", ""
	}
	ident.mu.Unlock()
}

// ROMAJob reads a ROMA asset job's progress.
func (c *Client) ROMAJob(ctx context.Context, account, project, instanceID, jobID string) (Job, error) {
	s, err := c.session(account, project, ROMA)
	if err != nil {
		return Job{}, err
	}
	if instanceID == "" || jobID == "" {
		return Job{}, &Error{
			Class:     ErrPermanent,
			Account:   account,
			Service:   ROMA,
			Operation: "roma.job",
			Message:   "empty instance or job ID",
		}
	}
	return c.romaJob(ctx, s, instanceID, jobID)
}

func (c *Client) romaJob(ctx context.Context, s *session, instanceID, jobID string) (Job, error) {
	const op = "roma.job"
	var resp *model.CheckAssetJobStatusResponse
	err := c.call(ctx, s, op, retryReads, func(h map[string]string) error {
		inv := s.roma.CheckAssetJobStatusInvoker(
			&model.CheckAssetJobStatusRequest{InstanceId: instanceID, JobId: jobID},
		)
		inv.AddHeaders(h)
		var err error
		resp, err = inv.Invoke()
		return err
	})
	if err != nil {
		return Job{}, err
	}
	raw := ""
	if resp.Status != nil {
		raw = resp.Status.Value()
	}
	st, ok := ROMAJobStatus(raw)
	if !ok {
		return Job{}, &Error{Class: ErrContract, Account: s.account.Name, Service: ROMA, Operation: op,
			Message: fmt.Sprintf("unknown job status %q", raw)}
	}
	j := Job{
		ID:        firstNonEmpty(deref(resp.Id), jobID),
		Status:    st,
		Progress:  JobProgress(float64(deref(resp.ProgressPercent))),
		Begin:     parseTime(deref(resp.BeginTime)),
		End:       parseTime(deref(resp.EndTime)),
		ArchiveID: deref(resp.ArchiveId),
	}
	if resp.Type != nil {
		j.Type = resp.Type.Value()
	}
	for _, r := range deref(resp.Reasons) {
		typ := ""
		if r.ResourceType != nil {
			typ = r.ResourceType.Value()
		}
		j.Reasons = append(j.Reasons, JobReason{ResourceType: typ, ResourceName: deref(r.ResourceName),
			Code: deref(r.ErrorCode), Message: deref(r.ErrorMsg)})
	}
	if st != JobRunning {
		c.forgetJob(c.romaIdentity(s.identity), j.ID)
	}
	return j, nil
}
