package httpapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/carnivalhq/carnival/internal/commerce"
)

// CustomerPatch holds a customer's writable fields. Every one is optional:
// an upsert or PATCH changes only the fields sent, and null or an empty
// value clears one.
type CustomerPatch struct {
	Name             Optional[string]   `json:"name,omitempty" maxLength:"200" nullable:"true"`
	Phone            Optional[string]   `json:"phone,omitempty" maxLength:"200" nullable:"true"`
	Email            Optional[string]   `json:"email,omitempty" maxLength:"200" nullable:"true"`
	Tier             Optional[string]   `json:"tier,omitempty" maxLength:"200" nullable:"true" doc:"Member tier, e.g. gold"`
	GrowthValue      Optional[int64]    `json:"growth_value,omitempty" minimum:"0" maximum:"1000000000" nullable:"true" doc:"null clears it to 0"`
	Tags             Optional[[]string] `json:"tags,omitempty" maxItems:"50" nullable:"true" doc:"Replaces the customer's tags (send every tag to keep); null or [] clears them"`
	MarketingConsent Optional[bool]     `json:"marketing_consent,omitempty" nullable:"true" doc:"Whether the customer agreed to marketing messages; null clears it to false"`
	TimeZone         Optional[string]   `json:"time_zone,omitempty" maxLength:"64" nullable:"true" doc:"IANA time zone, e.g. Asia/Shanghai"`
}

func (f CustomerPatch) patch(externalID string) commerce.CustomerPatch {
	return commerce.CustomerPatch{ExternalID: externalID, Name: clearable(f.Name), Phone: clearable(f.Phone), Email: clearable(f.Email),
		Tier: clearable(f.Tier), GrowthValue: clearable(f.GrowthValue), Tags: clearable(f.Tags),
		MarketingConsent: clearable(f.MarketingConsent), TimeZone: clearable(f.TimeZone)}
}

type customerIn struct {
	ExternalID string `json:"external_id" minLength:"1" maxLength:"64" doc:"Your id for the customer"`
	CustomerPatch
}

// contactView is c as the caller may see it: contact fields in full for
// roles that see them (commerce.SeesContact), masked for the others.
func contactView(ctx context.Context, c commerce.Customer) commerce.Customer {
	if commerce.SeesContact(CallerFrom(ctx).Key.Role) {
		return c
	}
	return c.Masked()
}

const customerWriteDoc = "Changes only the fields sent: a field left out keeps its value, `null` or an empty value " +
	"(`\"\"`, `[]`) clears it (a cleared number is 0, a cleared consent false). `tags` replaces the whole list. " +
	"The audit log records who changed which fields, without the contact values."

func (s *Server) registerCustomers() {
	s.registerCustomerExport()
	type upsert struct {
		Body struct {
			Items []customerIn `json:"items" minItems:"1" maxItems:"1000"`
		}
	}
	up := op("upsert-customers", http.MethodPut, "/api/v1/customers", "Create or update customers by external id (bulk; only the fields sent change)", "Customers", rolesWrite)
	up.Description = "Creates a customer whose external id is new, with the fields sent (the others empty), and updates an existing one. " + customerWriteDoc
	huma.Register(s.api, up,
		func(ctx context.Context, in *upsert) (*struct{ Body List[commerce.Customer] }, error) {
			ps := make([]commerce.CustomerPatch, len(in.Body.Items))
			for i, c := range in.Body.Items {
				ps[i] = c.patch(c.ExternalID)
			}
			out, err := s.cfg.Commerce.MergeCustomers(ctx, CallerFrom(ctx).Actor(), ps)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			for i := range out {
				out[i] = contactView(ctx, out[i])
			}
			return &struct{ Body List[commerce.Customer] }{Body: List[commerce.Customer]{Items: out}}, nil
		})
	type patch struct {
		ID   string `path:"id" maxLength:"64"`
		Body CustomerPatch
	}
	po := op("patch-customer", http.MethodPatch, "/api/v1/customers/{id}", "Change some fields of a customer (audited)", "Customers", rolesWrite)
	po.Description = customerWriteDoc + " The external id does not change. An erased customer cannot be changed (409 customer_erased)."
	huma.Register(s.api, po,
		func(ctx context.Context, in *patch) (*struct{ Body *commerce.Customer }, error) {
			c, err := s.cfg.Commerce.PatchCustomer(ctx, CallerFrom(ctx).Actor(), in.ID, in.Body.patch(""))
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			v := contactView(ctx, *c)
			return &struct{ Body *commerce.Customer }{Body: &v}, nil
		})
	huma.Register(s.api, op("list-customers", http.MethodGet, "/api/v1/customers", "List customers (contact fields in full for admins and operators, masked for analysts)", "Customers", rolesRead),
		func(ctx context.Context, in *pageInput) (*struct{ Body List[commerce.Customer] }, error) {
			out, err := s.cfg.Commerce.ListCustomersUnmasked(ctx, CallerFrom(ctx).ShopID(), commerce.Page{Cursor: in.Cursor, Limit: in.Limit})
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			for i := range out {
				out[i] = contactView(ctx, out[i])
			}
			return listOf(out, in.Limit, func(c commerce.Customer) string { return c.ID }), nil
		})
	huma.Register(s.api, op("get-customer", http.MethodGet, "/api/v1/customers/{id}", "Get a customer (contact fields in full for admins and operators, masked for analysts)", "Customers", rolesRead),
		func(ctx context.Context, in *idInput) (*struct{ Body *commerce.Customer }, error) {
			cu, err := s.cfg.Commerce.Customer(ctx, CallerFrom(ctx).ShopID(), in.ID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			v := contactView(ctx, *cu)
			return &struct{ Body *commerce.Customer }{Body: &v}, nil
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
