// Package review assembles a campaign's review (复盘): plan vs actual for
// each KPI and phase, channel ROI, promotion cost and redemption, the
// funnel, new vs returning customers, top SKUs and stock-outs, and renders
// it as JSON, a printable HTML page and a CSV table. Each section comes
// from a Sources method; a source that has no data for a section yet
// answers ErrUnavailable and the section says "not available".
package review

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/carnivalhq/carnival/internal/analytics"
	"github.com/carnivalhq/carnival/internal/campaign"
	"github.com/carnivalhq/carnival/internal/i18n"
)

// ErrUnavailable is what a source answers for a section it cannot fill.
var ErrUnavailable = errors.New("not available")

// Sections of a report, as named in notes and in the CSV.
const (
	SecPlan       = "plan_vs_actual"
	SecPhases     = "phases"
	SecChannels   = "channels"
	SecPromotions = "promotions"
	SecFunnel     = "funnel"
	SecCustomers  = "customers"
	SecTopSKUs    = "top_skus"
	SecStockOuts  = "stock_outs"
)

// TopSKULimit is how many SKUs the top-SKU section lists.
const TopSKULimit = 20

// Units of a KPI value.
const (
	UnitFen   = "fen"
	UnitCount = "count"
	UnitBP    = "bp"
)

// UnitOf is the unit of a campaign KPI.
func UnitOf(kpi string) string {
	switch kpi {
	case campaign.KPIGMV, campaign.KPIPaidAmount, campaign.KPIAOV:
		return UnitFen
	case campaign.KPIConversionRate, campaign.KPIROI:
		return UnitBP
	}
	return UnitCount
}

// PlanRow is one KPI's plan against its actual.
type PlanRow struct {
	KPI          string `json:"kpi"`
	Unit         string `json:"unit" enum:"fen,count,bp"`
	Target       *int64 `json:"target,omitempty" doc:"The whole window's target; absent when the KPI is not targeted"`
	TargetToDate *int64 `json:"target_to_date,omitempty" doc:"The target through the review day (the whole target once the window is over)"`
	Actual       *int64 `json:"actual,omitempty" doc:"Absent when not known"`
	Attainment   *int64 `json:"attainment_bp,omitempty" doc:"actual / target_to_date, bp"`
	Status       string `json:"status,omitempty" enum:"on_track,behind,alert,not_started" doc:"not_started (no actual) when the window has not started"`
}

// PhasePlan is one phase's plan against its actuals.
type PhasePlan struct {
	Kind     string    `json:"kind"`
	Name     string    `json:"name,omitempty"`
	StartsAt time.Time `json:"starts_at"`
	EndsAt   time.Time `json:"ends_at"`
	KPIs     []PlanRow `json:"kpis"`
}

// ChannelReturn is one channel's spend and return.
type ChannelReturn struct {
	Channel     string `json:"channel" doc:"The channel's name"`
	Kind        string `json:"kind,omitempty"`
	UTMSource   string `json:"utm_source"`
	UTMMedium   string `json:"utm_medium,omitempty"`
	UTMCampaign string `json:"utm_campaign,omitempty"`
	Budget      int64  `json:"budget" doc:"fen"`
	Spend       int64  `json:"spend" doc:"fen"`
	UV          int64  `json:"uv"`
	Orders      int64  `json:"orders"`
	PaidAmount  int64  `json:"paid_amount" doc:"fen"`
	ROI         *int64 `json:"roi_bp,omitempty" doc:"paid_amount / spend, bp; absent without spend"`
}

// TopSKU is one of the best-selling SKUs.
type TopSKU struct {
	SKUID        string `json:"sku_id"`
	Name         string `json:"name"`
	Units        int64  `json:"units"`
	PaidAmount   int64  `json:"paid_amount" doc:"fen"`
	ProductViews int64  `json:"product_views"`
	Conversion   *int64 `json:"conversion_bp,omitempty"`
}

// Promotion kinds in a report.
const (
	KindPromotion      = "promotion"
	KindCouponTemplate = "coupon_template"
)

// PromotionUse is one attached promotion or coupon template.
type PromotionUse struct {
	Kind         string `json:"kind" enum:"promotion,coupon_template"`
	ID           string `json:"id"`
	Name         string `json:"name"`
	Orders       int64  `json:"orders" doc:"Orders paid in the window that used it"`
	DiscountCost int64  `json:"discount_cost" doc:"Discount it gave on those orders, fen"`
	Issued       *int64 `json:"issued,omitempty" doc:"Coupon templates: coupons claimed in the window"`
	Redeemed     *int64 `json:"redeemed,omitempty" doc:"Coupon templates: of those, the ones used by an order paid in the window"`
	// Base is the denominator of the redemption rate: coupons issued for a
	// template, paid orders in the window for a promotion.
	Base       int64  `json:"base"`
	Redemption *int64 `json:"redemption_bp,omitempty" doc:"Templates: redeemed / issued; promotions: orders / paid orders in the window; bp"`
}

// FunnelStage is one step of the funnel.
type FunnelStage struct {
	Step         string `json:"step" enum:"visit,product_view,cart,order,paid"`
	Visitors     int64  `json:"visitors"`
	FromPrevious *int64 `json:"from_previous_bp,omitempty"`
	FromVisit    *int64 `json:"from_visit_bp,omitempty"`
}

// CustomerMix splits the window's paying customers into new and returning.
type CustomerMix struct {
	Paying    int64  `json:"paying"`
	New       int64  `json:"new" doc:"First ever paid order in the window"`
	Returning int64  `json:"returning" doc:"paying − new"`
	NewShare  *int64 `json:"new_share_bp,omitempty"`
}

// Stock-out sources.
const (
	OutStock = "stock" // the SKU's free stock reached zero
	OutFlash = "flash" // a flash sale's allocation sold out
)

// StockOut is a SKU that ran out during the window.
type StockOut struct {
	SKUID  string     `json:"sku_id"`
	Name   string     `json:"name"`
	Source string     `json:"source" enum:"stock,flash"`
	SaleID string     `json:"sale_id,omitempty" doc:"The flash sale, for source flash"`
	At     *time.Time `json:"at,omitempty" doc:"When it reached zero in the window: first time (stock), the reservation that took the last unit (flash)"`
	Out    bool       `json:"still_out" doc:"Still at zero at the end of the window (stock) or now (flash)"`
}

// SectionNote says why a section is empty.
type SectionNote struct {
	Section string `json:"section"`
	Note    string `json:"note" doc:"Why, in the review's language"`
	// key is the note's message in the catalogue (internal/i18n).
	key string
}

// noteUnavailable is the note of a section whose source has no data.
const noteUnavailable = "review.note.not_available"

// In sets the language of the review's human text (the shop's language):
// its notes now, its HTML and CSV when rendered. An unsupported language
// is the default.
func (r *CampaignReview) In(lang string) *CampaignReview {
	r.Language = i18n.Or(lang)
	for i := range r.Notes {
		if n := &r.Notes[i]; n.key != "" {
			n.Note = i18n.T(r.Language, n.key)
		}
	}
	return r
}

// Coverage is the window every figure of a review is bounded by: the
// campaign's shop-local days, whole, as the half-open [from, to).
type Coverage struct {
	From     time.Time `json:"from" doc:"Every figure counts what happened at or after this instant: the shop-local midnight starting the campaign's first day"`
	To       time.Time `json:"to" doc:"… and before this one: the shop-local midnight after its last day"`
	FirstDay string    `json:"first_day"`
	LastDay  string    `json:"last_day"`
	TimeZone string    `json:"time_zone"`
}

// CampaignReview is a campaign's review.
type CampaignReview struct {
	CampaignID  string    `json:"campaign_id"`
	Name        string    `json:"name"`
	Status      string    `json:"status"`
	Provisional bool      `json:"provisional" doc:"The campaign has not ended yet: numbers will still change (进行中)"`
	TimeZone    string    `json:"time_zone"`
	FirstDay    string    `json:"first_day" doc:"First shop-local day of the window"`
	LastDay     string    `json:"last_day" doc:"Last shop-local day of the window"`
	AsOf        string    `json:"as_of" doc:"The day targets-to-date are taken on"`
	StartsAt    time.Time `json:"starts_at"`
	EndsAt      time.Time `json:"ends_at"`
	GeneratedAt time.Time `json:"generated_at"`
	// Window is what every figure below is bounded by.
	Window   Coverage `json:"window" doc:"The window every figure of the review covers (orders paid, coupons issued and redeemed, spend, visits, stock-outs): the campaign's shop-local days, whole"`
	Language string   `json:"language" enum:"zh-CN,en" doc:"The language of the review's human text (the shop's language setting); codes are the same in every language"`

	KPIs       []PlanRow       `json:"kpis"`
	Phases     []PhasePlan     `json:"phases"`
	Channels   []ChannelReturn `json:"channels"`
	Promotions []PromotionUse  `json:"promotions"`
	Funnel     []FunnelStage   `json:"funnel"`
	Customers  *CustomerMix    `json:"customers,omitempty"`
	TopSKUs    []TopSKU        `json:"top_skus"`
	StockOuts  []StockOut      `json:"stock_outs"`
	Notes      []SectionNote   `json:"notes" doc:"Sections with no data and why"`
}

// Window is the campaign's review window: its shop-local days, half-open
// instants, and the day targets-to-date are read on.
type Window struct {
	Loc      *time.Location
	From, To time.Time // shop-local midnights: first day, day after the last
	FirstDay campaign.Day
	LastDay  campaign.Day
	AsOf     campaign.Day // the last day, or today while the campaign runs
}

// WindowOf computes c's review window as of now.
func WindowOf(c *campaign.Campaign, loc *time.Location, now time.Time) Window {
	days := campaign.Days(c.StartsAt, c.EndsAt, loc)
	w := Window{Loc: loc}
	if len(days) == 0 {
		d := campaign.DayOf(c.StartsAt, loc)
		days = []campaign.Day{d}
	}
	w.FirstDay, w.LastDay = days[0], days[len(days)-1]
	w.From, _ = time.ParseInLocation(time.DateOnly, w.FirstDay, loc)
	w.To, _ = time.ParseInLocation(time.DateOnly, campaign.AddDays(w.LastDay, 1), loc)
	w.AsOf = w.LastDay
	if today := campaign.DayOf(now, loc); today < w.AsOf {
		w.AsOf = today
		if today < w.FirstDay {
			w.AsOf = w.FirstDay
		}
	}
	return w
}

// Sources fill the sections of a review. Each method may answer
// ErrUnavailable when it has no data for its section.
type Sources interface {
	// PlanVsActual is the campaign's KPIs and its phases' KPIs.
	PlanVsActual(ctx context.Context, c *campaign.Campaign, w Window) ([]PlanRow, []PhasePlan, error)
	Channels(ctx context.Context, c *campaign.Campaign, w Window) ([]ChannelReturn, error)
	TopSKUs(ctx context.Context, c *campaign.Campaign, w Window, limit int) ([]TopSKU, error)
	Promotions(ctx context.Context, c *campaign.Campaign, w Window) ([]PromotionUse, error)
	Funnel(ctx context.Context, c *campaign.Campaign, w Window) ([]FunnelStage, error)
	Customers(ctx context.Context, c *campaign.Campaign, w Window) (*CustomerMix, error)
	StockOuts(ctx context.Context, c *campaign.Campaign, w Window) ([]StockOut, error)
}

// Build assembles c's review from src as of now, in the shop's zone loc.
func Build(ctx context.Context, src Sources, c *campaign.Campaign, loc *time.Location, now time.Time) (*CampaignReview, error) {
	w := WindowOf(c, loc, now)
	r := &CampaignReview{CampaignID: c.ID, Name: c.Name, Status: c.Status, TimeZone: loc.String(), FirstDay: w.FirstDay, LastDay: w.LastDay, AsOf: w.AsOf,
		StartsAt: c.StartsAt, EndsAt: c.EndsAt, GeneratedAt: now.UTC(),
		Window: Coverage{From: w.From, To: w.To, FirstDay: w.FirstDay, LastDay: w.LastDay, TimeZone: loc.String()},
		KPIs:   []PlanRow{}, Phases: []PhasePlan{}, Channels: []ChannelReturn{}, Promotions: []PromotionUse{}, Funnel: []FunnelStage{},
		TopSKUs: []TopSKU{}, StockOuts: []StockOut{}, Notes: []SectionNote{}, Language: i18n.Default}
	r.Provisional = c.Status != campaign.StatusEnded && now.Before(c.EndsAt)
	// use records a source's answer: ErrUnavailable becomes a note and the
	// section stays empty, any other error fails the report; it reports
	// whether the answer is to be used.
	var failed error
	use := func(name string, err error) bool {
		switch {
		case failed != nil:
			return false
		case errors.Is(err, ErrUnavailable):
			r.Notes = append(r.Notes, SectionNote{Section: name, Note: i18n.T(r.Language, noteUnavailable), key: noteUnavailable})
			return false
		case err != nil:
			failed = fmt.Errorf("review %s: %w", name, err)
			return false
		}
		return true
	}
	if kpis, phases, err := src.PlanVsActual(ctx, c, w); use(SecPlan, err) {
		r.KPIs, r.Phases = orEmpty(kpis), orEmpty(phases)
	}
	if chs, err := src.Channels(ctx, c, w); use(SecChannels, err) {
		r.Channels = orEmpty(chs)
	}
	if ps, err := src.Promotions(ctx, c, w); use(SecPromotions, err) {
		r.Promotions = orEmpty(ps)
	}
	if fs, err := src.Funnel(ctx, c, w); use(SecFunnel, err) {
		r.Funnel = orEmpty(fs)
	}
	if cu, err := src.Customers(ctx, c, w); use(SecCustomers, err) {
		r.Customers = cu
	}
	if top, err := src.TopSKUs(ctx, c, w, TopSKULimit); use(SecTopSKUs, err) {
		if len(top) > TopSKULimit {
			top = top[:TopSKULimit]
		}
		r.TopSKUs = orEmpty(top)
	}
	if outs, err := src.StockOuts(ctx, c, w); use(SecStockOuts, err) {
		r.StockOuts = orEmpty(outs)
	}
	if failed != nil {
		return nil, failed
	}
	return r, nil
}

// orEmpty makes a nil section an empty list, so JSON shows [] not null.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Steps names the funnel steps in order.
var Steps = []string{"visit", "product_view", "cart", "order", "paid"}

// FunnelOf turns step counts (in Steps order) into funnel rows with the
// step-to-step and from-visit rates.
func FunnelOf(counts []int64) []FunnelStage {
	out := make([]FunnelStage, 0, len(counts))
	for i, n := range counts {
		s := FunnelStage{Step: Steps[i], Visitors: n}
		if i > 0 {
			s.FromPrevious = ratio(n, counts[i-1])
			s.FromVisit = ratio(n, counts[0])
		}
		out = append(out, s)
	}
	return out
}

// CustomersOf splits paying customers into new and returning.
func CustomersOf(paying, newc int64) *CustomerMix {
	ret := paying - newc
	if ret < 0 {
		ret = 0
	}
	return &CustomerMix{Paying: paying, New: newc, Returning: ret, NewShare: ratio(newc, paying)}
}

// ratio is num/den in bp, as every rate of docs/METRICS.md: rounded half
// away from zero, nil when den is 0.
func ratio(num, den int64) *int64 {
	if den <= 0 || num < 0 {
		return nil
	}
	return analytics.Ratio(num, den, 10000)
}
