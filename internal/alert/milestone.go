package alert

import (
	"context"
	"fmt"
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
			out = append(out, Finding{Subject: m.ID, Severity: sev, Value: days,
				Message: MilestoneOverdueMessage(LangEnglish, c.Name, m.Name, m.Owner, m.DueOn, days)})
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

// ---- messages ----
//
// The milestone alert's text, in both languages the shop may use, behind
// a stable code: fold into the alert message catalogue as it is.

// Languages of alert text.
const (
	LangChinese = "zh-CN"
	LangEnglish = "en"
)

// MsgMilestoneOverdue is the code of the milestone alert's message.
const MsgMilestoneOverdue = "milestone_overdue"

// milestoneOverdueText is the message by language; the arguments are the
// campaign, the milestone, the owner clause, the due day and the days
// overdue.
var milestoneOverdueText = map[string]string{
	LangChinese: "活动「%s」的里程碑「%s」%s已逾期 %d 天（截止 %s），尚未完成",
	LangEnglish: "milestone %q of campaign %q%s is %d day(s) overdue (due %s) and not done",
}

// MilestoneOverdueMessage is the milestone alert's message in lang
// (English for a language it does not know).
func MilestoneOverdueMessage(lang, campaignName, milestone, owner string, due campaign.Day, days int64) string {
	if lang == LangChinese {
		who := ""
		if owner != "" {
			who = "（负责人 " + owner + "）"
		}
		return fmt.Sprintf(milestoneOverdueText[LangChinese], campaignName, milestone, who, days, due)
	}
	who := ""
	if owner != "" {
		who = " (owner " + owner + ")"
	}
	return fmt.Sprintf(milestoneOverdueText[LangEnglish], milestone, campaignName, who, days, due)
}
