package analytics

import "time"

// Grains of the counter rollups. Buckets are integers of shop-local time:
// YYYYMMDDHHMM, YYYYMMDDHH, YYYYMMDD.
const (
	Minute = "m"
	Hour   = "h"
	Day    = "d"
)

// Counters are the additive facts of one bucket × channel × campaign.
type Counters struct {
	PV, ProductViews, Carts, Checkouts, Searches, Shares int64
	Orders, GMV, PaidOrders, PaidAmount                  int64
	Refunds, Discount                                    int64
	// Orders cancelled unpaid and their payable.
	CancelledOrders, CancelledAmount int64
}

// Add adds o to c, field by field.
func (c *Counters) Add(o Counters) {
	c.PV += o.PV
	c.ProductViews += o.ProductViews
	c.Carts += o.Carts
	c.Checkouts += o.Checkouts
	c.Searches += o.Searches
	c.Shares += o.Shares
	c.Orders += o.Orders
	c.GMV += o.GMV
	c.PaidOrders += o.PaidOrders
	c.PaidAmount += o.PaidAmount
	c.Refunds += o.Refunds
	c.Discount += o.Discount
	c.CancelledOrders += o.CancelledOrders
	c.CancelledAmount += o.CancelledAmount
}

// RollupKey names one counter row.
type RollupKey struct {
	ShopID, Grain     string
	Bucket            int64
	Channel, Campaign string
}

// Funnel steps, as bits of a visitor-day row.
const (
	StepVisit = 1 << iota
	StepProduct
	StepCart
	StepOrder
	StepPaid
)

// VisitorDayKey names one visitor's day in one channel and campaign.
type VisitorDayKey struct {
	ShopID            string
	Day               int64
	Visitor           string
	Channel, Campaign string
}

// CustomerDayKey names one customer's day in one channel and campaign.
type CustomerDayKey struct {
	ShopID            string
	Day               int64
	CustomerID        string
	Channel, Campaign string
}

// CustomerDay are a customer's order facts of one day.
type CustomerDay struct{ Orders, PaidOrders, PaidAmount int64 }

// FirstPaid is when a customer first paid, by local day.
type FirstPaid struct {
	Day               int64
	Channel, Campaign string
	// TS is the payment's time (Unix µs): of two payments on one day the
	// earlier is the first, whatever order they arrive or flush in (nodes
	// flush in no particular order), and then the smaller channel and
	// campaign.
	TS int64
}

// Before reports whether f is an earlier first payment than o.
func (f FirstPaid) Before(o FirstPaid) bool {
	if f.Day != o.Day {
		return f.Day < o.Day
	}
	if f.TS != o.TS {
		return f.TS < o.TS
	}
	if f.Channel != o.Channel {
		return f.Channel < o.Channel
	}
	return f.Campaign < o.Campaign
}

// Link joins an anonymous visitor to a customer.
type Link struct{ ShopID, Anon string }

// Delta is what a set of events adds to the rollups: everything here is
// merged into the stored rows by addition (counters, customer days), OR
// (visitor-day steps), first-wins (links) or minimum (first paid day), so
// applying deltas in any grouping gives the same rows.
type Delta struct {
	Counters     map[RollupKey]*Counters
	VisitorDays  map[VisitorDayKey]int64
	CustomerDays map[CustomerDayKey]*CustomerDay
	Links        map[Link]string
	FirstPaid    map[[2]string]FirstPaid // shop, customer
	SKUDays      map[SKUDayKey]*SKUDay   // skus.go
	MaxSeq       int64
	Events       int
	// Node is the node whose events these are: ApplyDelta moves its
	// watermark to MaxSeq.
	Node string
}

// NewDelta returns an empty delta.
func NewDelta() *Delta {
	return &Delta{Counters: map[RollupKey]*Counters{}, VisitorDays: map[VisitorDayKey]int64{}, CustomerDays: map[CustomerDayKey]*CustomerDay{},
		Links: map[Link]string{}, FirstPaid: map[[2]string]FirstPaid{}, SKUDays: map[SKUDayKey]*SKUDay{}}
}

// Empty reports whether the delta adds nothing.
func (d *Delta) Empty() bool { return d.Events == 0 }

// LocalBuckets returns the minute, hour and day buckets of t in loc.
func LocalBuckets(t time.Time, loc *time.Location) (minute, hour, day int64) {
	l := t.In(loc)
	day = int64(l.Year())*10000 + int64(l.Month())*100 + int64(l.Day())
	hour = day*100 + int64(l.Hour())
	minute = hour*100 + int64(l.Minute())
	return
}

// Add folds one stored event (seq is its storage sequence) into the delta.
func (d *Delta) Add(shopID string, loc *time.Location, e *Event, seq int64) {
	d.Events++
	if seq > d.MaxSeq {
		d.MaxSeq = seq
	}
	var c Counters
	step := int64(0)
	// A presale's balance order continues its deposit order's purchase:
	// its amounts count, the purchase was counted once already.
	purchase := int64(1)
	if e.BalanceOf != "" {
		purchase = 0
	}
	switch e.Type {
	case PageView:
		c.PV, step = 1, StepVisit
	case ProductView:
		c.ProductViews, step = 1, StepVisit|StepProduct
	case AddToCart:
		c.Carts, step = 1, StepVisit|StepCart
	case CheckoutStart:
		c.Checkouts, step = 1, StepVisit
	case Search:
		c.Searches, step = 1, StepVisit
	case Share:
		c.Shares, step = 1, StepVisit
	case OrderPlaced:
		c.Orders, c.GMV, step = purchase, e.Amount, StepOrder
	case OrderPaid:
		c.PaidOrders, c.PaidAmount, c.Discount, step = purchase, e.Amount, e.Discount, StepPaid
	case OrderCancelled:
		c.CancelledOrders, c.CancelledAmount = purchase, e.Amount
	case OrderRefunded:
		c.Refunds = e.Amount
	}
	m, h, day := LocalBuckets(e.TS, loc)
	ch, cp := e.UTMSource, e.UTMCampaign
	for _, k := range []RollupKey{{shopID, Minute, m, ch, cp}, {shopID, Hour, h, ch, cp}, {shopID, Day, day, ch, cp}} {
		if p := d.Counters[k]; p != nil {
			p.Add(c)
		} else {
			cc := c
			d.Counters[k] = &cc
		}
	}
	d.addSKUs(shopID, day, e)
	if step != 0 {
		k := VisitorDayKey{shopID, day, e.Visitor(), ch, cp}
		d.VisitorDays[k] |= step
	}
	if e.CustomerID != "" && e.AnonymousID != "" {
		l := Link{shopID, "a:" + e.AnonymousID}
		if _, ok := d.Links[l]; !ok {
			d.Links[l] = "c:" + e.CustomerID
		}
	}
	if e.CustomerID != "" && (e.Type == OrderPlaced || e.Type == OrderPaid) {
		k := CustomerDayKey{shopID, day, e.CustomerID, ch, cp}
		cd := d.CustomerDays[k]
		if cd == nil {
			cd = &CustomerDay{}
			d.CustomerDays[k] = cd
		}
		if e.Type == OrderPlaced {
			cd.Orders += purchase
		} else {
			cd.PaidOrders += purchase
			cd.PaidAmount += e.Amount
			fk := [2]string{shopID, e.CustomerID}
			nf := FirstPaid{day, ch, cp, e.TS.UnixMicro()}
			if f, ok := d.FirstPaid[fk]; !ok || nf.Before(f) {
				d.FirstPaid[fk] = nf
			}
		}
	}
}

// Merge adds o into d (used to keep a delta whose flush failed).
func (d *Delta) Merge(o *Delta) {
	for k, v := range o.Counters {
		if p := d.Counters[k]; p != nil {
			p.Add(*v)
		} else {
			d.Counters[k] = v
		}
	}
	for k, v := range o.VisitorDays {
		d.VisitorDays[k] |= v
	}
	for k, v := range o.CustomerDays {
		if p := d.CustomerDays[k]; p != nil {
			p.Orders += v.Orders
			p.PaidOrders += v.PaidOrders
			p.PaidAmount += v.PaidAmount
		} else {
			d.CustomerDays[k] = v
		}
	}
	for k, v := range o.Links {
		if _, ok := d.Links[k]; !ok {
			d.Links[k] = v
		}
	}
	for k, v := range o.FirstPaid {
		if f, ok := d.FirstPaid[k]; !ok || v.Before(f) {
			d.FirstPaid[k] = v
		}
	}
	d.mergeSKUs(o)
	d.MaxSeq = max(d.MaxSeq, o.MaxSeq)
	d.Events += o.Events
}
