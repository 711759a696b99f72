package promotion

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/pricing"
)

// Service manages promotions and coupons and prices carts with them.
type Service struct {
	store Store
	com   *commerce.Service

	mu    sync.Mutex
	cache map[string]*shopCache // per shop: what every quote reads

	// quoters keeps the engine's working memory between quotes; each
	// quote takes one for itself.
	quoters sync.Pool

	// wallets caches customers' coupons for quotes, each entry valid while
	// the customer's change stamp is the one it was read at; orders read
	// the wallet fresh.
	wmu     sync.Mutex
	wallets map[string]walletEntry
}

// location is the zone named name, loaded once (time.LoadLocation alone
// was ≈ 8 % of a quote's CPU).
func (s *Service) location(name string) (*time.Location, error) { return commerce.LoadLocation(name) }

// walletEntry is a customer's coupons as a quote read them, with the
// customer's change stamp read before: every coupon change raises the stamp
// in its transaction, so an entry whose stamp is the customer's current one
// is current.
type walletEntry struct {
	stamp   int64
	coupons []Coupon
}

// wallet reads the customer's coupons. A quote (cached set, stamp read
// fresh by commerce) may serve the entry an earlier quote stored at the same
// stamp; orders always read the store.
func (s *Service) wallet(ctx context.Context, shopID, customerID string, cached bool, stamp int64) ([]Coupon, error) {
	key := shopID + "/" + customerID
	if cached {
		s.wmu.Lock()
		e, ok := s.wallets[key]
		s.wmu.Unlock()
		if ok && e.stamp == stamp {
			return e.coupons, nil
		}
	}
	cs, err := s.store.Wallet(ctx, shopID, customerID)
	if err != nil || !cached {
		return cs, err
	}
	s.wmu.Lock()
	if len(s.wallets) > 100000 {
		clear(s.wallets)
	}
	s.wallets[key] = walletEntry{stamp: stamp, coupons: cs}
	s.wmu.Unlock()
	return cs, nil
}

// shopCache holds a shop's live promotions and templates for a moment, so
// a quote does not decode every promotion from storage. Saves through this
// service drop it at once.
type shopCache struct {
	at         time.Time
	promotions []Promotion
	templates  map[string]*Template
	categories map[string]string // id → parent
}

const cacheTTL = 2 * time.Second

// New returns a Service and makes it the pricer of orders placed through
// com.
func New(store Store, com *commerce.Service) *Service {
	s := &Service{store: store, com: com, cache: map[string]*shopCache{}, wallets: map[string]walletEntry{}}
	s.quoters.New = func() any { return new(pricing.Quoter) }
	com.SetPricer(s)
	return s
}

func (s *Service) drop(shopID string) {
	s.mu.Lock()
	delete(s.cache, shopID)
	s.mu.Unlock()
}

func (s *Service) load(ctx context.Context, shopID string) (*shopCache, error) {
	s.mu.Lock()
	c := s.cache[shopID]
	s.mu.Unlock()
	if c != nil && time.Since(c.at) < cacheTTL {
		return c, nil
	}
	now := s.com.Now()
	// Promotions that ended within a day stay candidates, so a quote can
	// say "ended" instead of nothing.
	ps, err := s.store.ListPromotions(ctx, shopID, now.Add(-24*time.Hour))
	if err != nil {
		return nil, err
	}
	ts, err := s.store.ListTemplates(ctx, shopID)
	if err != nil {
		return nil, err
	}
	cats, err := s.com.ListCategories(ctx, shopID)
	if err != nil {
		return nil, err
	}
	c = &shopCache{at: time.Now(), promotions: ps, templates: make(map[string]*Template, len(ts)), categories: make(map[string]string, len(cats))}
	for i := range ts {
		c.templates[ts[i].ID] = &ts[i]
	}
	for _, cat := range cats {
		c.categories[cat.ID] = cat.ParentID
	}
	s.mu.Lock()
	s.cache[shopID] = c
	s.mu.Unlock()
	return c, nil
}

func ancestors(parent map[string]string, id string) []string {
	var out []string
	for ; id != "" && len(out) <= len(parent); id = parent[id] {
		out = append(out, id)
	}
	return out
}

func fieldErr(prefix string, fe []pricing.FieldError) error {
	if len(fe) == 0 {
		return nil
	}
	f := fe[0]
	field := f.Field
	if prefix != "" && field != "" {
		field = prefix + "." + field
	}
	return commerce.Invalid(field, f.Code, "%s", f.Detail)
}

func validateLimits(l Limits) error {
	switch {
	case l.TotalUses < 0, l.PerCustomerUses < 0:
		return commerce.Invalid("limits", "out_of_range", "use limits must be 0 (none) or more")
	case l.Budget < 0 || l.DailyBudget < 0:
		return commerce.Invalid("limits", "out_of_range", "budgets must be 0 (none) or more")
	case l.PerCustomerPeriod != "" && l.PerCustomerPeriod != "campaign" && l.PerCustomerPeriod != "day":
		return commerce.Invalid("limits.per_customer_period", "invalid_enum", "per-customer period is campaign or day")
	}
	return nil
}

// SaveReport says what saving found: the margin guard's worst cases under
// the floor.
type SaveReport struct {
	BelowFloor []pricing.WorstCaseResult `json:"below_floor,omitempty"`
}

// SavePromotion validates and stores a promotion (create when p.ID is
// empty). It refuses an overlapping activity of the same kind (409
// promotion_conflict) and a configuration whose worst case is under the
// margin floor (422 below_margin_floor) unless an admin acknowledges it,
// which is audited.
func (s *Service) SavePromotion(ctx context.Context, a commerce.Actor, p *Promotion, acknowledge bool) (*Promotion, *SaveReport, error) {
	create := p.ID == ""
	var before *Promotion
	if create {
		p.ID = s.com.ID("prm")
		p.CreatedAt = s.com.Now().UTC()
	} else {
		old, err := s.Promotion(ctx, a.ShopID, p.ID)
		if err != nil {
			return nil, nil, err
		}
		before, p.CreatedAt = old, old.CreatedAt
	}
	p.ShopID = a.ShopID
	p.UpdatedAt = s.com.Now().UTC()
	if p.Status == "" {
		p.Status = pricing.StatusActive
	}
	switch p.Kind {
	case pricing.Percent, pricing.Shipping, pricing.Flash, pricing.List:
		return nil, nil, commerce.Invalid("kind", "invalid_enum", "%q is not a promotion kind (coupons are coupon templates; flash sales have their own API)", p.Kind)
	}
	if err := checkActivityText(&p.Activity); err != nil {
		return nil, nil, err
	}
	if err := fieldErr("", pricing.Validate(p.Activity)); err != nil {
		return nil, nil, err
	}
	if err := validateLimits(p.Limits); err != nil {
		return nil, nil, err
	}
	if err := s.checkScope(ctx, a.ShopID, p.Scope, "scope"); err != nil {
		return nil, nil, err
	}
	if err := s.checkGifts(ctx, a.ShopID, p.Tiers); err != nil {
		return nil, nil, err
	}
	c, err := s.load(ctx, a.ShopID)
	if err != nil {
		return nil, nil, err
	}
	var others []pricing.Activity
	for _, o := range c.promotions {
		if o.ID != p.ID && o.Status != pricing.StatusEnded {
			others = append(others, o.Activity)
		}
	}
	catalog, err := s.catalog(ctx, a.ShopID, c)
	if err != nil {
		return nil, nil, err
	}
	if ids := pricing.ConflictsInCatalog(p.Activity, others, catalog); len(ids) > 0 && p.Status != pricing.StatusEnded {
		e := commerce.Conflict("promotion_conflict", "promotion overlaps %v of the same kind in scope and schedule, with neither exclusive nor a different priority", ids)
		e.Extra = map[string]any{"conflicts_with": ids}
		return nil, nil, e
	}
	shop, err := s.com.Shop(ctx, a.ShopID)
	if err != nil {
		return nil, nil, err
	}
	templates := make([]pricing.CouponTemplate, 0, len(c.templates))
	for _, t := range c.templates {
		if mayRedeem(t, s.com.Now()) {
			templates = append(templates, t.CouponTemplate)
		}
	}
	report := &SaveReport{}
	if p.Status != pricing.StatusEnded {
		below, err := pricing.BelowFloor(p.Activity, catalog, others, templates, settingsOf(shop), s.com.Now())
		if err != nil {
			return nil, nil, fmt.Errorf("margin guard: %w", err)
		}
		report.BelowFloor = below
	}
	auditAction := "create"
	if !create {
		auditAction = "update"
	}
	if len(report.BelowFloor) > 0 {
		if !acknowledge {
			e := commerce.Invalid("acknowledge_margin_risk", "below_margin_floor",
				"%d SKUs could sell under the margin floor in the worst case (first: %s at %d fen against a floor of %d); an admin may save it with acknowledge_margin_risk",
				len(report.BelowFloor), report.BelowFloor[0].SKUID, report.BelowFloor[0].UnitPayable, report.BelowFloor[0].FloorUnit)
			e.Extra = map[string]any{"below_floor": report.BelowFloor}
			return nil, report, e
		}
		if a.Role != commerce.RoleAdmin {
			return nil, report, &commerce.Error{Kind: commerce.KindForbidden, Code: "admin_required", Field: "acknowledge_margin_risk",
				Detail: "only an admin key may acknowledge a configuration under the margin floor"}
		}
		p.MarginAck = &MarginAck{By: a.String(), At: s.com.Now().UTC()}
		auditAction += "_acknowledging_margin_risk"
	}
	audit := s.audit(a, auditAction, "promotion", p.ID, before, p)
	err = s.store.SavePromotion(ctx, p, create, audit)
	s.drop(a.ShopID)
	if err != nil {
		return nil, nil, fmt.Errorf("save promotion %s: %w", p.ID, err)
	}
	return p, report, nil
}

func (s *Service) audit(a commerce.Actor, action, entity, id string, before, after any) *commerce.AuditEntry {
	return s.com.Audit(a, action, entity, id, before, after)
}

// SetStatus pauses, resumes or ends a promotion.
func (s *Service) SetStatus(ctx context.Context, a commerce.Actor, id string, status pricing.Status) (*Promotion, error) {
	p, err := s.Promotion(ctx, a.ShopID, id)
	if err != nil {
		return nil, err
	}
	if p.Status == pricing.StatusEnded {
		return nil, commerce.Conflict("illegal_transition", "promotion %s has ended", id)
	}
	before := *p
	p.Status = status
	p.UpdatedAt = s.com.Now().UTC()
	err = s.store.SavePromotion(ctx, p, false, s.audit(a, string(status), "promotion", id, before, p))
	s.drop(a.ShopID)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Promotion returns one promotion.
func (s *Service) Promotion(ctx context.Context, shopID, id string) (*Promotion, error) {
	p, err := s.store.GetPromotion(ctx, shopID, id)
	if errors.Is(err, commerce.ErrNotFound) {
		return nil, commerce.NotFound("promotion", id)
	}
	return p, err
}

// Promotions lists the shop's promotions that have not ended long ago.
func (s *Service) Promotions(ctx context.Context, shopID string) ([]Promotion, error) {
	return s.store.ListPromotions(ctx, shopID, time.Time{})
}

// catalog lists the shop's SKUs as the margin guard and conflict check see
// them.
func (s *Service) catalog(ctx context.Context, shopID string, c *shopCache) ([]pricing.SKUInfo, error) {
	var out []pricing.SKUInfo
	page := commerce.Page{Limit: 500}
	for {
		skus, err := s.com.ListSKUs(ctx, shopID, commerce.SKUFilter{}, page)
		if err != nil {
			return nil, err
		}
		for _, k := range skus {
			out = append(out, pricing.SKUInfo{SKUID: k.ID, ProductID: k.ProductID, CategoryIDs: ancestors(c.categories, k.CategoryID), ListPrice: k.Price, Cost: k.Cost})
		}
		if len(skus) < page.Limit {
			return out, nil
		}
		page.Cursor = skus[len(skus)-1].ID
	}
}

// ---- coupon templates and coupons ----

// SaveTemplate validates and stores a coupon template (create when ID is
// empty).
func (s *Service) SaveTemplate(ctx context.Context, a commerce.Actor, t *Template) (*Template, error) {
	create := t.ID == ""
	var before *Template
	if create {
		t.ID = s.com.ID("tpl")
		t.CreatedAt = s.com.Now().UTC()
	} else {
		old, err := s.Template(ctx, a.ShopID, t.ID)
		if err != nil {
			return nil, err
		}
		before, t.CreatedAt, t.Issued = old, old.CreatedAt, old.Issued
	}
	t.ShopID, t.UpdatedAt = a.ShopID, s.com.Now().UTC()
	if t.Status == "" {
		t.Status = "active"
	}
	if t.Status != "active" && t.Status != "paused" && t.Status != "ended" {
		return nil, commerce.Invalid("status", "invalid_enum", "status is active, paused or ended")
	}
	if err := checkTemplateText(&t.CouponTemplate); err != nil {
		return nil, err
	}
	if err := fieldErr("", pricing.ValidateTemplate(t.CouponTemplate)); err != nil {
		return nil, err
	}
	if err := validateLimits(t.Limits); err != nil {
		return nil, err
	}
	if err := s.checkScope(ctx, a.ShopID, t.Scope, "scope"); err != nil {
		return nil, err
	}
	switch {
	case t.TotalQuantity < 0:
		return nil, commerce.Invalid("total_quantity", "out_of_range", "total quantity must be 0 (unlimited) or more")
	case t.PerCustomerClaims < 0:
		return nil, commerce.Invalid("per_customer_claims", "out_of_range", "per-customer claims must be 0 (unlimited) or more")
	case t.ValidDays < 0 || t.ValidDays > 3650:
		return nil, commerce.Invalid("valid_days", "out_of_range", "valid days must be 0 to 3650")
	case t.ValidDays == 0 && t.ValidUntil.IsZero():
		return nil, commerce.Invalid("valid_until", "required", "give valid_until or valid_days")
	case !t.ValidUntil.IsZero() && !t.ValidFrom.IsZero() && !t.ValidFrom.Before(t.ValidUntil):
		return nil, commerce.Invalid("valid_until", "order", "valid_until must be after valid_from")
	case !create && t.TotalQuantity > 0 && t.TotalQuantity < t.Issued:
		return nil, commerce.Invalid("total_quantity", "out_of_range", "%d coupons are already issued", t.Issued)
	}
	if create && t.PerCustomerClaims == 0 {
		t.PerCustomerClaims = 1
	}
	action := "create"
	if !create {
		action = "update"
	}
	err := s.store.SaveTemplate(ctx, t, create, s.audit(a, action, "coupon_template", t.ID, before, t))
	s.drop(a.ShopID)
	if err != nil {
		return nil, fmt.Errorf("save coupon template %s: %w", t.ID, err)
	}
	return t, nil
}

// Template returns one coupon template.
func (s *Service) Template(ctx context.Context, shopID, id string) (*Template, error) {
	t, err := s.store.GetTemplate(ctx, shopID, id)
	if errors.Is(err, commerce.ErrNotFound) {
		return nil, commerce.NotFound("coupon_template", id)
	}
	return t, err
}

// Templates lists the shop's coupon templates.
func (s *Service) Templates(ctx context.Context, shopID string) ([]Template, error) {
	return s.store.ListTemplates(ctx, shopID)
}

// codeAlphabet has no look-alikes (no 0/O, 1/I/L).
const codeAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// newCode makes a 12-character coupon code from codeAlphabet, uniformly:
// random bytes at or above the largest multiple of the alphabet's size are
// thrown away instead of folded in.
func newCode() string {
	const limit = 256 - 256%len(codeAlphabet)
	var b [12]byte
	var r [32]byte
	n := 0
	for n < len(b) {
		_, _ = rand.Read(r[:])
		for _, x := range r {
			if int(x) < limit && n < len(b) {
				b[n] = codeAlphabet[int(x)%len(codeAlphabet)]
				n++
			}
		}
	}
	return string(b[:])
}

// ClaimCoupon gives customerID one coupon of templateID, within the
// template's total quantity and per-customer claim limit under any
// concurrency.
func (s *Service) ClaimCoupon(ctx context.Context, shopID, templateID, customerID string) (*Coupon, error) {
	return s.ClaimCouponAs(ctx, shopID, templateID, customerID, "")
}

// ClaimCouponAs is ClaimCoupon with the coupon's id chosen by the caller (a
// coupon grab names the coupon when it admits the attempt); "" makes one.
func (s *Service) ClaimCouponAs(ctx context.Context, shopID, templateID, customerID, couponID string) (*Coupon, error) {
	return s.claim(ctx, shopID, templateID, customerID, couponID, nil)
}

// IssueCoupon is ClaimCoupon made by an operator for a customer: the coupon
// is audited ("issue", entity coupon) with the operator as actor, in the
// claim's transaction.
func (s *Service) IssueCoupon(ctx context.Context, a commerce.Actor, templateID, customerID string) (*Coupon, error) {
	return s.claim(ctx, a.ShopID, templateID, customerID, "", &a)
}

func (s *Service) claim(ctx context.Context, shopID, templateID, customerID, couponID string, by *commerce.Actor) (*Coupon, error) {
	t, err := s.Template(ctx, shopID, templateID)
	if err != nil {
		return nil, err
	}
	cust, err := s.com.Customer(ctx, shopID, customerID)
	if err != nil {
		if ce, ok := commerce.AsError(err); ok && ce.Kind == commerce.KindNotFound {
			return nil, commerce.Invalid("customer_id", "unknown_customer", "customer %q does not exist", customerID)
		}
		return nil, err
	}
	if cust.ErasedAt != nil {
		return nil, commerce.Invalid("customer_id", "customer_erased", "customer %q was erased", customerID)
	}
	now := s.com.Now().UTC()
	if t.Status != TemplateActive {
		return nil, notIssuing(templateID, t.Status)
	}
	if !t.ValidUntil.IsZero() && !now.Before(t.ValidUntil) {
		return nil, commerce.Conflict("template_expired", "coupons of %s are no longer valid", templateID)
	}
	if couponID == "" {
		couponID = s.com.ID("cpn")
	}
	c := &Coupon{ID: couponID, ShopID: shopID, TemplateID: templateID, CustomerID: customerID, Status: string(pricing.CouponAvailable), ClaimedAt: now}
	if t.ValidDays > 0 {
		c.ValidFrom, c.ValidUntil = now, now.Add(time.Duration(t.ValidDays)*24*time.Hour)
	} else {
		c.ValidFrom, c.ValidUntil = t.ValidFrom, t.ValidUntil
		if c.ValidFrom.IsZero() {
			c.ValidFrom = now
		}
	}
	var audit *commerce.AuditEntry
	if by != nil {
		audit = s.audit(*by, "issue", "coupon", c.ID, nil, map[string]string{"template_id": templateID, "customer_id": customerID})
	}
	for attempt := 0; ; attempt++ {
		c.Code = newCode()
		err = s.store.ClaimCoupon(ctx, c, t.PerCustomerClaims, audit)
		if errors.Is(err, commerce.ErrDuplicate) && attempt < 3 {
			continue
		}
		break
	}
	switch {
	case errors.Is(err, ErrNotActive):
		// Paused or ended since it was read above.
		status := "not active"
		if now, rerr := s.Template(ctx, shopID, templateID); rerr == nil {
			status = now.Status
		}
		return nil, notIssuing(templateID, status)
	case errors.Is(err, ErrSoldOut):
		return nil, commerce.Conflict("coupons_sold_out", "coupon template %s has no coupons left", templateID)
	case errors.Is(err, ErrClaimLimit):
		return nil, commerce.Conflict("claim_limit_reached", "customer %s already claimed %d of %s", customerID, t.PerCustomerClaims, templateID)
	case err != nil:
		return nil, fmt.Errorf("claim coupon: %w", err)
	}
	return c, nil
}

// WalletView is a customer's coupons by state.
type WalletView struct {
	Valid   []Coupon `json:"valid"`
	Used    []Coupon `json:"used"`
	Expired []Coupon `json:"expired"`
}

// Wallet returns the customer's coupons grouped valid / used / expired
// (locked coupons, held by an unpaid order, count as used until released).
func (s *Service) Wallet(ctx context.Context, shopID, customerID string) (*WalletView, error) {
	if _, err := s.com.Customer(ctx, shopID, customerID); err != nil {
		return nil, err
	}
	cs, err := s.store.Wallet(ctx, shopID, customerID)
	if err != nil {
		return nil, err
	}
	now := s.com.Now()
	w := &WalletView{Valid: []Coupon{}, Used: []Coupon{}, Expired: []Coupon{}}
	for _, c := range cs {
		switch {
		case c.Status != string(pricing.CouponAvailable):
			w.Used = append(w.Used, c)
		case !c.ValidUntil.IsZero() && !now.Before(c.ValidUntil):
			w.Expired = append(w.Expired, c)
		default:
			w.Valid = append(w.Valid, c)
		}
	}
	return w, nil
}
