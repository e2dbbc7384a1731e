package handlers

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/decom/decom/notify"
	"github.com/decom/decom/views"
)

// Notify is what the console needs from notifications; *notify.Service
// satisfies it.
type Notify interface {
	Channels(ctx context.Context) ([]notify.Channel, error)
	AddChannel(ctx context.Context, a notify.Actor, c notify.Channel) (notify.Channel, error)
	RemoveChannel(ctx context.Context, a notify.Actor, id int64) error
	Deliveries(ctx context.Context, f notify.DeliveryFilter) ([]notify.Delivery, error)
}

func notifyActor(c echo.Context) notify.Actor {
	return notify.Actor{Name: usernameOf(c), ClientIP: c.RealIP(), UserAgent: c.Request().UserAgent()}
}

func (s *Server) handleChannels(c echo.Context) error {
	return s.renderChannels(c, http.StatusOK, views.ChannelForm{Format: string(notify.FormatJSON)}, nil)
}

func (s *Server) handleChannelAdd(c echo.Context) error {
	form := views.ChannelForm{Project: strings.TrimSpace(c.FormValue("project")), Format: c.FormValue("format")}
	_, err := s.Notify.AddChannel(c.Request().Context(), notifyActor(c), notify.Channel{Project: form.Project,
		Format: notify.Format(form.Format), URL: c.FormValue("url"), Secret: c.FormValue("secret")})
	var ve *notify.ValidationError
	if errors.As(err, &ve) {
		return s.renderChannels(c, http.StatusUnprocessableEntity, form, ve.Fields)
	}
	if err != nil {
		return err
	}
	if err := setFlash(c, "success", "Channel added."); err != nil {
		return err
	}
	return redirectAfterPost(c, "/admin/notifications")
}

func (s *Server) handleChannelRemove(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.NewHTTPError(http.StatusNotFound, "No such channel.")
	}
	err = s.Notify.RemoveChannel(c.Request().Context(), notifyActor(c), id)
	if errors.Is(err, notify.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "No such channel.")
	}
	if err != nil {
		return err
	}
	if err := setFlash(c, "success", "Channel removed."); err != nil {
		return err
	}
	return redirectAfterPost(c, "/admin/notifications")
}

func (s *Server) renderChannels(c echo.Context, status int, form views.ChannelForm, errs map[string]string) error {
	list, err := s.Notify.Channels(c.Request().Context())
	if err != nil {
		return err
	}
	vm := views.NotifyChannels{Form: form, Errors: errs}
	for _, f := range notify.Formats {
		vm.Formats = append(vm.Formats, views.Option{Value: string(f), Label: f.Label()})
	}
	for _, ch := range list {
		vm.Rows = append(vm.Rows, views.ChannelRow{ID: strconv.FormatInt(ch.ID, 10), Project: ch.Project,
			Format: ch.Format.Label(), URL: ch.Redacted(), Signed: ch.Secret != "", Created: showTime(ch.CreatedAt),
			RemoveURL: "/admin/notifications/" + strconv.FormatInt(ch.ID, 10) + "/remove"})
	}
	return s.render(c, status, views.NotifyChannelsPage(s.meta(c, "Notifications", "admin"), vm))
}

var deliveryStates = []string{notify.StatePending, notify.StateDelivered, notify.StateFailed}

func (s *Server) handleDeliveries(c echo.Context) error {
	state := c.QueryParam("state")
	if !slices.Contains(deliveryStates, state) {
		state = ""
	}
	list, err := s.Notify.Deliveries(c.Request().Context(), notify.DeliveryFilter{State: state, Limit: 500})
	if err != nil {
		return err
	}
	vm := views.DeliveryLog{Rows: deliveryRows(list), State: state, States: deliveryStates}
	return s.render(c, http.StatusOK, views.DeliveryLogPage(s.meta(c, "Notification delivery log", "admin"), vm))
}

// deliveryRows shows deliveries; channel URLs are already redacted.
func deliveryRows(list []notify.Delivery) []views.DeliveryRow {
	class := map[string]string{notify.StateDelivered: "active", notify.StatePending: "transitional",
		notify.StateFailed: "failed"}
	out := make([]views.DeliveryRow, 0, len(list))
	for _, d := range list {
		r := views.DeliveryRow{ID: strconv.FormatInt(d.ID, 10), EventID: d.EventID,
			Change: "CR-" + strconv.FormatInt(
				d.ChangeID,
				10,
			), ChangeURL: changeURL(d.ChangeID), Kind: string(d.Kind), Format: string(d.Format), Project: d.Project,
			Channel: d.RedactedURL, State: d.State, StateClass: class[d.State], Attempts: strconv.Itoa(d.Attempts),
			LastError: d.LastError, Created: showTime(d.CreatedAt), Delivered: showTime(d.DeliveredAt)}
		if d.State == notify.StatePending {
			r.NextAt = "next try " + showTime(d.NextAt)
		}
		for _, a := range d.Tries {
			r.Tries = append(r.Tries, views.TryRow{N: strconv.Itoa(a.N), At: showTime(a.At),
				Status: strconv.Itoa(a.Status), Error: a.Error, Duration: a.Duration.String()})
		}
		if r.Channel == "" {
			r.Channel = "(removed channel)"
		}
		out = append(out, r)
	}
	return out
}
