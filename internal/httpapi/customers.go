package httpapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/carnivalhq/carnival/internal/commerce"
)

type customerIn struct {
	ExternalID       string   `json:"external_id" minLength:"1" maxLength:"64" doc:"Your id for the customer"`
	Name             string   `json:"name,omitempty" maxLength:"200"`
	Phone            string   `json:"phone,omitempty" maxLength:"200"`
	Email            string   `json:"email,omitempty" maxLength:"200"`
	Tier             string   `json:"tier,omitempty" maxLength:"200" doc:"Member tier, e.g. gold"`
	GrowthValue      int64    `json:"growth_value,omitempty" minimum:"0" maximum:"1000000000"`
	Tags             []string `json:"tags,omitempty" maxItems:"50"`
	MarketingConsent bool     `json:"marketing_consent,omitempty"`
	TimeZone         string   `json:"time_zone,omitempty" maxLength:"64"`
}

func (s *Server) registerCustomers() {
	type upsert struct {
		Body struct {
			Items []customerIn `json:"items" minItems:"1" maxItems:"1000"`
		}
	}
	huma.Register(s.api, op("upsert-customers", http.MethodPut, "/api/v1/customers", "Create or update customers by external id (bulk)", "Customers", rolesWrite),
		func(ctx context.Context, in *upsert) (*struct{ Body List[commerce.Customer] }, error) {
			cs := make([]commerce.Customer, len(in.Body.Items))
			for i, c := range in.Body.Items {
				cs[i] = commerce.Customer{ExternalID: c.ExternalID, Name: c.Name, Phone: c.Phone, Email: c.Email, Tier: c.Tier,
					GrowthValue: c.GrowthValue, Tags: c.Tags, MarketingConsent: c.MarketingConsent, TimeZone: c.TimeZone}
			}
			out, err := s.cfg.Commerce.UpsertCustomers(ctx, CallerFrom(ctx).Actor(), cs)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			for i := range out {
				out[i] = out[i].Masked()
			}
			return &struct{ Body List[commerce.Customer] }{Body: List[commerce.Customer]{Items: out}}, nil
		})
	huma.Register(s.api, op("list-customers", http.MethodGet, "/api/v1/customers", "List customers (personal fields masked)", "Customers", rolesRead),
		func(ctx context.Context, in *pageInput) (*struct{ Body List[commerce.Customer] }, error) {
			out, err := s.cfg.Commerce.ListCustomers(ctx, CallerFrom(ctx).ShopID(), commerce.Page{Cursor: in.Cursor, Limit: in.Limit})
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return listOf(out, in.Limit, func(c commerce.Customer) string { return c.ID }), nil
		})
	huma.Register(s.api, op("get-customer", http.MethodGet, "/api/v1/customers/{id}", "Get a customer (masked for analysts)", "Customers", rolesRead),
		func(ctx context.Context, in *idInput) (*struct{ Body *commerce.Customer }, error) {
			c := CallerFrom(ctx)
			cu, err := s.cfg.Commerce.Customer(ctx, c.ShopID(), in.ID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			if c.Key.Role == commerce.RoleAnalyst {
				m := cu.Masked()
				cu = &m
			}
			return &struct{ Body *commerce.Customer }{Body: cu}, nil
		})
	huma.Register(s.api, op("erase-customer", http.MethodPost, "/api/v1/customers/{id}/erase", "Erase a customer's personal data (orders are kept)", "Customers", rolesAdmin),
		func(ctx context.Context, in *idInput) (*struct{}, error) {
			if err := s.cfg.Commerce.EraseCustomer(ctx, CallerFrom(ctx).Actor(), in.ID); err != nil {
				return nil, s.fail(ctx, err)
			}
			return nil, nil
		})
	type points struct {
		ID   string `path:"id" maxLength:"64"`
		Body struct {
			Delta  int64  `json:"delta" minimum:"-1000000000" maximum:"1000000000" doc:"Points to add (negative to deduct)"`
			Reason string `json:"reason" minLength:"1" maxLength:"200"`
		}
	}
	huma.Register(s.api, op("adjust-points", http.MethodPost, "/api/v1/customers/{id}/points", "Credit or debit points (recorded in the ledger with the caller's key, and audited)", "Customers", rolesWrite),
		func(ctx context.Context, in *points) (*struct{ Body *commerce.Customer }, error) {
			c, err := s.cfg.Commerce.AdjustPoints(ctx, CallerFrom(ctx).Actor(), in.ID, in.Body.Delta, in.Body.Reason)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body *commerce.Customer }{Body: c}, nil
		})
	type movesIn struct {
		ID     string `path:"id" maxLength:"64"`
		Cursor string `query:"cursor" maxLength:"64" doc:"The next_cursor of the previous page"`
		Limit  int    `query:"limit" minimum:"0" maximum:"500" doc:"Page size, default 50"`
	}
	huma.Register(s.api, op("list-points-moves", http.MethodGet, "/api/v1/customers/{id}/points", "The customer's points ledger; each entry names its actor", "Customers", rolesRead),
		func(ctx context.Context, in *movesIn) (*struct{ Body List[commerce.PointsMove] }, error) {
			out, err := s.cfg.Commerce.PointsMoves(ctx, CallerFrom(ctx).ShopID(), in.ID, commerce.Page{Cursor: in.Cursor, Limit: in.Limit})
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return listOf(out, in.Limit, func(m commerce.PointsMove) string { return m.ID }), nil
		})
}
