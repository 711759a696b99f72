package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/pricing"
	"github.com/carnivalhq/carnival/internal/promotion"
)

type promotionIn struct {
	Name                string               `json:"name,omitempty" maxLength:"200"`
	Kind                pricing.Kind         `json:"kind" enum:"limited_time,member_price,quantity_ladder,threshold_off,threshold_percent,nth_item,buy_x_get_y,gift,free_shipping"`
	Status              pricing.Status       `json:"status,omitempty" enum:"active,paused,draft,ended"`
	StartsAt            time.Time            `json:"starts_at,omitzero"`
	EndsAt              time.Time            `json:"ends_at,omitzero"`
	Priority            int                  `json:"priority,omitempty" minimum:"-1000000" maximum:"1000000"`
	Exclusive           bool                 `json:"exclusive,omitempty"`
	Scope               pricing.Scope        `json:"scope" doc:"Every SKU, product and category id must be the shop's: another is refused with 422 unknown_scope_id at its index, e.g. scope.sku_ids[2]"`
	Audience            pricing.Audience     `json:"audience,omitzero"`
	PerCustomerQtyLimit int64                `json:"per_customer_qty_limit,omitempty" minimum:"0" maximum:"1000000"`
	Rate                int64                `json:"rate,omitempty" minimum:"0" maximum:"10000" doc:"Basis points the customer pays, 8500 = 8.5折"`
	Price               int64                `json:"price,omitempty" minimum:"0" maximum:"1000000000000000" doc:"Special unit price, fen"`
	TierRates           []pricing.TierRate   `json:"tier_rates,omitempty" maxItems:"50"`
	Ladder              []pricing.LadderStep `json:"ladder,omitempty" maxItems:"50"`
	Tiers               []pricing.Tier       `json:"tiers,omitempty" maxItems:"50"`
	Repeat              bool                 `json:"repeat,omitempty" doc:"每满 X 减 Y: repeat the first tier"`
	MaxOff              int64                `json:"max_off,omitempty" minimum:"0" maximum:"1000000000000000"`
	ByItems             bool                 `json:"by_items,omitempty"`
	N                   int64                `json:"n,omitempty" minimum:"0" maximum:"1000"`
	X                   int64                `json:"x,omitempty" minimum:"0" maximum:"1000"`
	Y                   int64                `json:"y,omitempty" minimum:"0" maximum:"1000"`
	Threshold           int64                `json:"threshold,omitempty" minimum:"0" maximum:"1000000000000000"`
	Limits              promotion.Limits     `json:"limits,omitzero"`
	AcknowledgeRisk     bool                 `json:"acknowledge_margin_risk,omitempty" doc:"Admin only: save although the worst case is under the margin floor (audited)"`
}

func (in promotionIn) promotion(id string) *promotion.Promotion {
	return &promotion.Promotion{Activity: pricing.Activity{ID: id, Name: in.Name, Kind: in.Kind, Status: in.Status, StartsAt: in.StartsAt, EndsAt: in.EndsAt,
		Priority: in.Priority, Exclusive: in.Exclusive, Scope: in.Scope, Audience: in.Audience, PerCustomerQtyLimit: in.PerCustomerQtyLimit,
		Rate: in.Rate, Price: in.Price, TierRates: in.TierRates, Ladder: in.Ladder, Tiers: in.Tiers, Repeat: in.Repeat, MaxOff: in.MaxOff,
		ByItems: in.ByItems, N: in.N, X: in.X, Y: in.Y, Threshold: in.Threshold}, Limits: in.Limits}
}

type promotionOut struct {
	Status int `json:"-"`
	Body   struct {
		*promotion.Promotion
		BelowFloor []pricing.WorstCaseResult `json:"below_floor,omitempty" doc:"SKUs whose worst case is under the margin floor (saved with acknowledgement)"`
	}
}

type templateIn struct {
	Name              string           `json:"name,omitempty" maxLength:"200"`
	Kind              pricing.Kind     `json:"kind" enum:"threshold_off,percent,shipping"`
	Threshold         int64            `json:"threshold,omitempty" minimum:"0" maximum:"1000000000000000" doc:"满X: 0 makes a no-threshold cash coupon"`
	Off               int64            `json:"off,omitempty" minimum:"0" maximum:"1000000000000000"`
	Rate              int64            `json:"rate,omitempty" minimum:"0" maximum:"10000"`
	MaxDiscount       int64            `json:"max_discount,omitempty" minimum:"0" maximum:"1000000000000000"`
	Scope             pricing.Scope    `json:"scope" doc:"Every SKU, product and category id must be the shop's: another is refused with 422 unknown_scope_id at its index, e.g. scope.sku_ids[2]"`
	StackGroup        string           `json:"stack_group,omitempty" maxLength:"64"`
	Stackable         bool             `json:"stackable,omitempty"`
	Status            string           `json:"status,omitempty" enum:"active,paused,ended"`
	TotalQuantity     int64            `json:"total_quantity,omitempty" minimum:"0" maximum:"1000000000"`
	PerCustomerClaims int64            `json:"per_customer_claims,omitempty" minimum:"0" maximum:"1000000"`
	ValidFrom         time.Time        `json:"valid_from,omitzero"`
	ValidUntil        time.Time        `json:"valid_until,omitzero"`
	ValidDays         int64            `json:"valid_days,omitempty" minimum:"0" maximum:"3650"`
	Limits            promotion.Limits `json:"limits,omitzero"`
}

func (in templateIn) template(id string) *promotion.Template {
	return &promotion.Template{CouponTemplate: pricing.CouponTemplate{ID: id, Name: in.Name, Kind: in.Kind, Threshold: in.Threshold, Off: in.Off,
		Rate: in.Rate, MaxDiscount: in.MaxDiscount, Scope: in.Scope, StackGroup: in.StackGroup, Stackable: in.Stackable},
		Status: in.Status, TotalQuantity: in.TotalQuantity, PerCustomerClaims: in.PerCustomerClaims, ValidFrom: in.ValidFrom,
		ValidUntil: in.ValidUntil, ValidDays: in.ValidDays, Limits: in.Limits}
}

func (s *Server) registerPromotions() {
	ps := s.cfg.Promotions
	save := func(ctx context.Context, id string, in promotionIn) (*promotionOut, error) {
		p, rep, err := ps.SavePromotion(ctx, CallerFrom(ctx).Actor(), in.promotion(id), in.AcknowledgeRisk)
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		out := &promotionOut{Status: http.StatusOK}
		if id == "" {
			out.Status = http.StatusCreated
		}
		out.Body.Promotion, out.Body.BelowFloor = p, rep.BelowFloor
		return out, nil
	}
	type createIn struct{ Body promotionIn }
	create := op("create-promotion", http.MethodPost, "/api/v1/promotions", "Create a promotion (checked for conflicts and against the margin floor)", "Promotions", rolesWrite)
	create.DefaultStatus = http.StatusCreated
	huma.Register(s.api, create, func(ctx context.Context, in *createIn) (*promotionOut, error) { return save(ctx, "", in.Body) })
	type updateIn struct {
		ID   string `path:"id" maxLength:"64"`
		Body promotionIn
	}
	huma.Register(s.api, op("update-promotion", http.MethodPut, "/api/v1/promotions/{id}", "Replace a promotion's configuration", "Promotions", rolesWrite),
		func(ctx context.Context, in *updateIn) (*promotionOut, error) { return save(ctx, in.ID, in.Body) })
	for _, st := range []struct {
		verb   string
		status pricing.Status
	}{{"pause", pricing.StatusPaused}, {"resume", pricing.StatusActive}, {"end", pricing.StatusEnded}} {
		huma.Register(s.api, op(st.verb+"-promotion", http.MethodPost, "/api/v1/promotions/{id}/"+st.verb, "Set a promotion "+string(st.status), "Promotions", rolesWrite),
			func(ctx context.Context, in *idInput) (*struct{ Body *promotion.Promotion }, error) {
				p, err := ps.SetStatus(ctx, CallerFrom(ctx).Actor(), in.ID, st.status)
				if err != nil {
					return nil, s.fail(ctx, err)
				}
				return &struct{ Body *promotion.Promotion }{Body: p}, nil
			})
	}
	huma.Register(s.api, op("list-promotions", http.MethodGet, "/api/v1/promotions", "List promotions", "Promotions", rolesRead),
		func(ctx context.Context, _ *struct{}) (*struct{ Body List[promotion.Promotion] }, error) {
			out, err := ps.Promotions(ctx, CallerFrom(ctx).ShopID())
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body List[promotion.Promotion] }{Body: List[promotion.Promotion]{Items: out}}, nil
		})
	huma.Register(s.api, op("get-promotion", http.MethodGet, "/api/v1/promotions/{id}", "Get a promotion", "Promotions", rolesRead),
		func(ctx context.Context, in *idInput) (*struct{ Body *promotion.Promotion }, error) {
			p, err := ps.Promotion(ctx, CallerFrom(ctx).ShopID(), in.ID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body *promotion.Promotion }{Body: p}, nil
		})

	// Coupon templates, coupons, wallet.
	type tplCreate struct{ Body templateIn }
	type tplOut struct {
		Status int `json:"-"`
		Body   *promotion.Template
	}
	ct := op("create-coupon-template", http.MethodPost, "/api/v1/coupon-templates", "Create a coupon template", "Coupons", rolesWrite)
	ct.DefaultStatus = http.StatusCreated
	huma.Register(s.api, ct, func(ctx context.Context, in *tplCreate) (*tplOut, error) {
		t, err := ps.SaveTemplate(ctx, CallerFrom(ctx).Actor(), in.Body.template(""))
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		return &tplOut{Status: http.StatusCreated, Body: t}, nil
	})
	type tplUpdate struct {
		ID   string `path:"id" maxLength:"64"`
		Body templateIn
	}
	huma.Register(s.api, op("update-coupon-template", http.MethodPut, "/api/v1/coupon-templates/{id}", "Replace a coupon template", "Coupons", rolesWrite),
		func(ctx context.Context, in *tplUpdate) (*tplOut, error) {
			t, err := ps.SaveTemplate(ctx, CallerFrom(ctx).Actor(), in.Body.template(in.ID))
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &tplOut{Status: http.StatusOK, Body: t}, nil
		})
	for _, st := range []struct{ verb, status, summary string }{
		{"pause", promotion.TemplatePaused, "Pause a coupon template: no coupon is claimed, grabbed or issued (409 template_paused) and coupons already in wallets do not apply (quote reason paused) until it is resumed; audited"},
		{"resume", promotion.TemplateActive, "Resume a paused coupon template: claims and its coupons in wallets work again; audited"},
		{"end", promotion.TemplateEnded, "End a coupon template for good: no more coupons are issued (409 template_ended); coupons already claimed stay redeemable until their own validity ends; audited"},
	} {
		huma.Register(s.api, op(st.verb+"-coupon-template", http.MethodPost, "/api/v1/coupon-templates/{id}/"+st.verb, st.summary, "Coupons", rolesWrite),
			func(ctx context.Context, in *idInput) (*tplOut, error) {
				t, err := ps.SetTemplateStatus(ctx, CallerFrom(ctx).Actor(), in.ID, st.status)
				if err != nil {
					return nil, s.fail(ctx, err)
				}
				return &tplOut{Status: http.StatusOK, Body: t}, nil
			})
	}
	huma.Register(s.api, op("list-coupon-templates", http.MethodGet, "/api/v1/coupon-templates", "List coupon templates", "Coupons", rolesRead),
		func(ctx context.Context, _ *struct{}) (*struct{ Body List[promotion.Template] }, error) {
			out, err := ps.Templates(ctx, CallerFrom(ctx).ShopID())
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body List[promotion.Template] }{Body: List[promotion.Template]{Items: out}}, nil
		})
	huma.Register(s.api, op("get-coupon-template", http.MethodGet, "/api/v1/coupon-templates/{id}", "Get a coupon template with its issued count", "Coupons", rolesRead),
		func(ctx context.Context, in *idInput) (*tplOut, error) {
			t, err := ps.Template(ctx, CallerFrom(ctx).ShopID(), in.ID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &tplOut{Status: http.StatusOK, Body: t}, nil
		})
	type issueIn struct {
		ID   string `path:"id" maxLength:"64"`
		Body struct {
			CustomerIDs []string `json:"customer_ids" minItems:"1" maxItems:"1000"`
		}
	}
	type issueOut struct {
		Body struct {
			Issued  []promotion.Coupon `json:"issued"`
			Refused []Problem          `json:"refused" doc:"One problem per customer who got no coupon, in order"`
		}
	}
	huma.Register(s.api, op("issue-coupons", http.MethodPost, "/api/v1/coupon-templates/{id}/issue", "Issue coupons to customers (within the template's limits); each issued coupon is audited", "Coupons", rolesWrite),
		func(ctx context.Context, in *issueIn) (*issueOut, error) {
			out := &issueOut{}
			out.Body.Issued, out.Body.Refused = []promotion.Coupon{}, []Problem{}
			actor := CallerFrom(ctx).Actor()
			if _, err := ps.Template(ctx, actor.ShopID, in.ID); err != nil {
				return nil, s.fail(ctx, err)
			}
			for i, cid := range in.Body.CustomerIDs {
				c, err := ps.IssueCoupon(ctx, actor, in.ID, cid)
				if err != nil {
					p, _ := problemFrom(err).(*Problem)
					if p == nil || p.Status >= 500 {
						return nil, s.fail(ctx, err)
					}
					p.Field = "customer_ids[" + itoa(i) + "]"
					out.Body.Refused = append(out.Body.Refused, *p)
					continue
				}
				out.Body.Issued = append(out.Body.Issued, *c)
			}
			return out, nil
		})
	type claimIn struct {
		IdempotencyKey string `header:"Idempotency-Key" required:"true" maxLength:"255" doc:"Required (428 idempotency_key_required without it): a fresh key per attempt, the same key for its retries. A replay for the same customer returns the first coupon (200) and claims nothing"`
		Body           struct {
			TemplateID string `json:"template_id" minLength:"1" maxLength:"64"`
			CustomerID string `json:"customer_id" minLength:"1" maxLength:"64"`
		}
	}
	cl := op("claim-coupon", http.MethodPost, "/api/v1/coupons/claim", "A customer claims a coupon (领券)", "Coupons", rolesStorefront)
	cl.DefaultStatus = http.StatusCreated
	huma.Register(s.api, cl, func(ctx context.Context, in *claimIn) (*struct {
		Status int `json:"-"`
		Body   *promotion.Coupon
	}, error) {
		c, replayed, err := ps.ClaimCouponOnce(ctx, CallerFrom(ctx).ShopID(), in.Body.TemplateID, in.Body.CustomerID, in.IdempotencyKey)
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		out := &struct {
			Status int `json:"-"`
			Body   *promotion.Coupon
		}{Status: http.StatusCreated, Body: c}
		if replayed {
			out.Status = http.StatusOK
		}
		return out, nil
	})
	huma.Register(s.api, op("get-wallet", http.MethodGet, "/api/v1/customers/{id}/coupons", "A customer's coupons: valid, used, expired", "Coupons", append(rolesStorefront, commerce.RoleAnalyst)),
		func(ctx context.Context, in *idInput) (*struct{ Body *promotion.WalletView }, error) {
			w, err := ps.Wallet(ctx, CallerFrom(ctx).ShopID(), in.ID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body *promotion.WalletView }{Body: w}, nil
		})

	// The quote. Huma documents it; quoteHandler serves it (see quote.go).
	if !s.cfg.humaQuote {
		s.servePlain("quote", s.quoteHandler)
	}
	huma.Register(s.api, op("quote", http.MethodPost, "/api/v1/quote", "Price a cart: every discount per line, what applied, what did not and why, 凑单 hints. "+
		"A publishable key quotes without a customer: customer_id, coupon_codes, best_coupons and points answer 403 publishable_key_customer_data", "Pricing", rolesPublishable),
		func(ctx context.Context, in *struct{ Body quoteInBody }) (*struct{ Body *promotion.Quote }, error) {
			req := in.Body.request()
			if err := anonymousOnly(CallerFrom(ctx), req); err != nil {
				return nil, s.fail(ctx, err)
			}
			q, err := ps.Quote(ctx, CallerFrom(ctx).ShopID(), req)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body *promotion.Quote }{Body: q}, nil
		})
}

func itoa(n int) string {
	b, _ := jsonMarshal(n)
	return string(b)
}
