// Package demo owns the demo shop: a realistic Chinese online store
// ("Carnival Demo 旗舰店") with a category tree, a few hundred SKUs, a few
// thousand customers and months of order history, seeded through the
// commerce service (never raw SQL) so that holds, the stock ledger and
// order amounts are the real thing. Everything is deterministic from a
// seed, except the API key secrets.
package demo

import (
	"context"
	"errors"
	"fmt"
	"github.com/carnivalhq/carnival/internal/clock"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/promotion"
)

// ShopName is the demo shop's name; IsSeeded looks for it.
const ShopName = "Carnival Demo 旗舰店"

// seedingName is the shop's name until seeding finishes, so that a seed
// that fails half-way is not taken for a demo shop.
const seedingName = ShopName + " (seeding)"

// pcgStream is the second PCG word when the source is built from a seed.
const pcgStream = 0x6361726e6976616c // "carnival"

// Options size the demo shop. Zero values take the defaults.
type Options struct {
	Seed      int64     // default 11
	SKUs      int       // default 300
	Customers int       // default 3000
	Months    int       // months of order history before Now; default 4
	Now       time.Time // the present; default time.Now()
	// Rand, when set, is the random source instead of a PCG built from Seed.
	Rand *rand.Rand
}

// Result is what Seed made, with the API key secrets (shown once).
type Result struct {
	Shop          *commerce.Shop
	AdminKey      string
	StorefrontKey string
	// PublishableKey is the key for page HTML (the tracker): events and
	// anonymous quotes only.
	PublishableKey string
	AnalystKey     string
	SKUs           int
	Customers      int
	Orders         int
	// Double11 is the promotions and coupon template the history's 双11
	// campaign ran (nil when the history does not hold its window).
	Double11 *PromotionsResult
}

func (o Options) normalized() (Options, error) {
	if o.Seed == 0 {
		o.Seed = 11
	}
	if o.SKUs == 0 {
		o.SKUs = 300
	}
	if o.Customers == 0 {
		o.Customers = 3000
	}
	if o.Months == 0 {
		o.Months = 4
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	switch {
	case o.SKUs < 1 || o.SKUs > 20000:
		return o, fmt.Errorf("demo: SKUs must be 1 to 20000, not %d", o.SKUs)
	case o.Customers < 1 || o.Customers > 200000:
		return o, fmt.Errorf("demo: customers must be 1 to 200000, not %d", o.Customers)
	case o.Months < 1 || o.Months > 24:
		return o, fmt.Errorf("demo: months must be 1 to 24, not %d", o.Months)
	}
	if o.Rand == nil {
		o.Rand = rand.New(rand.NewPCG(uint64(o.Seed), pcgStream))
	}
	o.Now = o.Now.UTC().Truncate(time.Microsecond) // the stores keep microseconds
	return o, nil
}

// IsSeeded reports whether the store holds a demo shop, and returns it.
func IsSeeded(ctx context.Context, store commerce.Store) (*commerce.Shop, bool, error) {
	shops, err := store.ListShops(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("demo: list shops: %w", err)
	}
	for i := range shops {
		if shops[i].Name == ShopName {
			return &shops[i], true, nil
		}
	}
	return nil, false, nil
}

// Seed creates the demo shop and everything in it. The caller checks
// IsSeeded first; Seed always makes a new shop.
func Seed(ctx context.Context, store commerce.Store, opt Options) (*Result, error) {
	opt, err := opt.normalized()
	if err != nil {
		return nil, err
	}
	r := opt.Rand
	loc, err := time.LoadLocation(commerce.DefaultTimeZone)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	now := opt.Now
	start := now.In(loc).AddDate(0, -opt.Months, 0).UTC()
	timeout := commerce.DefaultPaymentTimeout

	// Plan everything first, then replay it through the service in time order.
	cat := planCatalog(r, opt.SKUs)
	cs, batches := planCustomers(r, opt.Customers, start, now)
	orders := planOrders(r, cat, cs, start, now, loc, timeout)
	d11w := double11(now, loc)
	tagCampaignOrders(orders, d11w)
	// The 双11 promotions need the promotion engine over the same store.
	var d11 *d11Promos
	pst, hasPromos := store.(promotion.Store)
	if hasPromos {
		d11 = planDouble11(d11w, start, now)
		planDouble11Coupons(d11, orders, cat)
	}
	events := timeline(cs, batches, orders)
	events = planStock(r, cat, orders, append(events, double11Events(d11, orders)...), start, now)

	shopAt := start.AddDate(0, 0, -35)
	clk := clock.At(shopAt)
	ids := newIDs(clk, rand.New(rand.NewPCG(r.Uint64(), r.Uint64())))
	sd := &seeder{
		svc: commerce.NewService(store, commerce.Options{Now: clk.Now, NewID: ids.New}),
		clk: clk, cat: cat, cs: cs, batches: batches, orders: orders, d11: d11,
	}
	if d11 != nil {
		// Only the window's orders are priced by the engine (PlaceRequest.Pricer);
		// the rest of the history keeps list prices.
		d11.ps = promotion.New(pst, sd.svc)
		sd.svc.SetPricer(commerce.ListPricer{})
	}
	res, err := sd.run(ctx, shopAt, now, events)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	return res, nil
}

type seeder struct {
	svc     *commerce.Service
	clk     *clock.Settable
	shop    *commerce.Shop
	actor   commerce.Actor
	cat     *catalogPlan
	cs      []customerPlan
	batches []customerBatch
	orders  []orderPlan
	d11     *d11Promos
}

func (sd *seeder) run(ctx context.Context, shopAt, now time.Time, events []event) (*Result, error) {
	svc := sd.svc
	shop, err := svc.CreateShop(ctx, seedingName, commerce.DefaultTimeZone)
	if err != nil {
		return nil, err
	}
	sd.shop = shop
	sd.actor = commerce.Actor{ShopID: shop.ID, Role: commerce.RoleAdmin}

	sd.clk.Set(shopAt.Add(2 * time.Hour))
	if _, err := svc.UpsertCategories(ctx, sd.actor, sd.cat.categories); err != nil {
		return nil, err
	}
	if err := sd.upsertCatalog(ctx); err != nil {
		return nil, err
	}
	for _, ev := range events {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		sd.clk.Set(ev.at)
		if err := sd.apply(ctx, ev); err != nil {
			return nil, err
		}
	}

	sd.clk.Set(now)
	res := &Result{SKUs: len(sd.cat.skus), Customers: len(sd.cs), Orders: len(sd.orders)}
	if sd.d11 != nil {
		res.Double11 = sd.d11.res
	}
	for _, k := range []struct {
		role, name string
		secret     *string
	}{
		{commerce.RoleAdmin, "Demo admin 管理员", &res.AdminKey},
		{commerce.RoleStorefront, "Demo storefront 店铺前台", &res.StorefrontKey},
		{commerce.RolePublishable, "Demo page 页面公开", &res.PublishableKey},
		{commerce.RoleAnalyst, "Demo analyst 数据分析", &res.AnalystKey},
	} {
		if _, *k.secret, err = svc.CreateAPIKey(ctx, shop.ID, k.role, k.name); err != nil {
			return nil, err
		}
	}
	name := ShopName
	if res.Shop, err = svc.UpdateShopSettings(ctx, sd.actor, &name, nil, commerce.SettingsPatch{}); err != nil {
		return nil, err
	}
	return res, nil
}

// upsertCatalog creates the products in bulk calls and records SKU ids.
func (sd *seeder) upsertCatalog(ctx context.Context) error {
	const chunk = 200
	ps := sd.cat.products
	for from := 0; from < len(ps); from += chunk {
		to := min(from+chunk, len(ps))
		items := make([]commerce.ProductUpsert, to-from)
		copy(items, ps[from:to])
		for i := range items {
			items[i].SKUs = append([]commerce.SKUUpsert(nil), items[i].SKUs...)
			for j := range items[i].SKUs {
				stock := sd.cat.skus[sd.cat.skuOf[from+i][j]].initial
				items[i].SKUs[j].Stock = &stock
			}
		}
		skus, err := sd.svc.UpsertProducts(ctx, sd.actor, items)
		if err != nil {
			return err
		}
		n := 0
		for i := range items {
			for _, k := range sd.cat.skuOf[from+i] {
				if skus[n].Code != sd.cat.skus[k].code {
					return fmt.Errorf("upsert products: SKU %s came back as %s", sd.cat.skus[k].code, skus[n].Code)
				}
				sd.cat.skus[k].id = skus[n].ID
				n++
			}
		}
	}
	return nil
}

// timeline lists every service call of the history, in time order.
func timeline(cs []customerPlan, batches []customerBatch, orders []orderPlan) []event {
	var evs []event
	for i, b := range batches {
		evs = append(evs, event{at: b.at, kind: evCustomers, ref: i})
	}
	for i, c := range cs {
		for j, g := range c.grants {
			evs = append(evs, event{at: g.at, kind: evPoints, ref: i, sub: j})
		}
	}
	for i, o := range orders {
		evs = append(evs, event{at: o.at, kind: evPlace, ref: i})
		for _, e := range []struct {
			at   time.Time
			kind eventKind
		}{{o.payAt, evPay}, {o.cancelAt, evCancel}, {o.fulfilAt, evFulfil}, {o.refundAt, evRefund}} {
			if !e.at.IsZero() {
				evs = append(evs, event{at: e.at, kind: e.kind, ref: i})
			}
		}
	}
	sortEvents(evs)
	return evs
}

func (sd *seeder) apply(ctx context.Context, ev event) error {
	svc, shopID := sd.svc, sd.shop.ID
	switch ev.kind {
	case evCustomers:
		b := sd.batches[ev.ref]
		in := make([]commerce.Customer, 0, b.to-b.from)
		for i := b.from; i < b.to; i++ {
			in = append(in, sd.cs[i].c)
		}
		out, err := svc.UpsertCustomers(ctx, sd.actor, in)
		if err != nil {
			return err
		}
		for i, c := range out {
			sd.cs[b.from+i].id = c.ID
		}
	case evPoints:
		c := &sd.cs[ev.ref]
		g := c.grants[ev.sub]
		if _, err := svc.AdjustPoints(ctx, sd.actor, c.id, g.delta, g.reason); err != nil {
			return fmt.Errorf("points of %s: %w", c.c.ExternalID, err)
		}
	case evRestock:
		k := &sd.cat.skus[ev.ref]
		if _, err := svc.AdjustStock(ctx, sd.actor, k.id, k.restock, "采购入库 purchase_receipt"); err != nil {
			return fmt.Errorf("restock %s: %w", k.code, err)
		}
	case evPlace:
		o := &sd.orders[ev.ref]
		req := &commerce.PlaceRequest{CustomerID: sd.cs[o.customer].id, Channel: o.channel, Campaign: o.campaign}
		for _, l := range o.lines {
			req.Lines = append(req.Lines, commerce.CartLine{SKUID: sd.cat.skus[l.sku].id, Quantity: l.qty})
		}
		if o.promoted && sd.d11 != nil {
			req.Pricer = sd.d11.ps
			if o.couponCode != "" {
				req.CouponCodes = []string{o.couponCode}
			}
		}
		placed, _, err := svc.PlaceOrder(ctx, shopID, req, "")
		if err != nil {
			return fmt.Errorf("place order %d at %s: %w", ev.ref, ev.at.Format(time.RFC3339), err)
		}
		o.id = placed.ID
	case evPay:
		if _, err := svc.PayOrder(ctx, shopID, sd.orders[ev.ref].id); err != nil {
			return err
		}
	case evCancel:
		o := &sd.orders[ev.ref]
		if _, err := svc.CancelOrder(ctx, shopID, o.id, o.cancelReason); err != nil {
			return err
		}
	case evFulfil:
		if _, err := svc.FulfilOrder(ctx, shopID, sd.orders[ev.ref].id); err != nil {
			return err
		}
	case evRefund:
		o := &sd.orders[ev.ref]
		ret := o.returnStock
		if _, err := svc.RefundOrder(ctx, sd.actor, o.id, &commerce.RefundRequest{Lines: o.refund, ReturnStock: &ret, Reason: o.refundReason}); err != nil {
			return err
		}
	case evPromos:
		return sd.createDouble11(ctx)
	case evEndPromos:
		return sd.endDouble11(ctx)
	case evClaim:
		return sd.claimDouble11(ctx, ev.ref)
	default:
		return errors.New("unknown event")
	}
	return nil
}

// ids makes prefixed ULIDs stamped with the seeder's clock, so ids sort by
// historic time like real ones, from a seeded entropy source.
type ids struct {
	mu      sync.Mutex
	clk     *clock.Settable
	entropy *ulid.MonotonicEntropy
}

func newIDs(clk *clock.Settable, r *rand.Rand) *ids {
	return &ids{clk: clk, entropy: ulid.Monotonic(randReader{r}, 0)}
}

func (g *ids) New(prefix string) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	id, err := ulid.New(ulid.Timestamp(g.clk.Now()), g.entropy)
	if err != nil { // the monotonic counter overflowed within one millisecond
		return commerce.NewID(prefix)
	}
	return prefix + "_" + strings.ToLower(id.String())
}

type randReader struct{ r *rand.Rand }

func (rr randReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(rr.r.Uint32())
	}
	return len(p), nil
}
