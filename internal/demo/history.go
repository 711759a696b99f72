package demo

import (
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/diurnal"
)

// Orders per day per customer on an ordinary weekday: 3000 customers make
// about 30 orders a day before seasonality.
const ordersPerCustomerDay = 1.0 / 100

var channels = []string{"app", "wechat_mp", "douyin_live", "h5", "web"}
var channelWeights = []float64{40, 30, 12, 10, 8}

var (
	returnReasons = []string{"七天无理由退货 no_reason_return", "尺码不合适 wrong_size", "颜色与描述不符 not_as_described", "不想要了 changed_mind"}
	refundReasons = []string{"商品破损 damaged", "少件漏发 missing_item", "质量问题 quality_issue"}
)

type lineRef struct {
	sku int
	qty int64
}

// orderPlan is one order's whole life; a zero time means the step does not
// happen before the present.
type orderPlan struct {
	at           time.Time
	customer     int
	lines        []lineRef
	channel      string
	campaign     string // utm_campaign, inside the 双11 campaign's window
	payAt        time.Time
	cancelAt     time.Time
	cancelReason string
	fulfilAt     time.Time
	refundAt     time.Time
	refund       []commerce.RefundRequestLine
	returnStock  bool
	refundReason string
	id           string
	// The 双11 window's orders are priced by the promotion engine; some
	// claim a 双11 coupon (and use it: couponCode).
	promoted   bool
	d11Coupon  int
	couponCode string
}

type eventKind int

const (
	evCustomers eventKind = iota
	evPoints
	evRestock
	evPlace
	evPay
	evCancel
	evFulfil
	evRefund
	evPromos    // the 双11 promotions are created
	evEndPromos // … and ended
	evClaim     // a 双11 coupon is claimed for an order's customer
)

// event is one call to the service at a moment of the history: ref indexes
// the batch, customer, SKU or order; sub the points grant.
type event struct {
	at   time.Time
	kind eventKind
	ref  int
	sub  int
}

// dayFactor is the seasonality of one shop-local day: the big sales and
// their warm-up, a few smaller festivals, busier weekends.
func dayFactor(d time.Time) float64 {
	f := 1.0
	switch m, day := d.Month(), d.Day(); {
	case m == time.November && day == 11: // 双11
		f = 6
	case m == time.November && day < 11: // 双11 warm-up and first wave
		f = 1.5
	case m == time.November && day == 12: // 返场
		f = 1.6
	case m == time.June && day == 18: // 618
		f = 4
	case m == time.June && day < 18:
		f = 1.3
	case m == time.December && day == 12: // 双12
		f = 2.5
	case m == time.March && day == 8: // 女王节
		f = 2
	case m == time.May && day == 20:
		f = 1.4
	}
	if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
		f *= 1.25
	}
	return f
}

// hourCurve is the day's diurnal curve; on 双11 and 618 the first hours
// after midnight carry the opening rush.
func hourCurve(d time.Time) []float64 {
	w := diurnal.Hours
	if (d.Month() == time.November && d.Day() == 11) || (d.Month() == time.June && d.Day() == 18) {
		w[0] *= 12
		w[1] *= 5
		w[2] *= 2
	}
	return w[:]
}

// sampler draws indexes in proportion to cumulative weights.
type sampler struct{ cum []float64 }

func newSampler(w []float64) sampler {
	s := sampler{cum: make([]float64, len(w))}
	var sum float64
	for i, x := range w {
		sum += x
		s.cum[i] = sum
	}
	return s
}

// pick draws from the first n entries (all when n < 0); -1 if they weigh nothing.
func (s sampler) pick(r *rand.Rand, n int) int {
	if n < 0 || n > len(s.cum) {
		n = len(s.cum)
	}
	if n == 0 || s.cum[n-1] <= 0 {
		return -1
	}
	u := r.Float64() * s.cum[n-1]
	return sort.Search(n, func(i int) bool { return s.cum[i] > u })
}

func poisson(r *rand.Rand, lambda float64) int {
	if lambda > 30 {
		return max(0, int(math.Round(lambda+math.Sqrt(lambda)*r.NormFloat64())))
	}
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// planOrders plans every order between start and now in shop time (loc).
func planOrders(r *rand.Rand, cat *catalogPlan, cs []customerPlan, start, now time.Time, loc *time.Location, timeout time.Duration) []orderPlan {
	all := make([]float64, len(cat.skus))
	byTop := make([][]float64, len(tops))
	for t := range byTop {
		byTop[t] = make([]float64, len(cat.skus))
	}
	for i, k := range cat.skus {
		all[i] = k.weight
		byTop[k.top][i] = k.weight
	}
	skuAll := newSampler(all)
	skuTop := make([]sampler, len(tops))
	for t := range tops {
		skuTop[t] = newSampler(byTop[t])
	}
	cw := make([]float64, len(cs))
	for i, c := range cs {
		cw[i] = c.weight
	}
	custs := newSampler(cw)

	base := float64(len(cs)) * ordersPerCustomerDay
	span := now.Sub(start)
	var orders []orderPlan
	s := start.In(loc)
	for day := time.Date(s.Year(), s.Month(), s.Day(), 0, 0, 0, 0, loc); day.Before(now); day = day.AddDate(0, 0, 1) {
		trend := 0.85 + 0.3*float64(day.Sub(start))/float64(span)
		n := poisson(r, base*trend*dayFactor(day))
		hours := newSampler(hourCurve(day))
		var times []time.Time
		for range n {
			h := hours.pick(r, -1)
			t := day.Add(time.Duration(h)*time.Hour + time.Duration(r.IntN(3600))*time.Second)
			if t.After(start) && t.Before(now) {
				times = append(times, t)
			}
		}
		sort.Slice(times, func(a, b int) bool { return times[a].Before(times[b]) })
		for _, t := range times {
			joined := sort.Search(len(cs), func(i int) bool { return !cs[i].joinAt.Before(t) })
			c := custs.pick(r, joined)
			if c < 0 {
				continue
			}
			o := orderPlan{at: t.UTC(), customer: c, channel: channels[pickWeighted(r, channelWeights)]}
			nLines := pickWeighted(r, []float64{60, 25, 10, 5}) + 1
			seen := map[int]bool{}
			for tries := 0; len(o.lines) < nLines && tries < 3*nLines; tries++ {
				k := -1
				if r.IntN(2) == 0 {
					k = skuTop[cs[c].fav].pick(r, -1)
				}
				if k < 0 {
					k = skuAll.pick(r, -1)
				}
				if k < 0 || seen[k] {
					continue
				}
				seen[k] = true
				qty := int64(1)
				if mq := cat.skus[k].maxQty; mq > 1 && r.IntN(100) < 25 {
					qty = 2 + r.Int64N(mq-1)
				}
				o.lines = append(o.lines, lineRef{sku: k, qty: qty})
			}
			if len(o.lines) == 0 {
				continue
			}
			planLife(r, &o, now, timeout)
			orders = append(orders, o)
		}
	}
	return orders
}

// planLife decides what happens to an order after it is placed: about 3.5 %
// are cancelled by the customer, 6.5 % time out unpaid, the rest are paid
// within minutes, shipped within two days and now and then refunded in part.
func planLife(r *rand.Rand, o *orderPlan, now time.Time, timeout time.Duration) {
	before := func(t time.Time) time.Time {
		if t.Before(now) {
			return t
		}
		return time.Time{}
	}
	switch x := r.IntN(1000); {
	case x < 35:
		o.cancelAt = before(o.at.Add(time.Duration(20+r.IntN(600)) * time.Second))
		o.cancelReason = "customer_cancelled"
		return
	case x < 100:
		o.cancelAt = before(o.at.Add(timeout + time.Duration(1+r.IntN(90))*time.Second))
		o.cancelReason = "payment_timeout"
		return
	}
	delay := time.Duration(math.Exp(math.Log(60)+r.NormFloat64()) * float64(time.Second))
	delay = min(max(delay, 5*time.Second), timeout-time.Minute)
	if o.payAt = before(o.at.Add(delay)); o.payAt.IsZero() {
		return
	}
	if o.fulfilAt = before(o.payAt.Add(time.Duration(4*3600+r.IntN(44*3600)) * time.Second)); o.fulfilAt.IsZero() {
		return
	}
	var units int64
	for _, l := range o.lines {
		units += l.qty
	}
	switch {
	case units > 1 && r.IntN(100) < 10:
		// A partial refund: one line of several, or some units of one line.
		if len(o.lines) > 1 {
			i := r.IntN(len(o.lines))
			o.refund = []commerce.RefundRequestLine{{No: i + 1, Quantity: o.lines[i].qty}}
		} else {
			o.refund = []commerce.RefundRequestLine{{No: 1, Quantity: 1 + r.Int64N(o.lines[0].qty-1)}}
		}
	case units == 1 && r.IntN(100) < 2:
		o.refund = []commerce.RefundRequestLine{{No: 1, Quantity: 1}}
	default:
		return
	}
	o.refundAt = before(o.fulfilAt.Add(time.Duration(24*3600+r.IntN(9*24*3600)) * time.Second))
	if o.refundAt.IsZero() {
		o.refund = nil
		return
	}
	o.returnStock = r.IntN(100) < 70
	if o.returnStock {
		o.refundReason = returnReasons[r.IntN(len(returnReasons))]
	} else {
		o.refundReason = refundReasons[r.IntN(len(refundReasons))]
	}
}

// planStock replays the history's stock moves in time order and sets each
// SKU's opening stock and one mid-history restock so that stock never runs
// short and ends at the SKU's target where the history allows.
func planStock(r *rand.Rand, cat *catalogPlan, orders []orderPlan, events []event, start, now time.Time) []event {
	n := len(cat.skus)
	run, low, lowBefore := make([]int64, n), make([]int64, n), make([]int64, n)
	restockAt := make([]time.Time, n)
	for i := range restockAt {
		restockAt[i] = start.Add(time.Duration((0.3 + 0.4*r.Float64()) * float64(now.Sub(start))))
	}
	move := func(k int, d int64, at time.Time) {
		run[k] += d
		low[k] = min(low[k], run[k])
		if at.Before(restockAt[k]) {
			lowBefore[k] = min(lowBefore[k], run[k])
		}
	}
	for _, ev := range events {
		switch ev.kind {
		case evPlace:
			for _, l := range orders[ev.ref].lines {
				move(l.sku, -l.qty, ev.at)
			}
		case evCancel:
			for _, l := range orders[ev.ref].lines {
				move(l.sku, l.qty, ev.at)
			}
		case evRefund:
			if o := &orders[ev.ref]; o.returnStock {
				for _, rl := range o.refund {
					move(o.lines[rl.No-1].sku, rl.Quantity, ev.at)
				}
			}
		}
	}
	for k := range cat.skus {
		sp := &cat.skus[k]
		total := max(sp.target-run[k], -low[k])
		sp.initial = total
		if sold := -low[k]; sold >= 20 {
			// Open with enough for the first part of the history and a
			// share of the rest; the remainder arrives as one purchase.
			first := max(-lowBefore[k], int64(float64(total)*(0.3+0.3*r.Float64())))
			if total-first >= 10 {
				sp.initial, sp.restock = first, total-first
				events = append(events, event{at: restockAt[k], kind: evRestock, ref: k})
			}
		}
	}
	sortEvents(events)
	return events
}

// sortEvents orders events by time, keeping the order of simultaneous ones.
func sortEvents(evs []event) {
	sort.SliceStable(evs, func(a, b int) bool { return evs[a].at.Before(evs[b].at) })
}
