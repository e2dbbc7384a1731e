package handlers

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/decom/decom/cloud"
	"github.com/decom/decom/views"
)

// RecycleBins reads DMS recycle bins; *cloud.Client satisfies it.
type RecycleBins interface {
	ReadRecycleBin(ctx context.Context, account, project string) (cloud.RecycleBin, error)
}

var errNoRecycle = echo.NewHTTPError(http.StatusServiceUnavailable, "The recycle bin is not configured.")

// dmsServices are the services that have a recycle bin.
var dmsServices = []cloud.Service{cloud.RocketMQ, cloud.RabbitMQ}

// projectBin is one project's bin as read, or the error reading it.
type projectBin struct {
	account, project string
	bin              cloud.RecycleBin
	err              error
}

func (s *Server) handleRecycleBin(c echo.Context) error {
	svc := cloud.Service(c.Param("service"))
	if !slices.Contains(dmsServices, svc) {
		return echo.NewHTTPError(http.StatusNotFound, "Only DMS services have a recycle bin.")
	}
	if s.Recycle == nil {
		return errNoRecycle
	}
	bins := s.readBins(c.Request().Context())
	for _, b := range bins {
		if b.err != nil {
			s.log(c).Warn("read recycle bin", "account", b.account, "project", b.project, "err", b.err)
		}
	}
	vm := recycleVM(svc, bins, s.Now())
	return s.render(c, http.StatusOK, views.RecycleBinPage(s.meta(c, vm.Heading, "recycle"), vm))
}

// readBins reads the bin of every configured account and project; the one
// call returns both engines' entries.
func (s *Server) readBins(ctx context.Context) []projectBin {
	var out []projectBin
	for _, a := range s.Inventory.Accounts() {
		for _, p := range a.Projects {
			bin, err := s.Recycle.ReadRecycleBin(ctx, a.Name, p)
			out = append(out, projectBin{account: a.Name, project: p, bin: bin, err: err})
		}
	}
	return out
}

func recycleVM(svc cloud.Service, bins []projectBin, now time.Time) views.RecycleBin {
	vm := views.RecycleBin{Heading: "Recycle bin: " + serviceLabel(svc),
		ReadAt: now.UTC().Format(timeLayout), ReadISO: now.UTC().Format(time.RFC3339)}
	for _, d := range dmsServices {
		vm.Tabs = append(vm.Tabs, views.Tab{Label: serviceLabel(d), URL: "/recycle/" + string(d), Current: d == svc})
	}
	var entries []cloud.RecycleEntry
	for _, b := range bins {
		if b.err != nil {
			vm.Errors = append(vm.Errors, b.account+"/"+b.project)
			continue
		}
		vm.Policies = append(vm.Policies, views.RecyclePolicyRow{Account: b.account, Project: b.project,
			On: b.bin.Policy.DefaultUseRecycle, Retention: days(b.bin.Policy.RetentionDays)})
		for _, e := range b.bin.Entries {
			if e.Ref.Service == svc {
				entries = append(entries, e)
			}
		}
	}
	slices.SortFunc(entries, func(a, b cloud.RecycleEntry) int {
		return cmp.Or(a.AutoDelete.Compare(b.AutoDelete), cmp.Compare(a.Ref.ID, b.Ref.ID))
	})
	vm.Entries.Empty = "The recycle bin of " + serviceLabel(svc) + " is empty."
	for _, e := range entries {
		vm.Entries.Rows = append(vm.Entries.Rows, recycleRow(e, now))
	}
	return vm
}

func recycleRow(e cloud.RecycleEntry, now time.Time) views.RecycleRow {
	left := e.AutoDelete.Sub(now)
	return views.RecycleRow{
		Name: e.Name, ID: e.Ref.ID, Account: e.Ref.Account, Project: e.Ref.Project, Status: e.Status,
		Deleted: e.InRecycle.UTC().Format(timeLayout), DeletedISO: e.InRecycle.UTC().Format(time.RFC3339),
		AutoDelete: e.AutoDelete.UTC().Format(timeLayout), AutoDeleteISO: e.AutoDelete.UTC().Format(time.RFC3339),
		TimeLeft: timeLeft(left), Urgent: left < 24*time.Hour,
		CostPerHour: strconv.FormatFloat(e.CostPerHour, 'f', 2, 64),
	}
}

// timeLeft shows a duration, rounded to the minute, in days and hours,
// hours and minutes, or minutes; nothing left is "expired".
func timeLeft(d time.Duration) string {
	if d <= 0 {
		return "expired"
	}
	d = d.Round(time.Minute)
	switch {
	case d >= 24*time.Hour:
		return fmt.Sprintf("%d d %d h", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
	case d >= time.Hour:
		return fmt.Sprintf("%d h %d min", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return fmt.Sprintf("%d min", max(1, int(d/time.Minute)))
}

func days(n int) string {
	if n == 1 {
		return "1 day"
	}
	return strconv.Itoa(n) + " days"
}
