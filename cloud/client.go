package cloud

// PLACEHOLDER FILE — the cloud helper replaces this with the SDK-backed
// implementation, keeping these exported names and signatures.

import (
	"context"
	"errors"
)

var errNotImplemented = errors.New("cloud: not implemented yet")

// AccountInfo describes a configured account without any secret.
type AccountInfo struct {
	Name      string   `json:"name"`
	Region    string   `json:"region"`
	Projects  []string `json:"projects"`
	Simulated bool     `json:"simulated"`
}

// Client talks to every configured account through the official SDK.
type Client struct{}

// Accounts lists the configured accounts, secrets left out.
func (c *Client) Accounts() []AccountInfo { return nil }

// ListInstances lists every instance of svc in one project, paging to the end
// (DMS with include_failure=true; ROMA instances; CloudDC by marker).
func (c *Client) ListInstances(ctx context.Context, account, project string, svc Service) ([]Resource, error) {
	return nil, errNotImplemented
}

// ListROMAAssets lists every integration app and data-integration task of one
// ROMA instance (Kind app or task, Parent = instanceID).
func (c *Client) ListROMAAssets(ctx context.Context, account, project, instanceID string) ([]Resource, error) {
	return nil, errNotImplemented
}

// Read reads one resource's current state. A resource that no longer exists
// gives an error wrapping ErrNotFound; a CloudDC instance still visible as
// terminated comes back with Class ClassGone.
func (c *Client) Read(ctx context.Context, ref Ref) (Resource, error) {
	return Resource{}, errNotImplemented
}

// ReadMany reads many resources of one account and project with the fewest
// calls the API allows. The map is keyed by Ref.Key(); a ref missing from it
// no longer exists.
func (c *Client) ReadMany(ctx context.Context, refs []Ref) (map[string]Resource, error) {
	return nil, errNotImplemented
}

// DeleteDMS batch-deletes explicit DMS instance IDs, at most 50 per call, and
// returns one outcome per ID in order.
func (c *Client) DeleteDMS(ctx context.Context, account, project string, svc Service, ids []string, force bool) ([]Outcome, error) {
	return nil, errNotImplemented
}

// DeleteDMSAllFailed sends the "all instances that failed to create" batch
// delete for svc (RocketMQ or RabbitMQ).
func (c *Client) DeleteDMSAllFailed(ctx context.Context, account, project string, svc Service, force bool) error {
	return errNotImplemented
}

// DeleteDMSInstance deletes one DMS instance.
func (c *Client) DeleteDMSInstance(ctx context.Context, ref Ref) error { return errNotImplemented }

// SubmitROMADelete waits until the account's identity has no asset job
// running, then submits one asset-deletion job (apps+tasks at most 100).
func (c *Client) SubmitROMADelete(ctx context.Context, account, project, instanceID string, apps, tasks []string) (string, error) {
	return "", errNotImplemented
}

// ROMAJob reads a ROMA asset job's progress.
func (c *Client) ROMAJob(ctx context.Context, account, project, instanceID, jobID string) (Job, error) {
	return Job{}, errNotImplemented
}

// DeleteCloudDC deletes one CloudDC instance.
func (c *Client) DeleteCloudDC(ctx context.Context, ref Ref) error { return errNotImplemented }

// DeleteCloudDCBatch deletes CloudDC instances in batches of at most 50 and
// returns one outcome per ID: Accepted for the IDs the cloud listed back.
func (c *Client) DeleteCloudDCBatch(ctx context.Context, account, project string, ids []string) ([]Outcome, error) {
	return nil, errNotImplemented
}
