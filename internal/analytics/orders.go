package analytics

import (
	"context"
	"log/slog"
	"strconv"
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
		if typ == "" || e.CustomerID == "" {
			return
		}
		ev := Event{ID: e.OrderID + ":" + e.Kind + ":" + strconv.Itoa(e.Seq), Type: typ, TS: e.At, CustomerID: e.CustomerID, OrderID: e.OrderID,
			Amount: e.Amount, UTMSource: e.Channel}
		if typ == OrderPaid {
			ev.Discount = e.Discount
		}
		if _, _, rej, err := in.Ingest(context.WithoutCancel(ctx), e.ShopID, []Event{ev}, true); err != nil || len(rej) > 0 {
			log.Error("order event not recorded", "order", e.OrderID, "kind", e.Kind, "err", err, "rejected", rej)
		}
	})
}

// ShopLocation returns the shop's time zone from commerce (UTC when unset).
func ShopLocation(svc *commerce.Service) func(context.Context, string) (*time.Location, error) {
	return func(ctx context.Context, shopID string) (*time.Location, error) {
		shop, err := svc.Shop(ctx, shopID)
		if err != nil {
			return nil, err
		}
		loc, err := time.LoadLocation(shop.TimeZone)
		if err != nil {
			return time.UTC, nil
		}
		return loc, nil
	}
}
