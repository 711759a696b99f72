package commerce

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/carnivalhq/carnival/internal/money"
)

// CartLine is one line of a cart: a SKU and a quantity.
type CartLine struct {
	SKUID    string `json:"sku_id"`
	Quantity int64  `json:"quantity"`
}

// PlaceRequest asks to place an order.
type PlaceRequest struct {
	CustomerID  string     `json:"customer_id,omitempty"`
	Lines       []CartLine `json:"lines"`
	CouponCodes []string   `json:"coupon_codes,omitempty"`
	BestCoupons bool       `json:"best_coupons,omitempty"`
	Points      int64      `json:"points,omitempty"`
	Channel     string     `json:"channel,omitempty"`
	// Campaign is the UTM campaign (utm_campaign) the order was placed
	// under; with Channel (utm_source) it attributes the order.
	Campaign string `json:"campaign,omitempty"`
	// Reserved are units a peak path (flash sale, group buy, presale) has
	// already admitted: they are priced at the reserved price and held by
	// the given hold instead of the SKU's free stock. Never set from a
	// client's body.
	Reserved []Reserved `json:"-"`
	// PaymentTimeout overrides the shop's payment timeout when positive.
	PaymentTimeout time.Duration `json:"-"`
	// PayBy, when set, is the latest the order may be paid: the payment
	// timeout ends there if it would end later (a presale's windows).
	PayBy time.Time `json:"-"`
	// Pricer prices this request instead of the service's pricer (a
	// presale prices its deposit and balance orders). Never from a client.
	Pricer Pricer `json:"-"`
	// NoOrderActivities leaves order-level activities (满减, 满折 …) out
	// of pricing: a balance order whose presale does not combine with them.
	NoOrderActivities bool `json:"-"`
	// Requester is who places an anonymous order, for the shop's cap on an
	// anonymous caller's unpaid orders: "device:<X-Device-Id>", else
	// "ip:<shopper IP forwarded by a trusted proxy>"; "" leaves it uncapped.
	// Set by the API from the request, never from a body.
	Requester string `json:"-"`
}

// Reserved is a number of units of one SKU admitted by a peak path.
type Reserved struct {
	SKUID      string      `json:"sku_id"`
	Units      int64       `json:"units"`
	Price      money.Money `json:"price"`
	ActivityID string      `json:"activity_id"`
	// Hold replaces the stock hold for these units (e.g. a flash-sale
	// reservation taken from the sale's allocated stock).
	Hold Hold `json:"hold"`
}

// Hash is a stable digest of the request, to tell a replay from a different
// request that reuses an Idempotency-Key.
func (r *PlaceRequest) Hash() string {
	b, _ := json.Marshal(r)
	if len(r.Reserved) > 0 {
		rb, _ := json.Marshal(r.Reserved)
		b = append(b, rb...)
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// ValidateCart checks the parts of a cart every priced request shares.
func ValidateCart(customerID string, lines []CartLine, points int64) error {
	if customerID != "" {
		if err := checkText("customer_id", customerID, true, MaxCodeLen); err != nil {
			return err
		}
	}
	if len(lines) == 0 {
		return Invalid("lines", "required", "a cart needs at least one line")
	}
	if len(lines) > MaxOrderLines {
		return Invalid("lines", "too_many", "a cart has at most %d lines", MaxOrderLines)
	}
	seen := make(map[string]int, len(lines))
	for i, l := range lines {
		f := fmt.Sprintf("lines[%d]", i)
		if err := checkText(f+".sku_id", l.SKUID, true, MaxCodeLen); err != nil {
			return err
		}
		if j, dup := seen[l.SKUID]; dup {
			return Invalid(f+".sku_id", "duplicate_line", "SKU %q is already on line %d; send one line per SKU", l.SKUID, j)
		}
		seen[l.SKUID] = i
		if l.Quantity <= 0 || l.Quantity > MaxQuantity {
			return Invalid(f+".quantity", "out_of_range", "quantity must be 1 to %d", MaxQuantity)
		}
	}
	if points < 0 || points > MaxPointsDelta {
		return Invalid("points", "out_of_range", "points must be 0 to %d", MaxPointsDelta)
	}
	if points > 0 && customerID == "" {
		return Invalid("points", "needs_customer", "points need a customer_id")
	}
	return nil
}

// CartContext is what pricing a cart reads: the shop, the customer (nil when
// anonymous) and the SKUs of the lines.
type CartContext struct {
	Shop     *Shop
	Customer *Customer
	SKUs     map[string]*SKU
	Now      time.Time
	// CustomerStamp is the customer's change stamp a quote read (see
	// customerFor): per-customer caches keyed by it are current. 0 for
	// orders, which read everything fresh.
	CustomerStamp int64
}

// LoadCart reads what pricing a cart needs and rejects unknown or inactive
// SKUs and unknown or erased customers, naming the field. Orders use it:
// every SKU is read fresh.
func (s *Service) LoadCart(ctx context.Context, shopID, customerID string, lines []CartLine) (*CartContext, error) {
	return s.loadCart(ctx, shopID, customerID, lines, false)
}

// LoadCartForQuote is LoadCart for quotes: SKUs may come from a cache up to
// skuCacheTTL old (catalog changes through this service drop it at once);
// the customer comes from a cache only while its change stamp is unchanged
// (see customerFor). The order placed afterwards is priced from fresh rows.
func (s *Service) LoadCartForQuote(ctx context.Context, shopID, customerID string, lines []CartLine) (*CartContext, error) {
	return s.loadCart(ctx, shopID, customerID, lines, true)
}

// SKUs reads SKUs by id, through the quote cache when cached is set.
func (s *Service) SKUs(ctx context.Context, shopID string, ids []string, cached bool) (map[string]*SKU, error) {
	if cached {
		return s.skusCached(ctx, shopID, ids)
	}
	return s.store.SKUsByID(ctx, shopID, ids)
}

func (s *Service) skusCached(ctx context.Context, shopID string, ids []string) (map[string]*SKU, error) {
	out := make(map[string]*SKU, len(ids))
	var missing []string
	for _, id := range ids {
		if k, ok := s.skus.get(shopID + "/" + id); ok {
			out[id] = k
		} else {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	got, err := s.store.SKUsByID(ctx, shopID, missing)
	if err != nil {
		return nil, err
	}
	for id, k := range got {
		s.skus.put(shopID+"/"+id, k)
		out[id] = k
	}
	return out, nil
}

// stamped is a customer as a quote cached it, with the change stamp read
// before (or with) it.
type stamped struct {
	c     *Customer
	stamp int64
}

// customerFor reads a customer. For a quote (cached set) it may serve the
// copy cached by an earlier quote, but only after reading the customer's
// change stamp fresh and finding it unchanged: the customer's own orders,
// payments, cancellations, refunds, points moves and coupons raise the stamp
// in their transaction, so they show in the next quote on every node. The
// stamp is returned for the quote's other per-customer caches (the wallet);
// orders read the customer fresh and get no stamp.
func (s *Service) customerFor(ctx context.Context, shopID, id string, cached bool) (*Customer, int64, error) {
	if !cached {
		c, err := s.store.GetCustomer(ctx, shopID, id)
		return c, 0, err
	}
	key := shopID + "/" + id
	if e, ok := s.customers.get(key); ok {
		stamp, err := s.store.CustomerStamp(ctx, shopID, id)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, 0, err
		}
		if err == nil && stamp == e.stamp {
			return e.c, stamp, nil
		}
	}
	c, stamp, err := s.store.GetCustomerStamped(ctx, shopID, id)
	if err != nil {
		return nil, 0, err
	}
	s.customers.put(key, stamped{c: c, stamp: stamp})
	return c, stamp, nil
}

func (s *Service) loadCart(ctx context.Context, shopID, customerID string, lines []CartLine, cached bool) (*CartContext, error) {
	cc := &CartContext{Now: s.now().UTC()}
	var err error
	if cc.Shop, err = s.Shop(ctx, shopID); err != nil {
		return nil, err
	}
	if customerID != "" {
		c, stamp, err := s.customerFor(ctx, shopID, customerID, cached)
		if errors.Is(err, ErrNotFound) {
			return nil, Invalid("customer_id", "unknown_customer", "customer %q does not exist", customerID)
		}
		if err != nil {
			return nil, err
		}
		if c.ErasedAt != nil {
			return nil, Invalid("customer_id", "customer_erased", "customer %q was erased", customerID)
		}
		cc.Customer, cc.CustomerStamp = c, stamp
	}
	ids := make([]string, len(lines))
	for i, l := range lines {
		ids[i] = l.SKUID
	}
	if cc.SKUs, err = s.SKUs(ctx, shopID, ids, cached); err != nil {
		return nil, err
	}
	for i, l := range lines {
		k, ok := cc.SKUs[l.SKUID]
		if !ok {
			return nil, Invalid(fmt.Sprintf("lines[%d].sku_id", i), "unknown_sku", "SKU %q does not exist", l.SKUID)
		}
		if k.Status != SKUActive {
			return nil, Invalid(fmt.Sprintf("lines[%d].sku_id", i), "sku_inactive", "SKU %q is not on sale", l.SKUID)
		}
	}
	return cc, nil
}

// Priced is a priced cart ready to become an order: lines with every
// discount, totals, the holds it needs beyond stock and the explanation.
type Priced struct {
	Lines            []OrderLine
	GoodsAmount      money.Money
	ItemDiscount     money.Money
	OrderDiscount    money.Money
	CouponDiscount   money.Money
	PointsDiscount   money.Money
	DepositCredit    money.Money
	PointsUsed       int64
	Shipping         money.Money
	ShippingDiscount money.Money
	Payable          money.Money
	// Holds beyond stock and points (coupons, promotion uses, budgets).
	Holds       []Hold
	Explanation json.RawMessage
	// Blocked is set when the margin guard in block mode refuses the order.
	Blocked error
}

// Pricer prices a cart. The promotion engine provides one; without it
// orders are priced at list price plus the flat shipping fee.
type Pricer interface {
	Price(ctx context.Context, cc *CartContext, req *PlaceRequest) (*Priced, error)
}

// SetPricer attaches the pricer orders are placed with.
func (s *Service) SetPricer(p Pricer) { s.pricer = p }

// ListPricer prices every unit at its list price and adds the shop's flat
// shipping fee. It is the fallback when no promotion engine is attached
// (tests of the commerce core alone).
type ListPricer struct{}

// Price implements Pricer.
func (ListPricer) Price(_ context.Context, cc *CartContext, req *PlaceRequest) (*Priced, error) {
	if req.Points > 0 || len(req.CouponCodes) > 0 {
		return nil, Invalid("points", "not_supported", "points and coupons need the promotion engine")
	}
	p := &Priced{Lines: make([]OrderLine, len(req.Lines))}
	for i, l := range req.Lines {
		k := cc.SKUs[l.SKUID]
		amt, err := money.Mul(k.Price, l.Quantity)
		if err != nil || amt > money.MaxAmount {
			return nil, Invalid(fmt.Sprintf("lines[%d].quantity", i), "amount_overflow", "the line amount is too large")
		}
		payable := amt
		for _, r := range req.Reserved {
			if r.SKUID == l.SKUID && r.Price < k.Price {
				payable -= (k.Price - r.Price) * min(r.Units, l.Quantity)
			}
		}
		p.Lines[i] = OrderLine{No: i + 1, SKUID: k.ID, Name: k.Name, Quantity: l.Quantity, UnitListPrice: k.Price, ListAmount: amt,
			ItemDiscount: amt - payable, Payable: payable}
		p.ItemDiscount += amt - payable
		p.GoodsAmount += amt
		if p.GoodsAmount > money.MaxAmount {
			return nil, Invalid("lines", "amount_overflow", "the order amount is too large")
		}
	}
	p.Shipping = cc.Shop.Settings.Effective().ShippingFee
	p.Payable = p.GoodsAmount - p.ItemDiscount + p.Shipping
	return p, nil
}

// PlaceOrder prices the cart and, in one transaction, writes the order and
// takes its holds. With an idempotency key a replay returns the first
// answer (replayed=true) and writes nothing.
//
// It is the regular order path, held to the shop's order limits: at most
// max_line_quantity units a line and max_order_quantity an order (422
// quantity_over_cap), and at most max_unpaid_orders unpaid orders per
// customer, or max_anonymous_unpaid_orders per anonymous Requester (409
// too_many_unpaid_orders). The peak paths (flash sales, group buys,
// presales) place through PlaceOrderAs under their own per-customer limits.
func (s *Service) PlaceOrder(ctx context.Context, shopID string, req *PlaceRequest, idemKey string) (o *Order, replayed bool, err error) {
	return s.placeOrder(ctx, shopID, req, idemKey, "", true)
}

// PlaceOrderAs is PlaceOrder with the new order's id chosen by the caller
// (a peak path names the order when it admits the attempt); "" makes one.
// The shop's order limits do not apply: the peak path has its own.
func (s *Service) PlaceOrderAs(ctx context.Context, shopID string, req *PlaceRequest, idemKey, orderID string) (o *Order, replayed bool, err error) {
	return s.placeOrder(ctx, shopID, req, idemKey, orderID, false)
}

// checkOrderCaps refuses a cart over the shop's quantity caps, naming the
// line (or "lines" for the order's total) with the cap in extra.
func checkOrderCaps(st ShopSettings, lines []CartLine) error {
	var total int64
	for i, l := range lines {
		if l.Quantity > st.MaxLineQuantity {
			e := Invalid(fmt.Sprintf("lines[%d].quantity", i), "quantity_over_cap", "at most %d units of one SKU per order", st.MaxLineQuantity)
			e.Extra = map[string]any{"cap": st.MaxLineQuantity}
			return e
		}
		total += l.Quantity
	}
	if total > st.MaxOrderQuantity {
		e := Invalid("lines", "quantity_over_cap", "at most %d units per order; this one has %d", st.MaxOrderQuantity, total)
		e.Extra = map[string]any{"cap": st.MaxOrderQuantity}
		return e
	}
	return nil
}

func (s *Service) placeOrder(ctx context.Context, shopID string, req *PlaceRequest, idemKey, orderID string, regular bool) (o *Order, replayed bool, err error) {
	if err := ValidateCart(req.CustomerID, req.Lines, req.Points); err != nil {
		return nil, false, err
	}
	if err := checkText("channel", req.Channel, false, MaxCodeLen); err != nil {
		return nil, false, err
	}
	if err := checkText("campaign", req.Campaign, false, MaxCodeLen); err != nil {
		return nil, false, err
	}
	if err := checkText("Idempotency-Key", idemKey, false, 255); err != nil {
		return nil, false, err
	}
	// Only a device id can make the requester bad text: an IP cannot.
	if err := checkText("X-Device-Id", req.Requester, false, 2*MaxCodeLen+16); err != nil {
		return nil, false, err
	}
	cc, err := s.LoadCart(ctx, shopID, req.CustomerID, req.Lines)
	if err != nil {
		return nil, false, err
	}
	limits := cc.Shop.Settings.Effective()
	if regular {
		if err := checkOrderCaps(limits, req.Lines); err != nil {
			return nil, false, err
		}
	}
	pricer := s.EnginePricer()
	if req.Pricer != nil {
		pricer = req.Pricer
	}
	pr, err := pricer.Price(ctx, cc, req)
	if err != nil {
		return nil, false, err
	}
	if pr.Blocked != nil {
		return nil, false, pr.Blocked
	}
	now := cc.Now
	timeout := cc.Shop.Settings.PaymentTimeout()
	if req.PaymentTimeout > 0 {
		timeout = req.PaymentTimeout
	}
	if orderID == "" {
		orderID = s.newID("ord")
	}
	o = &Order{
		ID: orderID, ShopID: shopID, CustomerID: req.CustomerID, Status: OrderPendingPayment,
		Lines: pr.Lines, GoodsAmount: pr.GoodsAmount, ItemDiscount: pr.ItemDiscount, OrderDiscount: pr.OrderDiscount,
		CouponDiscount: pr.CouponDiscount, PointsDiscount: pr.PointsDiscount, DepositCredit: pr.DepositCredit, PointsUsed: pr.PointsUsed,
		Shipping: pr.Shipping, ShippingDiscount: pr.ShippingDiscount, Payable: pr.Payable,
		Channel: req.Channel, Campaign: req.Campaign, CreatedAt: now, ExpiresAt: now.Add(timeout),
		Pricing: pr.Explanation, PointsAsked: req.Points,
	}
	if regular {
		switch {
		case req.CustomerID != "":
			o.MaxUnpaid = limits.MaxUnpaidOrders
		case req.Requester != "":
			o.Requester, o.MaxUnpaid = req.Requester, limits.MaxAnonymousUnpaidOrders
		}
	}
	if !req.PayBy.IsZero() && o.ExpiresAt.After(req.PayBy) {
		o.ExpiresAt = req.PayBy.UTC()
	}
	// Stock holds, one per SKU (gift lines may share a SKU with a paid
	// line), less the units a peak path reserved and holds itself.
	units := map[string]int64{}
	var order []string
	for _, l := range o.Lines {
		if _, ok := units[l.SKUID]; !ok {
			order = append(order, l.SKUID)
		}
		units[l.SKUID] += l.Quantity
	}
	for _, r := range req.Reserved {
		units[r.SKUID] -= r.Units
	}
	for _, id := range order {
		if units[id] > 0 {
			o.Holds = append(o.Holds, Hold{Kind: HoldStock, Ref: id, Quantity: units[id], State: HoldHeld})
		}
	}
	for _, r := range req.Reserved {
		h := r.Hold
		h.State = HoldHeld
		o.Holds = append(o.Holds, h)
	}
	if pr.PointsUsed > 0 {
		o.Holds = append(o.Holds, Hold{Kind: HoldPoints, Ref: req.CustomerID, Quantity: pr.PointsUsed, State: HoldHeld})
	}
	o.Holds = append(o.Holds, pr.Holds...)

	var idem *Idem
	if idemKey != "" {
		body, err := json.Marshal(o)
		if err != nil {
			return nil, false, fmt.Errorf("place order: %w", err)
		}
		idem = &Idem{Key: idemKey, Scope: "orders.place", RequestHash: req.Hash(), Response: body}
	}
	replay, err := s.store.PlaceOrder(ctx, o, idem)
	var oos *OutOfStockError
	var short *PointsShortError
	switch {
	case errors.As(err, &short):
		e := Conflict("points_exceed_balance", "%d points asked but the customer has %d free (points held by unpaid orders are not free); ask for at most %d",
			req.Points, short.Available, short.Available)
		e.Field = "points"
		e.Extra = map[string]any{"available": short.Available, "requested": req.Points}
		return nil, false, e
	case errors.As(err, &oos):
		e := Conflict("out_of_stock", "SKU %s does not have %d units left", oos.SKUID, oos.Requested)
		e.Extra = map[string]any{"sku_id": oos.SKUID}
		for i, l := range req.Lines {
			if l.SKUID == oos.SKUID {
				e.Field = fmt.Sprintf("lines[%d].quantity", i)
			}
		}
		return nil, false, e
	case errors.Is(err, ErrTooManyUnpaid):
		e := Conflict("too_many_unpaid_orders", "%d unpaid orders are already waiting for payment; pay or cancel one first", o.MaxUnpaid)
		e.Extra = map[string]any{"limit": o.MaxUnpaid}
		if req.CustomerID != "" {
			e.Field = "customer_id"
		}
		return nil, false, e
	case errors.Is(err, ErrStale):
		return nil, false, Conflict("hold_failed", "a limit changed while the order was placed (points, coupon, promotion uses or budget); quote again")
	case err != nil:
		return nil, false, fmt.Errorf("place order: %w", err)
	}
	if replay != nil {
		return s.replayed(replay, idem)
	}
	s.emit(ctx, OrderEventPlaced, shopID, o, int64(o.Payable), o.CreatedAt, "")
	return o, false, nil
}

func (s *Service) replayed(stored, sent *Idem) (*Order, bool, error) {
	if stored.RequestHash != sent.RequestHash {
		return nil, false, &Error{Kind: KindConflict, Code: "idempotency_key_reused", Field: "Idempotency-Key",
			Detail: "this Idempotency-Key was used for a different request"}
	}
	var o Order
	if err := json.Unmarshal(stored.Response, &o); err != nil {
		return nil, false, fmt.Errorf("replay %s: %w", stored.Key, err)
	}
	return &o, true, nil
}

// Order returns an order with its lines and holds.
func (s *Service) Order(ctx context.Context, shopID, id string) (*Order, error) {
	o, err := s.store.GetOrder(ctx, shopID, id)
	if errors.Is(err, ErrNotFound) {
		return nil, NotFound("order", id)
	}
	return o, err
}

// ListOrders pages through orders.
func (s *Service) ListOrders(ctx context.Context, shopID string, f OrderFilter, p Page) ([]Order, error) {
	return s.store.ListOrders(ctx, shopID, f, p.Normalized())
}

// PayOrder records the payment of a pending order and commits its holds.
// Paying after the payment timeout fails with payment_timeout; a race
// between payment and timeout has exactly one winner.
func (s *Service) PayOrder(ctx context.Context, shopID, id string) (*Order, error) {
	return s.PayOrderBy(ctx, Actor{ShopID: shopID}, id)
}

// PayOrderBy is PayOrder recorded as a's doing: the payment is a money
// move, audited (action pay, the amount) in the transaction that records it.
func (s *Service) PayOrderBy(ctx context.Context, a Actor, id string) (*Order, error) {
	shopID := a.ShopID
	now := s.now().UTC()
	before, err := s.Order(ctx, shopID, id)
	if err != nil {
		return nil, err
	}
	err = s.store.PayOrder(ctx, shopID, id, now,
		s.Audit(a, "pay", "order", id, nil, map[string]any{"amount": int64(before.Payable), "customer_id": before.CustomerID}))
	if errors.Is(err, ErrStale) || errors.Is(err, ErrNotFound) {
		o, gerr := s.Order(ctx, shopID, id)
		if gerr != nil {
			return nil, gerr
		}
		if o.Status == OrderPendingPayment && !now.Before(o.ExpiresAt) {
			// Release now rather than waiting for the sweeper.
			if s.store.CancelOrder(ctx, shopID, id, "payment_timeout", now, true) == nil {
				s.notifyReleased(ctx, shopID, id)
				s.emitCancelled(ctx, shopID, id)
			}
			return nil, Conflict("payment_timeout", "order %s was not paid within the payment timeout and is cancelled", id)
		}
		return nil, illegal(o, "pay")
	}
	if err != nil {
		return nil, fmt.Errorf("pay order %s: %w", id, err)
	}
	o, err := s.Order(ctx, shopID, id)
	if err == nil {
		s.emit(ctx, OrderEventPaid, shopID, o, int64(o.Payable), now, "")
	}
	return o, err
}

func illegal(o *Order, action string) error {
	e := Conflict("illegal_transition", "cannot %s an order that is %s", action, o.Status)
	e.Extra = map[string]any{"status": o.Status}
	return e
}

// CancelOrder cancels a pending order and releases its holds.
func (s *Service) CancelOrder(ctx context.Context, shopID, id, reason string) (*Order, error) {
	if reason == "" {
		reason = "cancelled"
	}
	if err := checkFreeText("reason", reason, false, MaxNameLen); err != nil {
		return nil, err
	}
	err := s.store.CancelOrder(ctx, shopID, id, reason, s.now().UTC(), false)
	if errors.Is(err, ErrStale) || errors.Is(err, ErrNotFound) {
		o, gerr := s.Order(ctx, shopID, id)
		if gerr != nil {
			return nil, gerr
		}
		return nil, illegal(o, "cancel")
	}
	if err != nil {
		return nil, fmt.Errorf("cancel order %s: %w", id, err)
	}
	s.notifyReleased(ctx, shopID, id)
	o, err := s.Order(ctx, shopID, id)
	if err == nil && o.CancelledAt != nil {
		s.emit(ctx, OrderEventCancelled, shopID, o, int64(o.Payable), *o.CancelledAt, "")
	}
	return o, err
}

// FulfilOrder marks a paid order fulfilled (shipped).
func (s *Service) FulfilOrder(ctx context.Context, shopID, id string) (*Order, error) {
	if err := s.checkFulfil(ctx, shopID, id); err != nil {
		return nil, err
	}
	err := s.store.FulfilOrder(ctx, shopID, id, s.now().UTC())
	if errors.Is(err, ErrStale) || errors.Is(err, ErrNotFound) {
		o, gerr := s.Order(ctx, shopID, id)
		if gerr != nil {
			return nil, gerr
		}
		return nil, illegal(o, "fulfil")
	}
	if err != nil {
		return nil, fmt.Errorf("fulfil order %s: %w", id, err)
	}
	return s.Order(ctx, shopID, id)
}

// ExpireDue cancels every pending order whose payment timeout has passed
// and releases its holds. It returns how many it cancelled.
func (s *Service) ExpireDue(ctx context.Context, limit int) (int, error) {
	now := s.now().UTC()
	refs, err := s.store.DueOrders(ctx, now, limit)
	if err != nil {
		return 0, fmt.Errorf("expire orders: %w", err)
	}
	n := 0
	for _, r := range refs {
		err := s.store.CancelOrder(ctx, r.ShopID, r.ID, "payment_timeout", now, true)
		if errors.Is(err, ErrStale) {
			continue // paid or cancelled meanwhile: the other side won
		}
		if err != nil {
			return n, fmt.Errorf("expire order %s: %w", r.ID, err)
		}
		s.notifyReleased(ctx, r.ShopID, r.ID)
		s.emitCancelled(ctx, r.ShopID, r.ID)
		n++
	}
	return n, nil
}

// RefundRequest asks to refund quantities of lines.
type RefundRequest struct {
	Lines       []RefundRequestLine `json:"lines"`
	ReturnStock *bool               `json:"return_stock,omitempty"`
	Reason      string              `json:"reason,omitempty"`
	// Shipping also refunds the shipping the customer paid, once.
	Shipping bool `json:"shipping,omitempty"`
}

// RefundRequestLine is one line of a RefundRequest, by line number.
type RefundRequestLine struct {
	No       int   `json:"no"`
	Quantity int64 `json:"quantity"`
}

// RefundOrder refunds quantities of paid lines, and the shipping if asked
// (once: what the order refunded beyond its lines is shipping). Each line refunds its own
// payable amount: refunding k of n units returns payable×k/n rounded down,
// and the last unit refunds whatever is left, so a line refunded in pieces
// returns exactly its payable. Points that paid for the line come back the
// same way, and units return to stock unless return_stock is false. The
// refund, its points ledger entries and its audit entry record the actor.
func (s *Service) RefundOrder(ctx context.Context, a Actor, id string, req *RefundRequest) (*Order, error) {
	shopID := a.ShopID
	if len(req.Lines) == 0 && !req.Shipping {
		return nil, Invalid("lines", "required", "name at least one line to refund, or the shipping")
	}
	if err := checkFreeText("reason", req.Reason, false, MaxNameLen); err != nil {
		return nil, err
	}
	o, err := s.Order(ctx, shopID, id)
	if err != nil {
		return nil, err
	}
	switch {
	case o.Status == OrderPaid, o.Status == OrderFulfilled, o.Status == OrderPartiallyRefunded:
	case o.Status == OrderRefunded && len(req.Lines) == 0:
		// Every unit is back; the shipping may still be.
	default:
		return nil, illegal(o, "refund")
	}
	r := Refund{ID: s.newID("rfd"), ReturnStock: req.ReturnStock == nil || *req.ReturnStock, Reason: req.Reason, Actor: a.String()}
	seen := map[int]bool{}
	for i, rl := range req.Lines {
		f := fmt.Sprintf("lines[%d]", i)
		if rl.No < 1 || rl.No > len(o.Lines) {
			return nil, Invalid(f+".no", "unknown_line", "order %s has lines 1 to %d", id, len(o.Lines))
		}
		if seen[rl.No] {
			return nil, Invalid(f+".no", "duplicate_line", "line %d appears twice", rl.No)
		}
		seen[rl.No] = true
		l := o.Lines[rl.No-1]
		left := l.Quantity - l.RefundedQty
		if rl.Quantity <= 0 || rl.Quantity > left {
			return nil, Invalid(f+".quantity", "out_of_range", "line %d has %d units left to refund", rl.No, left)
		}
		after := l.RefundedQty + rl.Quantity
		amount := proportional(l.Payable, after, l.Quantity) - l.RefundedAmount
		var points int64
		if l.PointsDiscount > 0 && o.PointsDiscount > 0 {
			linePoints := money.MulDiv(o.PointsUsed, l.PointsDiscount, o.PointsDiscount)
			points = proportional(linePoints, after, l.Quantity) - proportional(linePoints, l.RefundedQty, l.Quantity)
		}
		r.Lines = append(r.Lines, RefundLine{No: rl.No, Quantity: rl.Quantity, Amount: amount, Points: points})
	}
	if req.Shipping {
		// What was refunded beyond the lines is shipping already given back.
		var lines money.Money
		for _, l := range o.Lines {
			lines += l.RefundedAmount
		}
		r.Shipping = o.Shipping - o.ShippingDiscount - (o.RefundedAmount - lines)
		if r.Shipping <= 0 {
			e := Conflict("shipping_not_refundable", "order %s has no shipping left to refund", id)
			e.Field = "shipping"
			return nil, e
		}
	}
	at := s.now().UTC()
	total := r.Shipping
	var points int64
	for _, l := range r.Lines {
		total += l.Amount
		points += l.Points
	}
	audit := s.Audit(a, "refund", "order", id, nil, refundAudit{RefundID: r.ID, Amount: total, Shipping: r.Shipping, Points: points,
		Lines: r.Lines, ReturnStock: r.ReturnStock, Reason: r.Reason})
	out, err := s.store.RefundOrder(ctx, shopID, id, r, at, audit)
	if errors.Is(err, ErrStale) {
		return nil, Conflict("order_changed", "order %s changed while refunding; read it and retry", id)
	}
	if err != nil {
		return nil, fmt.Errorf("refund order %s: %w", id, err)
	}
	if out != nil {
		s.emit(ctx, OrderEventRefunded, shopID, out, int64(out.RefundedAmount-o.RefundedAmount), at, r.ID)
	}
	return out, nil
}

// refundAudit is what the audit log keeps of a refund.
type refundAudit struct {
	RefundID    string       `json:"refund_id"`
	Amount      int64        `json:"amount"`
	Shipping    int64        `json:"shipping,omitempty"`
	Points      int64        `json:"points,omitempty"`
	Lines       []RefundLine `json:"lines,omitempty"`
	ReturnStock bool         `json:"return_stock"`
	Reason      string       `json:"reason,omitempty"`
}

// proportional returns floor(total × k / n), and total itself when k == n.
func proportional(total, k, n int64) int64 {
	if k >= n {
		return total
	}
	q, _ := money.MulDivFloor(total, k, n)
	return q
}

// OnReleased registers fn to be called after an order is cancelled or
// times out and its holds are released, so a peak path can return the
// units it admitted in memory. Register before serving.
func (s *Service) OnReleased(fn func(ctx context.Context, shopID, orderID string)) {
	s.released = append(s.released, fn)
}

func (s *Service) notifyReleased(ctx context.Context, shopID, id string) {
	for _, fn := range s.released {
		fn(ctx, shopID, id)
	}
}
