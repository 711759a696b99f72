// Package promotion owns the promotions and coupons a shop configures and
// connects them to the pure engine in internal/pricing: it stores
// activities, coupon templates and customers' coupons, checks a promotion
// when it is saved (validation, conflicts, the margin guard's worst case),
// loads what a quote needs, and turns the engine's result into order lines
// and the holds (uses, budgets, coupons) an order takes.
package promotion

import (
	"context"
	"errors"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/money"
	"github.com/carnivalhq/carnival/internal/pricing"
)

// Limits cap how much a promotion or coupon template may be used. Zero
// means no limit. Held uses (unpaid orders) count until released.
type Limits struct {
	// TotalUses: orders (or units, for item-level kinds) in all.
	TotalUses int64 `json:"total_uses,omitempty" minimum:"0" maximum:"1000000000"`
	// PerCustomerUses: per customer, over the whole promotion or per day.
	PerCustomerUses int64 `json:"per_customer_uses,omitempty" minimum:"0" maximum:"1000000000"`
	// PerCustomerPeriod is "campaign" (default) or "day" (shop time zone).
	PerCustomerPeriod string `json:"per_customer_period,omitempty" enum:"campaign,day,"`
	// Budget: discount money in all, fen.
	Budget money.Money `json:"budget,omitempty" minimum:"0" maximum:"1000000000000000"`
	// DailyBudget: discount money per shop-local day, fen.
	DailyBudget money.Money `json:"daily_budget,omitempty" minimum:"0" maximum:"1000000000000000"`
}

func (l Limits) any() bool {
	return l.TotalUses > 0 || l.PerCustomerUses > 0 || l.Budget > 0 || l.DailyBudget > 0
}

// MarginAck records an admin accepting a configuration under the margin
// floor.
type MarginAck struct {
	By string    `json:"by"`
	At time.Time `json:"at"`
}

// Promotion is a stored activity (any pricing.Kind except coupons) with its
// limits.
type Promotion struct {
	pricing.Activity
	ShopID    string     `json:"shop_id"`
	Limits    Limits     `json:"limits"`
	MarginAck *MarginAck `json:"margin_ack,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// Template is a coupon template: the discount (pricing.CouponTemplate), how
// many coupons may be issued and claimed, their validity and the limits on
// redeeming them.
type Template struct {
	pricing.CouponTemplate
	ShopID string `json:"shop_id"`
	Status string `json:"status"`
	// TotalQuantity of coupons that may be issued (0 = unlimited).
	TotalQuantity int64 `json:"total_quantity"`
	// PerCustomerClaims a customer may claim (0 = unlimited; default 1).
	PerCustomerClaims int64 `json:"per_customer_claims"`
	// Validity: an absolute window, or ValidDays after the claim.
	ValidFrom  time.Time `json:"valid_from,omitzero"`
	ValidUntil time.Time `json:"valid_until,omitzero"`
	ValidDays  int64     `json:"valid_days,omitempty"`
	Limits     Limits    `json:"limits"`
	Issued     int64     `json:"issued"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// Coupon is one coupon in a customer's wallet.
type Coupon struct {
	ID         string    `json:"id"`
	ShopID     string    `json:"-"`
	TemplateID string    `json:"template_id"`
	CustomerID string    `json:"customer_id"`
	Code       string    `json:"code"`
	Status     string    `json:"status"`
	ValidFrom  time.Time `json:"valid_from"`
	ValidUntil time.Time `json:"valid_until,omitzero"`
	ClaimedAt  time.Time `json:"claimed_at"`
	OrderID    string    `json:"order_id,omitempty"`
}

// Counter is one usage counter.
type Counter struct {
	Uses   int64
	Amount money.Money
}

// Errors the store reports for claims.
var (
	ErrSoldOut    = errors.New("no coupons left")
	ErrClaimLimit = errors.New("claim limit reached")
)

// Store is what promotions need from storage.
type Store interface {
	SavePromotion(ctx context.Context, p *Promotion, create bool, audit *commerce.AuditEntry) error
	GetPromotion(ctx context.Context, shopID, id string) (*Promotion, error)
	// ListPromotions returns promotions that end after endedAfter (or never).
	ListPromotions(ctx context.Context, shopID string, endedAfter time.Time) ([]Promotion, error)
	SaveTemplate(ctx context.Context, t *Template, create bool, audit *commerce.AuditEntry) error
	GetTemplate(ctx context.Context, shopID, id string) (*Template, error)
	ListTemplates(ctx context.Context, shopID string) ([]Template, error)
	// ClaimCoupon issues c if its template is active (ErrNotActive), has
	// coupons left and the customer is under perCustomer claims (ErrSoldOut,
	// ErrClaimLimit otherwise),
	// writing audit (nil for a customer's own claim) in the same transaction.
	ClaimCoupon(ctx context.Context, c *Coupon, perCustomer int64, audit *commerce.AuditEntry) error
	// SetTemplateStatus stores t (its new status) if its stored status is
	// still from, writing audit in the same transaction: ErrStale when the
	// status changed meanwhile, ErrNotFound without such a template.
	SetTemplateStatus(ctx context.Context, t *Template, from string, audit *commerce.AuditEntry) error
	Wallet(ctx context.Context, shopID, customerID string) ([]Coupon, error)
	// Usage returns counters by ref and bucket for the customer and day.
	Usage(ctx context.Context, shopID string, refs []string, customerID, day string) (map[string]map[string]Counter, error)
}
