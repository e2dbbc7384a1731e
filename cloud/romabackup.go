package cloud

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/def"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/roma/v2/model"
)

// MaxROMAArchive is the largest archive DownloadROMAArchive accepts: the
// largest one an import takes (cloud-api.md §3.11).
const MaxROMAArchive = 20 << 20

// SubmitROMAExport submits one export (backup) job of at most 100 apps and
// tasks under the one-job-per-identity rule, as SubmitROMADelete does, and
// returns its ID. Wait for it with WaitROMAJob; a succeeded export carries
// the ArchiveID to download once.
func (c *Client) SubmitROMAExport(ctx context.Context, account, project, instanceID string,
	apps, tasks []string) (string, error) {
	const op = "roma.assets.export"
	if err := checkAssets(account, op, instanceID, apps, tasks); err != nil {
		return "", err
	}
	body := &model.AssetExportRequest{Apps: []model.AssetExportRequestApps{}}
	for _, a := range apps {
		body.Apps = append(body.Apps, model.AssetExportRequestApps{Id: ptr(a)})
	}
	ts := []model.AssetExportRequestTasks{}
	for _, t := range tasks {
		ts = append(ts, model.AssetExportRequestTasks{Id: ptr(t)})
	}
	body.Tasks = &ts
	send := func(s *session, h map[string]string) (*string, error) {
		inv := s.roma.ExportAssetInvoker(&model.ExportAssetRequest{InstanceId: instanceID, Body: body})
		inv.AddHeaders(h)
		resp, err := inv.Invoke()
		if err != nil {
			return nil, err
		}
		return resp.JobId, nil
	}
	return c.submitAssetJob(ctx, account, project, instanceID, op, send, nil)
}

// SubmitROMAImport submits one import (restore) job of the archive file at
// path into a ROMA instance and returns its ID. Through the SDK an import is
// always AddNew: an asset whose name exists fails with a reason and the
// others are imported. Check the outcome by listing by name.
func (c *Client) SubmitROMAImport(ctx context.Context, account, project, instanceID, path string) (string, error) {
	const op = "roma.assets.import"
	if instanceID == "" || path == "" {
		return "", &Error{Class: ErrPermanent, Account: account, Service: ROMA, Operation: op,
			Message: "empty instance or archive path"}
	}
	send := func(s *session, h map[string]string) (*string, error) {
		// The SDK names the part's file after the *os.File, and reads it
		// to the end: open it afresh for every attempt.
		f, err := os.Open(path)
		if err != nil {
			return nil, &Error{Class: ErrPermanent, Account: account, Service: ROMA, Operation: op,
				Message: "cannot open the archive", Err: err}
		}
		defer f.Close()
		part := def.NewFilePartWithContentType(f, "application/zip")
		inv := s.roma.ImportAssetInvoker(&model.ImportAssetRequest{InstanceId: instanceID,
			Body: &model.ImportAssetRequestBody{ImportAssetRequestBody: part}})
		inv.AddHeaders(h)
		resp, err := inv.Invoke()
		if err != nil {
			return nil, err
		}
		return resp.JobId, nil
	}
	return c.submitAssetJob(ctx, account, project, instanceID, op, send, nil)
}

// WaitROMAJob polls a ROMA asset job until it is no longer running and
// returns it.
func (c *Client) WaitROMAJob(ctx context.Context, account, project, instanceID, jobID string) (Job, error) {
	for {
		j, err := c.ROMAJob(ctx, account, project, instanceID, jobID)
		if err != nil || j.Status != JobRunning {
			return j, err
		}
		if err := c.sleep(ctx, c.poll); err != nil {
			return j, &Error{Class: ErrTransient, Account: account, Service: ROMA, Operation: "roma.job",
				Message: "gave up waiting for asset job " + jobID, Err: err}
		}
	}
}

// DownloadROMAArchive downloads an export's archive. The cloud serves it
// once, so the call is never retried after it reached the service (only
// throttling is); a failed or truncated download means "no backup": export
// again.
func (c *Client) DownloadROMAArchive(ctx context.Context, account, project, instanceID,
	archiveID string) ([]byte, error) {
	const op = "roma.archive.download"
	s, err := c.session(account, project, ROMA)
	if err != nil {
		return nil, err
	}
	if instanceID == "" || archiveID == "" {
		return nil, &Error{Class: ErrPermanent, Account: account, Service: ROMA, Operation: op,
			Message: "empty instance or archive ID"}
	}
	var data []byte
	err = c.call(ctx, s, op, retryThrottled, func(h map[string]string) error {
		req := &model.DownloadAssetArchiveRequest{InstanceId: instanceID, ArchiveId: archiveID}
		inv := s.roma.DownloadAssetArchiveInvoker(req)
		inv.AddHeaders(h)
		resp, err := inv.Invoke()
		if err != nil {
			return err
		}
		if resp.Body == nil {
			return &Error{Class: ErrContract, Service: ROMA, Operation: op, Message: "no archive in the answer"}
		}
		defer resp.Body.Close()
		data, err = io.ReadAll(io.LimitReader(resp.Body, MaxROMAArchive+1))
		switch {
		case err != nil:
			return &Error{Class: ErrTransient, Service: ROMA, Operation: op, Message: "archive download broke off",
				Err: err}
		case len(data) > MaxROMAArchive:
			return &Error{Class: ErrContract, Service: ROMA, Operation: op, Message: "archive larger than 20 MiB"}
		case len(data) == 0:
			return &Error{Class: ErrContract, Service: ROMA, Operation: op, Message: "empty archive"}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return data, nil
}

// Backup is a downloaded ROMA asset archive.
type Backup struct {
	Data      []byte `json:"-"`
	SHA256    string `json:"sha256"` // lower-case hex of Data
	ArchiveID string `json:"archive_id"`
	JobID     string `json:"job_id"`
}

// BackupROMA exports the given assets, waits for the job and downloads the
// archive: steps 1-3 of the backup-before-delete sequence (§3.12). A failed
// export (any asset missing) is an error wrapping ErrPermanent naming the
// reasons; nothing is deleted by it. The caller stores Data durably before
// deleting.
func (c *Client) BackupROMA(ctx context.Context, account, project, instanceID string,
	apps, tasks []string) (Backup, error) {
	job, err := c.SubmitROMAExport(ctx, account, project, instanceID, apps, tasks)
	if err != nil {
		return Backup{}, err
	}
	j, err := c.WaitROMAJob(ctx, account, project, instanceID, job)
	if err != nil {
		return Backup{}, err
	}
	if j.Status != JobSucceeded || j.ArchiveID == "" {
		return Backup{}, &Error{Class: ErrPermanent, Account: account, Service: ROMA, Operation: "roma.assets.export",
			Message: "export failed: " + reasonsText(j.Reasons)}
	}
	data, err := c.DownloadROMAArchive(ctx, account, project, instanceID, j.ArchiveID)
	if err != nil {
		return Backup{}, err
	}
	sum := sha256.Sum256(data)
	return Backup{Data: data, SHA256: hex.EncodeToString(sum[:]), ArchiveID: j.ArchiveID, JobID: job}, nil
}

func reasonsText(rs []JobReason) string {
	if len(rs) == 0 {
		return "no archive"
	}
	var b bytes.Buffer
	for i, r := range rs {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s %s: %s", r.ResourceType, r.ResourceName, strings.TrimSpace(r.Message))
	}
	return b.String()
}
