package demo

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/storage/sqlstore"
	"github.com/carnivalhq/carnival/internal/storage/storetest"
)

func openStore(tb testing.TB) *sqlstore.Store { return storetest.OpenSQLite(tb) }

// testNow puts 双11 inside a two-month history.
var testNow = time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)

var small = Options{Seed: 7, SKUs: 40, Customers: 400, Months: 2, Now: testNow}

// seeded is one small demo shop shared by the read-only tests.
type seeded struct {
	st     *sqlstore.Store
	svc    *commerce.Service
	res    *Result
	skus   []commerce.SKU
	cs     []commerce.Customer
	orders []commerce.Order
}

func seedSmall(t *testing.T) *seeded {
	t.Helper()
	ctx := context.Background()
	st := openStore(t)
	if _, ok, err := IsSeeded(ctx, st); err != nil || ok {
		t.Fatalf("IsSeeded on an empty store = %v, %v; want false, nil", ok, err)
	}
	res, err := Seed(ctx, st, small)
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	s := &seeded{st: st, svc: commerce.NewService(st, commerce.Options{}), res: res}
	s.skus = pageAll(t, func(p commerce.Page) ([]commerce.SKU, error) {
		return s.svc.ListSKUs(ctx, res.Shop.ID, commerce.SKUFilter{}, p)
	}, func(k commerce.SKU) string { return k.ID })
	s.cs = pageAll(t, func(p commerce.Page) ([]commerce.Customer, error) {
		return st.ListCustomers(ctx, res.Shop.ID, p)
	}, func(c commerce.Customer) string { return c.ID })
	s.orders = pageAll(t, func(p commerce.Page) ([]commerce.Order, error) {
		return s.svc.ListOrders(ctx, res.Shop.ID, commerce.OrderFilter{}, p)
	}, func(o commerce.Order) string { return o.ID })
	return s
}

func pageAll[T any](t *testing.T, list func(commerce.Page) ([]T, error), id func(T) string) []T {
	t.Helper()
	var all []T
	p := commerce.Page{Limit: 500}
	for {
		items, err := list(p)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, items...)
		if len(items) < p.Limit {
			return all
		}
		p.Cursor = id(items[len(items)-1])
	}
}

func TestSeed(t *testing.T) {
	s := seedSmall(t)
	ctx := context.Background()

	t.Run("the store then reports the demo shop as seeded", func(t *testing.T) {
		shop, ok, err := IsSeeded(ctx, s.st)
		if err != nil || !ok {
			t.Fatalf("IsSeeded = %v, %v; want true", ok, err)
		}
		if shop.ID != s.res.Shop.ID || shop.Name != ShopName || shop.TimeZone != "Asia/Shanghai" {
			t.Errorf("shop = %+v; want %s named %q in Asia/Shanghai", shop, s.res.Shop.ID, ShopName)
		}
	})

	t.Run("counts match what was asked and what was reported", func(t *testing.T) {
		if s.res.SKUs != small.SKUs || len(s.skus) != small.SKUs {
			t.Errorf("SKUs: reported %d, stored %d; want %d", s.res.SKUs, len(s.skus), small.SKUs)
		}
		if s.res.Customers != small.Customers || len(s.cs) != small.Customers {
			t.Errorf("customers: reported %d, stored %d; want %d", s.res.Customers, len(s.cs), small.Customers)
		}
		if len(s.orders) != s.res.Orders || s.res.Orders < 150 {
			t.Errorf("orders: reported %d, stored %d; want the same and at least 150", s.res.Orders, len(s.orders))
		}
	})

	t.Run("the catalog has every category, Chinese names, category price ranges and costs of 35 to 70 percent", func(t *testing.T) {
		cats, err := s.svc.ListCategories(ctx, s.res.Shop.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(cats) != len(tops)+len(leaves) {
			t.Errorf("%d categories; want %d", len(cats), len(tops)+len(leaves))
		}
		used := map[string]bool{}
		inactive := 0
		for _, k := range s.skus {
			used[k.CategoryID] = true
			if k.Cost < k.Price*35/100 || k.Cost > k.Price*70/100 {
				t.Errorf("%s costs %d of price %d", k.Code, k.Cost, k.Price)
			}
			if k.Price < 990 || k.Price > 200000 {
				t.Errorf("%s price %d fen is outside ¥9.90–¥2000", k.Code, k.Price)
			}
			if !strings.ContainsFunc(k.Name, func(r rune) bool { return r >= 0x4e00 && r <= 0x9fff }) {
				t.Errorf("%s is named %q, with no Chinese", k.Code, k.Name)
			}
			if k.Status == commerce.SKUInactive {
				inactive++
			}
		}
		if len(used) != len(leaves) {
			t.Errorf("SKUs in %d leaf categories; want all %d", len(used), len(leaves))
		}
		if inactive == len(s.skus) {
			t.Error("every SKU is inactive")
		}
	})

	t.Run("every SKU's stock, held and sold equal its stock ledger totals", func(t *testing.T) {
		pending := map[string]int64{}
		for _, o := range s.orders {
			if o.Status == commerce.OrderPendingPayment {
				full, err := s.svc.Order(ctx, s.res.Shop.ID, o.ID)
				if err != nil {
					t.Fatal(err)
				}
				for _, l := range full.Lines {
					pending[l.SKUID] += l.Quantity
				}
			}
		}
		for _, k := range s.skus {
			moves := pageAll(t, func(p commerce.Page) ([]commerce.StockMove, error) {
				return s.svc.StockMoves(ctx, s.res.Shop.ID, k.ID, p)
			}, func(m commerce.StockMove) string { return m.ID })
			var stock, held, sold int64
			for _, m := range moves {
				stock += m.Delta
				held += m.HeldDelta
				sold += m.SoldDelta
			}
			if stock != k.Stock || held != k.Held || sold != k.Sold {
				t.Errorf("%s: stock/held/sold %d/%d/%d, ledger %d/%d/%d", k.Code, k.Stock, k.Held, k.Sold, stock, held, sold)
			}
			if k.Stock < 0 || k.Held != pending[k.ID] {
				t.Errorf("%s: stock %d, held %d; pending orders hold %d", k.Code, k.Stock, k.Held, pending[k.ID])
			}
		}
	})

	t.Run("orders span the months asked for and end before now", func(t *testing.T) {
		start := testNow.AddDate(0, -small.Months, 0)
		first, last := s.orders[0].CreatedAt, s.orders[0].CreatedAt
		for _, o := range s.orders {
			if o.CreatedAt.Before(first) {
				first = o.CreatedAt
			}
			if o.CreatedAt.After(last) {
				last = o.CreatedAt
			}
		}
		if first.Before(start) || first.After(start.Add(72*time.Hour)) {
			t.Errorf("first order at %s; want within three days after %s", first, start)
		}
		if !last.Before(testNow) || last.Before(testNow.Add(-24*time.Hour)) {
			t.Errorf("last order at %s; want within the day before %s", last, testNow)
		}
	})

	t.Run("statuses are mostly paid and fulfilled with some cancelled and refunded", func(t *testing.T) {
		n := map[string]int{}
		for _, o := range s.orders {
			n[o.Status]++
			switch o.Status {
			case commerce.OrderPaid, commerce.OrderPendingPayment:
				if o.CreatedAt.Before(testNow.Add(-3 * 24 * time.Hour)) {
					t.Errorf("order %s from %s is still %s", o.ID, o.CreatedAt, o.Status)
				}
			case commerce.OrderCancelled:
				if o.CancelReason != "payment_timeout" && o.CancelReason != "customer_cancelled" {
					t.Errorf("order %s cancelled for %q", o.ID, o.CancelReason)
				}
			}
		}
		total := float64(len(s.orders))
		share := func(st ...string) float64 {
			c := 0
			for _, x := range st {
				c += n[x]
			}
			return float64(c) / total
		}
		if x := share(commerce.OrderFulfilled); x < 0.6 {
			t.Errorf("fulfilled share %.2f; want most orders (statuses %v)", x, n)
		}
		if x := share(commerce.OrderCancelled); x < 0.04 || x > 0.18 {
			t.Errorf("cancelled share %.2f; want about 10 %% (statuses %v)", x, n)
		}
		if x := share(commerce.OrderPartiallyRefunded); x == 0 || x > 0.12 {
			t.Errorf("partially refunded share %.2f; want a few percent (statuses %v)", x, n)
		}
	})

	t.Run("orders are priced from the catalog by the service", func(t *testing.T) {
		price := map[string]int64{}
		for _, k := range s.skus {
			price[k.ID] = k.Price
		}
		for _, ref := range s.orders[:20] {
			o, err := s.svc.Order(ctx, s.res.Shop.ID, ref.ID)
			if err != nil {
				t.Fatal(err)
			}
			var goods int64
			for _, l := range o.Lines {
				goods += price[l.SKUID] * l.Quantity
			}
			if len(o.Lines) < 1 || len(o.Lines) > 4 || o.GoodsAmount != goods || o.Payable != goods+o.Shipping {
				t.Errorf("order %s: %d lines, goods %d payable %d shipping %d; want 1–4 lines, goods %d", o.ID, len(o.Lines), o.GoodsAmount, o.Payable, o.Shipping, goods)
			}
		}
	})

	t.Run("orders follow the day: evenings busier than small hours, 双11 a spike", func(t *testing.T) {
		loc, _ := time.LoadLocation("Asia/Shanghai")
		var hours [24]int
		days := map[string]int{}
		for _, o := range s.orders {
			lt := o.CreatedAt.In(loc)
			hours[lt.Hour()]++
			days[lt.Format("01-02")]++
		}
		evening := hours[20] + hours[21] + hours[22] + hours[23]
		small := hours[2] + hours[3] + hours[4] + hours[5]
		if evening < 4*small {
			t.Errorf("20–24h has %d orders, 2–6h %d; want the evening far busier", evening, small)
		}
		var counts []int
		for _, c := range days {
			counts = append(counts, c)
		}
		sort.Ints(counts)
		if median := counts[len(counts)/2]; days["11-11"] < 3*median {
			t.Errorf("双11 has %d orders, the median day %d", days["11-11"], median)
		}
	})

	t.Run("some customers come back again and again", func(t *testing.T) {
		per := map[string]int{}
		for _, o := range s.orders {
			per[o.CustomerID]++
		}
		most, once := 0, 0
		for _, c := range per {
			most = max(most, c)
			if c == 1 {
				once++
			}
		}
		if most < 5 || once == 0 {
			t.Errorf("the best customer placed %d orders and %d placed one; want a long tail", most, once)
		}
	})

	t.Run("customers have ids, names, phones, tiers, consent and points", func(t *testing.T) {
		tiers := map[string]int{}
		consent, points := 0, 0
		for _, c := range s.cs {
			tiers[c.Tier]++
			if c.MarketingConsent {
				consent++
			}
			if c.Points > 0 {
				points++
			}
			if !strings.HasPrefix(c.ExternalID, "u1") || len(c.Phone) != 11 || c.Phone[0] != '1' || len([]rune(c.Name)) < 2 {
				t.Errorf("customer %s: name %q phone %q", c.ExternalID, c.Name, c.Phone)
			}
		}
		if tiers[TierNormal] < tiers[TierSilver] || tiers[TierSilver] < tiers[TierGold] || tiers[TierGold] < tiers[TierPlatinum] || tiers[TierPlatinum] == 0 {
			t.Errorf("tiers %v; want a long tail from normal to platinum", tiers)
		}
		if x := float64(consent) / float64(len(s.cs)); x < 0.5 || x > 0.7 {
			t.Errorf("marketing consent %.2f; want about 60 %%", x)
		}
		if points == 0 {
			t.Error("no customer has points")
		}
	})

	t.Run("the four API keys authenticate with their roles", func(t *testing.T) {
		for secret, role := range map[string]string{s.res.AdminKey: commerce.RoleAdmin, s.res.StorefrontKey: commerce.RoleStorefront, s.res.AnalystKey: commerce.RoleAnalyst,
			s.res.PublishableKey: commerce.RolePublishable} {
			k, err := s.svc.Authenticate(ctx, secret)
			if err != nil || k.Role != role || k.ShopID != s.res.Shop.ID {
				t.Errorf("key for %s: %+v, %v", role, k, err)
			}
		}
	})
}

func TestSeedIsDeterministic(t *testing.T) {
	ctx := context.Background()
	catalog := func(opt Options) ([]commerce.SKU, *Result) {
		st := openStore(t)
		res, err := Seed(ctx, st, opt)
		if err != nil {
			t.Fatal(err)
		}
		svc := commerce.NewService(st, commerce.Options{})
		return pageAll(t, func(p commerce.Page) ([]commerce.SKU, error) {
			return svc.ListSKUs(ctx, res.Shop.ID, commerce.SKUFilter{}, p)
		}, func(k commerce.SKU) string { return k.ID }), res
	}
	opt := Options{Seed: 3, SKUs: 30, Customers: 100, Months: 1, Now: testNow}
	a, ra := catalog(opt)
	b, rb := catalog(opt)
	if len(a) != len(b) || ra.Orders != rb.Orders {
		t.Fatalf("two seeds made %d and %d SKUs, %d and %d orders", len(a), len(b), ra.Orders, rb.Orders)
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.ID != y.ID || x.Code != y.Code || x.Name != y.Name || x.Price != y.Price || x.Cost != y.Cost || x.Stock != y.Stock || x.Sold != y.Sold {
			t.Errorf("SKU %d differs: %+v vs %+v", i, x, y)
		}
	}
	if ra.AdminKey == rb.AdminKey {
		t.Error("two seeds made the same admin key secret; secrets must be random")
	}
	opt.Seed = 4
	c, _ := catalog(opt)
	same := 0
	for i := range min(len(a), len(c)) {
		if a[i].Code == c[i].Code && a[i].Price == c[i].Price {
			same++
		}
	}
	if same == len(a) {
		t.Error("seeds 3 and 4 made the same catalog")
	}
}

func TestIsSeededIgnoresOtherShopsAndUnfinishedSeeds(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	svc := commerce.NewService(st, commerce.Options{})
	for _, name := range []string{"My shop", seedingName} {
		if _, err := svc.CreateShop(ctx, name, ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok, err := IsSeeded(ctx, st); err != nil || ok {
		t.Errorf("IsSeeded = %v, %v; want false", ok, err)
	}
}

func TestSeedRejectsOptionsOutOfRange(t *testing.T) {
	st := openStore(t)
	for _, opt := range []Options{{SKUs: -1}, {Customers: -5}, {Months: 30}} {
		if _, err := Seed(context.Background(), st, opt); err == nil {
			t.Errorf("Seed(%+v) succeeded", opt)
		}
	}
	if _, ok, _ := IsSeeded(context.Background(), st); ok {
		t.Error("a rejected seed left a demo shop")
	}
}

// BenchmarkSeedDefault seeds the default-size shop on SQLite:
// go test ./internal/demo/ -run - -bench SeedDefault -benchtime 1x
func BenchmarkSeedDefault(b *testing.B) {
	for range b.N {
		st := openStore(b)
		t0 := time.Now()
		res, err := Seed(context.Background(), st, Options{Now: testNow})
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("seeded %d SKUs, %d customers, %d orders in %s", res.SKUs, res.Customers, res.Orders, time.Since(t0))
	}
}
