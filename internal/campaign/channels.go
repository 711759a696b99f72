package campaign

import (
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/money"
)

// Channel kinds.
const (
	ChannelOnsite  = "onsite"   // 站内资源位
	ChannelPaidAds = "paid_ads" // 站外投放
	ChannelKOL     = "kol"      // 达人
	ChannelPrivate = "private"  // 私域
	ChannelSMS     = "sms"
	ChannelEmail   = "email"
	ChannelOther   = "other"
)

// Channel is where a campaign buys or earns traffic, with its UTM codes
// (unique in the campaign, so analytics can attribute visits), its planned
// budget and the spend posted so far.
type Channel struct {
	ID          string      `json:"id"`
	ShopID      string      `json:"-"`
	CampaignID  string      `json:"campaign_id"`
	Kind        string      `json:"kind"`
	Name        string      `json:"name"`
	UTMSource   string      `json:"utm_source"`
	UTMMedium   string      `json:"utm_medium"`
	UTMCampaign string      `json:"utm_campaign"`
	Budget      money.Money `json:"budget"`
	Spent       money.Money `json:"spent"`
	BudgetUsed  money.Rate  `json:"budget_used_bp" doc:"spent / budget in bp (0 when there is no budget)"`
	CreatedAt   time.Time   `json:"created_at"`
}

// ChannelInput adds a channel.
type ChannelInput struct {
	Kind        string      `json:"kind" enum:"onsite,paid_ads,kol,private,sms,email,other"`
	Name        string      `json:"name" maxLength:"200"`
	UTMSource   string      `json:"utm_source" maxLength:"64"`
	UTMMedium   string      `json:"utm_medium" maxLength:"64"`
	UTMCampaign string      `json:"utm_campaign" maxLength:"64"`
	Budget      money.Money `json:"budget" doc:"Planned budget in fen"`
}

// Validate checks the input.
func (in *ChannelInput) Validate() error {
	switch in.Kind {
	case ChannelOnsite, ChannelPaidAds, ChannelKOL, ChannelPrivate, ChannelSMS, ChannelEmail, ChannelOther:
	default:
		return commerce.Invalid("kind", "invalid_enum", "kind is onsite, paid_ads, kol, private, sms, email or other")
	}
	if err := commerce.CheckText("name", in.Name, true, commerce.MaxNameLen); err != nil {
		return err
	}
	for _, f := range []struct{ name, v string }{{"utm_source", in.UTMSource}, {"utm_medium", in.UTMMedium}, {"utm_campaign", in.UTMCampaign}} {
		if err := commerce.CheckText(f.name, f.v, true, commerce.MaxCodeLen); err != nil {
			return err
		}
	}
	if in.Budget < 0 || in.Budget > money.MaxAmount {
		return commerce.Invalid("budget", "out_of_range", "budget must be 0 to %d fen", money.MaxAmount)
	}
	return nil
}

// WithUse fills BudgetUsed from Spent and Budget.
func (ch *Channel) WithUse() {
	ch.BudgetUsed = 0
	if ch.Budget > 0 {
		ch.BudgetUsed = money.MulDiv(ch.Spent, money.Full, ch.Budget)
	}
}

// Spend is money spent on a channel on a day, entered by hand or posted by
// an ad platform's integration.
type Spend struct {
	ID         string      `json:"id"`
	ShopID     string      `json:"-"`
	CampaignID string      `json:"campaign_id"`
	ChannelID  string      `json:"channel_id"`
	Day        Day         `json:"day"`
	Amount     money.Money `json:"amount"`
	Note       string      `json:"note,omitempty"`
	IdemKey    string      `json:"-"`
	CreatedAt  time.Time   `json:"created_at"`
}

// SpendInput posts a spend entry.
type SpendInput struct {
	Day    string      `json:"day" doc:"Shop-local date, 2006-01-02"`
	Amount money.Money `json:"amount" doc:"Fen"`
	Note   string      `json:"note,omitempty" maxLength:"200"`
}

// Validate checks the input.
func (in *SpendInput) Validate() error {
	d, ok := ParseDay(in.Day)
	if !ok {
		return commerce.Invalid("day", "invalid_date", "day is a date like 2026-11-11")
	}
	in.Day = d
	if in.Amount <= 0 || in.Amount > money.MaxAmount {
		return commerce.Invalid("amount", "out_of_range", "amount must be 1 to %d fen", money.MaxAmount)
	}
	return commerce.CheckFreeText("note", in.Note, false, commerce.MaxNameLen)
}
