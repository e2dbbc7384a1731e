package changes

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/decom/decom/cloud"
)

// PlanVersion is the version of the canonical plan encoding that is hashed.
const PlanVersion = 1

// Item is one planned resource with the state seen when planned.
type Item struct {
	cloud.Ref
	Name    string            `json:"name"`
	Status  string            `json:"status"`
	Class   cloud.StatusClass `json:"class"`
	Prepaid bool              `json:"prepaid"`
	SeenAt  time.Time         `json:"seen_at"`
}

// Batch is one API call exactly as it will be sent.
type Batch struct {
	Seq     int           `json:"seq"`
	Account string        `json:"account"`
	Project string        `json:"project"`
	Service cloud.Service `json:"service"`
	Parent  string        `json:"parent,omitempty"` // ROMA instance
	Call    string        `json:"call"`             // method and path
	IDs     []string      `json:"ids"`
	Force   bool          `json:"force_delete,omitempty"`
}

// Warning is something approvers should see before approving.
type Warning struct {
	Code     string `json:"code"`
	Resource string `json:"resource,omitempty"` // resource name, "" for the whole plan
	Message  string `json:"message"`
}

// Warning codes.
const (
	WarnForce   = "force_delete"
	WarnPrepaid = "prepaid"
	// WarnTransitional is found only in plans made before deletability was
	// checked at plan time: such resources are now excluded (Exclusion).
	WarnTransitional = "transitional"
)

// Sweep asks for every DMS instance of one service that failed to create,
// resolved to an explicit list at planning time.
type Sweep struct {
	Account string        `json:"account"`
	Project string        `json:"project"`
	Service cloud.Service `json:"service"`
}

// Plan is exactly what approvers approve: resources, calls, options.
type Plan struct {
	Version  int       `json:"version"`
	Items    []Item    `json:"items"`
	Batches  []Batch   `json:"batches"`
	Force    bool      `json:"force_delete"`
	Reason   string    `json:"reason"`
	Ticket   string    `json:"ticket,omitempty"`
	Sweep    *Sweep    `json:"sweep,omitempty"`
	Warnings []Warning `json:"warnings"`
	// Excluded lists what was asked for but left out, and why: protected
	// resources and those whose status the cloud refuses to delete. It
	// deletes nothing, so it is not part of the hash.
	Excluded []Exclusion `json:"excluded,omitempty"`
}

// Exclusion is a resource left out of a plan because Blocked says so.
type Exclusion struct {
	cloud.Ref
	Name      string `json:"name"`
	Status    string `json:"status"`
	Protected bool   `json:"protected"`
	Reason    string `json:"reason"`
}

// PlanInput is what a requester asks for, with resources as read live, and
// the protection rules in force.
type PlanInput struct {
	Resources []cloud.Resource
	Rules     []Rule
	Force     bool
	Reason    string
	Ticket    string
	Sweep     *Sweep
}

// BuildPlan turns a selection into a plan: blocked resources (Blocked:
// protected, or in a status the cloud refuses) left out with their reason,
// items sorted by key, duplicates dropped, batches chunked to the API
// limits, warnings derived.
func BuildPlan(in PlanInput) Plan {
	seen := map[string]bool{}
	items := make([]Item, 0, len(in.Resources))
	var excluded []Exclusion
	rules := NewMatcher(in.Rules)
	for _, r := range in.Resources {
		if seen[r.Key()] {
			continue
		}
		seen[r.Key()] = true
		if b, ok := rules.Blocked(r); ok {
			excluded = append(excluded, Exclusion{Ref: r.Ref, Name: r.Name, Status: r.Status, Protected: b.Protected,
				Reason: b.Reason})
			continue
		}
		items = append(items, Item{Ref: r.Ref, Name: r.Name, Status: r.Status, Class: r.Class,
			Prepaid: r.Prepaid, SeenAt: r.ReadAt.UTC()})
	}
	sort.Slice(items, func(i, j int) bool { return items[i].Key() < items[j].Key() })
	sort.Slice(excluded, func(i, j int) bool { return excluded[i].Key() < excluded[j].Key() })
	p := Plan{Version: PlanVersion, Items: items, Force: in.Force, Reason: in.Reason,
		Ticket: in.Ticket, Sweep: in.Sweep, Excluded: excluded}
	p.Batches = buildBatches(items, in.Force)
	p.Warnings = buildWarnings(items, p.HasForce())
	return p
}

// HasForce reports whether the plan force-deletes any DMS instance.
func (p Plan) HasForce() bool {
	if !p.Force {
		return false
	}
	for _, it := range p.Items {
		if isDMS(it.Service) {
			return true
		}
	}
	return false
}

// Projects lists the distinct account/project pairs of the plan, sorted.
func (p Plan) Projects() []string {
	set := map[string]bool{}
	for _, it := range p.Items {
		set[it.Project] = true
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func isDMS(s cloud.Service) bool { return s == cloud.RocketMQ || s == cloud.RabbitMQ }

type batchKey struct {
	account, project string
	service          cloud.Service
	parent           string
}

// buildBatches groups items (sorted by key, so a ROMA instance's apps come
// before its tasks) into calls chunked to cloud's batch limits.
func buildBatches(items []Item, force bool) []Batch {
	var keys []batchKey
	groups := map[batchKey][]Item{}
	for _, it := range items {
		k := batchKey{it.Account, it.Project, it.Service, it.Parent}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], it)
	}
	var out []Batch
	for _, k := range keys {
		for _, ids := range chunkIDs(k, groups[k]) {
			b := Batch{Seq: len(out) + 1, Account: k.account, Project: k.project, Service: k.service,
				Parent: k.parent, Call: batchCall(k), IDs: ids}
			if isDMS(k.service) {
				b.Force = force
			}
			out = append(out, b)
		}
	}
	return out
}

// chunkIDs splits one group's IDs into calls: ROMA jobs of apps then tasks
// (cloud.ChunkROMA), other services at their batch limit (cloud.Chunk).
func chunkIDs(k batchKey, items []Item) [][]string {
	var all, apps, tasks []string
	for _, it := range items {
		all = append(all, it.ID)
		if it.Kind == cloud.KindTask {
			tasks = append(tasks, it.ID)
		} else {
			apps = append(apps, it.ID)
		}
	}
	switch k.service {
	case cloud.ROMA:
		var out [][]string
		for _, b := range cloud.ChunkROMA(apps, tasks) {
			out = append(out, slices.Concat(b.Apps, b.Tasks))
		}
		return out
	case cloud.CloudDC:
		return cloud.Chunk(all, cloud.MaxCloudDCBatch)
	default:
		return cloud.Chunk(all, cloud.MaxDMSBatch)
	}
}

func batchCall(k batchKey) string {
	switch k.service {
	case cloud.ROMA:
		return fmt.Sprintf("POST /v2/%s/instances/%s/assets/delete", k.project, k.parent)
	case cloud.CloudDC:
		return fmt.Sprintf("POST /v1/%s/instances/batch-delete", k.project)
	default:
		return fmt.Sprintf("POST /v2/%s/instances/action", k.project)
	}
}

func buildWarnings(items []Item, force bool) []Warning {
	var out []Warning
	if force {
		out = append(out, Warning{Code: WarnForce,
			Message: "Force delete skips the recycle bin: DMS instances cannot be restored."})
	}
	for _, it := range items {
		if it.Prepaid {
			out = append(out, Warning{Code: WarnPrepaid, Resource: it.Name,
				Message: "Yearly/monthly (prepaid) resource: the cloud may refuse the delete, and unused time is not refunded here."})
		}
	}
	return out
}

// canonicalItem is the hashed form of an item: no read times, fixed order.
type canonicalItem struct {
	Key     string `json:"key"`
	Name    string `json:"name"`
	Status  string `json:"status"`
	Prepaid bool   `json:"prepaid"`
}

type canonicalPlan struct {
	Version int             `json:"version"`
	Items   []canonicalItem `json:"items"`
	Batches []Batch         `json:"batches"`
	Force   bool            `json:"force_delete"`
	Reason  string          `json:"reason"`
	Ticket  string          `json:"ticket"`
	Sweep   *Sweep          `json:"sweep"`
}

// Hash is the SHA-256 (hex) of the plan's canonical encoding: JSON of fixed
// field order with items in key order and read times left out. It is what
// approvers approve.
func (p Plan) Hash() string {
	c := canonicalPlan{Version: p.Version, Batches: p.Batches, Force: p.Force, Reason: p.Reason,
		Ticket: p.Ticket, Sweep: p.Sweep}
	for _, it := range p.Items {
		c.Items = append(c.Items, canonicalItem{Key: it.Key(), Name: it.Name, Status: it.Status, Prepaid: it.Prepaid})
	}
	sort.Slice(c.Items, func(i, j int) bool { return c.Items[i].Key < c.Items[j].Key })
	b, err := json.Marshal(c)
	if err != nil {
		panic(fmt.Sprintf("changes: encode plan: %v", err)) // plain structs always encode
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// NeedsConfirmation reports whether executing requires typing the change's
// name or resource count: force deletes or more than 10 resources.
func (p Plan) NeedsConfirmation() bool { return p.HasForce() || len(p.Items) > 10 }
