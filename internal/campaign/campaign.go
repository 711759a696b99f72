// Package campaign owns the campaign plan a team works from: the window and
// its phases (预热 preheat, 爆发 burst, 返场 tail, 复盘 review), KPI targets
// with daily pacing and an alert line, channels with UTM codes, budgets and
// spend, attached promotions and coupon templates, milestones, and the
// marketing calendar. It declares the Store it needs and does no I/O itself.
package campaign

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/money"
)

// Campaign states as stored.
const (
	StatusActive = "active"
	StatusEnded  = "ended" // ended or archived by hand; no more changes to the plan
)

// Phase kinds.
const (
	PhasePreheat = "preheat" // 预热
	PhaseBurst   = "burst"   // 爆发
	PhaseTail    = "tail"    // 返场 / 延续
	PhaseReview  = "review"  // 复盘
)

// Limits on plans.
const (
	MaxDays        = 366
	MaxPhases      = 8
	MaxAttachments = 50
	MaxWeight      = 1_000_000
	MaxROI         = 10_000_000 // 1000× in bp
	MaxCount       = 1_000_000_000_000
)

// Targets maps a KPI to its target: fen for money KPIs, a count, or bp for
// conversion rate and ROI.
type Targets map[string]int64

// Phase is one stage of a campaign with its own window and targets.
type Phase struct {
	Kind       string    `json:"kind" enum:"preheat,burst,tail,review"`
	Name       string    `json:"name,omitempty" maxLength:"200"`
	StartsAt   time.Time `json:"starts_at"`
	EndsAt     time.Time `json:"ends_at"`
	Targets    Targets   `json:"targets,omitempty" doc:"KPI → target (fen, count, or bp for conversion_rate and roi)"`
	DayWeights []int64   `json:"day_weights,omitempty" doc:"One weight per shop-local day of the phase; omitted = equal"`
}

// Campaign is a plan: a window, phases, targets, attachments; channels and
// milestones are read with it.
type Campaign struct {
	ID                string      `json:"id"`
	ShopID            string      `json:"-"`
	Name              string      `json:"name"`
	Status            string      `json:"status"`
	StartsAt          time.Time   `json:"starts_at"`
	EndsAt            time.Time   `json:"ends_at"`
	AlertLine         money.Rate  `json:"alert_line_bp"`
	Targets           Targets     `json:"targets"`
	DayWeights        []int64     `json:"day_weights,omitempty"`
	Phases            []Phase     `json:"phases"`
	PromotionIDs      []string    `json:"promotion_ids"`
	CouponTemplateIDs []string    `json:"coupon_template_ids"`
	Channels          []Channel   `json:"channels,omitempty"`
	Milestones        []Milestone `json:"milestones,omitempty"`
	CreatedAt         time.Time   `json:"created_at"`
	UpdatedAt         time.Time   `json:"updated_at"`
	EndedAt           *time.Time  `json:"ended_at,omitempty"`
}

// Input creates or replaces a campaign's plan.
type Input struct {
	Name              string     `json:"name" maxLength:"200"`
	StartsAt          time.Time  `json:"starts_at"`
	EndsAt            time.Time  `json:"ends_at"`
	AlertLine         money.Rate `json:"alert_line_bp,omitempty" doc:"Alert below this share of the target-to-date, bp; default 6000"`
	Targets           Targets    `json:"targets,omitempty"`
	DayWeights        []int64    `json:"day_weights,omitempty" doc:"One weight per shop-local day of the campaign; omitted = equal"`
	Phases            []Phase    `json:"phases,omitempty"`
	PromotionIDs      []string   `json:"promotion_ids,omitempty"`
	CouponTemplateIDs []string   `json:"coupon_template_ids,omitempty"`
	// DefaultMilestones adds the usual milestones at creation.
	DefaultMilestones bool `json:"default_milestones,omitempty" doc:"At creation: add T-30 立项, T-21 方案评审, T-14 系统测试, 预热 (the preheat phase's first day; T-7 without one), T-1 压测与值班, 复盘 (the day after the last day)"`
}

// Validate checks the input in the shop's time zone and fills defaults.
func (in *Input) Validate(loc *time.Location) error {
	if err := commerce.CheckText("name", in.Name, true, commerce.MaxNameLen); err != nil {
		return err
	}
	if in.StartsAt.IsZero() {
		return commerce.Invalid("starts_at", "required", "starts_at is required")
	}
	if !in.EndsAt.After(in.StartsAt) {
		return commerce.Invalid("ends_at", "window_order", "ends_at must be after starts_at")
	}
	days := Days(in.StartsAt, in.EndsAt, loc)
	if len(days) > MaxDays {
		return commerce.Invalid("ends_at", "too_long", "a campaign lasts at most %d days", MaxDays)
	}
	if in.AlertLine == 0 {
		in.AlertLine = DefaultAlertLine
	}
	if in.AlertLine < 1 || in.AlertLine > money.Full {
		return commerce.Invalid("alert_line_bp", "out_of_range", "alert_line_bp must be 1 to 10000")
	}
	if err := checkTargets("targets", in.Targets, in.DayWeights, len(days)); err != nil {
		return err
	}
	if len(in.Phases) > MaxPhases {
		return commerce.Invalid("phases", "too_many", "a campaign has at most %d phases", MaxPhases)
	}
	for i := range in.Phases {
		p := &in.Phases[i]
		f := fmt.Sprintf("phases[%d]", i)
		switch p.Kind {
		case PhasePreheat, PhaseBurst, PhaseTail, PhaseReview:
		default:
			return commerce.Invalid(f+".kind", "invalid_enum", "kind is preheat, burst, tail or review")
		}
		if err := commerce.CheckText(f+".name", p.Name, false, commerce.MaxNameLen); err != nil {
			return err
		}
		if p.StartsAt.IsZero() {
			return commerce.Invalid(f+".starts_at", "required", "a phase needs starts_at")
		}
		if !p.EndsAt.After(p.StartsAt) {
			return commerce.Invalid(f+".ends_at", "window_order", "ends_at must be after starts_at")
		}
		if p.StartsAt.Before(in.StartsAt) {
			return commerce.Invalid(f+".starts_at", "outside_campaign", "a phase starts inside the campaign window")
		}
		if p.EndsAt.After(in.EndsAt) {
			return commerce.Invalid(f+".ends_at", "outside_campaign", "a phase ends inside the campaign window")
		}
		if err := checkTargets(f+".targets", p.Targets, p.DayWeights, len(Days(p.StartsAt, p.EndsAt, loc))); err != nil {
			return err
		}
		p.StartsAt, p.EndsAt = p.StartsAt.UTC(), p.EndsAt.UTC()
	}
	order := make([]int, len(in.Phases))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return in.Phases[order[a]].StartsAt.Before(in.Phases[order[b]].StartsAt) })
	for k := 1; k < len(order); k++ {
		prev, cur := in.Phases[order[k-1]], in.Phases[order[k]]
		if cur.StartsAt.Before(prev.EndsAt) {
			return commerce.Invalid(fmt.Sprintf("phases[%d].starts_at", order[k]), "phases_overlap", "phases must not overlap")
		}
	}
	sorted := make([]Phase, len(in.Phases))
	for k, i := range order {
		sorted[k] = in.Phases[i]
	}
	in.Phases = sorted
	if err := checkIDs("promotion_ids", in.PromotionIDs); err != nil {
		return err
	}
	return checkIDs("coupon_template_ids", in.CouponTemplateIDs)
}

func checkIDs(field string, ids []string) error {
	if len(ids) > MaxAttachments {
		return commerce.Invalid(field, "too_many", "at most %d", MaxAttachments)
	}
	seen := map[string]bool{}
	for i, id := range ids {
		f := fmt.Sprintf("%s[%d]", field, i)
		if err := commerce.CheckText(f, id, true, commerce.MaxCodeLen); err != nil {
			return err
		}
		if seen[id] {
			return commerce.Invalid(f, "duplicate", "%s is attached twice", id)
		}
		seen[id] = true
	}
	return nil
}

// checkTargets validates targets and day weights for a window of n days.
func checkTargets(field string, t Targets, weights []int64, n int) error {
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := t[k]
		f := field + "." + k
		if !knownKPI(k) {
			return commerce.Invalid(f, "unknown_kpi", "KPI %q is not one of the campaign KPIs: %s", k, strings.Join(KPIs, ", ")).With("accepted", KPIs)
		}
		max := int64(MaxCount)
		switch k {
		case KPIGMV, KPIPaidAmount, KPIAOV:
			max = money.MaxAmount
		case KPIConversionRate:
			max = money.Full
		case KPIROI:
			max = MaxROI
		}
		if v < 0 || v > max {
			return commerce.Invalid(f, "out_of_range", "%s target must be 0 to %d", k, max)
		}
	}
	wf := field[:len(field)-len("targets")] + "day_weights"
	if weights == nil {
		return nil
	}
	if len(weights) != n {
		return commerce.Invalid(wf, "wrong_length", "day_weights needs one weight per day: %d, not %d", n, len(weights))
	}
	var sum int64
	for i, w := range weights {
		if w < 0 || w > MaxWeight {
			return commerce.Invalid(fmt.Sprintf("%s[%d]", wf, i), "out_of_range", "a weight is 0 to %d", MaxWeight)
		}
		sum += w
	}
	if sum == 0 {
		return commerce.Invalid(wf, "all_zero", "at least one day needs a positive weight")
	}
	return nil
}

// Series returns the campaign's per-day target series for every KPI it
// targets, in KPI order.
func (c *Campaign) Series(loc *time.Location) []Series {
	return seriesOf(c.Targets, Days(c.StartsAt, c.EndsAt, loc), c.DayWeights)
}

// PhaseSeries is Series for one phase.
func (p *Phase) Series(loc *time.Location) []Series {
	return seriesOf(p.Targets, Days(p.StartsAt, p.EndsAt, loc), p.DayWeights)
}

func seriesOf(t Targets, days []Day, weights []int64) []Series {
	var out []Series
	for _, k := range KPIs {
		if v, ok := t[k]; ok {
			out = append(out, NewSeries(k, v, days, weights))
		}
	}
	return out
}

// TargetToDate is the campaign's target of kpi through the end of day
// (false when the campaign does not target kpi).
func (c *Campaign) TargetToDate(loc *time.Location, kpi string, day Day) (int64, bool) {
	v, ok := c.Targets[kpi]
	if !ok {
		return 0, false
	}
	return NewSeries(kpi, v, Days(c.StartsAt, c.EndsAt, loc), c.DayWeights).ToDate(day), true
}

// Store is what campaigns need from storage. Every write carries its audit
// entry, written in the same transaction.
type Store interface {
	EditStore
	CreateCampaign(ctx context.Context, c *Campaign, ms []Milestone, audit *commerce.AuditEntry) error
	// UpdateCampaign replaces the plan of an active campaign (ErrStale when
	// it has ended).
	UpdateCampaign(ctx context.Context, c *Campaign, audit *commerce.AuditEntry) error
	// EndCampaign marks an active campaign ended (ErrStale otherwise).
	EndCampaign(ctx context.Context, shopID, id string, at time.Time, audit *commerce.AuditEntry) error
	// GetCampaign reads a campaign with its channels (spend summed) and
	// milestones.
	GetCampaign(ctx context.Context, shopID, id string) (*Campaign, error)
	ListCampaigns(ctx context.Context, shopID string, p commerce.Page) ([]Campaign, error)
	// CampaignsOverlapping lists the campaigns whose window overlaps [from, to).
	CampaignsOverlapping(ctx context.Context, shopID string, from, to time.Time) ([]Campaign, error)
	// AddChannel adds a channel (ErrDuplicate when its UTM codes are taken
	// in the campaign).
	AddChannel(ctx context.Context, ch *Channel, audit *commerce.AuditEntry) error
	// AddSpend records a spend entry; with an idempotency key already used
	// on the channel it writes nothing and returns the first entry and true.
	AddSpend(ctx context.Context, sp *Spend, audit *commerce.AuditEntry) (*Spend, bool, error)
	ListSpend(ctx context.Context, shopID, channelID string) ([]Spend, error)
	AddMilestone(ctx context.Context, m *Milestone, audit *commerce.AuditEntry) error
	// CompleteMilestone sets done_at (ErrNotFound, or ErrStale when done).
	CompleteMilestone(ctx context.Context, shopID, campaignID, id string, at time.Time, audit *commerce.AuditEntry) error
}
