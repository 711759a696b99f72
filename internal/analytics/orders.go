package analytics

import (
	"context"
	"log/slog"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
)

// FromOrders feeds the order flow's events into the rollups: orders and
// payments count in the same counters and facts as storefront events.
// Event ids derive from the order, so a retried notification counts once.
func FromOrders(svc *commerce.Service, in *Ingestor, log *slog.Logger) {
	svc.OnOrderEvent(func(ctx context.Context, e commerce.OrderEvent) {
		ev, ok := orderEvent(e)
		if !ok {
			return
		}
		if _, _, rej, err := in.Ingest(context.WithoutCancel(ctx), e.ShopID, []Event{ev}, true); err != nil || len(rej) > 0 {
			log.Error("order event not recorded", "order", e.OrderID, "kind", e.Kind, "err", err, "rejected", rej)
		}
	})
}

var orderKinds = map[string]string{commerce.OrderEventPlaced: OrderPlaced, commerce.OrderEventPaid: OrderPaid,
	commerce.OrderEventCancelled: OrderCancelled, commerce.OrderEventRefunded: OrderRefunded}

// orderEvent is the analytics event of an order event, with an id derived
// from the order (or the refund), the same every time it is told.
func orderEvent(e commerce.OrderEvent) (Event, bool) {
	typ := orderKinds[e.Kind]
	if typ == "" {
		return Event{}, false
	}
	id := e.OrderID + ":" + e.Kind
	if e.RefundID != "" {
		id = e.RefundID // refund ids are unique; two refunds of one order are two events
	}
	ev := Event{ID: id, Type: typ, TS: e.At, CustomerID: e.CustomerID, OrderID: e.OrderID,
		Amount: e.Amount, UTMSource: e.Channel, UTMCampaign: e.Campaign, BalanceOf: e.BalanceOf}
	ev.Lines = eventLines(e.Lines) // skus.go
	if e.CustomerID == "" {
		ev.AnonymousID = "order:" + e.OrderID // a guest order still counts in the counters
	}
	if typ == OrderPaid {
		ev.Discount = e.Discount
	}
	return ev, true
}

// Reconciled is what ReconcileOrders did.
type Reconciled struct {
	Events  int // order events told again
	Added   int // of those, the ones that had been lost
	TooOld  int // refused: older than MaxPast by the time they were ingested
	Refused int // refused for any other reason (logged)
}

// ReconcileOrders tells the ingestor again every order event since since
// (placed, paid, cancelled, refunded), with the ids FromOrders gives them:
// the ones already stored are dropped as duplicates, the ones a crash lost
// between an order's commit and its notification are added. Call it at
// start, after NewIngestor, with since no older than MaxPast.
func ReconcileOrders(ctx context.Context, svc *commerce.Service, in *Ingestor, since time.Time, log *slog.Logger) (Reconciled, error) {
	var out Reconciled
	// Lines are not read back: events restored here miss the SKU rollups
	// (reading every order of the week again would slow a restart at peak).
	err := replayOrders(ctx, svc, since, false, nil, func(shop string, part []Event) error {
		acc, dups, rej, err := in.Ingest(ctx, shop, part, true)
		if err != nil {
			return err
		}
		out.Events += len(part)
		out.Added += acc - dups
		for _, r := range rej {
			if r.Code == "too_old" {
				out.TooOld++
				continue
			}
			out.Refused++
			log.Error("order event not reconciled", "shop", shop, "event", part[r.Index].ID, "field", r.Field, "code", r.Code)
		}
		return nil
	})
	return out, err
}

// ShopLocation returns the shop's time zone from commerce (UTC when unset
// or unknown). Zones are loaded once: time.LoadLocation reads the zone
// database on every call, too slow for every ingested batch.
func ShopLocation(svc *commerce.Service) func(context.Context, string) (*time.Location, error) {
	return svc.ShopLocation
}
