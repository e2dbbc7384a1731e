// Package cloud is decom's one way to the cloud: a small domain model over
// DMS for RocketMQ and RabbitMQ, ROMA Connect assets and CloudDC bare-metal
// instances, implemented on the official Huawei Cloud Go SDK and following
// shared/cloud-api.md to the letter.
package cloud

import (
	"strings"
	"time"
)

// Service names one of the four services decom manages.
type Service string

// The four services. Their string values are also cloudsim's control-API
// service names and the URL segments of the console.
const (
	RocketMQ Service = "rocketmq"
	RabbitMQ Service = "rabbitmq"
	ROMA     Service = "roma"
	CloudDC  Service = "clouddc"
)

// Services lists every service in display order.
var Services = []Service{RocketMQ, RabbitMQ, ROMA, CloudDC}

// Kind is what a resource is within its service.
type Kind string

// Resource kinds. ROMA apps and tasks live inside a ROMA instance (Ref.Parent).
const (
	KindInstance Kind = "instance"
	KindApp      Kind = "app"
	KindTask     Kind = "task"
)

// StatusClass is the normalised status that decom reasons with; the raw cloud
// status is kept beside it.
type StatusClass string

// Status classes.
const (
	ClassActive       StatusClass = "active"       // normal, deletable
	ClassTransitional StatusClass = "transitional" // an operation is in progress; APIs refuse deletes
	ClassFailed       StatusClass = "failed"       // create/change failed or error state; deletable
	ClassDeleting     StatusClass = "deleting"     // deletion under way
	ClassGone         StatusClass = "gone"         // deleted (terminated, or 404)
)

// Ref identifies one resource exactly: which account and project, which
// service, and its ID (plus the ROMA instance for apps and tasks).
type Ref struct {
	Account string  `json:"account"`
	Project string  `json:"project"`
	Service Service `json:"service"`
	Kind    Kind    `json:"kind"`
	ID      string  `json:"id"`
	Parent  string  `json:"parent,omitempty"` // ROMA instance ID for apps and tasks
}

// Key is a stable string form of the reference, unique across accounts.
func (r Ref) Key() string {
	return r.Account + "/" + r.Project + "/" + string(r.Service) + "/" + string(r.Kind) + "/" + r.Parent + "/" + r.ID
}

// Resource is one cloud resource as read at ReadAt.
type Resource struct {
	Ref
	Region    string      `json:"region"`
	Name      string      `json:"name"`
	Status    string      `json:"status"` // raw status as the cloud reports it
	Class     StatusClass `json:"class"`
	CreatedAt time.Time   `json:"created_at"`
	// Prepaid is true for yearly/monthly (DMS charging_mode 0, ROMA prePaid)
	// resources, which deserve a warning before deletion.
	Prepaid bool `json:"prepaid"`
	// Details holds a few service-specific facts for display (engine
	// version, type, specification, flavor, image, ...), keyed by label.
	Details map[string]string `json:"details,omitempty"`
	// Tags and EnterpriseProject come from the cloud (cloud-api.md §2.9,
	// §3.8-3.14): protection rules and inventory filters read them. The
	// cloud's default enterprise project is "0".
	Tags              []Tag     `json:"tags,omitempty"`
	EnterpriseProject string    `json:"enterprise_project_id,omitempty"`
	ReadAt            time.Time `json:"read_at"`
}

// Tag is one key/value tag on a cloud resource.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Deletable reports whether the cloud API accepts a delete in this status:
// NotDeletableReason has nothing to say.
func (r Resource) Deletable() bool { return r.NotDeletableReason() == "" }

// NotDeletableReason says, for people, why the cloud API refuses a delete of
// r in its current status, or "" when it accepts one. It is the one place
// that decides deletability (cloud-api.md §2.5, §4.3, §4.5): CloudDC deletes
// only pending, stopped and error instances, so a running one must be stopped
// first; DMS refuses instances in transitional states; nothing deletes what
// is already being deleted or gone. The text starts with the status as the
// cloud reports it ("running: stop it first").
func (r Resource) NotDeletableReason() string {
	status := r.Status
	if status == "" {
		status = "unknown status"
	}
	switch {
	case r.Service == CloudDC && strings.EqualFold(r.Status, "running"):
		return status + ": stop it first"
	case r.Class == ClassActive || r.Class == ClassFailed:
		return ""
	case r.Class == ClassDeleting:
		return status + ": already being deleted"
	case r.Class == ClassGone:
		return status + ": already deleted"
	}
	// Transitional, or a class decom does not know: never delete what is
	// not understood.
	return status + ": an operation is in progress; wait until it ends"
}

// DeleteFailed reports whether the cloud says a delete of this resource
// failed (§5): a CloudDC instance in error after uninstalling. Such a
// resource is not re-sent; its delete is reported failed.
func (r Resource) DeleteFailed() bool {
	return r.Service == CloudDC && r.Status == "error" &&
		(r.Details["operation"] == "uninstall-failed" || r.Details["error"] == "delete_instance_error")
}

// Outcome is the result of a destructive call for one resource.
type Outcome struct {
	Ref      Ref    `json:"ref"`
	Accepted bool   `json:"accepted"`         // the cloud accepted the delete (it is now deleting)
	JobID    string `json:"job_id,omitempty"` // ROMA asset job that carries the delete
	Err      string `json:"error,omitempty"`  // why it was not accepted
}

// JobStatus is the normalised status of a ROMA asset job.
type JobStatus string

// ROMA job statuses after normalising spellings (RUNNING/Running, SUCCEEDED/
// Success/Finished, FAILED/Failed).
const (
	JobRunning   JobStatus = "running"
	JobSucceeded JobStatus = "succeeded"
	JobFailed    JobStatus = "failed"
)

// Job is a ROMA asset job's progress (delete, export or import).
type Job struct {
	ID       string      `json:"id"`
	Type     string      `json:"type,omitempty"` // exportAsset, importAsset; the cloud does not document a delete's
	Status   JobStatus   `json:"status"`
	Progress float64     `json:"progress"` // 0..1
	Reasons  []JobReason `json:"reasons,omitempty"`
	Begin    time.Time   `json:"begin"`
	End      time.Time   `json:"end"`
	// ArchiveID is set on a succeeded export job: download it once.
	ArchiveID string `json:"archive_id,omitempty"`
}

// JobReason is one failed asset of a ROMA job, named by resource name.
type JobReason struct {
	ResourceType string `json:"resource_type"` // application | task
	ResourceName string `json:"resource_name"`
	Code         string `json:"error_code"`
	Message      string `json:"error_msg"`
}
