package analytics

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
)

// FromOrders feeds the order flow's events into the rollups: orders and
// payments count in the same counters and facts as storefront events.
// Event ids derive from the order, so a retried notification counts once.
func FromOrders(svc *commerce.Service, in *Ingestor, log *slog.Logger) {
	kinds := map[string]string{commerce.OrderEventPlaced: OrderPlaced, commerce.OrderEventPaid: OrderPaid, commerce.OrderEventRefunded: OrderRefunded}
	svc.OnOrderEvent(func(ctx context.Context, e commerce.OrderEvent) {
		typ := kinds[e.Kind]
		if typ == "" {
			return
		}
		id := e.OrderID + ":" + e.Kind
		if e.RefundID != "" {
			id = e.RefundID // refund ids are unique; two refunds of one order are two events
		}
		ev := Event{ID: id, Type: typ, TS: e.At, CustomerID: e.CustomerID, OrderID: e.OrderID,
			Amount: e.Amount, UTMSource: e.Channel}
		ev.Lines = eventLines(e.Lines) // skus.go
		if e.CustomerID == "" {
			ev.AnonymousID = "order:" + e.OrderID // a guest order still counts in the counters
		}
		if typ == OrderPaid {
			ev.Discount = e.Discount
		}
		if _, _, rej, err := in.Ingest(context.WithoutCancel(ctx), e.ShopID, []Event{ev}, true); err != nil || len(rej) > 0 {
			log.Error("order event not recorded", "order", e.OrderID, "kind", e.Kind, "err", err, "rejected", rej)
		}
	})
}

// ShopLocation returns the shop's time zone from commerce (UTC when unset
// or unknown). Zones are loaded once: time.LoadLocation reads the zone
// database on every call, too slow for every ingested batch.
func ShopLocation(svc *commerce.Service) func(context.Context, string) (*time.Location, error) {
	var zones sync.Map // name → *time.Location
	return func(ctx context.Context, shopID string) (*time.Location, error) {
		shop, err := svc.Shop(ctx, shopID)
		if err != nil {
			return nil, err
		}
		if v, ok := zones.Load(shop.TimeZone); ok {
			return v.(*time.Location), nil
		}
		loc, err := time.LoadLocation(shop.TimeZone)
		if err != nil {
			loc = time.UTC
		}
		zones.Store(shop.TimeZone, loc)
		return loc, nil
	}
}
