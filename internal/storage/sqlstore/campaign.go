package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/carnivalhq/carnival/internal/campaign"
	"github.com/carnivalhq/carnival/internal/commerce"
)

// ---- campaign plans ----

// campaignPlan is the JSON document a campaign's plan is stored as.
type campaignPlan struct {
	Targets    campaign.Targets `json:"targets"`
	DayWeights []int64          `json:"day_weights,omitempty"`
	Phases     []campaign.Phase `json:"phases"`
}

type campaignAttachments struct {
	PromotionIDs      []string `json:"promotion_ids"`
	CouponTemplateIDs []string `json:"coupon_template_ids"`
}

func campaignDocs(c *campaign.Campaign) (plan, att string, err error) {
	p, err := json.Marshal(campaignPlan{Targets: c.Targets, DayWeights: c.DayWeights, Phases: c.Phases})
	if err != nil {
		return "", "", err
	}
	a, err := json.Marshal(campaignAttachments{PromotionIDs: c.PromotionIDs, CouponTemplateIDs: c.CouponTemplateIDs})
	return string(p), string(a), err
}

func (s *Store) CreateCampaign(ctx context.Context, c *campaign.Campaign, ms []campaign.Milestone, audit *commerce.AuditEntry) error {
	plan, att, err := campaignDocs(c)
	if err != nil {
		return err
	}
	return s.Write(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO campaigns (id, shop_id, name, status, starts_at, ends_at, alert_line_bp, plan, attachments, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, c.ID, c.ShopID, c.Name, c.Status, TS(c.StartsAt), TS(c.EndsAt), c.AlertLine,
			plan, att, TS(c.CreatedAt), TS(c.UpdatedAt)); err != nil {
			return err
		}
		for i := range ms {
			if err := insertMilestone(ctx, tx, &ms[i]); err != nil {
				return err
			}
		}
		return InsertAudit(ctx, tx, audit)
	})
}

func (s *Store) UpdateCampaign(ctx context.Context, c *campaign.Campaign, audit *commerce.AuditEntry) error {
	plan, att, err := campaignDocs(c)
	if err != nil {
		return err
	}
	return s.Write(ctx, func(tx *Tx) error {
		n, err := tx.ExecN(ctx, `UPDATE campaigns SET name = $1, starts_at = $2, ends_at = $3, alert_line_bp = $4, plan = $5, attachments = $6, updated_at = $7
			WHERE shop_id = $8 AND id = $9 AND status = $10`, c.Name, TS(c.StartsAt), TS(c.EndsAt), c.AlertLine, plan, att, TS(c.UpdatedAt),
			c.ShopID, c.ID, campaign.StatusActive)
		if err != nil {
			return err
		}
		if n == 0 {
			return commerce.ErrStale
		}
		return InsertAudit(ctx, tx, audit)
	})
}

func (s *Store) EndCampaign(ctx context.Context, shopID, id string, at time.Time, audit *commerce.AuditEntry) error {
	return s.Write(ctx, func(tx *Tx) error {
		n, err := tx.ExecN(ctx, `UPDATE campaigns SET status = $1, ended_at = $2, updated_at = $2 WHERE shop_id = $3 AND id = $4 AND status = $5`,
			campaign.StatusEnded, TS(at), shopID, id, campaign.StatusActive)
		if err != nil {
			return err
		}
		if n == 0 {
			return commerce.ErrStale
		}
		return InsertAudit(ctx, tx, audit)
	})
}

const planCols = `id, shop_id, name, status, starts_at, ends_at, alert_line_bp, plan, attachments, created_at, updated_at, ended_at`

func scanPlan(r rowScanner) (campaign.Campaign, error) {
	var c campaign.Campaign
	var starts, ends, created, updated int64
	var ended sql.NullInt64
	var plan, att string
	if err := r.Scan(&c.ID, &c.ShopID, &c.Name, &c.Status, &starts, &ends, &c.AlertLine, &plan, &att, &created, &updated, &ended); err != nil {
		return c, err
	}
	c.StartsAt, c.EndsAt, c.CreatedAt, c.UpdatedAt, c.EndedAt = FromTS(starts), FromTS(ends), FromTS(created), FromTS(updated), FromNullTS(ended)
	var p campaignPlan
	var a campaignAttachments
	if err := json.Unmarshal([]byte(plan), &p); err != nil {
		return c, fmt.Errorf("campaign %s plan: %w", c.ID, err)
	}
	if err := json.Unmarshal([]byte(att), &a); err != nil {
		return c, fmt.Errorf("campaign %s attachments: %w", c.ID, err)
	}
	c.Targets, c.DayWeights, c.Phases = p.Targets, p.DayWeights, p.Phases
	if c.Targets == nil {
		c.Targets = campaign.Targets{}
	}
	if c.Phases == nil {
		c.Phases = []campaign.Phase{}
	}
	c.PromotionIDs, c.CouponTemplateIDs = a.PromotionIDs, a.CouponTemplateIDs
	if c.PromotionIDs == nil {
		c.PromotionIDs = []string{}
	}
	if c.CouponTemplateIDs == nil {
		c.CouponTemplateIDs = []string{}
	}
	return c, nil
}

// withCampaignParts loads each campaign's channels (spend summed) and milestones.
func (s *Store) withCampaignParts(ctx context.Context, cs []campaign.Campaign) ([]campaign.Campaign, error) {
	for i := range cs {
		rows, err := s.Query(ctx, `SELECT ch.id, ch.shop_id, ch.campaign_id, ch.kind, ch.name, ch.utm_source, ch.utm_medium, ch.utm_campaign, ch.budget,
			CAST(COALESCE((SELECT SUM(sp.amount) FROM campaign_spend sp WHERE sp.channel_id = ch.id), 0) AS BIGINT), ch.created_at
			FROM campaign_channels ch WHERE ch.campaign_id = $1 ORDER BY ch.id`, cs[i].ID)
		chs, err := rowsAll(rows, err, func(r *sql.Rows) (campaign.Channel, error) {
			var ch campaign.Channel
			var created int64
			err := r.Scan(&ch.ID, &ch.ShopID, &ch.CampaignID, &ch.Kind, &ch.Name, &ch.UTMSource, &ch.UTMMedium, &ch.UTMCampaign, &ch.Budget, &ch.Spent, &created)
			ch.CreatedAt = FromTS(created)
			return ch, err
		})
		if err != nil {
			return nil, err
		}
		rows, err = s.Query(ctx, `SELECT id, shop_id, campaign_id, name, offset_days, anchor, due_on, owner, done_at, created_at
			FROM campaign_milestones WHERE campaign_id = $1 ORDER BY id`, cs[i].ID)
		ms, err := rowsAll(rows, err, func(r *sql.Rows) (campaign.Milestone, error) {
			var m campaign.Milestone
			var off, done sql.NullInt64
			var created int64
			var anchor string
			err := r.Scan(&m.ID, &m.ShopID, &m.CampaignID, &m.Name, &off, &anchor, &m.DueOn, &m.Owner, &done, &created)
			if off.Valid {
				v := off.Int64
				m.OffsetDays, m.Anchor = &v, anchor
			}
			m.DoneAt, m.CreatedAt = FromNullTS(done), FromTS(created)
			return m, err
		})
		if err != nil {
			return nil, err
		}
		cs[i].Channels, cs[i].Milestones = chs, ms
	}
	return cs, nil
}

func (s *Store) GetCampaign(ctx context.Context, shopID, id string) (*campaign.Campaign, error) {
	return getByID(ctx, s, "campaigns", planCols, shopID, id, scanPlan, s.withCampaignParts)
}

func (s *Store) ListCampaigns(ctx context.Context, shopID string, p commerce.Page) ([]campaign.Campaign, error) {
	return listPage(ctx, s, "campaigns", planCols, shopID, p, scanPlan, nil)
}

func (s *Store) CampaignsOverlapping(ctx context.Context, shopID string, from, to time.Time) ([]campaign.Campaign, error) {
	rows, err := s.Query(ctx, `SELECT `+planCols+` FROM campaigns WHERE shop_id = $1 AND starts_at < $2 AND ends_at > $3 ORDER BY starts_at, id LIMIT 500`,
		shopID, TS(to), TS(from))
	return rowsAll(rows, err, func(r *sql.Rows) (campaign.Campaign, error) { return scanPlan(r) })
}

func (s *Store) AddChannel(ctx context.Context, ch *campaign.Channel, audit *commerce.AuditEntry) error {
	err := s.Write(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO campaign_channels (id, shop_id, campaign_id, kind, name, utm_source, utm_medium, utm_campaign, budget, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, ch.ID, ch.ShopID, ch.CampaignID, ch.Kind, ch.Name, ch.UTMSource, ch.UTMMedium, ch.UTMCampaign,
			ch.Budget, TS(ch.CreatedAt)); err != nil {
			return err
		}
		return InsertAudit(ctx, tx, audit)
	})
	if err != nil && s.d.IsUnique != nil && s.d.IsUnique(err) {
		return fmt.Errorf("channel utm codes: %w", commerce.ErrDuplicate)
	}
	return err
}

const spendCols = `id, shop_id, campaign_id, channel_id, day, amount, note, created_at`

func scanSpend(r rowScanner) (campaign.Spend, error) {
	var sp campaign.Spend
	var created int64
	err := r.Scan(&sp.ID, &sp.ShopID, &sp.CampaignID, &sp.ChannelID, &sp.Day, &sp.Amount, &sp.Note, &created)
	sp.CreatedAt = FromTS(created)
	return sp, err
}

func (s *Store) AddSpend(ctx context.Context, sp *campaign.Spend, audit *commerce.AuditEntry) (*campaign.Spend, bool, error) {
	var got *campaign.Spend
	replayed := false
	err := s.Write(ctx, func(tx *Tx) error {
		got, replayed = sp, false
		key := sql.NullString{String: sp.IdemKey, Valid: sp.IdemKey != ""}
		n, err := tx.ExecN(ctx, `INSERT INTO campaign_spend (id, shop_id, campaign_id, channel_id, day, amount, note, idem_key, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (channel_id, idem_key) DO NOTHING`,
			sp.ID, sp.ShopID, sp.CampaignID, sp.ChannelID, sp.Day, sp.Amount, sp.Note, key, TS(sp.CreatedAt))
		if err != nil {
			return err
		}
		if n == 0 {
			first, err := scanSpend(tx.QueryRow(ctx, `SELECT `+spendCols+` FROM campaign_spend WHERE channel_id = $1 AND idem_key = $2`, sp.ChannelID, sp.IdemKey))
			if err != nil {
				return err
			}
			got, replayed = &first, true
			return nil
		}
		return InsertAudit(ctx, tx, audit)
	})
	if err != nil {
		return nil, false, err
	}
	return got, replayed, nil
}

func (s *Store) ListSpend(ctx context.Context, shopID, channelID string) ([]campaign.Spend, error) {
	rows, err := s.Query(ctx, `SELECT `+spendCols+` FROM campaign_spend WHERE shop_id = $1 AND channel_id = $2 ORDER BY day, id`, shopID, channelID)
	return rowsAll(rows, err, func(r *sql.Rows) (campaign.Spend, error) { return scanSpend(r) })
}

func insertMilestone(ctx context.Context, tx *Tx, m *campaign.Milestone) error {
	var off sql.NullInt64
	if m.OffsetDays != nil {
		off = sql.NullInt64{Int64: *m.OffsetDays, Valid: true}
	}
	anchor := m.Anchor
	if anchor == "" {
		anchor = campaign.AnchorStart
	}
	_, err := tx.Exec(ctx, `INSERT INTO campaign_milestones (id, shop_id, campaign_id, name, offset_days, anchor, due_on, owner, done_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, m.ID, m.ShopID, m.CampaignID, m.Name, off, anchor, m.DueOn, m.Owner, NullTS(m.DoneAt), TS(m.CreatedAt))
	return err
}

func (s *Store) AddMilestone(ctx context.Context, m *campaign.Milestone, audit *commerce.AuditEntry) error {
	return s.Write(ctx, func(tx *Tx) error {
		if err := insertMilestone(ctx, tx, m); err != nil {
			return err
		}
		return InsertAudit(ctx, tx, audit)
	})
}

func (s *Store) CompleteMilestone(ctx context.Context, shopID, campaignID, id string, at time.Time, audit *commerce.AuditEntry) error {
	return s.Write(ctx, func(tx *Tx) error {
		n, err := tx.ExecN(ctx, `UPDATE campaign_milestones SET done_at = $1 WHERE shop_id = $2 AND campaign_id = $3 AND id = $4 AND done_at IS NULL`,
			TS(at), shopID, campaignID, id)
		if err != nil {
			return err
		}
		if n == 0 {
			var one int
			err := tx.QueryRow(ctx, `SELECT 1 FROM campaign_milestones WHERE shop_id = $1 AND campaign_id = $2 AND id = $3`, shopID, campaignID, id).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return commerce.ErrNotFound
			}
			if err != nil {
				return err
			}
			return commerce.ErrStale
		}
		return InsertAudit(ctx, tx, audit)
	})
}

var _ campaign.Store = (*Store)(nil)
