package peak

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/money"
)

// Presales runs presales: their configuration, deposit and balance orders
// through commerce, and the forfeit of deposits whose balance window
// closed unpaid.
type Presales struct {
	store PresaleStore
	com   *commerce.Service
	log   *slog.Logger
}

// NewPresales returns the presale service.
func NewPresales(store PresaleStore, com *commerce.Service, opt Options) *Presales {
	p := &Presales{store: store, com: com, log: opt.Logger}
	if p.log == nil {
		p.log = slog.Default()
	}
	return p
}

// CreatePresale validates the input against the catalog and saves the
// presale, with the generated terms unless the input has its own.
func (ps *Presales) CreatePresale(ctx context.Context, a commerce.Actor, in PresaleInput) (*Presale, error) {
	now := ps.com.Now().UTC()
	if err := in.Validate(now); err != nil {
		return nil, err
	}
	ids := make([]string, len(in.Items))
	for i, it := range in.Items {
		ids[i] = it.SKUID
	}
	skus, err := ps.com.SKUs(ctx, a.ShopID, ids, false)
	if err != nil {
		return nil, err
	}
	p := &Presale{ID: ps.com.ID("psl"), ShopID: a.ShopID, Name: in.Name, Status: PresaleScheduled,
		DepositStartsAt: in.DepositStartsAt.UTC(), DepositEndsAt: in.DepositEndsAt.UTC(), BalanceStartsAt: in.BalanceStartsAt.UTC(), BalanceEndsAt: in.BalanceEndsAt.UTC(),
		QuantityCap: in.QuantityCap, PerCustomerLimit: in.PerCustomerLimit, AllowOrderActivities: in.AllowOrderActivities, AllowCoupons: in.AllowCoupons,
		Terms: in.Terms, CreatedAt: now, UpdatedAt: now}
	for i, it := range in.Items {
		f := fmt.Sprintf("items[%d]", i)
		k, ok := skus[it.SKUID]
		if !ok {
			return nil, commerce.Invalid(f+".sku_id", "unknown_sku", "SKU %q does not exist", it.SKUID)
		}
		if k.Status != commerce.SKUActive {
			return nil, commerce.Invalid(f+".sku_id", "sku_inactive", "SKU %q is not on sale", it.SKUID)
		}
		// A value at or above the list price would leave the balance order
		// nothing to pay for at list price.
		if it.Value >= k.Price {
			return nil, commerce.Invalid(f+".value", "not_below_list", "value must be below the list price %d", k.Price)
		}
		p.Items = append(p.Items, PresaleItem{SKUID: it.SKUID, Deposit: it.Deposit, Value: it.Value})
	}
	if p.Terms == "" {
		shop, err := ps.com.Shop(ctx, a.ShopID)
		if err != nil {
			return nil, err
		}
		loc, err := time.LoadLocation(shop.TimeZone)
		if err != nil {
			loc = time.UTC
		}
		p.Terms = DefaultTerms(p, loc)
	}
	if err := ps.store.CreatePresale(ctx, p, ps.com.Audit(a, "create", "presale", p.ID, nil, p)); err != nil {
		return nil, fmt.Errorf("create presale: %w", err)
	}
	p.Phase = p.PhaseAt(now)
	return p, nil
}

// Presale reads a presale with its counters.
func (ps *Presales) Presale(ctx context.Context, shopID, id string) (*Presale, error) {
	p, err := ps.store.GetPresale(ctx, shopID, id)
	if errors.Is(err, commerce.ErrNotFound) {
		return nil, commerce.NotFound("presale", id)
	}
	if err != nil {
		return nil, err
	}
	p.Phase = p.PhaseAt(ps.com.Now())
	return p, nil
}

// Presales lists a shop's presales, oldest first.
func (ps *Presales) Presales(ctx context.Context, shopID string, pg commerce.Page) ([]Presale, error) {
	out, err := ps.store.ListPresales(ctx, shopID, pg.Normalized())
	now := ps.com.Now()
	for i := range out {
		out[i].Phase = out[i].PhaseAt(now)
	}
	return out, err
}

// EndPresale stops taking deposits now. Paid deposits keep their balance
// window: the terms promised it.
func (ps *Presales) EndPresale(ctx context.Context, a commerce.Actor, id string) (*Presale, error) {
	if _, err := ps.Presale(ctx, a.ShopID, id); err != nil {
		return nil, err
	}
	err := ps.store.EndPresale(ctx, a.ShopID, id, ps.com.Now().UTC(), ps.com.Audit(a, "end", "presale", id, nil, nil))
	if errors.Is(err, commerce.ErrStale) {
		return nil, commerce.Conflict("illegal_transition", "presale %s has already ended", id)
	}
	if err != nil {
		return nil, fmt.Errorf("end presale %s: %w", id, err)
	}
	return ps.Presale(ctx, a.ShopID, id)
}

// DepositRequest asks to put a deposit on units of a presale SKU.
type DepositRequest struct {
	SKUID      string `json:"sku_id"`
	Quantity   int64  `json:"quantity,omitempty" doc:"Default 1"`
	CustomerID string `json:"customer_id"`
	Channel    string `json:"channel,omitempty"`
	Campaign   string `json:"campaign,omitempty"`
}

// PlaceDeposit places a deposit order: payable D × quantity, holding the
// units from the SKU's stock until the balance is paid or the deposit is
// forfeited. The window, the cap and the customer's limit are checked in
// the order's transaction. With an idempotency key a replay returns the
// first order (replayed=true) and takes nothing.
func (ps *Presales) PlaceDeposit(ctx context.Context, shopID, presaleID string, req DepositRequest, key string) (*commerce.Order, bool, error) {
	if req.Quantity == 0 {
		req.Quantity = 1
	}
	if err := commerce.CheckText("customer_id", req.CustomerID, true, commerce.MaxCodeLen); err != nil {
		return nil, false, err
	}
	if err := commerce.CheckText("sku_id", req.SKUID, true, commerce.MaxCodeLen); err != nil {
		return nil, false, err
	}
	p, err := ps.Presale(ctx, shopID, presaleID)
	if err != nil {
		return nil, false, err
	}
	it, ok := p.Item(req.SKUID)
	if !ok {
		return nil, false, commerce.Invalid("sku_id", "not_in_presale", "SKU %q is not in presale %s", req.SKUID, presaleID)
	}
	if req.Quantity < 1 || req.Quantity > p.PerCustomerLimit {
		return nil, false, commerce.Invalid("quantity", "out_of_range", "quantity must be 1 to %d", p.PerCustomerLimit)
	}
	place := &commerce.PlaceRequest{CustomerID: req.CustomerID, Lines: []commerce.CartLine{{SKUID: req.SKUID, Quantity: req.Quantity}}, Channel: req.Channel, Campaign: req.Campaign,
		PayBy: p.BalanceStartsAt, Pricer: depositPricer{presale: p, item: *it},
		Reserved: []commerce.Reserved{{SKUID: req.SKUID, Units: req.Quantity, Price: it.Deposit, ActivityID: p.ID,
			Hold: commerce.Hold{Kind: commerce.HoldPresale, Ref: PresaleRef(p.ID, req.SKUID), Quantity: req.Quantity, Key: key}}}}
	o, replayed, err := ps.com.PlaceOrderAs(ctx, shopID, place, key, "")
	if err != nil {
		return nil, false, depositError(err, p)
	}
	return ps.withLink(ctx, shopID, o), replayed, nil
}

func depositError(err error, p *Presale) error {
	switch {
	case errors.Is(err, ErrPresaleNotOpen):
		e := commerce.Conflict("deposit_window_not_open", "presale %s takes deposits from %s", p.ID, p.DepositStartsAt.Format(time.RFC3339))
		e.Extra = map[string]any{"deposit_starts_at": p.DepositStartsAt}
		return e
	case errors.Is(err, ErrPresaleClosed):
		return commerce.Conflict("deposit_window_closed", "presale %s no longer takes deposits", p.ID)
	case errors.Is(err, ErrSoldOut):
		e := commerce.Conflict("sold_out", "presale %s has no units left under its cap of %d", p.ID, p.QuantityCap)
		e.Field = "quantity"
		return e
	case errors.Is(err, ErrOverLimit):
		e := commerce.Conflict("over_limit", "a customer may put a deposit on %d units of this presale", p.PerCustomerLimit)
		e.Field = "quantity"
		return e
	}
	if ce, ok := commerce.AsError(err); ok && ce.Code == "out_of_stock" {
		c := *ce
		c.Field = "quantity"
		return &c
	}
	return err
}

// withLink fills in the order's presale state as it is now (a replay
// returns the first order's amounts, and where its presale stands now).
func (ps *Presales) withLink(ctx context.Context, shopID string, o *commerce.Order) *commerce.Order {
	cur, err := ps.com.Order(ctx, shopID, o.ID)
	if err != nil {
		ps.log.Error("read presale order", "order", o.ID, "err", err)
		return o
	}
	o.Presale = cur.Presale
	return o
}

// depositPricer prices a deposit order: one line of the presale SKU at
// the deposit per unit, no promotions, no shipping.
type depositPricer struct {
	presale *Presale
	item    PresaleItem
}

func (d depositPricer) Price(_ context.Context, cc *commerce.CartContext, req *commerce.PlaceRequest) (*commerce.Priced, error) {
	if len(req.Lines) != 1 {
		return nil, commerce.Invalid("lines", "one_line", "a deposit order has one line")
	}
	l := req.Lines[0]
	amt, err := money.Mul(d.item.Deposit, l.Quantity)
	if err != nil || amt > money.MaxAmount {
		return nil, commerce.Invalid("quantity", "amount_overflow", "the deposit amount is too large")
	}
	name := l.SKUID
	if k, ok := cc.SKUs[l.SKUID]; ok {
		name = k.Name
	}
	exp, _ := json.Marshal(map[string]any{"presale": map[string]any{"presale_id": d.presale.ID, "deposit": d.item.Deposit, "value": d.item.Value,
		"quantity": l.Quantity, "balance_starts_at": d.presale.BalanceStartsAt, "balance_ends_at": d.presale.BalanceEndsAt}})
	return &commerce.Priced{
		Lines:       []commerce.OrderLine{{No: 1, SKUID: l.SKUID, Name: name + " · 定金 deposit", Quantity: l.Quantity, UnitListPrice: d.item.Deposit, ListAmount: amt, Payable: amt}},
		GoodsAmount: amt, Payable: amt, Explanation: exp,
	}, nil
}

// BalanceRequest asks to place the balance order of a deposit. Lines are
// other SKUs bought in the same order (the deposit's units are added).
type BalanceRequest struct {
	CustomerID  string              `json:"customer_id"`
	Lines       []commerce.CartLine `json:"lines,omitempty"`
	CouponCodes []string            `json:"coupon_codes,omitempty"`
	BestCoupons bool                `json:"best_coupons,omitempty"`
	Channel     string              `json:"channel,omitempty"`
	Campaign    string              `json:"campaign,omitempty"`
}

// PlaceBalance places the balance order of a paid deposit, in the balance
// window: the engine prices it (order-level activities and coupons only if
// the presale allows them), then the deposit's value V × quantity is
// credited over its lines by largest remainder, never below zero (a cap is
// reported in the order's pricing). The order must be paid by the end of
// the balance window. With an idempotency key a replay returns the first
// order and places nothing.
func (ps *Presales) PlaceBalance(ctx context.Context, shopID, depositOrderID string, req BalanceRequest, key string) (*commerce.Order, bool, error) {
	if err := commerce.CheckText("customer_id", req.CustomerID, true, commerce.MaxCodeLen); err != nil {
		return nil, false, err
	}
	if len(req.Lines) >= commerce.MaxOrderLines {
		return nil, false, commerce.Invalid("lines", "too_many", "a balance order has at most %d other lines", commerce.MaxOrderLines-1)
	}
	dep, err := ps.com.Order(ctx, shopID, depositOrderID)
	if ce, ok := commerce.AsError(err); ok && ce.Kind == commerce.KindNotFound {
		return nil, false, commerce.NotFound("deposit", depositOrderID)
	}
	if err != nil {
		return nil, false, err
	}
	link := dep.Presale
	if link == nil || link.Role != "deposit" {
		return nil, false, commerce.NotFound("deposit", depositOrderID)
	}
	if dep.CustomerID != req.CustomerID {
		return nil, false, commerce.Invalid("customer_id", "not_deposit_customer", "deposit %s belongs to another customer", depositOrderID)
	}
	p, err := ps.Presale(ctx, shopID, link.PresaleID)
	if err != nil {
		return nil, false, err
	}
	if !p.AllowCoupons && (len(req.CouponCodes) > 0 || req.BestCoupons) {
		field := "coupon_codes"
		if len(req.CouponCodes) == 0 {
			field = "best_coupons"
		}
		return nil, false, commerce.Invalid(field, "coupons_not_allowed", "presale %s does not combine with coupons", p.ID)
	}
	for i, l := range req.Lines {
		if l.SKUID == link.SKUID {
			return nil, false, commerce.Invalid(fmt.Sprintf("lines[%d].sku_id", i), "presale_sku", "the deposit's units of %s are added by the balance order; list only other SKUs", l.SKUID)
		}
	}
	credit, err := money.Mul(link.Value, link.Quantity)
	if err != nil {
		return nil, false, commerce.Invalid("quantity", "amount_overflow", "the deposit value is too large")
	}
	lines := append(append([]commerce.CartLine{}, req.Lines...), commerce.CartLine{SKUID: link.SKUID, Quantity: link.Quantity})
	place := &commerce.PlaceRequest{CustomerID: req.CustomerID, Lines: lines, CouponCodes: req.CouponCodes, BestCoupons: req.BestCoupons, Channel: req.Channel, Campaign: req.Campaign,
		PayBy: link.BalanceEndsAt, NoOrderActivities: !p.AllowOrderActivities,
		Pricer: balancePricer{inner: ps.com.EnginePricer(), credit: credit, depositOrderID: depositOrderID},
		Reserved: []commerce.Reserved{{SKUID: link.SKUID, Units: link.Quantity, ActivityID: p.ID,
			Hold: commerce.Hold{Kind: commerce.HoldPresaleBalance, Ref: depositOrderID, Quantity: link.Quantity, Key: key}}}}
	o, replayed, err := ps.com.PlaceOrderAs(ctx, shopID, place, key, "")
	if err != nil {
		return nil, false, balanceError(err, link)
	}
	return ps.withLink(ctx, shopID, o), replayed, nil
}

func balanceError(err error, l *commerce.PresaleLink) error {
	switch {
	case errors.Is(err, ErrBalanceNotOpen):
		e := commerce.Conflict("balance_window_not_open", "the balance of deposit %s can be paid from %s", l.DepositOrderID, l.BalanceStartsAt.Format(time.RFC3339))
		e.Extra = map[string]any{"balance_starts_at": l.BalanceStartsAt}
		return e
	case errors.Is(err, ErrBalanceClosed):
		e := commerce.Conflict("balance_window_closed", "the balance window of deposit %s closed at %s; the deposit is forfeited per the terms", l.DepositOrderID, l.BalanceEndsAt.Format(time.RFC3339))
		e.Extra = map[string]any{"balance_ends_at": l.BalanceEndsAt}
		return e
	case errors.Is(err, ErrDepositNotReady):
		e := commerce.Conflict("deposit_not_awaiting_balance", "deposit %s is not awaiting its balance (it is %s)", l.DepositOrderID, l.State)
		e.Extra = map[string]any{"state": l.State, "balance_order_id": l.BalanceOrderID}
		return e
	}
	return err
}

// balancePricer prices a balance order with the engine and credits the
// deposit's value.
type balancePricer struct {
	inner          commerce.Pricer
	credit         money.Money
	depositOrderID string
}

func (b balancePricer) Price(ctx context.Context, cc *commerce.CartContext, req *commerce.PlaceRequest) (*commerce.Priced, error) {
	// The deposit's units are priced like any units: they are reserved
	// only so that they are not held twice.
	r := *req
	r.Reserved, r.Pricer = nil, nil
	p, err := b.inner.Price(ctx, cc, &r)
	if err != nil {
		return nil, err
	}
	applied, capped := commerce.ApplyDepositCredit(p, b.credit)
	exp := map[string]json.RawMessage{}
	if len(p.Explanation) > 0 {
		if err := json.Unmarshal(p.Explanation, &exp); err != nil {
			return nil, fmt.Errorf("balance explanation: %w", err)
		}
	}
	exp["deposit_credit"], _ = json.Marshal(map[string]any{"deposit_order_id": b.depositOrderID, "credit": b.credit, "applied": applied, "capped": capped})
	p.Explanation, _ = json.Marshal(exp)
	return p, nil
}

// CancelDeposit is the customer cancelling a deposit. An unpaid deposit is
// cancelled like any order. A paid deposit with no balance order placed is
// forfeited, as the terms say: the deposit is kept and the units freed.
func (ps *Presales) CancelDeposit(ctx context.Context, shopID, orderID string) (*commerce.Order, error) {
	o, err := ps.com.Order(ctx, shopID, orderID)
	if err != nil {
		return nil, err
	}
	if o.Presale == nil || o.Presale.Role != "deposit" {
		return nil, commerce.NotFound("deposit", orderID)
	}
	switch o.Presale.State {
	case commerce.DepositPending:
		return ps.com.CancelOrder(ctx, shopID, orderID, "cancelled")
	case commerce.DepositPaid:
		err := ps.store.ForfeitDeposit(ctx, shopID, orderID, ForfeitCancelledByCustomer, ps.com.Now().UTC(), false)
		if errors.Is(err, commerce.ErrStale) {
			return nil, commerce.Conflict("order_changed", "deposit %s changed while cancelling; read it and retry", orderID)
		}
		if err != nil {
			return nil, fmt.Errorf("forfeit deposit %s: %w", orderID, err)
		}
		return ps.com.Order(ctx, shopID, orderID)
	case commerce.DepositBalancePlaced:
		e := commerce.Conflict("balance_placed", "deposit %s has balance order %s; cancel that order first", orderID, o.Presale.BalanceOrderID)
		e.Extra = map[string]any{"balance_order_id": o.Presale.BalanceOrderID}
		return nil, e
	}
	e := commerce.Conflict("illegal_transition", "cannot cancel a deposit that is %s", o.Presale.State)
	e.Extra = map[string]any{"state": o.Presale.State}
	return nil, e
}

// ForfeitDue forfeits every paid deposit whose balance window has closed
// with no balance order placed; the sweeper calls it after expiring unpaid
// orders (so a balance order that timed out at the window's end has given
// its deposit back first). It returns how many it forfeited.
func (ps *Presales) ForfeitDue(ctx context.Context, limit int) (int, error) {
	now := ps.com.Now().UTC()
	refs, err := ps.store.DueDeposits(ctx, now, limit)
	if err != nil {
		return 0, fmt.Errorf("forfeit deposits: %w", err)
	}
	n := 0
	for _, r := range refs {
		err := ps.store.ForfeitDeposit(ctx, r.ShopID, r.ID, ForfeitBalanceNotPaid, now, true)
		if errors.Is(err, commerce.ErrStale) {
			continue // a balance order was placed meanwhile
		}
		if err != nil {
			return n, fmt.Errorf("forfeit deposit %s: %w", r.ID, err)
		}
		n++
	}
	return n, nil
}
