package commerce

import (
	"context"
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
	disc := int64(o.ItemDiscount + o.OrderDiscount + o.CouponDiscount + o.PointsDiscount + o.ShippingDiscount)
	e := OrderEvent{Kind: kind, ShopID: shopID, OrderID: o.ID, CustomerID: o.CustomerID, Channel: o.Channel, Amount: amount, Discount: disc, At: at, RefundID: refundID}
	if len(o.Lines) > 0 {
		e.Lines = make([]OrderEventLine, len(o.Lines))
		for i, l := range o.Lines {
			e.Lines[i] = OrderEventLine{SKUID: l.SKUID, Quantity: l.Quantity, Amount: int64(l.Payable)}
		}
	}
	for _, fn := range s.orderEvents {
		fn(ctx, e)
	}
}
