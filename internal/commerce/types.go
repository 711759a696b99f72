// Package commerce owns the commerce core of Carnival: shops (tenants), API
// keys, the catalog (categories, products, SKUs and their stock ledger),
// customers (tiers, points ledger, consent, erasure), orders with their
// holds and state machine, idempotency and the audit log. It declares the
// Store it needs; storage engines implement it. It does no I/O of its own.
package commerce

import (
	"encoding/json"
	"time"

	"github.com/carnivalhq/carnival/internal/i18n"
	"github.com/carnivalhq/carnival/internal/money"
)

// Roles an API key can have.
const (
	RoleAdmin    = "admin"
	RoleOperator = "operator"
	RoleAnalyst  = "analyst"
	// RoleStorefront is the storefront's secret key, for its servers:
	// orders, payments, coupons and wallets of any customer. It never goes
	// into a page.
	RoleStorefront = "storefront"
	// RolePublishable is the key a web page may publish: it sends events,
	// reads the tracker, assigns experiments and quotes a cart without a
	// customer, and nothing else. Its secret starts with ck_pk_.
	RolePublishable = "publishable"
)

// Roles lists every role, for validation and help text.
var Roles = []string{RoleAdmin, RoleOperator, RoleAnalyst, RoleStorefront, RolePublishable}

// KeyPrefix is how the secret of a key of role starts: ck_ and a short
// role tag (ck_pk_ for a publishable key, so that one is easy to tell from
// a secret key in page HTML or a log).
func KeyPrefix(role string) string {
	if role == RolePublishable {
		return "ck_pk_"
	}
	return "ck_" + role[:2] + "_"
}

// Shop is a tenant. Every row in every table belongs to one shop.
type Shop struct {
	ID        string       `json:"id"`
	Name      string       `json:"name"`
	Currency  string       `json:"currency"`
	TimeZone  string       `json:"time_zone"`
	Settings  ShopSettings `json:"settings"`
	CreatedAt time.Time    `json:"created_at"`
}

// ShopSettings are the shop's knobs. A new shop starts with
// DefaultSettings; Effective fills in fields an older row may lack.
type ShopSettings struct {
	// PaymentTimeoutSeconds: an unpaid order is cancelled after this long.
	PaymentTimeoutSeconds int64 `json:"payment_timeout_seconds"`
	// ShippingFee is the flat fee per order, fen.
	ShippingFee money.Money `json:"shipping_fee"`
	// PointsValueFen: what one point is worth, fen.
	PointsValueFen int64 `json:"points_value_fen"`
	// PointsMultiple: points are used in multiples of this.
	PointsMultiple int64 `json:"points_multiple"`
	// PointsMaxShare: points pay at most this share of the goods amount.
	PointsMaxShare money.Rate `json:"points_max_share_bp"`
	// MarginFloor: lowest payable unit amount as a share of cost.
	MarginFloor money.Rate `json:"margin_floor_bp"`
	// MarginMode: "warn" flags lines under the floor, "block" refuses the order.
	MarginMode string `json:"margin_mode"`
	// WebhookAllowlist names private destinations alert webhooks may reach
	// anyway (CIDR prefixes, IP addresses or host:port); public addresses
	// need no entry. Empty: loopback, private, link-local and unique-local
	// destinations are refused (internal/netguard).
	WebhookAllowlist []string `json:"webhook_allowlist,omitempty"`
	// MaxLineQuantity: the most units of one SKU an order may hold.
	MaxLineQuantity int64 `json:"max_line_quantity"`
	// MaxOrderQuantity: the most units an order may hold in all.
	MaxOrderQuantity int64 `json:"max_order_quantity"`
	// MaxUnpaidOrders: the most unpaid orders a customer may hold at once.
	MaxUnpaidOrders int64 `json:"max_unpaid_orders"`
	// MaxAnonymousUnpaidOrders: the most unpaid orders an anonymous caller
	// (no customer_id; known by X-Device-Id, else by client IP) may hold.
	MaxAnonymousUnpaidOrders int64 `json:"max_anonymous_unpaid_orders"`
	// Language is the language of the shop's alert messages, its reviews
	// and, unless a request asks otherwise, its error details: zh-CN or en.
	Language string `json:"language" enum:"zh-CN,en"`
}

// Default shop settings (PRICING.md, ARCHITECTURE.md).
const (
	DefaultPaymentTimeout = 15 * time.Minute
	DefaultShippingFee    = 1000
	DefaultTimeZone       = "Asia/Shanghai"
	DefaultCurrency       = "CNY"
	DefaultLanguage       = i18n.Default
	// Hoarding caps (OPERATIONS.md, "Order limits"): an unpaid order holds
	// its stock for the payment timeout, so without caps one order can hold
	// a whole SKU. 99 units a line is the most a consumer storefront offers
	// in a quantity picker; 200 units an order covers a large family or
	// office order; 5 unpaid orders lets a shopper retry a payment or split
	// an order without letting one caller hold stock many times over.
	DefaultMaxLineQuantity          = 99
	DefaultMaxOrderQuantity         = 200
	DefaultMaxUnpaidOrders          = 5
	DefaultMaxAnonymousUnpaidOrders = 5
	// MaxUnpaidOrdersCap bounds the unpaid-order settings.
	MaxUnpaidOrdersCap = 1000
)

// Effective returns s with every unset field at its default.
func (s ShopSettings) Effective() ShopSettings {
	if s.PaymentTimeoutSeconds <= 0 {
		s.PaymentTimeoutSeconds = int64(DefaultPaymentTimeout / time.Second)
	}
	if s.PointsValueFen <= 0 {
		s.PointsValueFen = 1
	}
	if s.PointsMultiple <= 0 {
		s.PointsMultiple = 100
	}
	if s.MarginMode == "" {
		s.MarginMode = "warn"
	}
	if s.MaxLineQuantity <= 0 {
		s.MaxLineQuantity = DefaultMaxLineQuantity
	}
	if s.MaxOrderQuantity <= 0 {
		s.MaxOrderQuantity = DefaultMaxOrderQuantity
	}
	if s.MaxUnpaidOrders <= 0 {
		s.MaxUnpaidOrders = DefaultMaxUnpaidOrders
	}
	if s.MaxAnonymousUnpaidOrders <= 0 {
		s.MaxAnonymousUnpaidOrders = DefaultMaxAnonymousUnpaidOrders
	}
	if s.Language == "" {
		s.Language = DefaultLanguage
	}
	return s
}

// DefaultSettings are a new shop's settings (PRICING.md).
func DefaultSettings() ShopSettings {
	return ShopSettings{
		PaymentTimeoutSeconds: int64(DefaultPaymentTimeout / time.Second),
		ShippingFee:           DefaultShippingFee,
		PointsValueFen:        1,
		PointsMultiple:        100,
		PointsMaxShare:        5000,
		MarginFloor:           money.Full,
		MarginMode:            "warn",

		MaxLineQuantity:          DefaultMaxLineQuantity,
		MaxOrderQuantity:         DefaultMaxOrderQuantity,
		MaxUnpaidOrders:          DefaultMaxUnpaidOrders,
		MaxAnonymousUnpaidOrders: DefaultMaxAnonymousUnpaidOrders,
		Language:                 DefaultLanguage,
	}
}

// PaymentTimeout is the effective payment timeout.
func (s ShopSettings) PaymentTimeout() time.Duration {
	return time.Duration(s.Effective().PaymentTimeoutSeconds) * time.Second
}

// APIKey authenticates a caller as one role of one shop. Only the SHA-256
// of the secret is stored.
type APIKey struct {
	ID        string     `json:"id"`
	ShopID    string     `json:"shop_id"`
	Role      string     `json:"role"`
	Name      string     `json:"name"`
	Hash      []byte     `json:"-"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// Category is a node of the shop's category tree.
type Category struct {
	ID       string `json:"id"`
	ShopID   string `json:"-"`
	ParentID string `json:"parent_id,omitempty"`
	Name     string `json:"name"`
}

// Product is what a customer sees (SPU); it has one or more SKUs.
type Product struct {
	ID         string    `json:"id"`
	ShopID     string    `json:"-"`
	Code       string    `json:"code"`
	Name       string    `json:"name"`
	CategoryID string    `json:"category_id,omitempty"`
	Status     string    `json:"status"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// SKU statuses.
const (
	SKUActive   = "active"
	SKUInactive = "inactive"
)

// SKU is a sellable variant. Stock is the units free to sell; Held the units
// held by unpaid orders; Sold the units paid for and not returned. Every
// change to them is in the stock ledger, and Stock+Held+Sold only changes by
// adjustments.
type SKU struct {
	ID          string      `json:"id"`
	ShopID      string      `json:"-"`
	ProductID   string      `json:"product_id"`
	Code        string      `json:"code"`
	Name        string      `json:"name"`
	CategoryID  string      `json:"category_id,omitempty"`
	Price       money.Money `json:"price"`
	Cost        money.Money `json:"cost"`
	Stock       int64       `json:"stock"`
	Held        int64       `json:"held"`
	Sold        int64       `json:"sold"`
	SafetyStock int64       `json:"safety_stock"`
	Status      string      `json:"status"`
	UpdatedAt   time.Time   `json:"updated_at"`
}

// Stock ledger reasons.
const (
	StockAdjust  = "adjust"  // an operator or import set or changed stock
	StockHold    = "hold"    // an order held units
	StockRelease = "release" // a cancelled or timed-out order released them
	StockSell    = "sell"    // a payment turned held units into sold ones
	StockReturn  = "return"  // a refund returned sold units to stock
	StockFlash   = "flash"   // units allocated to a flash sale, or returned from it
)

// StockMove is one stock ledger entry.
type StockMove struct {
	ID        string    `json:"id"`
	SKUID     string    `json:"sku_id"`
	Reason    string    `json:"reason"`
	Delta     int64     `json:"delta"`      // change to Stock
	HeldDelta int64     `json:"held_delta"` // change to Held
	SoldDelta int64     `json:"sold_delta"` // change to Sold
	OrderID   string    `json:"order_id,omitempty"`
	Note      string    `json:"note,omitempty"`
	At        time.Time `json:"at"`
}

// Customer is a shopper of one shop.
type Customer struct {
	ID               string     `json:"id"`
	ShopID           string     `json:"-"`
	ExternalID       string     `json:"external_id"`
	Name             string     `json:"name"`
	Phone            string     `json:"phone"`
	Email            string     `json:"email"`
	Tier             string     `json:"tier"`
	GrowthValue      int64      `json:"growth_value"`
	Points           int64      `json:"points"`
	PointsHeld       int64      `json:"points_held"`
	Tags             []string   `json:"tags"`
	MarketingConsent bool       `json:"marketing_consent"`
	TimeZone         string     `json:"time_zone"`
	FirstPaidAt      *time.Time `json:"first_paid_at,omitempty"`
	ErasedAt         *time.Time `json:"erased_at,omitempty"`
	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
}

// Masked returns a copy with personal fields masked, for list responses.
func (c Customer) Masked() Customer {
	c.Name = maskName(c.Name)
	c.Phone = maskPhone(c.Phone)
	c.Email = maskEmail(c.Email)
	return c
}

// PointsMove is one points ledger entry.
type PointsMove struct {
	ID         string `json:"id"`
	CustomerID string `json:"customer_id"`
	Delta      int64  `json:"delta"`
	Reason     string `json:"reason"`
	OrderID    string `json:"order_id,omitempty"`
	// Actor made the move: "key:<id>" for an API key, "customer:<id>" for
	// points a customer spent on an order, "system" for the server's jobs.
	Actor string    `json:"actor,omitempty"`
	At    time.Time `json:"at"`
}

// Order states.
const (
	OrderPendingPayment    = "pending_payment"
	OrderPaid              = "paid"
	OrderFulfilled         = "fulfilled"
	OrderCancelled         = "cancelled"
	OrderPartiallyRefunded = "partially_refunded"
	OrderRefunded          = "refunded"
)

// Order is a placed order with its priced lines. Amounts are fixed at
// placement, per line, so a refund of a line is exact.
type Order struct {
	ID               string      `json:"id"`
	ShopID           string      `json:"-"`
	CustomerID       string      `json:"customer_id,omitempty"`
	Status           string      `json:"status"`
	Lines            []OrderLine `json:"lines,omitempty" doc:"The lines; omitted in lists"`
	GoodsAmount      money.Money `json:"goods_amount"`
	ItemDiscount     money.Money `json:"item_discount"`
	OrderDiscount    money.Money `json:"order_discount"`
	CouponDiscount   money.Money `json:"coupon_discount"`
	PointsDiscount   money.Money `json:"points_discount"`
	DepositCredit    money.Money `json:"deposit_credit" doc:"A presale deposit's value credited to its balance order"`
	PointsUsed       int64       `json:"points_used"`
	Shipping         money.Money `json:"shipping"`
	ShippingDiscount money.Money `json:"shipping_discount"`
	Payable          money.Money `json:"payable"`
	RefundedAmount   money.Money `json:"refunded_amount"`
	Channel          string      `json:"channel,omitempty"`
	Campaign         string      `json:"campaign,omitempty" doc:"The UTM campaign the order was placed under"`
	CreatedAt        time.Time   `json:"created_at"`
	ExpiresAt        time.Time   `json:"expires_at"`
	PaidAt           *time.Time  `json:"paid_at,omitempty"`
	FulfilledAt      *time.Time  `json:"fulfilled_at,omitempty"`
	CancelledAt      *time.Time  `json:"cancelled_at,omitempty"`
	CancelReason     string      `json:"cancel_reason,omitempty"`
	// Pricing is the engine's explanation at placement (applied, not
	// applied, hints), kept verbatim for support and review.
	Pricing json.RawMessage `json:"pricing,omitempty"`
	// Holds are what the order holds or has committed.
	Holds []Hold `json:"holds,omitempty"`
	// Presale is set on a presale's deposit and balance orders.
	Presale *PresaleLink `json:"presale,omitempty"`
	// Requester is who placed an anonymous order ("device:<id>" or
	// "ip:<address>"); "" for customers' orders.
	Requester string `json:"-"`
	// MaxUnpaid, when positive, is the most unpaid orders the customer (or,
	// without one, the Requester) may hold, this one included: the store
	// counts them in the placing transaction, serialized per caller, and
	// refuses with ErrTooManyUnpaid.
	MaxUnpaid int64 `json:"-"`
	// PointsAsked is the points the request asked to use: the store checks,
	// in the placing transaction before any hold, that the customer has at
	// least that many free and refuses with PointsShortError otherwise (the
	// engine may use fewer — the shop's share and multiple — never fewer
	// because the balance is short).
	PointsAsked int64 `json:"-"`
}

// OrderLine is one priced line. Payable = ListAmount − every discount.
type OrderLine struct {
	No             int         `json:"no"`
	SKUID          string      `json:"sku_id"`
	Name           string      `json:"name"`
	Quantity       int64       `json:"quantity"`
	UnitListPrice  money.Money `json:"unit_list_price"`
	ListAmount     money.Money `json:"list_amount"`
	ItemDiscount   money.Money `json:"item_discount"`
	OrderDiscount  money.Money `json:"order_discount"`
	CouponDiscount money.Money `json:"coupon_discount"`
	PointsDiscount money.Money `json:"points_discount"`
	DepositCredit  money.Money `json:"deposit_credit"`
	Payable        money.Money `json:"payable"`
	Gift           bool        `json:"gift,omitempty"`
	RefundedQty    int64       `json:"refunded_quantity"`
	RefundedAmount money.Money `json:"refunded_amount"`
}

// Hold kinds and states.
const (
	HoldStock     = "stock"
	HoldPoints    = "points"
	HoldCoupon    = "coupon"
	HoldPromotion = "promotion" // a use and/or budget of a promotion or coupon template
	HoldFlash     = "flash"     // units reserved from a flash sale's allocated stock
)

const (
	HoldHeld      = "held"
	HoldCommitted = "committed"
	HoldReleased  = "released"
)

// Hold is something an unpaid order reserves: units of a SKU, points, a
// coupon, a use or budget of a promotion. Paying commits it; cancelling or
// the payment timeout releases it.
type Hold struct {
	Kind     string      `json:"kind"`
	Ref      string      `json:"ref"`
	Quantity int64       `json:"quantity"`
	Amount   money.Money `json:"amount"`
	// Day is the shop-local day (YYYY-MM-DD) a per-day limit counts on.
	Day   string `json:"day,omitempty"`
	State string `json:"state"`
	// Buckets are the usage counters a promotion hold raises, each with
	// the limit it must stay within.
	Buckets []Bucket `json:"buckets,omitempty"`
	// Key is the idempotency key a peak path admitted the units under; the
	// peak path records it with its reservation, the holds table does not.
	Key string `json:"-"`
}

// Bucket is one usage counter of a limited promotion or coupon template:
// "t" (all time), "c:<customer>", "c:<customer>:<day>" or "d:<day>".
// MaxUses and MaxAmount of 0 mean no limit on that measure.
type Bucket struct {
	Bucket    string `json:"bucket"`
	MaxUses   int64  `json:"max_uses,omitempty"`
	MaxAmount int64  `json:"max_amount,omitempty"`
}

// AuditEntry records a configuration change or a money or points movement:
// who, when, what, before/after.
type AuditEntry struct {
	ID       string          `json:"id"`
	ShopID   string          `json:"-"`
	Actor    string          `json:"actor"`
	Action   string          `json:"action"`
	Entity   string          `json:"entity"`
	EntityID string          `json:"entity_id"`
	Before   json.RawMessage `json:"before,omitempty"`
	After    json.RawMessage `json:"after,omitempty"`
	At       time.Time       `json:"at"`
}

// Page asks for one page of a list: items after Cursor (an id), at most Limit.
type Page struct {
	Cursor string
	Limit  int
}

// Normalized returns p with Limit clamped to 1..500 (default 50).
func (p Page) Normalized() Page {
	if p.Limit <= 0 {
		p.Limit = 50
	}
	if p.Limit > 500 {
		p.Limit = 500
	}
	return p
}
