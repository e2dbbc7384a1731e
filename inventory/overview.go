package inventory

import (
	"context"
	"sync"
	"time"

	"github.com/decom/decom/cloud"
)

// Classes lists the status classes in display order.
var Classes = []cloud.StatusClass{
	cloud.ClassActive,
	cloud.ClassTransitional,
	cloud.ClassFailed,
	cloud.ClassDeleting,
	cloud.ClassGone,
}

// Counts are resource counts by status class.
type Counts struct {
	Total   int
	ByClass map[cloud.StatusClass]int
}

func (c *Counts) add(r *cloud.Resource) {
	if c.ByClass == nil {
		c.ByClass = map[cloud.StatusClass]int{}
	}
	c.Total++
	c.ByClass[r.Class]++
}

// ProjectCounts are one account/project's counts per service.
type ProjectCounts struct {
	Account, Project, Region string
	Simulated                bool
	ByService                map[cloud.Service]Counts
}

// Overview counts every service's resources by status, and per account and project.
type Overview struct {
	Services map[cloud.Service]Counts
	Projects []ProjectCounts
	ReadAt   time.Time // the oldest read behind the numbers
	Errors   []string
}

// Overview reads (or takes from the cache) every service and counts.
func (inv *Inventory) Overview(ctx context.Context) (Overview, error) {
	snaps := make([]*Snapshot, len(cloud.Services))
	errs := make([]error, len(cloud.Services))
	var wg sync.WaitGroup
	for i, svc := range cloud.Services {
		wg.Go(func() { snaps[i], errs[i] = inv.Service(ctx, svc) })
	}
	wg.Wait()
	ov := Overview{Services: map[cloud.Service]Counts{}}
	idx := map[[2]string]int{}
	for _, a := range inv.cloud.Accounts() {
		for _, p := range a.Projects {
			idx[[2]string{a.Name, p}] = len(ov.Projects)
			ov.Projects = append(ov.Projects, ProjectCounts{Account: a.Name, Project: p, Region: a.Region,
				Simulated: a.Simulated, ByService: map[cloud.Service]Counts{}})
		}
	}
	for i, svc := range cloud.Services {
		if errs[i] != nil {
			ov.Errors = append(ov.Errors, string(svc)+": "+errs[i].Error())
			continue
		}
		s := snaps[i]
		ov.Errors = append(ov.Errors, s.Errors...)
		if ov.ReadAt.IsZero() || s.ReadAt.Before(ov.ReadAt) {
			ov.ReadAt = s.ReadAt
		}
		total := Counts{}
		for j := range s.Items {
			r := &s.Items[j]
			total.add(r)
			if k, ok := idx[[2]string{r.Account, r.Project}]; ok {
				c := ov.Projects[k].ByService[svc]
				c.add(r)
				ov.Projects[k].ByService[svc] = c
			}
		}
		ov.Services[svc] = total
	}
	if ctx.Err() != nil {
		return Overview{}, ctx.Err()
	}
	return ov, nil
}
