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

// Milestone is a step of the campaign's preparation with an owner: due a
// number of days before or after the start (T-30 …) or on a date.
type Milestone struct {
	ID         string     `json:"id"`
	ShopID     string     `json:"-"`
	CampaignID string     `json:"campaign_id"`
	Name       string     `json:"name"`
	OffsetDays *int64     `json:"offset_days,omitempty" doc:"Days from the campaign's start day: -30 is T-30"`
	DueOn      Day        `json:"due_on" doc:"The due date, shop-local"`
	Owner      string     `json:"owner,omitempty"`
	DoneAt     *time.Time `json:"done_at,omitempty"`
	Status     string     `json:"status" enum:"done,due,overdue"`
	CreatedAt  time.Time  `json:"created_at"`
}

// MilestoneInput adds a milestone: offset_days or due_on, not both.
type MilestoneInput struct {
	Name       string `json:"name" maxLength:"200"`
	OffsetDays *int64 `json:"offset_days,omitempty" minimum:"-366" maximum:"366"`
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
	return nil
}

// DefaultMilestones is the usual preparation of a big sale.
func DefaultMilestones() []MilestoneInput {
	off := func(n int64) *int64 { return &n }
	return []MilestoneInput{
		{Name: "立项 kick-off", OffsetDays: off(-30)},
		{Name: "方案评审 plan review", OffsetDays: off(-21)},
		{Name: "系统测试 system test", OffsetDays: off(-14)},
		{Name: "预热 preheat starts", OffsetDays: off(-7)},
		{Name: "压测与值班 load test and on-call roster", OffsetDays: off(-1)},
		{Name: "复盘 review", OffsetDays: off(1)},
	}
}

// dueOn resolves a milestone's due date against the campaign's start day.
func dueOn(offset *int64, due Day, start time.Time, loc *time.Location) Day {
	if offset != nil {
		return AddDays(DayOf(start, loc), int(*offset))
	}
	return due
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
