package campaign

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/money"
	"github.com/carnivalhq/carnival/internal/promotion"
)

// Promotions is what attachments are checked against.
type Promotions interface {
	Promotion(ctx context.Context, shopID, id string) (*promotion.Promotion, error)
	Template(ctx context.Context, shopID, id string) (*promotion.Template, error)
}

// Actuals gives the actuals of a campaign's KPIs over a window of
// shop-local days (analytics implements it, by the definition of
// docs/METRICS.md "Campaign plan vs actual"). A KPI left out of a map has
// no actual (a ratio whose denominator is zero, ROI without spend).
type Actuals interface {
	// Actuals are the KPIs over the days from through through, inclusive.
	Actuals(ctx context.Context, c *Campaign, from, through Day) (map[string]int64, error)
	// ActualsByDay gives, for each day from through through, the day's
	// own KPIs and the KPIs from 'from' through that day.
	ActualsByDay(ctx context.Context, c *Campaign, from, through Day) ([]DayActuals, error)
}

// DayActuals are one day's actuals: the day alone, and to date.
type DayActuals struct {
	Day    Day
	OnDay  map[string]int64
	ToDate map[string]int64
}

// Service runs campaign plans over a Store.
type Service struct {
	store   Store
	com     *commerce.Service
	promos  Promotions
	actuals Actuals
}

// New returns the campaign service. promos checks attachments (nil: any id
// is accepted); actuals fills pacing (nil: actuals are omitted).
func New(store Store, com *commerce.Service, promos Promotions, actuals Actuals) *Service {
	return &Service{store: store, com: com, promos: promos, actuals: actuals}
}

func (s *Service) location(ctx context.Context, shopID string) (*time.Location, error) {
	sh, err := s.com.Shop(ctx, shopID)
	if err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(sh.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("shop %s time zone: %w", shopID, err)
	}
	return loc, nil
}

func (s *Service) checkAttachments(ctx context.Context, shopID string, in *Input) error {
	if s.promos == nil {
		return nil
	}
	for i, id := range in.PromotionIDs {
		if _, err := s.promos.Promotion(ctx, shopID, id); err != nil {
			if ce, ok := commerce.AsError(err); ok && ce.Kind == commerce.KindNotFound {
				return commerce.Invalid(fmt.Sprintf("promotion_ids[%d]", i), "unknown_promotion", "promotion %q does not exist", id)
			}
			return err
		}
	}
	for i, id := range in.CouponTemplateIDs {
		if _, err := s.promos.Template(ctx, shopID, id); err != nil {
			if ce, ok := commerce.AsError(err); ok && ce.Kind == commerce.KindNotFound {
				return commerce.Invalid(fmt.Sprintf("coupon_template_ids[%d]", i), "unknown_coupon_template", "coupon template %q does not exist", id)
			}
			return err
		}
	}
	return nil
}

func nonNil(ids []string) []string {
	if ids == nil {
		return []string{}
	}
	return ids
}

// Create validates and saves a campaign, with the default milestones when asked.
func (s *Service) Create(ctx context.Context, a commerce.Actor, in Input) (*Campaign, error) {
	loc, err := s.location(ctx, a.ShopID)
	if err != nil {
		return nil, err
	}
	if err := in.Validate(loc); err != nil {
		return nil, err
	}
	if err := s.checkAttachments(ctx, a.ShopID, &in); err != nil {
		return nil, err
	}
	now := s.com.Now().UTC()
	c := &Campaign{ID: s.com.ID("cmp"), ShopID: a.ShopID, Status: StatusActive, CreatedAt: now, UpdatedAt: now}
	apply(c, &in)
	var ms []Milestone
	if in.DefaultMilestones {
		for _, mi := range DefaultMilestones() {
			ms = append(ms, Milestone{ID: s.com.ID("cms"), ShopID: a.ShopID, CampaignID: c.ID, Name: mi.Name, OffsetDays: mi.OffsetDays, Anchor: mi.Anchor,
				CreatedAt: now})
		}
	}
	if err := s.store.CreateCampaign(ctx, c, ms, s.com.Audit(a, "create", "campaign", c.ID, nil, c)); err != nil {
		return nil, fmt.Errorf("create campaign: %w", err)
	}
	return s.Get(ctx, a.ShopID, c.ID)
}

func apply(c *Campaign, in *Input) {
	c.Name, c.StartsAt, c.EndsAt, c.AlertLine = in.Name, in.StartsAt.UTC(), in.EndsAt.UTC(), in.AlertLine
	c.Targets = in.Targets
	if c.Targets == nil {
		c.Targets = Targets{}
	}
	c.DayWeights, c.Phases = in.DayWeights, in.Phases
	if c.Phases == nil {
		c.Phases = []Phase{}
	}
	c.PromotionIDs, c.CouponTemplateIDs = nonNil(in.PromotionIDs), nonNil(in.CouponTemplateIDs)
}

// Update replaces the plan of a campaign that has not ended.
func (s *Service) Update(ctx context.Context, a commerce.Actor, id string, in Input) (*Campaign, error) {
	c, err := s.Get(ctx, a.ShopID, id)
	if err != nil {
		return nil, err
	}
	if c.Status == StatusEnded {
		return nil, commerce.Conflict("campaign_ended", "campaign %s has ended; its plan no longer changes", id)
	}
	loc, err := s.location(ctx, a.ShopID)
	if err != nil {
		return nil, err
	}
	if err := in.Validate(loc); err != nil {
		return nil, err
	}
	if err := s.checkAttachments(ctx, a.ShopID, &in); err != nil {
		return nil, err
	}
	before := *c
	before.Channels, before.Milestones = nil, nil
	after := before
	apply(&after, &in)
	after.UpdatedAt = s.com.Now().UTC()
	err = s.store.UpdateCampaign(ctx, &after, s.com.Audit(a, "update", "campaign", id, before, after))
	if errors.Is(err, commerce.ErrStale) {
		return nil, commerce.Conflict("campaign_ended", "campaign %s has ended; its plan no longer changes", id)
	}
	if err != nil {
		return nil, fmt.Errorf("update campaign %s: %w", id, err)
	}
	return s.Get(ctx, a.ShopID, id)
}

// End ends (archives) a campaign: its plan stops changing.
func (s *Service) End(ctx context.Context, a commerce.Actor, id string) (*Campaign, error) {
	if _, err := s.Get(ctx, a.ShopID, id); err != nil {
		return nil, err
	}
	err := s.store.EndCampaign(ctx, a.ShopID, id, s.com.Now().UTC(), s.com.Audit(a, "end", "campaign", id, nil, nil))
	if errors.Is(err, commerce.ErrStale) {
		return nil, commerce.Conflict("campaign_ended", "campaign %s has already ended", id)
	}
	if err != nil {
		return nil, fmt.Errorf("end campaign %s: %w", id, err)
	}
	return s.Get(ctx, a.ShopID, id)
}

// Get reads a campaign with its channels and milestones, statuses as of now.
func (s *Service) Get(ctx context.Context, shopID, id string) (*Campaign, error) {
	c, err := s.store.GetCampaign(ctx, shopID, id)
	if errors.Is(err, commerce.ErrNotFound) {
		return nil, commerce.NotFound("campaign", id)
	}
	if err != nil {
		return nil, err
	}
	loc, err := s.location(ctx, shopID)
	if err != nil {
		return nil, err
	}
	s.finish(c, loc)
	return c, nil
}

func (s *Service) finish(c *Campaign, loc *time.Location) {
	now := s.com.Now()
	for i := range c.Channels {
		c.Channels[i].WithUse()
	}
	for i := range c.Milestones {
		m := &c.Milestones[i]
		m.DueOn = m.dueOn(c, loc)
		m.Status = m.StatusAt(now, loc)
	}
	sort.SliceStable(c.Milestones, func(i, j int) bool { return c.Milestones[i].DueOn < c.Milestones[j].DueOn })
}

// List lists campaigns by id (creation order).
func (s *Service) List(ctx context.Context, shopID string, p commerce.Page) ([]Campaign, error) {
	return s.store.ListCampaigns(ctx, shopID, p.Normalized())
}

// AddChannel adds a channel to a campaign that has not ended.
func (s *Service) AddChannel(ctx context.Context, a commerce.Actor, campaignID string, in ChannelInput) (*Channel, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	c, err := s.Get(ctx, a.ShopID, campaignID)
	if err != nil {
		return nil, err
	}
	if c.Status == StatusEnded {
		return nil, commerce.Conflict("campaign_ended", "campaign %s has ended", campaignID)
	}
	ch := &Channel{ID: s.com.ID("chn"), ShopID: a.ShopID, CampaignID: campaignID, Kind: in.Kind, Name: in.Name, UTMSource: in.UTMSource,
		UTMMedium: in.UTMMedium, UTMCampaign: in.UTMCampaign, Budget: in.Budget, CreatedAt: s.com.Now().UTC()}
	err = s.store.AddChannel(ctx, ch, s.com.Audit(a, "create", "campaign_channel", ch.ID, nil, ch))
	if errors.Is(err, commerce.ErrDuplicate) {
		e := commerce.Conflict("utm_taken", "another channel of the campaign has these UTM codes")
		e.Field = "utm_source"
		return nil, e
	}
	if err != nil {
		return nil, fmt.Errorf("add channel: %w", err)
	}
	ch.WithUse()
	return ch, nil
}

func (s *Service) channel(ctx context.Context, shopID, campaignID, channelID string) (*Campaign, *Channel, error) {
	c, err := s.Get(ctx, shopID, campaignID)
	if err != nil {
		return nil, nil, err
	}
	for i := range c.Channels {
		if c.Channels[i].ID == channelID {
			return c, &c.Channels[i], nil
		}
	}
	return nil, nil, commerce.NotFound("channel", channelID)
}

// AddSpend posts a spend entry. A replay with the same key returns the
// first entry and true, and changes nothing; a different body under a used
// key is a conflict.
func (s *Service) AddSpend(ctx context.Context, a commerce.Actor, campaignID, channelID string, in SpendInput, idemKey string) (*Spend, bool, error) {
	if err := in.Validate(); err != nil {
		return nil, false, err
	}
	if _, _, err := s.channel(ctx, a.ShopID, campaignID, channelID); err != nil {
		return nil, false, err
	}
	sp := &Spend{ID: s.com.ID("spd"), ShopID: a.ShopID, CampaignID: campaignID, ChannelID: channelID, Day: in.Day, Amount: in.Amount, Note: in.Note,
		IdemKey: idemKey, CreatedAt: s.com.Now().UTC()}
	got, replayed, err := s.store.AddSpend(ctx, sp, s.com.Audit(a, "create", "campaign_spend", sp.ID, nil, sp))
	if err != nil {
		return nil, false, fmt.Errorf("add spend: %w", err)
	}
	if replayed && (got.Day != in.Day || got.Amount != in.Amount || got.Note != in.Note) {
		return nil, false, commerce.Conflict("idempotency_mismatch", "Idempotency-Key was used for a different spend entry")
	}
	return got, replayed, nil
}

// Spend lists a channel's spend entries.
func (s *Service) Spend(ctx context.Context, shopID, campaignID, channelID string) ([]Spend, error) {
	if _, _, err := s.channel(ctx, shopID, campaignID, channelID); err != nil {
		return nil, err
	}
	return s.store.ListSpend(ctx, shopID, channelID)
}

// AddMilestone adds a milestone.
func (s *Service) AddMilestone(ctx context.Context, a commerce.Actor, campaignID string, in MilestoneInput) (*Milestone, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	c, err := s.Get(ctx, a.ShopID, campaignID)
	if err != nil {
		return nil, err
	}
	m := &Milestone{ID: s.com.ID("cms"), ShopID: a.ShopID, CampaignID: c.ID, Name: in.Name, OffsetDays: in.OffsetDays, Anchor: in.Anchor, DueOn: in.DueOn,
		Owner: in.Owner, CreatedAt: s.com.Now().UTC()}
	if err := s.store.AddMilestone(ctx, m, s.com.Audit(a, "create", "campaign_milestone", m.ID, nil, m)); err != nil {
		return nil, fmt.Errorf("add milestone: %w", err)
	}
	return s.Milestone(ctx, a.ShopID, campaignID, m.ID)
}

// Milestone reads one milestone with its status.
func (s *Service) Milestone(ctx context.Context, shopID, campaignID, id string) (*Milestone, error) {
	c, err := s.Get(ctx, shopID, campaignID)
	if err != nil {
		return nil, err
	}
	for i := range c.Milestones {
		if c.Milestones[i].ID == id {
			return &c.Milestones[i], nil
		}
	}
	return nil, commerce.NotFound("milestone", id)
}

// CompleteMilestone marks a milestone done now.
func (s *Service) CompleteMilestone(ctx context.Context, a commerce.Actor, campaignID, id string) (*Milestone, error) {
	if _, err := s.Milestone(ctx, a.ShopID, campaignID, id); err != nil {
		return nil, err
	}
	err := s.store.CompleteMilestone(ctx, a.ShopID, campaignID, id, s.com.Now().UTC(), s.com.Audit(a, "done", "campaign_milestone", id, nil, nil))
	if errors.Is(err, commerce.ErrStale) {
		return nil, commerce.Conflict("milestone_done", "milestone %s is already done", id)
	}
	if errors.Is(err, commerce.ErrNotFound) {
		return nil, commerce.NotFound("milestone", id)
	}
	if err != nil {
		return nil, fmt.Errorf("complete milestone %s: %w", id, err)
	}
	return s.Milestone(ctx, a.ShopID, campaignID, id)
}

// KPIPace is one KPI's pacing on a day.
type KPIPace struct {
	KPI          string      `json:"kpi"`
	Target       int64       `json:"target"`
	DayTarget    int64       `json:"day_target"`
	TargetToDate int64       `json:"target_to_date"`
	Actual       *int64      `json:"actual,omitempty"`
	Attainment   *money.Rate `json:"attainment_bp,omitempty"`
	Status       string      `json:"status,omitempty" enum:"on_track,behind,alert,not_started" doc:"Against the target to date; not_started (no actual) when the window has not started on the day or the day has not come yet"`
}

// PhasePace is a phase's pacing on a day.
type PhasePace struct {
	Kind string    `json:"kind"`
	Name string    `json:"name,omitempty"`
	KPIs []KPIPace `json:"kpis"`
}

// PacingReport is a campaign's targets to date on a day, with actuals and
// statuses when analytics provides them.
type PacingReport struct {
	CampaignID string      `json:"campaign_id"`
	Day        Day         `json:"day"`
	TimeZone   string      `json:"time_zone"`
	AlertLine  money.Rate  `json:"alert_line_bp"`
	KPIs       []KPIPace   `json:"kpis"`
	Phases     []PhasePace `json:"phases"`
}

// Pacing reports the campaign's pacing through the end of day ("" =
// today): the campaign's and each phase's targets to date, and, when
// analytics is attached, their actuals from the window's first day through
// day (clipped to the window) with statuses.
func (s *Service) Pacing(ctx context.Context, shopID, id string, day string) (*PacingReport, error) {
	c, err := s.Get(ctx, shopID, id)
	if err != nil {
		return nil, err
	}
	loc, err := s.location(ctx, shopID)
	if err != nil {
		return nil, err
	}
	if day, err = s.dayOrToday("day", day, loc); err != nil {
		return nil, err
	}
	today := DayOf(s.com.Now(), loc)
	days := Days(c.StartsAt, c.EndsAt, loc)
	actual, err := s.windowActuals(ctx, c, days, day, today)
	if err != nil {
		return nil, err
	}
	r := &PacingReport{CampaignID: c.ID, Day: day, TimeZone: loc.String(), AlertLine: c.AlertLine,
		KPIs: paces(c.Series(loc), day, actual, c.AlertLine, started(days, day, today)), Phases: []PhasePace{}}
	for i := range c.Phases {
		p := &c.Phases[i]
		pdays := Days(p.StartsAt, p.EndsAt, loc)
		actual, err := s.windowActuals(ctx, c, pdays, day, today)
		if err != nil {
			return nil, err
		}
		r.Phases = append(r.Phases, PhasePace{Kind: p.Kind, Name: p.Name, KPIs: paces(p.Series(loc), day, actual, c.AlertLine, started(pdays, day, today))})
	}
	return r, nil
}

// started reports whether a window of days is judged on day, asked on
// today: it has begun by then and day has come.
func started(days []Day, day, today Day) bool {
	return len(days) > 0 && day >= days[0] && day <= today
}

func (s *Service) dayOrToday(field, day string, loc *time.Location) (Day, error) {
	if day == "" {
		return DayOf(s.com.Now(), loc), nil
	}
	if d, ok := ParseDay(day); ok {
		return d, nil
	}
	return "", commerce.Invalid(field, "invalid_date", "%s is a date like 2026-11-11", field)
}

// clip is the window's days from its first through day (the last day of
// the window when day is after it); false before the window starts.
func clip(days []Day, day Day) (from, through Day, ok bool) {
	if len(days) == 0 || day < days[0] {
		return "", "", false
	}
	return days[0], min(day, days[len(days)-1]), true
}

// windowActuals are the actuals of a window's days through day (nil
// without analytics, before the window, or when day has not come yet).
func (s *Service) windowActuals(ctx context.Context, c *Campaign, days []Day, day, today Day) (map[string]int64, error) {
	from, through, ok := clip(days, day)
	if s.actuals == nil || !ok || !started(days, day, today) {
		return nil, nil
	}
	a, err := s.actuals.Actuals(ctx, c, from, through)
	if err != nil {
		return nil, fmt.Errorf("campaign %s actuals: %w", c.ID, err)
	}
	return a, nil
}

func paces(series []Series, day Day, actual map[string]int64, alert money.Rate, started bool) []KPIPace {
	out := []KPIPace{}
	for _, sr := range series {
		kp := KPIPace{KPI: sr.KPI, Target: sr.Target, DayTarget: sr.On(day), TargetToDate: sr.ToDate(day)}
		if !started {
			kp.Status = PaceNotStarted
		} else if v, ok := actual[sr.KPI]; ok {
			att := Attainment(kp.TargetToDate, v)
			kp.Actual, kp.Attainment, kp.Status = &v, &att, PaceStatus(kp.TargetToDate, v, alert)
		}
		out = append(out, kp)
	}
	return out
}

// PlanDay is one KPI's plan and actual on one day.
type PlanDay struct {
	Day              Day         `json:"day"`
	Target           int64       `json:"target" doc:"The day's target (a ratio KPI's target is every day's)"`
	Actual           *int64      `json:"actual,omitempty" doc:"The day's actual; absent when unknown"`
	CumulativeTarget int64       `json:"cumulative_target" doc:"Target from the window's first day through this day"`
	CumulativeActual *int64      `json:"cumulative_actual,omitempty" doc:"Actual from the window's first day through this day"`
	Attainment       *money.Rate `json:"attainment_bp,omitempty" doc:"cumulative_actual / cumulative_target, bp"`
	Status           string      `json:"status,omitempty" enum:"on_track,behind,alert,not_started" doc:"not_started (no actual) for a day that has not come yet"`
}

// KPIPlan is one KPI's plan against its actuals, by day.
type KPIPlan struct {
	KPI    string    `json:"kpi"`
	Target int64     `json:"target"`
	Ratio  bool      `json:"ratio,omitempty"`
	Days   []PlanDay `json:"days"`
}

// WindowPlan is the campaign's or a phase's plan against its actuals.
type WindowPlan struct {
	Kind string    `json:"kind" enum:"campaign,preheat,burst,tail,review"`
	Name string    `json:"name,omitempty"`
	From Day       `json:"from" doc:"First shop-local day of the window"`
	To   Day       `json:"to" doc:"Last shop-local day of the window (inclusive)"`
	KPIs []KPIPlan `json:"kpis"`
}

// PlanVsActual is a campaign's plan against its actuals, day by day,
// through a day.
type PlanVsActual struct {
	CampaignID string       `json:"campaign_id"`
	Through    Day          `json:"through"`
	TimeZone   string       `json:"time_zone"`
	AlertLine  money.Rate   `json:"alert_line_bp"`
	Campaign   WindowPlan   `json:"campaign"`
	Phases     []WindowPlan `json:"phases"`
}

// PlanVsActual lists, for the campaign and each phase and for every KPI
// with a target, each day of the window through 'through' ("" = today):
// the day's target and actual, both to date, attainment and status.
func (s *Service) PlanVsActual(ctx context.Context, shopID, id, through string) (*PlanVsActual, error) {
	c, err := s.Get(ctx, shopID, id)
	if err != nil {
		return nil, err
	}
	loc, err := s.location(ctx, shopID)
	if err != nil {
		return nil, err
	}
	if through, err = s.dayOrToday("through", through, loc); err != nil {
		return nil, err
	}
	today := DayOf(s.com.Now(), loc)
	out := &PlanVsActual{CampaignID: c.ID, Through: through, TimeZone: loc.String(), AlertLine: c.AlertLine, Phases: []WindowPlan{}}
	days := Days(c.StartsAt, c.EndsAt, loc)
	if out.Campaign, err = s.windowPlan(ctx, c, "campaign", "", days, c.Series(loc), through, today); err != nil {
		return nil, err
	}
	for i := range c.Phases {
		p := &c.Phases[i]
		w, err := s.windowPlan(ctx, c, p.Kind, p.Name, Days(p.StartsAt, p.EndsAt, loc), p.Series(loc), through, today)
		if err != nil {
			return nil, err
		}
		out.Phases = append(out.Phases, w)
	}
	return out, nil
}

func (s *Service) windowPlan(ctx context.Context, c *Campaign, kind, name string, days []Day, series []Series, through, today Day) (WindowPlan, error) {
	w := WindowPlan{Kind: kind, Name: name, KPIs: []KPIPlan{}}
	if len(days) > 0 {
		w.From, w.To = days[0], days[len(days)-1]
	}
	var byDay map[Day]DayActuals
	// Actuals stop at today: a day that has not come has none.
	if from, last, ok := clip(days, min(through, today)); ok && s.actuals != nil && len(series) > 0 {
		got, err := s.actuals.ActualsByDay(ctx, c, from, last)
		if err != nil {
			return w, fmt.Errorf("campaign %s actuals by day: %w", c.ID, err)
		}
		byDay = make(map[Day]DayActuals, len(got))
		for _, d := range got {
			byDay[d.Day] = d
		}
	}
	for _, sr := range series {
		kp := KPIPlan{KPI: sr.KPI, Target: sr.Target, Ratio: sr.Ratio, Days: []PlanDay{}}
		for i, d := range sr.Days {
			if d > through {
				break
			}
			pd := PlanDay{Day: d, Target: sr.Daily[i], CumulativeTarget: sr.ToDate(d)}
			if d > today {
				pd.Status = PaceNotStarted
			} else if a, ok := byDay[d]; ok {
				if v, ok := a.OnDay[sr.KPI]; ok {
					pd.Actual = &v
				}
				if v, ok := a.ToDate[sr.KPI]; ok {
					att := Attainment(pd.CumulativeTarget, v)
					pd.CumulativeActual, pd.Attainment, pd.Status = &v, &att, PaceStatus(pd.CumulativeTarget, v, c.AlertLine)
				}
			}
			kp.Days = append(kp.Days, pd)
		}
		w.KPIs = append(w.KPIs, kp)
	}
	return w, nil
}

// CalendarView is the marketing calendar for a range of days.
type CalendarView struct {
	From       Day         `json:"from"`
	To         Day         `json:"to"`
	Campaigns  []Campaign  `json:"campaigns"`
	TradeDates []TradeDate `json:"trade_dates"`
}

// MaxCalendarDays bounds a calendar request.
const MaxCalendarDays = 800

// Calendar lists the shop's campaigns overlapping [from, to] (shop-local
// days, inclusive) and the trade's reference dates in it.
func (s *Service) Calendar(ctx context.Context, shopID, from, to string) (*CalendarView, error) {
	f, ok := ParseDay(from)
	if !ok {
		return nil, commerce.Invalid("from", "invalid_date", "from is a date like 2026-11-01")
	}
	t, ok := ParseDay(to)
	if !ok {
		return nil, commerce.Invalid("to", "invalid_date", "to is a date like 2026-11-30")
	}
	loc, err := s.location(ctx, shopID)
	if err != nil {
		return nil, err
	}
	ft, _ := time.ParseInLocation(dayLayout, f, loc)
	tt, _ := time.ParseInLocation(dayLayout, AddDays(t, 1), loc)
	if !tt.After(ft) {
		return nil, commerce.Invalid("to", "window_order", "to must not be before from")
	}
	if tt.Sub(ft) > MaxCalendarDays*24*time.Hour {
		return nil, commerce.Invalid("to", "too_long", "a calendar spans at most %d days", MaxCalendarDays)
	}
	cs, err := s.store.CampaignsOverlapping(ctx, shopID, ft, tt)
	if err != nil {
		return nil, err
	}
	td := TradeDates(f, t)
	if td == nil {
		td = []TradeDate{}
	}
	return &CalendarView{From: f, To: t, Campaigns: cs, TradeDates: td}, nil
}
