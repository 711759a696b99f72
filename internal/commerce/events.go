package commerce

import (
	"context"
	"fmt"
	"time"
)

// Order event kinds.
const (
	OrderEventPlaced    = "placed"
	OrderEventPaid      = "paid"
	OrderEventCancelled = "cancelled"
	OrderEventRefunded  = "refunded"
)

// OrderEvent is what happened to an order, told after it committed.
// Amount is the payable (placed, paid) or the amount refunded (refunded);
// Discount is every discount of the order (paid).
type OrderEvent struct {
	Kind, ShopID, OrderID, CustomerID, Channel string
	Amount, Discount                           int64
	At                                         time.Time
	// RefundID names the refund (refunded), so two refunds of one order
	// are two events and a repeated notification is one.
	RefundID string
	// Campaign is the order's UTM campaign (Channel is its UTM source).
	Campaign string
	// BalanceOf is the deposit order a presale's balance order pays the
	// rest of: the two orders are one purchase.
	BalanceOf string
	// Lines are the order's lines (placed, paid: what top-SKU reports count).
	Lines []OrderEventLine
}

// OrderEventLine is one line of the order told about: Amount is the line's
// payable share in fen (list amount less every discount).
type OrderEventLine struct {
	SKUID    string
	Quantity int64
	Amount   int64
}

// OnOrderEvent registers fn to be told about orders placed, paid,
// cancelled and refunded, after each commits (analytics rollups listen).
// Register before serving.
func (s *Service) OnOrderEvent(fn func(ctx context.Context, e OrderEvent)) {
	s.orderEvents = append(s.orderEvents, fn)
}

func (s *Service) emit(ctx context.Context, kind, shopID string, o *Order, amount int64, at time.Time, refundID string) {
	if o == nil || len(s.orderEvents) == 0 {
		return
	}
	e := orderEvent(kind, shopID, o, amount, at, refundID)
	for _, fn := range s.orderEvents {
		fn(ctx, e)
	}
}

func orderEvent(kind, shopID string, o *Order, amount int64, at time.Time, refundID string) OrderEvent {
	disc := int64(o.ItemDiscount + o.OrderDiscount + o.CouponDiscount + o.PointsDiscount + o.ShippingDiscount)
	e := OrderEvent{Kind: kind, ShopID: shopID, OrderID: o.ID, CustomerID: o.CustomerID, Channel: o.Channel, Amount: amount, Discount: disc, At: at, RefundID: refundID}
	e.Campaign = o.Campaign
	if len(o.Lines) > 0 {
		e.Lines = make([]OrderEventLine, len(o.Lines))
		for i, l := range o.Lines {
			e.Lines[i] = OrderEventLine{SKUID: l.SKUID, Quantity: l.Quantity, Amount: int64(l.Payable)}
		}
	}
	for _, h := range o.Holds {
		if h.Kind == HoldPresaleBalance {
			e.BalanceOf = h.Ref
		}
	}
	return e
}

// emitCancelled tells listeners that an order the service cancelled
// without a caller waiting (the payment timeout) is cancelled.
func (s *Service) emitCancelled(ctx context.Context, shopID, id string) {
	if len(s.orderEvents) == 0 {
		return
	}
	o, err := s.Order(ctx, shopID, id)
	if err != nil || o.CancelledAt == nil {
		return // the event is rebuilt by ReplayOrderEvents at the next start
	}
	s.emit(ctx, OrderEventCancelled, shopID, o, int64(o.Payable), *o.CancelledAt, "")
}

// replayPage is how many orders or refunds ReplayOrderEvents reads at once.
const replayPage = 500

// ReplayOrderEvents calls fn with the events of every order placed, paid,
// cancelled or refunded at or after since, as they were told when each
// happened (same kind, amounts, time and refund id). Events are told after
// their transaction commits, so a crash in between loses one: replaying
// them into an idempotent listener restores what was lost. fn returns an
// error to stop.
func (s *Service) ReplayOrderEvents(ctx context.Context, since time.Time, fn func(batch []OrderEvent) error) error {
	since = since.UTC()
	for after := ""; ; {
		orders, err := s.store.OrdersSince(ctx, since, after, replayPage)
		if err != nil {
			return fmt.Errorf("replay orders: %w", err)
		}
		if len(orders) == 0 {
			break
		}
		var batch []OrderEvent
		for i := range orders {
			o := &orders[i]
			if !o.CreatedAt.Before(since) {
				batch = append(batch, orderEvent(OrderEventPlaced, o.ShopID, o, int64(o.Payable), o.CreatedAt, ""))
			}
			if o.PaidAt != nil && !o.PaidAt.Before(since) {
				batch = append(batch, orderEvent(OrderEventPaid, o.ShopID, o, int64(o.Payable), *o.PaidAt, ""))
			}
			if o.CancelledAt != nil && !o.CancelledAt.Before(since) {
				batch = append(batch, orderEvent(OrderEventCancelled, o.ShopID, o, int64(o.Payable), *o.CancelledAt, ""))
			}
		}
		if err := fn(batch); err != nil {
			return err
		}
		after = orders[len(orders)-1].ID
	}
	for after := ""; ; {
		refunds, err := s.store.RefundsSince(ctx, since, after, replayPage)
		if err != nil {
			return fmt.Errorf("replay refunds: %w", err)
		}
		if len(refunds) == 0 {
			return nil
		}
		batch := make([]OrderEvent, len(refunds))
		for i, r := range refunds {
			batch[i] = OrderEvent{Kind: OrderEventRefunded, ShopID: r.ShopID, OrderID: r.OrderID, CustomerID: r.CustomerID, Channel: r.Channel,
				Amount: r.Amount, At: r.At, RefundID: r.ID, Campaign: r.Campaign}
		}
		if err := fn(batch); err != nil {
			return err
		}
		after = refunds[len(refunds)-1].ID
	}
}
