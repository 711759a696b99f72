package campaign

import (
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
)

// Milestone statuses, computed with the clock.
const (
	MilestoneDone    = "done"
	MilestoneDue     = "due"     // not done, due date not passed
	MilestoneOverdue = "overdue" // not done, its due day is over in the shop's time zone
)

// Milestone anchors: the shop-local day offset_days counts from.
const (
	AnchorStart   = "start"   // the campaign's first day: -30 is T-30
	AnchorEnd     = "end"     // the campaign's last day: 1 is the day after it
	AnchorPreheat = "preheat" // the preheat phase's first day; without one, T-7
)

// PreheatLead is how many days before the start a campaign without a
// preheat phase is taken to start warming up.
const PreheatLead = 7

// Milestone is a step of the campaign's preparation with an owner: due a
// number of days from an anchor day (T-30 from the start, T+1 after the
// end …) or on a date.
type Milestone struct {
	ID         string     `json:"id"`
	ShopID     string     `json:"-"`
	CampaignID string     `json:"campaign_id"`
	Name       string     `json:"name"`
	OffsetDays *int64     `json:"offset_days,omitempty" doc:"Days from the anchor day: -30 from start is T-30, 1 from end is the day after the last day"`
	Anchor     string     `json:"anchor,omitempty" enum:"start,end,preheat" doc:"What offset_days counts from (with offset_days): start (the first day), end (the last day), preheat (the preheat phase's first day; 7 days before the start without one)"`
	DueOn      Day        `json:"due_on" doc:"The due date, shop-local"`
	Owner      string     `json:"owner,omitempty"`
	DoneAt     *time.Time `json:"done_at,omitempty"`
	Status     string     `json:"status" enum:"done,due,overdue"`
	CreatedAt  time.Time  `json:"created_at"`
}

// MilestoneInput adds a milestone: offset_days (from anchor) or due_on,
// not both.
type MilestoneInput struct {
	Name       string `json:"name" maxLength:"200"`
	OffsetDays *int64 `json:"offset_days,omitempty" minimum:"-366" maximum:"366"`
	Anchor     string `json:"anchor,omitempty" enum:"start,end,preheat," doc:"What offset_days counts from: start (default), end or preheat"`
	DueOn      string `json:"due_on,omitempty" doc:"2006-01-02"`
	Owner      string `json:"owner,omitempty" maxLength:"200"`
}

// Validate checks the input.
func (in *MilestoneInput) Validate() error {
	if err := commerce.CheckText("name", in.Name, true, commerce.MaxNameLen); err != nil {
		return err
	}
	if err := commerce.CheckText("owner", in.Owner, false, commerce.MaxNameLen); err != nil {
		return err
	}
	switch in.Anchor {
	case "", AnchorStart, AnchorEnd, AnchorPreheat:
	default:
		return commerce.Invalid("anchor", "invalid_enum", "anchor is start, end or preheat")
	}
	if in.Anchor != "" && in.OffsetDays == nil {
		return commerce.Invalid("anchor", "anchor_without_offset", "anchor goes with offset_days")
	}
	switch {
	case in.OffsetDays != nil && in.DueOn != "":
		return commerce.Invalid("due_on", "ambiguous_due", "give offset_days or due_on, not both")
	case in.OffsetDays != nil:
		if *in.OffsetDays < -MaxDays || *in.OffsetDays > MaxDays {
			return commerce.Invalid("offset_days", "out_of_range", "offset_days must be -%d to %d", MaxDays, MaxDays)
		}
	case in.DueOn != "":
		d, ok := ParseDay(in.DueOn)
		if !ok {
			return commerce.Invalid("due_on", "invalid_date", "due_on is a date like 2026-11-11")
		}
		in.DueOn = d
	default:
		return commerce.Invalid("offset_days", "required", "give offset_days or due_on")
	}
	if in.OffsetDays != nil && in.Anchor == "" {
		in.Anchor = AnchorStart
	}
	return nil
}

// DefaultMilestones is the usual preparation of a big sale: counted from
// the start, except 预热 (the preheat phase's first day, T-7 without one)
// and 复盘 (the day after the last day).
func DefaultMilestones() []MilestoneInput {
	off := func(n int64) *int64 { return &n }
	return []MilestoneInput{
		{Name: "立项 kick-off", OffsetDays: off(-30), Anchor: AnchorStart},
		{Name: "方案评审 plan review", OffsetDays: off(-21), Anchor: AnchorStart},
		{Name: "系统测试 system test", OffsetDays: off(-14), Anchor: AnchorStart},
		{Name: "预热 preheat starts", OffsetDays: off(0), Anchor: AnchorPreheat},
		{Name: "压测与值班 load test and on-call roster", OffsetDays: off(-1), Anchor: AnchorStart},
		{Name: "复盘 review", OffsetDays: off(1), Anchor: AnchorEnd},
	}
}

// AnchorDay is the shop-local day an anchor names for c: its first day,
// its last day, or its first preheat phase's first day (PreheatLead days
// before the first day when it has no preheat phase).
func (c *Campaign) AnchorDay(anchor string, loc *time.Location) Day {
	switch anchor {
	case AnchorEnd:
		if days := Days(c.StartsAt, c.EndsAt, loc); len(days) > 0 {
			return days[len(days)-1]
		}
	case AnchorPreheat:
		for _, p := range c.Phases {
			if p.Kind == PhasePreheat {
				return DayOf(p.StartsAt, loc)
			}
		}
		return AddDays(DayOf(c.StartsAt, loc), -PreheatLead)
	}
	return DayOf(c.StartsAt, loc)
}

// dueOn resolves a milestone's due date against the campaign's plan.
func (m *Milestone) dueOn(c *Campaign, loc *time.Location) Day {
	if m.OffsetDays != nil {
		return AddDays(c.AnchorDay(m.Anchor, loc), int(*m.OffsetDays))
	}
	return m.DueOn
}

// StatusAt is the milestone's status at now: done once done_at is set,
// overdue once its due day is over in loc, due before.
func (m *Milestone) StatusAt(now time.Time, loc *time.Location) string {
	if m.DoneAt != nil {
		return MilestoneDone
	}
	if DayOf(now, loc) > m.DueOn {
		return MilestoneOverdue
	}
	return MilestoneDue
}
