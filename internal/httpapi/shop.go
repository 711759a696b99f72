package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/localtime"
	"github.com/carnivalhq/carnival/internal/netguard"
)

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

// Shared inputs.
type pageInput struct {
	Cursor string `query:"cursor" maxLength:"64" doc:"The next_cursor of the previous page"`
	Limit  int    `query:"limit" minimum:"0" maximum:"500" doc:"Page size, default 50"`
}

func (p pageInput) page() commerce.Page { return commerce.Page{Cursor: p.Cursor, Limit: p.Limit} }

type idInput struct {
	ID string `path:"id" maxLength:"64" doc:"The id"`
}

// List is one page of items and the cursor of the next (empty at the end).
type List[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor" doc:"Pass as ?cursor= for the next page; empty when this is the last"`
}

func listOf[T any](items []T, limit int, id func(T) string) *struct{ Body List[T] } {
	out := &struct{ Body List[T] }{Body: List[T]{Items: items}}
	if items == nil {
		out.Body.Items = []T{}
	}
	p := commerce.Page{Limit: limit}.Normalized()
	if len(items) == p.Limit {
		out.Body.NextCursor = id(items[len(items)-1])
	}
	return out
}

type shopOut struct {
	Body *commerce.Shop
}

type keyCreated struct {
	Body struct {
		commerce.APIKey
		Secret string `json:"secret" doc:"The key itself; shown once, store it now"`
	}
}

func (s *Server) registerShop() {
	huma.Register(s.api, op("get-shop", http.MethodGet, "/api/v1/shop", "The caller's shop and its settings", "Shop", rolesRead),
		func(ctx context.Context, _ *struct{}) (*shopOut, error) {
			sh, err := s.cfg.Commerce.Shop(ctx, CallerFrom(ctx).ShopID())
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &shopOut{Body: sh}, nil
		})

	type patchShop struct {
		Body struct {
			Name     *string                `json:"name,omitempty" maxLength:"200"`
			TimeZone *string                `json:"time_zone,omitempty" maxLength:"64" doc:"IANA time zone, e.g. Asia/Shanghai"`
			Settings commerce.SettingsPatch `json:"settings,omitempty"`
		}
	}
	huma.Register(s.api, op("update-shop", http.MethodPatch, "/api/v1/shop", "Change the shop's name, time zone or settings (audited)", "Shop", rolesAdmin),
		func(ctx context.Context, in *patchShop) (*shopOut, error) {
			sh, err := s.cfg.Commerce.UpdateShopSettings(ctx, CallerFrom(ctx).Actor(), in.Body.Name, in.Body.TimeZone, in.Body.Settings)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &shopOut{Body: sh}, nil
		})

	type createKey struct {
		Body struct {
			Role string `json:"role" enum:"admin,operator,analyst,storefront,publishable" doc:"storefront is the secret key for the storefront's servers; publishable is the only key that may go into page HTML (events, anonymous quotes)"`
			Name string `json:"name,omitempty" maxLength:"200"`
		}
	}
	ck := op("create-key", http.MethodPost, "/api/v1/keys", "Create an API key for this shop (audited, without its secret)", "Shop", rolesAdmin)
	ck.DefaultStatus = http.StatusCreated
	huma.Register(s.api, ck,
		func(ctx context.Context, in *createKey) (*keyCreated, error) {
			k, secret, err := s.cfg.Commerce.CreateAPIKeyBy(ctx, CallerFrom(ctx).Actor(), in.Body.Role, in.Body.Name)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			out := &keyCreated{}
			out.Body.APIKey, out.Body.Secret = *k, secret
			return out, nil
		})
	huma.Register(s.api, op("list-keys", http.MethodGet, "/api/v1/keys", "List API keys (never their secrets)", "Shop", rolesAdmin),
		func(ctx context.Context, _ *struct{}) (*struct{ Body List[commerce.APIKey] }, error) {
			keys, err := s.cfg.Commerce.ListAPIKeys(ctx, CallerFrom(ctx).ShopID())
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body List[commerce.APIKey] }{Body: List[commerce.APIKey]{Items: keys}}, nil
		})
	huma.Register(s.api, op("revoke-key", http.MethodDelete, "/api/v1/keys/{id}", "Revoke an API key", "Shop", rolesAdmin),
		func(ctx context.Context, in *idInput) (*struct{}, error) {
			if err := s.cfg.Commerce.RevokeAPIKey(ctx, CallerFrom(ctx).Actor(), in.ID); err != nil {
				return nil, s.fail(ctx, err)
			}
			return nil, nil
		})
	type auditInput struct {
		Cursor   string `query:"cursor" maxLength:"64" doc:"The next_cursor of the previous page"`
		Limit    int    `query:"limit" minimum:"0" maximum:"500" doc:"Page size, default 50"`
		Actor    string `query:"actor" maxLength:"100" doc:"Only entries by this actor: key:<key id>, system, guard"`
		Action   string `query:"action" maxLength:"64" doc:"Only this action: create, update, delete, refund, adjust_points, revoke …"`
		Entity   string `query:"entity" maxLength:"64" doc:"Only this kind of object: shop, api_key, order, customer, promotion, alert_webhook …"`
		EntityID string `query:"entity_id" maxLength:"64" doc:"Only this object, by id"`
		From     string `query:"from" maxLength:"40" doc:"Only entries at or after this time (RFC 3339)"`
		To       string `query:"to" maxLength:"40" doc:"Only entries before this time (RFC 3339)"`
	}
	huma.Register(s.api, op("list-audit", http.MethodGet, "/api/v1/audit",
		"The audit log of configuration changes and money and points movements, newest first, with who made each. "+
			"Filter by actor, action, entity, entity_id and a from/to time range. For roles that may not read webhooks (analyst), "+
			"secrets in URLs (query values, user-info passwords) are shown as ***", "Shop", rolesRead),
		func(ctx context.Context, in *auditInput) (*struct{ Body List[commerce.AuditEntry] }, error) {
			f := commerce.AuditFilter{Actor: in.Actor, Action: in.Action, Entity: in.Entity, EntityID: in.EntityID}
			for _, t := range []struct {
				field, v string
				dst      *time.Time
			}{{"from", in.From, &f.From}, {"to", in.To, &f.To}} {
				if t.v == "" {
					continue
				}
				// Any offset; a "+" sent unescaped in a query arrives as a
				// space ("…T00:00:00 08:00"), read as the "+" it was.
				at, err := time.Parse(time.RFC3339Nano, strings.Replace(t.v, " ", "+", 1))
				if err != nil {
					return nil, s.fail(ctx, commerce.Invalid(t.field, "invalid_time", "%s must be an RFC 3339 time, e.g. 2026-11-11T00:00:00+08:00", t.field))
				}
				*t.dst = at
			}
			c := CallerFrom(ctx)
			items, err := s.cfg.Commerce.ListAudit(ctx, c.ShopID(), f, commerce.Page{Cursor: in.Cursor, Limit: in.Limit})
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			if !slices.Contains(rolesWrite, c.Key.Role) {
				for i := range items {
					items[i].Before, items[i].After = netguard.RedactJSON(items[i].Before), netguard.RedactJSON(items[i].After)
				}
			}
			if loc := s.shopLocation(ctx); loc != nil {
				for i := range items {
					items[i].Before, items[i].After = localtime.Snapshot(items[i].Before, loc), localtime.Snapshot(items[i].After, loc)
				}
			}
			return listOf(items, in.Limit, func(a commerce.AuditEntry) string { return a.ID }), nil
		})
}
