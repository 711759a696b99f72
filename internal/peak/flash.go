package peak

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/peak/guard"
)

// Options configure the peak services.
type Options struct {
	Logger *slog.Logger
}

// Flash runs flash sales: sessions with items, admission through an
// Engine, orders through commerce.
type Flash struct {
	store Store
	com   *commerce.Service
	eng   Engine
	log   *slog.Logger

	mu    sync.RWMutex
	sales map[string]*Sale // id → sale as last read, for the buy path
}

// NewFlash returns the flash-sale service. It registers with com to learn
// about released orders, so call it before serving.
func NewFlash(store Store, com *commerce.Service, eng Engine, opt Options) *Flash {
	f := &Flash{store: store, com: com, eng: eng, log: opt.Logger, sales: map[string]*Sale{}}
	if f.log == nil {
		f.log = slog.Default()
	}
	com.OnReleased(f.released)
	return f
}

// Policy is a live sale's own anti-abuse policy (nil: the shop's), from
// memory.
func (f *Flash) Policy(saleID string) *guard.PolicySpec {
	if s := f.cached(saleID); s != nil {
		return s.Guard
	}
	return nil
}

// Engine returns the admission engine.
func (f *Flash) Engine() Engine { return f.eng }

// Start primes the engine with every sale that has not ended, from the
// durable record: after a restart the engine knows exactly what is left.
func (f *Flash) Start(ctx context.Context) error {
	sales, err := f.store.LiveSales(ctx)
	if err != nil {
		return fmt.Errorf("prime flash sales: %w", err)
	}
	for i := range sales {
		if err := f.prime(ctx, &sales[i]); err != nil {
			return err
		}
	}
	return nil
}

// Refresh learns the sales another node created (and forgets those it
// ended) since this node started; the sweeper calls it. It returns how
// many sales it learned or forgot.
func (f *Flash) Refresh(ctx context.Context, _ int) (int, error) {
	sales, err := f.store.LiveSales(ctx)
	if err != nil {
		return 0, fmt.Errorf("refresh flash sales: %w", err)
	}
	live := make(map[string]bool, len(sales))
	n := 0
	for i := range sales {
		live[sales[i].ID] = true
		if f.cached(sales[i].ID) == nil {
			if err := f.prime(ctx, &sales[i]); err != nil {
				return n, err
			}
			n++
		}
	}
	f.mu.RLock()
	var missing []*Sale
	for id, s := range f.sales {
		if !live[id] {
			missing = append(missing, s)
		}
	}
	f.mu.RUnlock()
	for _, s := range missing {
		// Created here after the list was read, or really ended?
		now, err := f.store.GetSale(ctx, s.ShopID, s.ID)
		if err != nil || now.Status != SaleEnded {
			continue
		}
		f.mu.Lock()
		delete(f.sales, s.ID)
		f.mu.Unlock()
		for _, it := range s.Items {
			_ = f.eng.Forget(ctx, ItemKey(s.ID, it.SKUID))
		}
		n++
	}
	return n, nil
}

func (f *Flash) prime(ctx context.Context, s *Sale) error {
	res, err := f.store.Reservations(ctx, s.ShopID, s.ID)
	if err != nil {
		return fmt.Errorf("prime sale %s: %w", s.ID, err)
	}
	type state struct {
		customers map[string]int64
		keys      map[string]string
	}
	by := map[string]*state{}
	for _, it := range s.Items {
		by[it.SKUID] = &state{customers: map[string]int64{}, keys: map[string]string{}}
	}
	for _, r := range res {
		st := by[r.SKUID]
		if st == nil {
			continue
		}
		if r.State != commerce.HoldReleased {
			st.customers[r.CustomerID] += r.Quantity
		}
		if r.IdemKey != "" {
			st.keys[r.IdemKey] = r.OrderID
		}
	}
	for _, it := range s.Items {
		st := by[it.SKUID]
		if err := f.eng.Prime(ctx, ItemKey(s.ID, it.SKUID), it.Remaining, st.customers, st.keys); err != nil {
			return fmt.Errorf("prime sale %s: %w", s.ID, err)
		}
	}
	f.remember(s)
	return nil
}

func (f *Flash) remember(s *Sale) {
	f.mu.Lock()
	f.sales[s.ID] = s
	f.mu.Unlock()
}

func (f *Flash) cached(id string) *Sale {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.sales[id]
}

// CreateSale validates the input, moves the allocations out of the SKUs'
// stock and primes the engine.
func (f *Flash) CreateSale(ctx context.Context, a commerce.Actor, in SaleInput) (*Sale, error) {
	now := f.com.Now().UTC()
	if err := in.Validate(now); err != nil {
		return nil, err
	}
	ids := make([]string, len(in.Items))
	for i, it := range in.Items {
		ids[i] = it.SKUID
	}
	skus, err := f.com.SKUs(ctx, a.ShopID, ids, false)
	if err != nil {
		return nil, err
	}
	s := &Sale{ID: f.com.ID("fls"), ShopID: a.ShopID, Name: in.Name, Status: SaleScheduled, StartsAt: in.StartsAt.UTC(), EndsAt: in.EndsAt.UTC(),
		PaymentTimeoutSeconds: in.PaymentTimeoutSeconds, Guard: in.Guard, CreatedAt: now, UpdatedAt: now}
	for i, it := range in.Items {
		k, ok := skus[it.SKUID]
		if !ok {
			return nil, commerce.Invalid(fmt.Sprintf("items[%d].sku_id", i), "unknown_sku", "SKU %q does not exist", it.SKUID)
		}
		if k.Status != "" && k.Status != "active" {
			return nil, commerce.Invalid(fmt.Sprintf("items[%d].sku_id", i), "sku_inactive", "SKU %q is not active", it.SKUID)
		}
		if it.FlashPrice >= k.Price {
			return nil, commerce.Invalid(fmt.Sprintf("items[%d].flash_price", i), "not_below_list", "flash_price must be below the list price %d", k.Price)
		}
		s.Items = append(s.Items, SaleItem{SKUID: it.SKUID, FlashPrice: it.FlashPrice, PerCustomerLimit: it.PerCustomerLimit,
			Allocated: it.Allocated, Remaining: it.Allocated})
	}
	err = f.store.CreateSale(ctx, s, f.com.Audit(a, "create", "flash_sale", s.ID, nil, s))
	var oos *commerce.OutOfStockError
	if errors.As(err, &oos) {
		for i, it := range in.Items {
			if it.SKUID == oos.SKUID {
				e := commerce.Conflict("out_of_stock", "SKU %s does not have %d units of free stock to allocate", oos.SKUID, it.Allocated)
				e.Field = fmt.Sprintf("items[%d].allocated", i)
				return nil, e
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("create flash sale: %w", err)
	}
	if err := f.prime(ctx, s); err != nil {
		return nil, err
	}
	s.Phase = s.PhaseAt(now)
	return s, nil
}

// Sale reads a sale with its live counters.
func (f *Flash) Sale(ctx context.Context, shopID, id string) (*Sale, error) {
	s, err := f.store.GetSale(ctx, shopID, id)
	if errors.Is(err, commerce.ErrNotFound) {
		return nil, commerce.NotFound("flash_sale", id)
	}
	if err != nil {
		return nil, err
	}
	s.Phase = s.PhaseAt(f.com.Now())
	return s, nil
}

// Sales lists a shop's sales, newest first.
func (f *Flash) Sales(ctx context.Context, shopID string, p commerce.Page) ([]Sale, error) {
	out, err := f.store.ListSales(ctx, shopID, p.Normalized())
	now := f.com.Now()
	for i := range out {
		out[i].Phase = out[i].PhaseAt(now)
	}
	return out, err
}

// EndSale ends a sale now: its unsold units go back to the SKUs, and units
// released later follow them.
func (f *Flash) EndSale(ctx context.Context, a commerce.Actor, id string) (*Sale, error) {
	s, err := f.Sale(ctx, a.ShopID, id)
	if err != nil {
		return nil, err
	}
	if s.Status == SaleEnded {
		return nil, commerce.Conflict("illegal_transition", "flash sale %s has already ended", id)
	}
	if err := f.end(ctx, a.ShopID, id, f.com.Audit(a, "end", "flash_sale", id, nil, nil)); err != nil {
		return nil, err
	}
	return f.Sale(ctx, a.ShopID, id)
}

func (f *Flash) end(ctx context.Context, shopID, id string, audit *commerce.AuditEntry) error {
	s := f.cached(id)
	err := f.store.EndSale(ctx, shopID, id, f.com.Now().UTC(), audit)
	if errors.Is(err, commerce.ErrStale) {
		return commerce.Conflict("illegal_transition", "flash sale %s has already ended", id)
	}
	if err != nil {
		return fmt.Errorf("end flash sale %s: %w", id, err)
	}
	if s != nil {
		for _, it := range s.Items {
			_ = f.eng.Forget(ctx, ItemKey(id, it.SKUID))
		}
	}
	f.mu.Lock()
	delete(f.sales, id)
	f.mu.Unlock()
	return nil
}

// EndDue ends the sales whose window has closed; the sweeper calls it.
func (f *Flash) EndDue(ctx context.Context, limit int) (int, error) {
	refs, err := f.store.DueSales(ctx, f.com.Now().UTC(), limit)
	if err != nil {
		return 0, fmt.Errorf("end due flash sales: %w", err)
	}
	n := 0
	for _, r := range refs {
		err := f.end(ctx, r.ShopID, r.ID, &commerce.AuditEntry{ID: f.com.ID("aud"), ShopID: r.ShopID, Actor: "system", Action: "end",
			Entity: "flash_sale", EntityID: r.ID, At: f.com.Now().UTC()})
		if ce, ok := commerce.AsError(err); ok && ce.Kind == commerce.KindConflict {
			continue
		}
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// BuyRequest is one buy attempt.
type BuyRequest struct {
	SKUID      string `json:"sku_id"`
	Quantity   int64  `json:"quantity,omitempty" doc:"Default 1"`
	CustomerID string `json:"customer_id"`
	Channel    string `json:"channel,omitempty"`
	Campaign   string `json:"campaign,omitempty"`
}

// Buy admits an attempt and, if admitted, places the order at the flash
// price holding the reserved units; the order is durable before Buy
// returns it. With an idempotency key a replay returns the first order
// (replayed=true) and takes nothing.
func (f *Flash) Buy(ctx context.Context, shopID, saleID string, req BuyRequest, key string) (*commerce.Order, bool, error) {
	if req.Quantity == 0 {
		req.Quantity = 1
	}
	s := f.cached(saleID)
	if s == nil || s.ShopID != shopID {
		return nil, false, commerce.NotFound("flash_sale", saleID)
	}
	it, ok := s.Item(req.SKUID)
	if !ok {
		return nil, false, commerce.Invalid("sku_id", "not_in_sale", "SKU %q is not in flash sale %s", req.SKUID, saleID)
	}
	item := ItemKey(saleID, req.SKUID)
	if err := checkBuy(&req, it); err != nil {
		return nil, false, err
	}
	// The cheapest answer first: most attempts at a hot item arrive after
	// it has sold out. (With a key the engine looks for a replay first.)
	if key == "" && f.eng.SoldOut(item) {
		return nil, false, soldOut(req.SKUID)
	}
	now := f.com.Now()
	switch s.PhaseAt(now) {
	case PhaseUpcoming:
		e := commerce.Conflict("sale_not_started", "flash sale %s starts at %s", saleID, s.StartsAt.Format(time.RFC3339))
		e.Extra = map[string]any{"starts_at": s.StartsAt}
		return nil, false, e
	case PhaseOver, PhaseEnded:
		return nil, false, commerce.Conflict("sale_over", "flash sale %s is over", saleID)
	}
	t, err := f.eng.Admit(ctx, Attempt{Item: item, Customer: req.CustomerID, Qty: req.Quantity, Limit: it.PerCustomerLimit, Key: key, OrderID: f.com.ID("ord"), Shop: shopID})
	switch {
	case errors.Is(err, ErrSoldOut):
		return nil, false, soldOut(req.SKUID)
	case errors.Is(err, ErrOverLimit):
		e := commerce.Conflict("over_limit", "a customer may buy %d units of this item in the sale", it.PerCustomerLimit)
		e.Field = "quantity"
		return nil, false, e
	case errors.Is(err, ErrInProgress):
		return nil, false, &commerce.Error{Kind: commerce.KindConflict, Code: "request_in_progress", Field: "Idempotency-Key",
			Detail: "a request with this Idempotency-Key is still being processed; retry shortly"}
	case errors.Is(err, ErrUnknownItem):
		return nil, false, commerce.Conflict("sale_over", "flash sale %s is over", saleID)
	case err != nil:
		return nil, false, &commerce.Error{Kind: commerce.KindUnavailable, Code: "admission_unavailable", Detail: "flash-sale admission is unavailable; nothing was reserved, retry shortly"}
	}
	place := &commerce.PlaceRequest{CustomerID: req.CustomerID, Lines: []commerce.CartLine{{SKUID: req.SKUID, Quantity: req.Quantity}}, Channel: req.Channel, Campaign: req.Campaign,
		PaymentTimeout: s.PaymentTimeout(),
		Reserved: []commerce.Reserved{{SKUID: req.SKUID, Units: req.Quantity, Price: it.FlashPrice, ActivityID: saleID,
			Hold: commerce.Hold{Kind: commerce.HoldFlash, Ref: item, Quantity: req.Quantity, Key: key,
				Buckets: []commerce.Bucket{{Bucket: "c:" + req.CustomerID, MaxUses: it.PerCustomerLimit}}}}}}
	o, replayed, err := f.com.PlaceOrderAs(ctx, shopID, place, key, t.OrderID)
	if err != nil || replayed {
		if aerr := f.eng.Abort(ctx, t); aerr != nil {
			f.log.Error("abort flash admission", "item", item, "err", aerr)
		}
		if ce, ok := commerce.AsError(err); ok && ce.Code == "hold_failed" {
			// The database refused what the engine admitted (another node
			// sold the units, or the engine drifted): answer as sold out.
			return nil, false, soldOut(req.SKUID)
		}
		return o, replayed, err
	}
	if err := f.eng.Confirm(ctx, t); err != nil {
		f.log.Error("confirm flash admission", "item", item, "order", o.ID, "err", err)
	}
	return o, false, nil
}

func soldOut(skuID string) error {
	e := commerce.Conflict("sold_out", "SKU %s is sold out in this sale", skuID)
	e.Field = "sku_id"
	return e
}

func checkBuy(req *BuyRequest, it *SaleItem) error {
	if err := commerce.CheckText("customer_id", req.CustomerID, true, commerce.MaxCodeLen); err != nil {
		return err
	}
	if err := commerce.CheckText("channel", req.Channel, false, commerce.MaxCodeLen); err != nil {
		return err
	}
	if err := commerce.CheckText("campaign", req.Campaign, false, commerce.MaxCodeLen); err != nil {
		return err
	}
	if req.Quantity < 1 || req.Quantity > it.PerCustomerLimit {
		return commerce.Invalid("quantity", "out_of_range", "quantity must be 1 to %d", it.PerCustomerLimit)
	}
	return nil
}

// released gives units of a cancelled or unpaid flash order back to the
// engine.
func (f *Flash) released(ctx context.Context, shopID, orderID string) {
	// Only orders of a live sale have units to give back: with none, a
	// cancellation costs no extra read.
	f.mu.RLock()
	live := len(f.sales) > 0
	f.mu.RUnlock()
	if !live {
		return
	}
	o, err := f.com.Order(ctx, shopID, orderID)
	if err != nil {
		f.log.Error("read released order", "order", orderID, "err", err)
		return
	}
	for _, h := range o.Holds {
		if h.Kind == commerce.HoldFlash {
			if err := f.eng.Return(ctx, h.Ref, o.CustomerID, h.Quantity); err != nil {
				f.log.Error("return flash units", "item", h.Ref, "order", orderID, "err", err)
			}
		}
	}
}

// Remind stores a reminder to tell the customer minutesBefore the sale
// starts; the journeys deliver it.
func (f *Flash) Remind(ctx context.Context, shopID, saleID, customerID string, minutesBefore int64) (*Reminder, error) {
	if err := commerce.CheckText("customer_id", customerID, true, commerce.MaxCodeLen); err != nil {
		return nil, err
	}
	if minutesBefore == 0 {
		minutesBefore = 5
	}
	if minutesBefore < 1 || minutesBefore > 7*24*60 {
		return nil, commerce.Invalid("minutes_before", "out_of_range", "minutes_before must be 1 to %d", 7*24*60)
	}
	s, err := f.Sale(ctx, shopID, saleID)
	if err != nil {
		return nil, err
	}
	if s.Phase != PhaseUpcoming {
		return nil, commerce.Conflict("sale_started", "flash sale %s has already started", saleID)
	}
	if _, err := f.com.Customer(ctx, shopID, customerID); err != nil {
		if ce, ok := commerce.AsError(err); ok && ce.Kind == commerce.KindNotFound {
			return nil, commerce.Invalid("customer_id", "unknown_customer", "customer %q does not exist", customerID)
		}
		return nil, err
	}
	r := Reminder{SaleID: saleID, CustomerID: customerID, RemindAt: s.StartsAt.Add(-time.Duration(minutesBefore) * time.Minute), CreatedAt: f.com.Now().UTC()}
	if err := f.store.AddReminder(ctx, shopID, r); err != nil {
		return nil, fmt.Errorf("add reminder: %w", err)
	}
	return &r, nil
}

// Reminders lists a sale's reminders.
func (f *Flash) Reminders(ctx context.Context, shopID, saleID string, p commerce.Page) ([]Reminder, error) {
	if _, err := f.Sale(ctx, shopID, saleID); err != nil {
		return nil, err
	}
	return f.store.ListReminders(ctx, shopID, saleID, p.Normalized())
}
