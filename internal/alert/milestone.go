package alert

import (
	"context"
	"time"

	"github.com/carnivalhq/carnival/internal/campaign"
	"github.com/carnivalhq/carnival/internal/commerce"
)

// MilestoneHorizon is how long after its last day a campaign's milestones
// are still watched by a shop-wide milestone rule: an old plan left with
// unticked steps does not alert for ever.
const MilestoneHorizon = 30

// MilestoneUrgentDays is how many days overdue make a milestone urgent.
const MilestoneUrgentDays = 3

// milestones raises one alert per milestone of the rule's campaign (every
// campaign of the shop without one) whose due day is over in the shop's
// time zone and which is not done: warning, urgent from the third day
// overdue. The value is the days overdue. Completing the milestone
// resolves it.
func (s *Service) milestones(ctx context.Context, r *Rule, loc *time.Location, now time.Time) ([]Finding, error) {
	var cs []campaign.Campaign
	if r.CampaignID != "" {
		c, err := s.opts.Campaigns.Get(ctx, r.ShopID, r.CampaignID)
		if ce, ok := commerce.AsError(err); ok && ce.Kind == commerce.KindNotFound {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		cs = append(cs, *c)
	} else {
		today := campaign.DayOf(now, loc)
		for p := (commerce.Page{Limit: 500}); ; {
			page, err := s.opts.Campaigns.List(ctx, r.ShopID, p)
			if err != nil {
				return nil, err
			}
			for i := range page {
				c := &page[i]
				if last := campaign.DayOf(c.EndsAt.Add(-time.Nanosecond), loc); campaign.AddDays(last, MilestoneHorizon) < today {
					continue
				}
				full, err := s.opts.Campaigns.Get(ctx, r.ShopID, c.ID)
				if err != nil {
					return nil, err
				}
				cs = append(cs, *full)
			}
			if len(page) < p.Limit {
				break
			}
			p.Cursor = page[len(page)-1].ID
		}
	}
	today := campaign.DayOf(now, loc)
	var out []Finding
	for _, c := range cs {
		for _, m := range c.Milestones {
			if m.DoneAt != nil || m.DueOn >= today {
				continue
			}
			days := daysBetween(m.DueOn, today)
			sev := SevWarning
			if days >= MilestoneUrgentDays {
				sev = SevUrgent
			}
			f := Finding{Subject: m.ID, Severity: sev, Value: days, MessageKey: "alert.milestone",
				MessageArgs: []any{c.Name, m.Name, days, string(m.DueOn)}}
			if m.Owner != "" {
				f.MessageKey, f.MessageArgs = "alert.milestone.owner", append(f.MessageArgs, m.Owner)
			}
			out = append(out, f)
		}
	}
	return out, nil
}

// daysBetween is the number of days from one date to a later one.
func daysBetween(from, to campaign.Day) int64 {
	f, err1 := time.Parse(time.DateOnly, from)
	t, err2 := time.Parse(time.DateOnly, to)
	if err1 != nil || err2 != nil {
		return 0
	}
	return int64(t.Sub(f).Hours() / 24)
}
