package promotion

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/pricing"
)

func settingsOf(shop *commerce.Shop) pricing.Settings {
	st := shop.Settings.Effective()
	fee := st.ShippingFee
	return pricing.Settings{PointsValueFen: st.PointsValueFen, PointsMultiple: st.PointsMultiple, PointsMaxShare: st.PointsMaxShare,
		ShippingFee: &fee, MarginFloor: st.MarginFloor, MarginMode: st.MarginMode}
}

// prepared is a quote's input with what is needed to turn its result into
// an order.
type prepared struct {
	in    pricing.Input
	cache *shopCache
	skus  map[string]*commerce.SKU
	day   string
	wall  map[string]Coupon
}

func (s *Service) prepare(ctx context.Context, cc *commerce.CartContext, req *commerce.PlaceRequest, forQuote bool) (*prepared, error) {
	c, err := s.load(ctx, cc.Shop.ID)
	if err != nil {
		return nil, err
	}
	loc, err := s.location(cc.Shop.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	p := &prepared{cache: c, skus: cc.SKUs, day: cc.Now.In(loc).Format("2006-01-02"), wall: map[string]Coupon{}}
	in := &p.in
	in.Now, in.Location, in.Settings = cc.Now, loc, settingsOf(cc.Shop)
	in.CouponCodes, in.BestCoupons, in.Points = req.CouponCodes, req.BestCoupons, req.Points
	custID := ""
	if cc.Customer != nil {
		custID = cc.Customer.ID
		in.Customer = pricing.Customer{ID: custID, Tier: cc.Customer.Tier, IsNew: cc.Customer.FirstPaidAt == nil, Segments: cc.Customer.Tags}
		in.PointsBalance = cc.Customer.Points
	}
	in.Lines = make([]pricing.Line, len(req.Lines))
	for i, l := range req.Lines {
		k := cc.SKUs[l.SKUID]
		in.Lines[i] = pricing.Line{SKUID: k.ID, ProductID: k.ProductID, CategoryIDs: ancestors(c.categories, k.CategoryID), ListPrice: k.Price, Cost: k.Cost, Quantity: l.Quantity}
		for _, r := range req.Reserved {
			if r.SKUID == l.SKUID {
				in.Lines[i].FlashUnits, in.Lines[i].FlashPrice, in.Lines[i].FlashActivityID = min(r.Units, l.Quantity), r.Price, r.ActivityID
			}
		}
	}
	// Candidates: promotions that are not drafts; the engine explains the
	// rest (not started, ended, paused, audience, scope …).
	var refs []string
	gifts := map[string]bool{}
	in.Activities = make([]pricing.Activity, 0, len(c.promotions))
	for i := range c.promotions {
		pr := &c.promotions[i]
		if pr.Status == pricing.StatusDraft || (req.NoOrderActivities && pr.Kind.OrderLevel()) {
			continue
		}
		in.Activities = append(in.Activities, pr.Activity)
		if pr.Limits.any() || (pr.PerCustomerQtyLimit > 0 && custID != "") {
			refs = append(refs, pr.ID)
		}
		for _, t := range pr.Tiers {
			for _, g := range t.Gifts {
				gifts[g.SKUID] = true
			}
		}
	}
	if custID != "" && (req.BestCoupons || len(req.CouponCodes) > 0) {
		coupons, err := s.wallet(ctx, cc.Shop.ID, custID, forQuote, cc.CustomerStamp)
		if err != nil {
			return nil, err
		}
		for _, cp := range coupons {
			t := c.templates[cp.TemplateID]
			if t == nil {
				continue
			}
			// A paused template's coupons are explained, not used; an
			// ended template's stay good until they expire.
			p.wall[cp.ID] = cp
			in.Wallet = append(in.Wallet, pricing.Coupon{ID: cp.ID, Code: cp.Code, TemplateID: cp.TemplateID, ValidFrom: cp.ValidFrom,
				ValidUntil: cp.ValidUntil, Status: pricing.CouponStatus(cp.Status), Template: t.CouponTemplate, Paused: t.Status == TemplatePaused})
			if t.Limits.any() {
				refs = append(refs, t.ID)
			}
		}
	}
	if len(refs) > 0 {
		counters, err := s.store.Usage(ctx, cc.Shop.ID, refs, custID, p.day)
		if err != nil {
			return nil, err
		}
		in.Usage = make(map[string]pricing.Usage, len(refs))
		for _, ref := range refs {
			limits, qtyLimit := s.limitsOf(c, ref)
			in.Usage[ref] = usageLeft(limits, qtyLimit, counters[ref], custID, p.day)
		}
	}
	if len(gifts) > 0 {
		ids := make([]string, 0, len(gifts))
		for id := range gifts {
			if _, ok := p.skus[id]; !ok {
				ids = append(ids, id)
			}
		}
		more, err := s.com.SKUs(ctx, cc.Shop.ID, ids, forQuote)
		if err != nil {
			return nil, err
		}
		merged := make(map[string]*commerce.SKU, len(p.skus)+len(more))
		for id, k := range p.skus {
			merged[id] = k
		}
		for id, k := range more {
			merged[id] = k
		}
		p.skus = merged
		in.GiftStock = make(map[string]int64, len(gifts))
		for id := range gifts {
			if k, ok := merged[id]; ok && k.Status == commerce.SKUActive {
				in.GiftStock[id] = k.Stock
			}
		}
		// Units of a gift SKU the cart buys come out of the same stock.
		for _, l := range req.Lines {
			if _, ok := in.GiftStock[l.SKUID]; ok {
				in.GiftStock[l.SKUID] = max(0, in.GiftStock[l.SKUID]-l.Quantity)
			}
		}
	}
	return p, nil
}

func (s *Service) limitsOf(c *shopCache, ref string) (Limits, int64) {
	if t, ok := c.templates[ref]; ok {
		return t.Limits, 0
	}
	for i := range c.promotions {
		if c.promotions[i].ID == ref {
			return c.promotions[i].Limits, c.promotions[i].PerCustomerQtyLimit
		}
	}
	return Limits{}, 0
}

func customerBucket(l Limits, custID, day string) string {
	if l.PerCustomerPeriod == "day" {
		return "c:" + custID + ":" + day
	}
	return "c:" + custID
}

// usageLeft turns limits and counters into what the engine may still give.
func usageLeft(l Limits, qtyLimit int64, counters map[string]Counter, custID, day string) pricing.Usage {
	var u pricing.Usage
	left := func(limit, used int64) *int64 {
		v := max(0, limit-used)
		return &v
	}
	if l.TotalUses > 0 {
		u.Uses = left(l.TotalUses, counters["t"].Uses)
	}
	if perCust := customerLimit(l, qtyLimit); perCust > 0 {
		if custID == "" {
			zero := int64(0) // a per-customer limit needs a known customer
			u.CustomerUses = &zero
		} else {
			u.CustomerUses = left(perCust, counters[customerBucket(l, custID, day)].Uses)
		}
	}
	if l.Budget > 0 {
		u.Budget = left(l.Budget, counters["t"].Amount)
	}
	if l.DailyBudget > 0 {
		u.DailyBudget = left(l.DailyBudget, counters["d:"+day].Amount)
	}
	return u
}

func customerLimit(l Limits, qtyLimit int64) int64 {
	switch {
	case l.PerCustomerUses > 0 && qtyLimit > 0:
		return min(l.PerCustomerUses, qtyLimit)
	case qtyLimit > 0:
		return qtyLimit
	}
	return l.PerCustomerUses
}

// buckets are the counters a use of ref raises, each with its limit.
func buckets(l Limits, qtyLimit int64, custID, day string) []commerce.Bucket {
	var out []commerce.Bucket
	if l.TotalUses > 0 || l.Budget > 0 {
		out = append(out, commerce.Bucket{Bucket: "t", MaxUses: l.TotalUses, MaxAmount: l.Budget})
	}
	if perCust := customerLimit(l, qtyLimit); perCust > 0 && custID != "" {
		out = append(out, commerce.Bucket{Bucket: customerBucket(l, custID, day), MaxUses: perCust})
	}
	if l.DailyBudget > 0 {
		out = append(out, commerce.Bucket{Bucket: "d:" + day, MaxAmount: l.DailyBudget})
	}
	return out
}

func toCommerceError(err error) error {
	var ie *pricing.InputError
	if errors.As(err, &ie) {
		return commerce.Invalid(ie.Field, "invalid", "%s", ie.Detail)
	}
	return err
}

// Quote is a priced cart, as the quote endpoint returns it.
type Quote struct {
	*pricing.Result
	// Names of the SKUs on the lines, gifts included.
	Names map[string]string `json:"names"`
}

// run prices a loaded cart with the engine: the one path quotes and orders
// share.
func (s *Service) run(ctx context.Context, cc *commerce.CartContext, req *commerce.PlaceRequest, forQuote bool) (*prepared, *pricing.Result, error) {
	if err := validateCodes(req.CouponCodes); err != nil {
		return nil, nil, err
	}
	p, err := s.prepare(ctx, cc, req, forQuote)
	if err != nil {
		return nil, nil, err
	}
	qt := s.quoters.Get().(*pricing.Quoter)
	res, err := qt.Quote(&p.in)
	s.quoters.Put(qt)
	if err != nil {
		return nil, nil, toCommerceError(err)
	}
	uniformCodes(res, req.CouponCodes, p.wall)
	return p, res, nil
}

// Quote prices a cart without placing it.
func (s *Service) Quote(ctx context.Context, shopID string, req *commerce.PlaceRequest) (*Quote, error) {
	if err := commerce.ValidateCart(req.CustomerID, req.Lines, req.Points); err != nil {
		return nil, err
	}
	cc, err := s.com.LoadCartForQuote(ctx, shopID, req.CustomerID, req.Lines)
	if err != nil {
		return nil, err
	}
	p, res, err := s.run(ctx, cc, req, true)
	if err != nil {
		return nil, err
	}
	q := &Quote{Result: res, Names: make(map[string]string, len(res.Lines))}
	for _, l := range res.Lines {
		if k, ok := p.skus[l.SKUID]; ok {
			q.Names[l.SKUID] = k.Name
		}
	}
	return q, nil
}

func validateCodes(codes []string) error {
	if len(codes) > 20 {
		return commerce.Invalid("coupon_codes", "too_many", "at most 20 coupon codes")
	}
	for i, c := range codes {
		if c == "" || len(c) > 64 {
			return commerce.Invalid(fmt.Sprintf("coupon_codes[%d]", i), "out_of_range", "a coupon code has 1 to 64 characters")
		}
	}
	return nil
}

// explanation is what an order keeps of its quote.
type explanation struct {
	Applied    []pricing.Applied    `json:"applied"`
	NotApplied []pricing.NotApplied `json:"not_applied"`
	Caps       []pricing.Cap        `json:"caps,omitempty"`
	Margin     []pricing.MarginFlag `json:"margin,omitempty"`
	Lines      [][]pricing.Part     `json:"line_parts,omitempty"`
}

// Price implements commerce.Pricer: it prices the cart with the engine and
// lists the holds the order needs beyond stock and points.
func (s *Service) Price(ctx context.Context, cc *commerce.CartContext, req *commerce.PlaceRequest) (*commerce.Priced, error) {
	p, res, err := s.run(ctx, cc, req, false)
	if err != nil {
		return nil, err
	}
	if len(req.CouponCodes) > 0 {
		for _, na := range res.NotApplied {
			if na.Source == pricing.SourceCoupon && na.Reason != pricing.ReasonNotCombinable && na.Reason != pricing.ReasonStacking {
				for i, code := range req.CouponCodes {
					if code == na.ID || p.wall[na.ID].Code == code {
						if na.Reason == pricing.ReasonInvalidCode {
							return nil, commerce.Invalid(fmt.Sprintf("coupon_codes[%d]", i), "invalid_coupon_code", "coupon code %s is not valid", code)
						}
						e := commerce.Invalid(fmt.Sprintf("coupon_codes[%d]", i), "coupon_not_applicable", "coupon %s cannot be used: %s", code, na.Reason)
						e.Extra = map[string]any{"reason": na.Reason}
						return nil, e
					}
				}
			}
		}
	}
	t := res.Totals
	out := &commerce.Priced{GoodsAmount: t.GoodsAmount, ItemDiscount: t.ItemDiscount, OrderDiscount: t.OrderDiscount, CouponDiscount: t.CouponDiscount,
		PointsDiscount: t.PointsDiscount, PointsUsed: t.PointsUsed, Shipping: t.Shipping, ShippingDiscount: t.ShippingDiscount, Payable: t.Payable}
	exp := explanation{Applied: res.Applied, NotApplied: res.NotApplied, Caps: res.Caps, Margin: res.Margin}
	for i, l := range res.Lines {
		name := ""
		if k, ok := p.skus[l.SKUID]; ok {
			name = k.Name
		}
		out.Lines = append(out.Lines, commerce.OrderLine{No: i + 1, SKUID: l.SKUID, Name: name, Quantity: l.Quantity, UnitListPrice: l.UnitListPrice,
			ListAmount: l.ListAmount, ItemDiscount: l.ItemDiscount, OrderDiscount: l.OrderDiscount, CouponDiscount: l.CouponDiscount,
			PointsDiscount: l.PointsDiscount, Payable: l.Payable, Gift: l.Gift})
		exp.Lines = append(exp.Lines, l.Parts)
	}
	if res.Blocked {
		e := commerce.Invalid("lines", "below_margin_floor", "the shop's margin guard blocks this order: %d lines would sell under the floor", len(res.Margin))
		e.Extra = map[string]any{"margin": res.Margin}
		out.Blocked = e
	}
	custID := req.CustomerID
	for _, a := range res.Applied {
		switch a.Source {
		case pricing.SourceActivity:
			limits, qty := s.limitsOf(p.cache, a.ID)
			if b := buckets(limits, qty, custID, p.day); len(b) > 0 {
				out.Holds = append(out.Holds, commerce.Hold{Kind: commerce.HoldPromotion, Ref: a.ID, Quantity: a.Uses, Amount: a.Budget, Day: p.day, State: commerce.HoldHeld, Buckets: b})
			}
		case pricing.SourceCoupon:
			out.Holds = append(out.Holds, commerce.Hold{Kind: commerce.HoldCoupon, Ref: a.ID, Quantity: 1, Amount: a.Amount, State: commerce.HoldHeld})
			if t, ok := p.cache.templates[a.TemplateID]; ok {
				if b := buckets(t.Limits, 0, custID, p.day); len(b) > 0 {
					out.Holds = append(out.Holds, commerce.Hold{Kind: commerce.HoldPromotion, Ref: t.ID, Quantity: a.Uses, Amount: a.Budget, Day: p.day, State: commerce.HoldHeld, Buckets: b})
				}
			}
		}
	}
	out.Explanation, _ = json.Marshal(exp)
	return out, nil
}

var _ commerce.Pricer = (*Service)(nil)
