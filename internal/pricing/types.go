package pricing

import (
	"time"

	"github.com/carnivalhq/carnival/internal/money"
)

// Input is everything a quote needs; the caller loads it from storage.
// Quote does not modify it.
type Input struct {
	// Now is the instant the quote is for; schedules and coupon windows are
	// compared with it.
	Now time.Time `json:"now"`
	// Location is the shop's time zone. nil means Asia/Shanghai (UTC+8
	// without DST, so the engine needs no tz database). The engine itself
	// only compares instants; the zone is kept for callers resolving
	// per-day limits into Usage.
	Location *time.Location `json:"-"`
	// Settings are the shop's pricing settings; zero fields take defaults.
	Settings Settings `json:"settings"`
	// Customer is who is buying; ID "" is an anonymous shopper.
	Customer Customer `json:"customer"`
	// Lines are the cart lines in cart order. Lines of the same SKU are
	// merged into one result line (see Quote).
	Lines []Line `json:"lines"`
	// Activities are every candidate promotion of the shop, item-level and
	// order-level. The engine filters them by status, schedule, audience
	// and scope and reports why each one that did not apply did not.
	Activities []Activity `json:"activities"`
	// Wallet is the customer's coupons with their templates inlined.
	Wallet []Coupon `json:"wallet,omitempty"`
	// CouponCodes are the coupons the request names, by Code or by coupon
	// ID. Each is validated; names not in Wallet are invalid_code.
	CouponCodes []string `json:"coupon_codes,omitempty"`
	// BestCoupons asks the engine to choose the best allowed combination
	// from the whole Wallet (exact search). Named coupons are then only
	// validated; the search may or may not pick them.
	BestCoupons bool `json:"best_coupons,omitempty"`
	// Points is how many points the customer asks to use.
	Points int64 `json:"points,omitempty"`
	// PointsBalance is the customer's balance; it caps Points.
	PointsBalance int64 `json:"points_balance,omitempty"`
	// GiftStock is the available stock of gift SKUs by SKU id; a missing
	// key means no stock.
	GiftStock map[string]int64 `json:"gift_stock,omitempty"`
	// Usage holds the remaining limits per activity id or coupon template
	// id; a missing entry means unlimited.
	Usage map[string]Usage `json:"usage,omitempty"`
}

// Settings are the shop settings the engine uses. A zero field means the
// default stated on it.
type Settings struct {
	// PointsValueFen is the value of one point in fen (default 1).
	PointsValueFen int64 `json:"points_value_fen,omitempty"`
	// PointsMultiple: points are used in multiples of this (default 100).
	PointsMultiple int64 `json:"points_multiple,omitempty"`
	// PointsMaxShare caps the points discount at this share of the goods
	// amount left after stage 3 (default 5000 bp = 50 %).
	PointsMaxShare money.Rate `json:"points_max_share,omitempty"`
	// ShippingFee is the flat fee per order. nil means the default ¥10
	// (1000 fen); point at 0 for a shop that never charges shipping.
	ShippingFee *money.Money `json:"shipping_fee,omitempty"`
	// MarginFloor is the lowest payable unit amount allowed, as a share of
	// the unit cost (default 10000 bp = never below cost).
	MarginFloor money.Rate `json:"margin_floor,omitempty"`
	// MarginMode is "warn" (default: flag lines), "block" (flag lines and
	// set Result.Blocked) or "off" (no margin check).
	MarginMode string `json:"margin_mode,omitempty"`
}

// Margin modes.
const (
	MarginWarn  = "warn"
	MarginBlock = "block"
	MarginOff   = "off"
)

// Customer is the buyer as far as audiences are concerned.
type Customer struct {
	// ID is the customer id; "" means anonymous.
	ID string `json:"id,omitempty"`
	// Tier is the membership tier ("" = none).
	Tier string `json:"tier,omitempty"`
	// IsNew is true when the customer has no paid order yet. Anonymous
	// shoppers never qualify for new-customer-only activities.
	IsNew bool `json:"is_new,omitempty"`
	// Segments are the audience segments the customer belongs to.
	Segments []string `json:"segments,omitempty"`
}

// Line is one cart line.
type Line struct {
	SKUID     string `json:"sku_id"`
	ProductID string `json:"product_id,omitempty"`
	// CategoryIDs are the SKU's category and all its ancestors.
	CategoryIDs []string `json:"category_ids,omitempty"`
	// ListPrice is the unit list price in fen.
	ListPrice money.Money `json:"list_price"`
	// Cost is the unit cost, for the margin guard (0 = unknown, never flagged).
	Cost money.Money `json:"cost,omitempty"`
	// Quantity is the number of units, 1..MaxQuantity.
	Quantity int64 `json:"quantity"`
	// FlashUnits are the units reserved through the flash-sale path
	// (≤ Quantity); only they may take FlashPrice.
	FlashUnits int64 `json:"flash_units,omitempty"`
	// FlashPrice is the unit price of the flash units.
	FlashPrice money.Money `json:"flash_price,omitempty"`
	// FlashActivityID is the flash sale the units were reserved through.
	FlashActivityID string `json:"flash_activity_id,omitempty"`
}

// MaxQuantity bounds a line's quantity.
const MaxQuantity = 1_000_000

// Kind names a promotion kind.
type Kind string

// Promotion kinds. Stage 1 (item-level) kinds first.
const (
	LimitedTime      Kind = "limited_time"      // 限时折扣
	MemberPrice      Kind = "member_price"      // 会员价
	QuantityLadder   Kind = "quantity_ladder"   // 阶梯价
	ThresholdOff     Kind = "threshold_off"     // 满减 (also the coupon kind 满X减Y / cash)
	ThresholdPercent Kind = "threshold_percent" // 满折
	NthItem          Kind = "nth_item"          // 第N件M折
	BuyXGetY         Kind = "buy_x_get_y"       // 买X送Y
	Gift             Kind = "gift"              // 满赠
	FreeShipping     Kind = "free_shipping"     // 包邮
	// Coupon-only kinds.
	Percent  Kind = "percent"  // 折扣券
	Shipping Kind = "shipping" // 运费券
	// Flash is the source kind of flash-sale price segments.
	Flash Kind = "flash" // 秒杀
	// List is the source kind of list-price segments.
	List Kind = "list"
)

// ItemLevel reports whether k is a stage-1 (unit price) kind.
func (k Kind) ItemLevel() bool {
	return k == LimitedTime || k == MemberPrice || k == QuantityLadder
}

// OrderLevel reports whether k is a stage-2 (order-level activity) kind.
func (k Kind) OrderLevel() bool {
	switch k {
	case ThresholdOff, ThresholdPercent, NthItem, BuyXGetY, Gift, FreeShipping:
		return true
	}
	return false
}

// Status is an activity's lifecycle status.
type Status string

// Activity statuses. Only active activities apply.
const (
	StatusActive Status = "active"
	StatusPaused Status = "paused"
	StatusEnded  Status = "ended"
	StatusDraft  Status = "draft"
)

// Scope selects the lines a promotion or coupon covers: a line is in scope
// when All is set or it matches one of SKUIDs, ProductIDs or CategoryIDs,
// and it matches none of the exclusions.
type Scope struct {
	All         bool     `json:"all,omitempty"`
	SKUIDs      []string `json:"sku_ids,omitempty"`
	ProductIDs  []string `json:"product_ids,omitempty"`
	CategoryIDs []string `json:"category_ids,omitempty"`
	// ExcludeSKUIDs and ExcludeCategoryIDs win over the inclusions.
	ExcludeSKUIDs      []string `json:"exclude_sku_ids,omitempty"`
	ExcludeCategoryIDs []string `json:"exclude_category_ids,omitempty"`
}

// Audience restricts who may use a promotion. Empty lists mean everyone;
// all non-empty conditions must hold.
type Audience struct {
	// Tiers: the customer's tier must be one of these.
	Tiers []string `json:"tiers,omitempty"`
	// Segments: the customer must belong to at least one of these.
	Segments []string `json:"segments,omitempty"`
	// NewCustomersOnly: only logged-in customers with no paid order.
	NewCustomersOnly bool `json:"new_customers_only,omitempty"`
}

// Activity is a promotion of any kind. Which parameter fields matter
// depends on Kind; Validate says which are required.
type Activity struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	Kind Kind   `json:"kind"`
	// Status: only StatusActive applies.
	Status Status `json:"status"`
	// StartsAt and EndsAt bound the half-open window [StartsAt, EndsAt).
	// A zero StartsAt means "since always", a zero EndsAt "until further notice".
	StartsAt time.Time `json:"starts_at,omitzero"`
	EndsAt   time.Time `json:"ends_at,omitzero"`
	// Priority orders order-level activities (higher first) and breaks
	// stage-1 price ties (higher wins).
	Priority int `json:"priority,omitempty"`
	// Exclusive order-level activities never combine with other
	// order-level activities; the engine prices every way and keeps the
	// best (see Quote). Ignored for item-level kinds.
	Exclusive bool     `json:"exclusive,omitempty"`
	Scope     Scope    `json:"scope"`
	Audience  Audience `json:"audience,omitzero"`
	// PerCustomerQtyLimit (stage 1 only) caps the units per customer that
	// get this promotion's price; 0 = no cap. Units beyond it are priced
	// as if the promotion did not exist. Usage[ID].CustomerUses, when
	// set, is the remaining units for this customer and caps it further.
	PerCustomerQtyLimit int64 `json:"per_customer_qty_limit,omitempty"`

	// Rate: limited_time discount rate (when Price is 0); nth_item rate of
	// every Nth unit; buy_x_get_y rate of the Y units (0 = free).
	Rate money.Rate `json:"rate,omitempty"`
	// Price: limited_time fixed special unit price (wins over Rate when > 0).
	Price money.Money `json:"price,omitempty"`
	// TierRates: member_price rate per membership tier.
	TierRates []TierRate `json:"tier_rates,omitempty"`
	// Ladder: quantity_ladder unit prices by quantity of the SKU in the cart.
	Ladder []LadderStep `json:"ladder,omitempty"`
	// Tiers: threshold_off, threshold_percent and gift tiers, ascending.
	// threshold_off with Repeat uses exactly one tier (every Threshold, Off).
	Tiers []Tier `json:"tiers,omitempty"`
	// Repeat turns threshold_off into 每满 Tiers[0].Threshold 减 Tiers[0].Off.
	Repeat bool `json:"repeat,omitempty"`
	// MaxOff caps the total discount of a repeat threshold_off (0 = no cap).
	MaxOff money.Money `json:"max_off,omitempty"`
	// ByItems makes threshold_percent tiers count items (Tier.MinItems)
	// instead of amount.
	ByItems bool `json:"by_items,omitempty"`
	// N: nth_item discounts every Nth unit of a SKU (第二件半价: N=2, Rate 5000).
	N int64 `json:"n,omitempty"`
	// X, Y: buy_x_get_y; in each group of X+Y eligible units the Y
	// cheapest are free (or at Rate).
	X int64 `json:"x,omitempty"`
	Y int64 `json:"y,omitempty"`
	// Threshold: free_shipping minimum goods amount of the scoped lines
	// after stage 3 (0 = always).
	Threshold money.Money `json:"threshold,omitempty"`
}

// TierRate is a member-price rate for one tier.
type TierRate struct {
	Tier string     `json:"tier"`
	Rate money.Rate `json:"rate"`
}

// LadderStep prices a SKU at UnitPrice when the cart holds at least MinQty
// units of it.
type LadderStep struct {
	MinQty    int64       `json:"min_qty"`
	UnitPrice money.Money `json:"unit_price"`
}

// Tier is one step of a tiered order-level activity.
type Tier struct {
	// Threshold is the minimum eligible amount (threshold_off,
	// threshold_percent by amount, gift).
	Threshold money.Money `json:"threshold,omitempty"`
	// MinItems is the minimum eligible item count (threshold_percent ByItems).
	MinItems int64 `json:"min_items,omitempty"`
	// Off is the threshold_off discount.
	Off money.Money `json:"off,omitempty"`
	// Rate is the threshold_percent rate the customer pays.
	Rate money.Rate `json:"rate,omitempty"`
	// Gifts are the gift SKUs this tier adds.
	Gifts []GiftItem `json:"gifts,omitempty"`
}

// GiftItem is a gift SKU and how many units a tier gives.
type GiftItem struct {
	SKUID    string `json:"sku_id"`
	Quantity int64  `json:"quantity"`
}

// CouponStatus is the state of one coupon in a wallet.
type CouponStatus string

// Coupon statuses. Only available coupons can be used.
const (
	CouponAvailable CouponStatus = "available"
	CouponLocked    CouponStatus = "locked" // held by an unpaid order
	CouponUsed      CouponStatus = "used"
	CouponVoid      CouponStatus = "void"
)

// Coupon is one coupon in a customer's wallet.
type Coupon struct {
	ID         string `json:"id"`
	Code       string `json:"code,omitempty"`
	TemplateID string `json:"template_id"`
	// ValidFrom and ValidUntil are the absolute half-open validity window
	// (the caller resolves "N days from claim"); zero means unbounded.
	ValidFrom  time.Time      `json:"valid_from,omitzero"`
	ValidUntil time.Time      `json:"valid_until,omitzero"`
	Status     CouponStatus   `json:"status"`
	Template   CouponTemplate `json:"template"`
	// Paused: the coupon's template is paused, so the coupon does not
	// apply (ReasonPaused) until it is resumed.
	Paused bool `json:"paused,omitempty"`
}

// CouponTemplate is what a coupon grants.
type CouponTemplate struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	// Kind is ThresholdOff (Threshold 0 = cash coupon), Percent or Shipping.
	Kind Kind `json:"kind"`
	// Threshold is the minimum amount of the scoped lines (any kind).
	Threshold money.Money `json:"threshold,omitempty"`
	// Off is the threshold_off discount.
	Off money.Money `json:"off,omitempty"`
	// Rate is the percent coupon's rate the customer pays.
	Rate money.Rate `json:"rate,omitempty"`
	// MaxDiscount caps a percent coupon's discount and a shipping coupon's
	// value (0 = no cap; a shipping coupon then waives the whole fee).
	MaxDiscount money.Money `json:"max_discount,omitempty"`
	Scope       Scope       `json:"scope"`
	// StackGroup: at most one coupon per group unless all of them are
	// Stackable. "" means "goods" for goods kinds and "shipping" for Shipping.
	StackGroup string `json:"stack_group,omitempty"`
	Stackable  bool   `json:"stackable,omitempty"`
}

// Usage is what is left of a promotion's or coupon template's limits, as
// resolved by the caller (per campaign or per day). A nil field means
// unlimited. For item-level activities uses count units; for order-level
// activities and coupons they count orders (one per quote, or one per
// coupon of the template).
type Usage struct {
	Uses         *int64       `json:"uses,omitempty"`
	CustomerUses *int64       `json:"customer_uses,omitempty"`
	Budget       *money.Money `json:"budget,omitempty"`
	DailyBudget  *money.Money `json:"daily_budget,omitempty"`
}

// Result is a priced cart.
type Result struct {
	// Lines are the merged cart lines in cart order, then gift lines.
	Lines  []LineResult `json:"lines"`
	Totals Totals       `json:"totals"`
	// Applied lists what applied, in pipeline order: stage-1 activities,
	// order-level activities in application order, coupons, shipping.
	Applied []Applied `json:"applied"`
	// NotApplied lists every candidate that did not apply (or applied only
	// partly, e.g. a gift out of stock), activities in input order first,
	// then coupons in wallet order, then unknown codes.
	NotApplied []NotApplied `json:"not_applied"`
	// Hints are 凑单提示: how much more reaches the next tier.
	Hints []Hint `json:"hints"`
	// Caps reports discounts that were cut: at the eligible amount, at a
	// coupon's maximum, points at balance, share or multiple.
	Caps []Cap `json:"caps"`
	// Margin flags lines whose payable unit amount is under the floor.
	Margin []MarginFlag `json:"margin"`
	// Blocked is true when MarginMode is block and Margin is not empty:
	// the caller must refuse the order.
	Blocked bool `json:"blocked"`
}

// LineResult is one priced line. Amount fields are for the whole line.
type LineResult struct {
	SKUID     string `json:"sku_id"`
	ProductID string `json:"product_id,omitempty"`
	// InputLines are the indexes of the cart lines merged into this one
	// (empty for gift lines).
	InputLines    []int       `json:"input_lines,omitempty"`
	Quantity      int64       `json:"quantity"`
	UnitListPrice money.Money `json:"unit_list_price"`
	ListAmount    money.Money `json:"list_amount"`
	// Segments are the stage-1 unit prices; several when a per-customer
	// limit or flash units split the line.
	Segments       []Segment   `json:"segments"`
	ItemDiscount   money.Money `json:"item_discount"`
	OrderDiscount  money.Money `json:"order_discount"`
	CouponDiscount money.Money `json:"coupon_discount"`
	PointsDiscount money.Money `json:"points_discount"`
	// Payable = ListAmount − all four discounts; a refund of the line
	// refunds this.
	Payable money.Money `json:"payable"`
	// Parts is the per-promotion breakdown of the order, coupon and points
	// discounts, in application order, so partial refunds are exact.
	Parts []Part `json:"parts,omitempty"`
	// Gift marks a zero-price gift line added by GiftActivityID.
	Gift           bool   `json:"gift,omitempty"`
	GiftActivityID string `json:"gift_activity_id,omitempty"`
}

// Segment is a run of units of a line at one stage-1 unit price.
type Segment struct {
	UnitPrice money.Money `json:"unit_price"`
	Quantity  int64       `json:"quantity"`
	// Source is List, Flash or the winning activity's kind.
	Source Kind `json:"source"`
	// ActivityID is the winning activity (or flash sale); "" for list price.
	ActivityID string `json:"activity_id,omitempty"`
}

// Stage names where a part of a discount comes from.
type Stage string

// Stages with apportioned discounts.
const (
	StageOrder  Stage = "order"
	StageCoupon Stage = "coupon"
	StagePoints Stage = "points"
)

// Part is one promotion's share of one line's discount.
type Part struct {
	Stage Stage `json:"stage"`
	// ID is the activity id, the coupon id, or "" for points.
	ID     string      `json:"id,omitempty"`
	Amount money.Money `json:"amount"`
}

// Totals sums the quote.
type Totals struct {
	GoodsAmount      money.Money `json:"goods_amount"`
	ItemDiscount     money.Money `json:"item_discount"`
	OrderDiscount    money.Money `json:"order_discount"`
	CouponDiscount   money.Money `json:"coupon_discount"`
	PointsDiscount   money.Money `json:"points_discount"`
	PointsUsed       int64       `json:"points_used"`
	Shipping         money.Money `json:"shipping"`
	ShippingDiscount money.Money `json:"shipping_discount"`
	// Payable = GoodsAmount − the four goods discounts + Shipping − ShippingDiscount.
	Payable money.Money `json:"payable"`
}

// Source says whether an Applied or NotApplied entry is an activity or a coupon.
type Source string

// Sources.
const (
	SourceActivity Source = "activity"
	SourceCoupon   Source = "coupon"
)

// Applied is a promotion or coupon that applied, with what the caller must
// hold when placing the order.
type Applied struct {
	Source Source `json:"source"`
	// ID is the activity id or the coupon id.
	ID string `json:"id"`
	// TemplateID is the coupon's template (usage and budget are per template).
	TemplateID string `json:"template_id,omitempty"`
	Kind       Kind   `json:"kind"`
	// Amount is the discount given (the shipping waived for shipping kinds).
	Amount money.Money `json:"amount"`
	// Lines are the result line indexes that share the discount.
	Lines []int `json:"lines,omitempty"`
	// Uses to hold: units for item-level activities, 1 otherwise.
	Uses int64 `json:"uses"`
	// Budget to hold: equal to Amount.
	Budget money.Money `json:"budget"`
	// Gifts given (gift activities); hold their stock.
	Gifts []GiftItem `json:"gifts,omitempty"`
}

// Reason is a stable code saying why a candidate did not apply.
type Reason string

// Reason codes (PRICING.md "What a quote returns" plus the ones the engine
// needs to be precise).
const (
	ReasonNotStarted      Reason = "not_started"
	ReasonEnded           Reason = "ended"
	ReasonPaused          Reason = "paused"
	ReasonDraft           Reason = "draft"
	ReasonThresholdNotMet Reason = "threshold_not_met"
	ReasonAudience        Reason = "audience"
	ReasonUsageLimit      Reason = "usage_limit"
	ReasonBudgetExhausted Reason = "budget_exhausted"
	ReasonStacking        Reason = "stacking"
	ReasonOutOfStock      Reason = "out_of_stock"
	ReasonScope           Reason = "scope"
	ReasonInvalidCode     Reason = "invalid_code"
	// ReasonExpired: a coupon past its validity window.
	ReasonExpired Reason = "expired"
	// ReasonUsed: a coupon already used or held by another order.
	ReasonUsed Reason = "used"
	// ReasonUnavailable: a void coupon or one with an unknown status.
	ReasonUnavailable Reason = "unavailable"
	// ReasonNotCombinable: a valid coupon left out because the best
	// combination is better without it (no coupon of its group won).
	ReasonNotCombinable Reason = "not_combinable"
	// ReasonNoDiscount: eligible, but nothing to take off (lines already
	// at zero, or a price no lower than the one that won).
	ReasonNoDiscount Reason = "no_discount"
	// ReasonInvalid: the promotion's own configuration is unusable
	// (it would fail Validate); it is skipped, never a panic.
	ReasonInvalid Reason = "invalid"
)

// NotApplied is a candidate that did not apply and why.
type NotApplied struct {
	Source Source `json:"source"`
	ID     string `json:"id"`
	Kind   Kind   `json:"kind,omitempty"`
	Reason Reason `json:"reason"`
	// Shortfall is how much more eligible amount would meet the lowest
	// tier (threshold_not_met).
	Shortfall money.Money `json:"shortfall,omitempty"`
	// ShortfallItems is how many more units would meet it (item-count tiers).
	ShortfallItems int64 `json:"shortfall_items,omitempty"`
	// Winner is what won instead (stacking).
	Winner string `json:"winner,omitempty"`
	// SKUID is the gift SKU out of stock (out_of_stock).
	SKUID string `json:"sku_id,omitempty"`
}

// Hint is a 凑单提示: add AddAmount (or AddItems) of eligible goods to reach
// the next tier of ActivityID and save SaveMore more (or get Gifts, or free
// shipping). Estimates on the current cart: adding goods may change other
// promotions too.
type Hint struct {
	ActivityID   string      `json:"activity_id"`
	Kind         Kind        `json:"kind"`
	AddAmount    money.Money `json:"add_amount,omitempty"`
	AddItems     int64       `json:"add_items,omitempty"`
	SaveMore     money.Money `json:"save_more,omitempty"`
	Gifts        []GiftItem  `json:"gifts,omitempty"`
	FreeShipping bool        `json:"free_shipping,omitempty"`
}

// Cap reports a discount cut short.
type Cap struct {
	Source Source `json:"source,omitempty"`
	// ID is the activity or coupon id; "" for points.
	ID string `json:"id,omitempty"`
	// What: "eligible_amount", "max_discount", "max_off", "points_balance",
	// "points_share" or "points_multiple".
	What string `json:"what"`
	// Requested is what the rule asked for (points for points caps).
	Requested int64 `json:"requested"`
	// Allowed is what was given.
	Allowed int64 `json:"allowed"`
}

// MarginFlag is a line whose payable unit amount is under the floor.
type MarginFlag struct {
	Line  int    `json:"line"`
	SKUID string `json:"sku_id"`
	// UnitPayable is the line's payable divided by its quantity, rounded down.
	UnitPayable money.Money `json:"unit_payable"`
	// FloorUnit is cost × MarginFloor, half up.
	FloorUnit money.Money `json:"floor_unit"`
	Cost      money.Money `json:"cost"`
}
