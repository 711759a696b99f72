package sqlite_test

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/analytics"
	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/storage/storetest"
)

// BenchmarkReconcileOrders measures the start-up pass that re-tells the
// last 7 days of order events: 20 000 orders (half paid) placed with no
// listener, so the first pass adds 30 000 events; every later pass finds
// them all stored already (the common case after a clean restart).
func BenchmarkReconcileOrders(b *testing.B) {
	const orders = 20_000
	ctx := context.Background()
	st := storetest.OpenSQLite(b)
	svc := commerce.NewService(st, commerce.Options{})
	shop, err := svc.CreateShop(ctx, "bench", "")
	if err != nil {
		b.Fatal(err)
	}
	stock := int64(orders)
	skus, err := svc.UpsertProducts(ctx, commerce.Actor{ShopID: shop.ID, Role: commerce.RoleAdmin}, []commerce.ProductUpsert{{Code: "P", Name: "P",
		SKUs: []commerce.SKUUpsert{{Code: "S", Price: 9900, Cost: 4000, Stock: &stock}}}})
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < orders; i++ {
		o, _, err := svc.PlaceOrder(ctx, shop.ID, &commerce.PlaceRequest{Lines: []commerce.CartLine{{SKUID: skus[0].ID, Quantity: 1}},
			Channel: "wx", Campaign: "d11-" + strconv.Itoa(i%3)}, "")
		if err != nil {
			b.Fatal(err)
		}
		if i%2 == 0 {
			if _, err := svc.PayOrder(ctx, shop.ID, o.ID); err != nil {
				b.Fatal(err)
			}
		}
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	in, err := analytics.NewIngestor(ctx, st, analytics.Options{Location: analytics.ShopLocation(svc), FlushEvery: -1, Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	since := time.Now().Add(-analytics.MaxPast)
	t0 := time.Now()
	first, err := analytics.ReconcileOrders(ctx, svc, in, since, log)
	if err != nil || first.Added != orders*3/2 {
		b.Fatalf("first pass %+v %v", first, err)
	}
	b.Logf("first pass: %d events told, %d added, in %s", first.Events, first.Added, time.Since(t0).Round(time.Millisecond))
	for b.Loop() {
		r, err := analytics.ReconcileOrders(ctx, svc, in, since, log)
		if err != nil || r.Added != 0 {
			b.Fatalf("pass %+v %v", r, err)
		}
	}
}
