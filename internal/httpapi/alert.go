package httpapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/carnivalhq/carnival/internal/alert"
	"github.com/carnivalhq/carnival/internal/commerce"
)

type ruleOut struct {
	Status int `json:"-"`
	Body   *alert.Rule
}

type alertOut struct {
	Body *alert.Alert
}

type webhookOut struct {
	Status int `json:"-"`
	Body   *alert.Webhook
}

func (s *Server) registerAlerts() {
	as := s.cfg.Alerts
	const tag = "Alerts"

	type alertsIn struct {
		Cursor   string `query:"cursor" maxLength:"64" doc:"The next_cursor of the previous page"`
		Limit    int    `query:"limit" minimum:"0" maximum:"500" doc:"Page size, default 50"`
		Status   string `query:"status" enum:"open,acknowledged,resolved," doc:"Only alerts in this status"`
		Severity string `query:"severity" enum:"reminder,warning,urgent,提醒,警告,紧急," doc:"Only alerts of this severity: reminder 提醒, warning 警告 or urgent 紧急 (either name)"`
	}
	huma.Register(s.api, op("list-alerts", http.MethodGet, "/api/v1/alerts", "Alerts, newest first: the console's list, by status and severity", tag, rolesRead),
		func(ctx context.Context, in *alertsIn) (*struct{ Body List[alert.Alert] }, error) {
			p := commerce.Page{Cursor: in.Cursor, Limit: in.Limit}.Normalized()
			list, err := as.Alerts(ctx, CallerFrom(ctx).ShopID(), alert.AlertFilter{Status: in.Status, Severity: in.Severity}, p)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return listOf(list, p.Limit, func(a alert.Alert) string { return a.ID }), nil
		})
	huma.Register(s.api, op("get-alert", http.MethodGet, "/api/v1/alerts/{id}", "One alert", tag, rolesRead),
		func(ctx context.Context, in *idInput) (*alertOut, error) {
			a, err := as.Alert(ctx, CallerFrom(ctx).ShopID(), in.ID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &alertOut{Body: a}, nil
		})
	huma.Register(s.api, op("acknowledge-alert", http.MethodPost, "/api/v1/alerts/{id}/acknowledge",
		"Acknowledge an open alert (audited): it stays unresolved, keeps updating and still escalates", tag, rolesWrite),
		func(ctx context.Context, in *idInput) (*alertOut, error) {
			a, err := as.Acknowledge(ctx, CallerFrom(ctx).Actor(), in.ID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &alertOut{Body: a}, nil
		})

	create := op("create-alert-rule", http.MethodPost, "/api/v1/alert-rules",
		"Create an alert rule: pacing (a campaign KPI below its alert line), threshold, anomaly (hour-of-week baseline), stock, promotion_budget", tag, rolesWrite)
	create.DefaultStatus = http.StatusCreated
	huma.Register(s.api, create, func(ctx context.Context, in *struct{ Body alert.RuleInput }) (*ruleOut, error) {
		r, err := as.CreateRule(ctx, CallerFrom(ctx).Actor(), in.Body)
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		return &ruleOut{Status: http.StatusCreated, Body: r}, nil
	})
	huma.Register(s.api, op("list-alert-rules", http.MethodGet, "/api/v1/alert-rules", "Alert rules by id", tag, rolesRead),
		func(ctx context.Context, in *pageInput) (*struct{ Body List[alert.Rule] }, error) {
			p := in.page().Normalized()
			list, err := as.Rules(ctx, CallerFrom(ctx).ShopID(), p)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return listOf(list, p.Limit, func(r alert.Rule) string { return r.ID }), nil
		})
	huma.Register(s.api, op("get-alert-rule", http.MethodGet, "/api/v1/alert-rules/{id}", "One alert rule", tag, rolesRead),
		func(ctx context.Context, in *idInput) (*ruleOut, error) {
			r, err := as.Rule(ctx, CallerFrom(ctx).ShopID(), in.ID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &ruleOut{Status: http.StatusOK, Body: r}, nil
		})
	huma.Register(s.api, op("update-alert-rule", http.MethodPut, "/api/v1/alert-rules/{id}", "Replace an alert rule (audited)", tag, rolesWrite),
		func(ctx context.Context, in *struct {
			ID   string `path:"id" maxLength:"64"`
			Body alert.RuleInput
		}) (*ruleOut, error) {
			r, err := as.UpdateRule(ctx, CallerFrom(ctx).Actor(), in.ID, in.Body)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &ruleOut{Status: http.StatusOK, Body: r}, nil
		})
	huma.Register(s.api, op("delete-alert-rule", http.MethodDelete, "/api/v1/alert-rules/{id}", "Delete an alert rule and resolve its alerts (audited)", tag, rolesWrite),
		func(ctx context.Context, in *idInput) (*struct{}, error) {
			if err := as.DeleteRule(ctx, CallerFrom(ctx).Actor(), in.ID); err != nil {
				return nil, s.fail(ctx, err)
			}
			return nil, nil
		})

	wh := op("create-alert-webhook", http.MethodPost, "/api/v1/alert-webhooks",
		"Add a webhook alert notifications are POSTed to, signed (Carnival-Signature); the secret is in this answer only", tag, rolesAdmin)
	wh.DefaultStatus = http.StatusCreated
	huma.Register(s.api, wh, func(ctx context.Context, in *struct{ Body alert.WebhookInput }) (*webhookOut, error) {
		w, err := as.CreateWebhook(ctx, CallerFrom(ctx).Actor(), in.Body)
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		return &webhookOut{Status: http.StatusCreated, Body: w}, nil
	})
	huma.Register(s.api, op("list-alert-webhooks", http.MethodGet, "/api/v1/alert-webhooks", "Webhooks by id (without secrets)", tag, rolesWrite),
		func(ctx context.Context, in *pageInput) (*struct{ Body List[alert.Webhook] }, error) {
			p := in.page().Normalized()
			list, err := as.Webhooks(ctx, CallerFrom(ctx).ShopID(), p)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return listOf(list, p.Limit, func(w alert.Webhook) string { return w.ID }), nil
		})
	huma.Register(s.api, op("get-alert-webhook", http.MethodGet, "/api/v1/alert-webhooks/{id}", "One webhook (without its secret)", tag, rolesWrite),
		func(ctx context.Context, in *idInput) (*webhookOut, error) {
			w, err := as.Webhook(ctx, CallerFrom(ctx).ShopID(), in.ID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &webhookOut{Status: http.StatusOK, Body: w}, nil
		})
	huma.Register(s.api, op("delete-alert-webhook", http.MethodDelete, "/api/v1/alert-webhooks/{id}", "Delete a webhook; its pending deliveries fail (audited)", tag, rolesAdmin),
		func(ctx context.Context, in *idInput) (*struct{}, error) {
			if err := as.DeleteWebhook(ctx, CallerFrom(ctx).Actor(), in.ID); err != nil {
				return nil, s.fail(ctx, err)
			}
			return nil, nil
		})
	huma.Register(s.api, op("list-alert-webhook-deliveries", http.MethodGet, "/api/v1/alert-webhooks/{id}/deliveries",
		"A webhook's deliveries, newest first: status, attempts, next attempt, last HTTP status and error", tag, rolesWrite),
		func(ctx context.Context, in *struct {
			ID     string `path:"id" maxLength:"64"`
			Cursor string `query:"cursor" maxLength:"64" doc:"The next_cursor of the previous page"`
			Limit  int    `query:"limit" minimum:"0" maximum:"500" doc:"Page size, default 50"`
		}) (*struct{ Body List[alert.Delivery] }, error) {
			p := commerce.Page{Cursor: in.Cursor, Limit: in.Limit}.Normalized()
			list, err := as.Deliveries(ctx, CallerFrom(ctx).ShopID(), in.ID, p)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return listOf(list, p.Limit, func(d alert.Delivery) string { return d.ID }), nil
		})
}
