package analytics

import (
	"context"

	"github.com/carnivalhq/carnival/internal/commerce"
)

// SKUDayKey names one SKU's day in one channel and campaign.
type SKUDayKey struct {
	ShopID            string
	Day               int64
	SKUID             string
	Channel, Campaign string
}

// SKUDay are one SKU's facts of one day: product views and add-to-carts
// from storefront events, orders (placed orders holding the SKU), units
// and GMV (their lines' quantity and payable) from order_placed, paid units
// and paid amount from order_paid. Amounts are fen.
type SKUDay struct {
	ProductViews, Carts, Orders, Units, GMV, PaidUnits, PaidAmount int64
}

func (s *SKUDay) add(o SKUDay) {
	s.ProductViews += o.ProductViews
	s.Carts += o.Carts
	s.Orders += o.Orders
	s.Units += o.Units
	s.GMV += o.GMV
	s.PaidUnits += o.PaidUnits
	s.PaidAmount += o.PaidAmount
}

func (d *Delta) sku(k SKUDayKey) *SKUDay {
	p := d.SKUDays[k]
	if p == nil {
		p = &SKUDay{}
		d.SKUDays[k] = p
	}
	return p
}

// addSKUs folds an event's SKU facts into the delta.
func (d *Delta) addSKUs(shopID string, day int64, e *Event) {
	key := func(sku string) SKUDayKey { return SKUDayKey{shopID, day, sku, e.UTMSource, e.UTMCampaign} }
	switch e.Type {
	case ProductView:
		d.sku(key(e.SKUID)).ProductViews++
	case AddToCart:
		d.sku(key(e.SKUID)).Carts++
	case OrderPlaced:
		seen := map[string]bool{}
		for _, l := range e.Lines {
			s := d.sku(key(l.SKUID))
			if !seen[l.SKUID] { // an order holding a SKU on two lines is one order of it
				seen[l.SKUID] = true
				s.Orders++
			}
			s.Units += l.Quantity
			s.GMV += l.Amount
		}
	case OrderPaid:
		for _, l := range e.Lines {
			s := d.sku(key(l.SKUID))
			s.PaidUnits += l.Quantity
			s.PaidAmount += l.Amount
		}
	}
}

func (d *Delta) mergeSKUs(o *Delta) {
	for k, v := range o.SKUDays {
		if p := d.SKUDays[k]; p != nil {
			p.add(*v)
		} else {
			d.SKUDays[k] = v
		}
	}
}

// eventLines copies an order event's lines.
func eventLines(ls []commerce.OrderEventLine) []EventLine {
	if len(ls) == 0 {
		return nil
	}
	out := make([]EventLine, len(ls))
	for i, l := range ls {
		out[i] = EventLine{SKUID: l.SKUID, Quantity: l.Quantity, Amount: l.Amount}
	}
	return out
}

// Top-SKU orderings.
const (
	BySKUPaidAmount   = "paid_amount"
	BySKUUnits        = "units"
	BySKUProductViews = "product_views"
	BySKUCarts        = "carts"
)

// SKURow is one SKU's facts over a period, with its catalog names when the
// SKU is in the catalog.
type SKURow struct {
	SKUID        string `json:"sku_id"`
	ProductID    string `json:"product_id,omitempty"`
	ProductName  string `json:"product_name,omitempty"`
	SKUName      string `json:"sku_name,omitempty"`
	ProductViews int64  `json:"product_views"`
	Carts        int64  `json:"carts"`
	Orders       int64  `json:"orders" doc:"orders placed holding the SKU"`
	Units        int64  `json:"units" doc:"units ordered (placed)"`
	GMV          int64  `json:"gmv" doc:"payable of the SKU's lines in orders placed, fen"`
	PaidUnits    int64  `json:"paid_units"`
	PaidAmount   int64  `json:"paid_amount" doc:"payable of the SKU's lines in orders paid, fen"`
	ViewToCartBP *int64 `json:"view_to_cart_bp,omitempty" doc:"carts / product views, bp; absent without views"`
	ViewToPaidBP *int64 `json:"view_to_paid_bp,omitempty" doc:"paid units / product views, bp; absent without views"`
}

// TopSKUs returns the first limit SKUs of p by the ordering by (largest
// first, ties by SKU id), with their rates.
func (v Views) TopSKUs(ctx context.Context, shopID string, p Period, f Filter, by string, limit int) ([]SKURow, error) {
	rows, err := v.St.TopSKUs(ctx, shopID, DayNum(p.From), DayNum(p.To), f, by, limit)
	if err != nil {
		return nil, err
	}
	for i := range rows {
		rows[i].ViewToCartBP = Ratio(rows[i].Carts, rows[i].ProductViews, 10000)
		rows[i].ViewToPaidBP = Ratio(rows[i].PaidUnits, rows[i].ProductViews, 10000)
	}
	return rows, nil
}
