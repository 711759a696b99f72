package analytics

import (
	"context"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
)

// Backfill stores events of any age for shopID: it validates them as
// Ingest does for the order flow (server types admitted) but without the
// MaxPast and MaxFuture limits, and takes the same durable path (raw
// events, then the rollups through the writer and the in-memory delta).
// Ids still deduplicate, so a backfill told twice counts once. It is for
// imports and the demo shop's history, never exposed over HTTP: a client
// could otherwise rewrite the past the dashboards compare against.
func (in *Ingestor) Backfill(ctx context.Context, shopID string, evs []Event) (accepted int, rejected []Rejection, err error) {
	accepted, _, rejected, err = in.ingest(ctx, shopID, evs, true, false)
	return accepted, rejected, err
}

// BackfillOrders backfills every order event since since (placed, paid,
// cancelled, refunded) at its real time, converted exactly as FromOrders
// and ReconcileOrders convert them (same ids, so the three never double
// count). It returns how many events were stored or already there, and
// how many were refused. The replay does not read order lines, so the
// lines of placed and paid events are read order by order (SKU rollups
// need them); each, when set, sees every order event as backfilled.
func BackfillOrders(ctx context.Context, svc *commerce.Service, in *Ingestor, since time.Time, each func(commerce.OrderEvent)) (accepted, refused int, err error) {
	err = replayOrders(ctx, svc, since, true, each, func(shop string, evs []Event) error {
		acc, rej, err := in.Backfill(ctx, shop, evs)
		accepted += acc
		refused += len(rej)
		return err
	})
	return accepted, refused, err
}

// replayOrders replays the order events since since, converted as
// FromOrders converts them, and sends them shop by shop in batches of at
// most MaxBatch. withLines reads the lines of placed and paid events
// order by order (the replay does not carry them); each, when set, sees
// every order event first.
func replayOrders(ctx context.Context, svc *commerce.Service, since time.Time, withLines bool, each func(commerce.OrderEvent), send func(shop string, evs []Event) error) error {
	return svc.ReplayOrderEvents(ctx, since, func(batch []commerce.OrderEvent) error {
		byShop := map[string][]Event{}
		var shops []string
		lines := map[string][]commerce.OrderEventLine{}
		for _, e := range batch {
			if withLines && len(e.Lines) == 0 && (e.Kind == commerce.OrderEventPlaced || e.Kind == commerce.OrderEventPaid) {
				ls, ok := lines[e.OrderID]
				if !ok {
					o, err := svc.Order(ctx, e.ShopID, e.OrderID)
					if err != nil {
						return err
					}
					for _, l := range o.Lines {
						ls = append(ls, commerce.OrderEventLine{SKUID: l.SKUID, Quantity: l.Quantity, Amount: int64(l.Payable)})
					}
					lines[e.OrderID] = ls
				}
				e.Lines = ls
			}
			if each != nil {
				each(e)
			}
			ev, ok := orderEvent(e)
			if !ok {
				continue
			}
			if _, seen := byShop[e.ShopID]; !seen {
				shops = append(shops, e.ShopID)
			}
			byShop[e.ShopID] = append(byShop[e.ShopID], ev)
		}
		for _, shop := range shops {
			evs := byShop[shop]
			for lo := 0; lo < len(evs); lo += MaxBatch {
				if err := send(shop, evs[lo:min(lo+MaxBatch, len(evs))]); err != nil {
					return err
				}
			}
		}
		return nil
	})
}
