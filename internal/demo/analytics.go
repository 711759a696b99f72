package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"time"

	"github.com/carnivalhq/carnival/internal/analytics"
	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/diurnal"
)

// maxStorefrontEvents bounds the storefront history so seeding stays quick.
const maxStorefrontEvents = 550_000

// AnalyticsResult is what SeedAnalytics stored.
type AnalyticsResult struct {
	OrderEvents      int // order events backfilled
	StorefrontEvents int // visits, page and product views, carts
	Visitors         int
	Took             time.Duration
}

// visitSource is a storefront channel and its weight; inWindow sources
// carry the 双11 campaign code during its window only.
type visitSource struct {
	source, medium string
	weight         float64
	campaignOnly   bool
}

var visitSources = []visitSource{
	{"", "", 30, false}, // direct
	{"app", "", 18, false},
	{"wechat_mp", "cpc", 16, false},
	{"douyin_live", "kol", 12, false},
	{"baidu", "cpc", 9, false},
	{"h5", "", 6, false},
	{"web", "", 5, false},
	{"sms", "sms", 6, true},
	{"wechat_group", "private", 5, true},
}

// SeedAnalytics builds the demo shop's analytics history, which seeding
// the orders through commerce bypasses: every order event since since at
// its real time, and around them the storefront traffic of each day —
// about 25 to 40 visitors per order, each with page and product views and
// sometimes a cart; a customer's order comes with their visit of the day
// under their customer id, so identities link. Everything goes through
// the ingestor's Backfill (events older than the live limit), in batches
// of analytics.MaxBatch, and is flushed before returning. Deterministic
// from seed.
func SeedAnalytics(ctx context.Context, com *commerce.Service, in *analytics.Ingestor, shopID string, since, now time.Time, seed int64) (*AnalyticsResult, error) {
	t0 := time.Now()
	out := &AnalyticsResult{}
	shop, err := com.Shop(ctx, shopID)
	if err != nil {
		return nil, fmt.Errorf("demo analytics: %w", err)
	}
	loc, err := time.LoadLocation(shop.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	type placed struct {
		at                time.Time
		id, customer      string
		channel, campaign string
		skus              []string
	}
	byDay := map[int64][]placed{}
	skuSet := map[string]bool{}
	acc, refused, err := analytics.BackfillOrders(ctx, com, in, since, func(e commerce.OrderEvent) {
		if e.ShopID != shopID || e.Kind != commerce.OrderEventPlaced {
			return
		}
		p := placed{at: e.At, id: e.OrderID, customer: e.CustomerID, channel: e.Channel, campaign: e.Campaign}
		for _, l := range e.Lines {
			p.skus = append(p.skus, l.SKUID)
			skuSet[l.SKUID] = true
		}
		d := analytics.DayNum(e.At.In(loc))
		byDay[d] = append(byDay[d], p)
	})
	if err != nil {
		return nil, fmt.Errorf("demo analytics: orders: %w", err)
	}
	if refused > 0 {
		return nil, fmt.Errorf("demo analytics: %d order events refused", refused)
	}
	out.OrderEvents = acc
	skus := make([]string, 0, len(skuSet))
	for id := range skuSet {
		skus = append(skus, id)
	}
	sort.Strings(skus)
	days := make([]int64, 0, len(byDay))
	total := 0
	for d, ps := range byDay {
		days = append(days, d)
		total += len(ps)
	}
	sort.Slice(days, func(i, j int) bool { return days[i] < days[j] })
	if total == 0 || len(skus) == 0 {
		return out, in.Flush(ctx)
	}
	// About 4 events per visitor: scale the visitors per order down when
	// the history is large.
	perOrder := min(32.0, float64(maxStorefrontEvents)/4/float64(total))
	win := double11(now, loc)
	hours := newSampler(diurnal.Hours[:])
	weights := make([]float64, len(visitSources))

	var buf []analytics.Event
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		acc, rej, err := in.Backfill(ctx, shopID, buf)
		if err != nil {
			return err
		}
		if len(rej) > 0 {
			return fmt.Errorf("storefront event %s refused: %s %s", buf[rej[0].Index].ID, rej[0].Field, rej[0].Code)
		}
		out.StorefrontEvents += acc
		buf = buf[:0]
		return nil
	}
	add := func(e analytics.Event) error {
		buf = append(buf, e)
		if len(buf) >= analytics.MaxBatch {
			return flush()
		}
		return nil
	}
	for _, d := range days {
		r := rand.New(rand.NewPCG(uint64(seed), uint64(d)))
		midnight := time.Date(int(d/10000), time.Month(d/100%100), int(d%100), 0, 0, 0, 0, loc)
		inWin := !midnight.Before(win.start) && midnight.Before(win.end)
		for i, s := range visitSources {
			weights[i] = s.weight
			if s.campaignOnly && !inWin {
				weights[i] = 0
			}
		}
		src := newSampler(weights)
		dayKey := strconv.FormatInt(d, 10)
		visit := func(sess, anon, customer string, at time.Time, s visitSource, campaign string, views []string, cart bool) error {
			base := analytics.Event{AnonymousID: anon, CustomerID: customer, SessionID: sess, UTMSource: s.source,
				UTMMedium: s.medium, UTMCampaign: campaign, Device: "mobile"}
			n := 0
			ev := func(typ, sku string, ts time.Time) error {
				e := base
				e.ID, e.Type, e.SKUID, e.TS = sess+"-"+strconv.Itoa(n), typ, sku, ts
				n++
				return add(e)
			}
			if err := ev(analytics.PageView, "", at); err != nil {
				return err
			}
			for j, sku := range views {
				if err := ev(analytics.ProductView, sku, at.Add(time.Duration(j+1)*40*time.Second)); err != nil {
					return err
				}
			}
			if cart && len(views) > 0 {
				return ev(analytics.AddToCart, views[len(views)-1], at.Add(time.Duration(len(views)+1)*40*time.Second))
			}
			return nil
		}
		ps := byDay[d]
		// The buyers: their visit of the day, under their customer id and
		// the order's channel, a few minutes before the order.
		for _, p := range ps {
			at := p.at.Add(-time.Duration(3+r.IntN(25)) * time.Minute)
			s := visitSource{source: p.channel}
			for _, vs := range visitSources {
				if vs.source == p.channel && p.channel != "" {
					s = vs
				}
			}
			anon := "a-" + p.customer
			if p.customer == "" {
				anon = "a-" + p.id
			}
			if err := visit("s-"+p.id, anon, p.customer, at, s, p.campaign, p.skus, true); err != nil {
				return nil, fmt.Errorf("demo analytics: %w", err)
			}
			out.Visitors++
		}
		// Everyone else who came and did not buy that day.
		n := int(float64(len(ps))*perOrder*(0.8+0.4*r.Float64())) - len(ps)
		for v := 0; v < n; v++ {
			s := visitSources[src.pick(r, -1)]
			campaign := ""
			if inWin && s.source != "" && (s.campaignOnly || r.IntN(10) < 6) {
				campaign = win.code
			}
			at := midnight.Add(time.Duration(hours.pick(r, -1))*time.Hour + time.Duration(r.IntN(3600))*time.Second)
			views := make([]string, r.IntN(4))
			for j := range views {
				views[j] = skus[r.IntN(len(skus))]
			}
			anon := fmt.Sprintf("v%s-%d", dayKey, v)
			if err := visit(anon, anon, "", at, s, campaign, views, r.IntN(100) < 12); err != nil {
				return nil, fmt.Errorf("demo analytics: %w", err)
			}
			out.Visitors++
		}
	}
	if err := flush(); err != nil {
		return nil, fmt.Errorf("demo analytics: %w", err)
	}
	if err := in.Flush(ctx); err != nil {
		return nil, fmt.Errorf("demo analytics: %w", err)
	}
	out.Took = time.Since(t0)
	return out, nil
}

// window is a campaign window in the shop's time zone, [start, end).
type window struct {
	start, end time.Time
	year       int
	code       string // its utm_campaign
}

// double11 is the last 双11 campaign window (Oct 20 – Nov 13) over by now.
func double11(now time.Time, loc *time.Location) window {
	now = now.In(loc)
	y := now.Year()
	if now.Before(time.Date(y, time.November, 14, 0, 0, 0, 0, loc)) {
		y--
	}
	return window{start: time.Date(y, time.October, 20, 0, 0, 0, 0, loc), end: time.Date(y, time.November, 14, 0, 0, 0, 0, loc),
		year: y, code: "double11_" + strconv.Itoa(y)}
}

// double12 is the next 双12 campaign window (Dec 1 – Dec 12) not started by now.
func double12(now time.Time, loc *time.Location) window {
	now = now.In(loc)
	y := now.Year()
	if !now.Before(time.Date(y, time.December, 1, 0, 0, 0, 0, loc)) {
		y++
	}
	return window{start: time.Date(y, time.December, 1, 0, 0, 0, 0, loc), end: time.Date(y, time.December, 13, 0, 0, 0, 0, loc),
		year: y, code: "double12_" + strconv.Itoa(y)}
}

// tagCampaignOrders puts the 双11 campaign's channels on the orders placed
// in its window, as the campaign's links would have: most orders from the
// WeChat ads and Douyin lives carry its code, and some of the shop's
// H5/web traffic came from its search ads, SMS and private groups. No
// randomness: the plan of the orders stays what the seed made it.
func tagCampaignOrders(orders []orderPlan, w window) {
	for i := range orders {
		o := &orders[i]
		if o.at.Before(w.start) || !o.at.Before(w.end) {
			continue
		}
		switch o.channel {
		case "wechat_mp", "douyin_live":
			if i%10 < 7 {
				o.campaign = w.code
			}
		case "h5", "web":
			switch i % 4 {
			case 0:
				o.channel, o.campaign = "baidu", w.code
			case 1:
				o.channel, o.campaign = "sms", w.code
			case 2:
				o.channel, o.campaign = "wechat_group", w.code
			}
		}
	}
}
