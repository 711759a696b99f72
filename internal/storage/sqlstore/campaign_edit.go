package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/carnivalhq/carnival/internal/campaign"
	"github.com/carnivalhq/carnival/internal/commerce"
)

// ---- editing campaign plans piece by piece ----

// forUpdate locks the rows a SELECT reads on PostgreSQL until the
// transaction ends; SQLite has one writer at a time and needs none.
func (s *Store) forUpdate() string {
	if s.d.Name == "sqlite" {
		return ""
	}
	return " FOR UPDATE"
}

// lockCampaign reads an active or ended campaign's status and attachments
// in tx, locked against concurrent edits (ErrNotFound without it).
func (s *Store) lockCampaign(ctx context.Context, tx *Tx, shopID, id string) (string, campaignAttachments, error) {
	var status, att string
	var a campaignAttachments
	err := tx.QueryRow(ctx, `SELECT status, attachments FROM campaigns WHERE shop_id = $1 AND id = $2`+s.forUpdate(), shopID, id).Scan(&status, &att)
	if errors.Is(err, sql.ErrNoRows) {
		return "", a, commerce.ErrNotFound
	}
	if err != nil {
		return "", a, err
	}
	if err := json.Unmarshal([]byte(att), &a); err != nil {
		return "", a, fmt.Errorf("campaign %s attachments: %w", id, err)
	}
	return status, a, nil
}

func (s *Store) SetAttached(ctx context.Context, shopID, campaignID string, kind campaign.AttachKind, ref string, attach bool, at time.Time, audit *commerce.AuditEntry) (bool, error) {
	changed := false
	err := s.Write(ctx, func(tx *Tx) error {
		changed = false
		status, a, err := s.lockCampaign(ctx, tx, shopID, campaignID)
		if err != nil {
			return err
		}
		if status != campaign.StatusActive {
			return commerce.ErrStale
		}
		list := &a.PromotionIDs
		if kind == campaign.AttachCouponTemplate {
			list = &a.CouponTemplateIDs
		}
		i := slices.Index(*list, ref)
		switch {
		case attach && i >= 0, !attach && i < 0:
			return nil
		case attach && len(*list) >= campaign.MaxAttachments:
			return campaign.ErrTooManyAttachments
		case attach:
			*list = append(*list, ref)
		default:
			*list = slices.Delete(*list, i, i+1)
		}
		if a.PromotionIDs == nil {
			a.PromotionIDs = []string{}
		}
		if a.CouponTemplateIDs == nil {
			a.CouponTemplateIDs = []string{}
		}
		doc, err := json.Marshal(a)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE campaigns SET attachments = $1, updated_at = $2 WHERE shop_id = $3 AND id = $4`, string(doc), TS(at), shopID, campaignID); err != nil {
			return err
		}
		changed = true
		return InsertAudit(ctx, tx, audit)
	})
	return changed, err
}

// activeCampaign checks in tx that the campaign exists (ErrNotFound) and
// has not ended (ErrStale).
func (s *Store) activeCampaign(ctx context.Context, tx *Tx, shopID, id string) error {
	status, _, err := s.lockCampaign(ctx, tx, shopID, id)
	if err != nil {
		return err
	}
	if status != campaign.StatusActive {
		return commerce.ErrStale
	}
	return nil
}

func (s *Store) UpdateChannel(ctx context.Context, ch *campaign.Channel, audit *commerce.AuditEntry) error {
	err := s.Write(ctx, func(tx *Tx) error {
		if err := s.activeCampaign(ctx, tx, ch.ShopID, ch.CampaignID); err != nil {
			return err
		}
		n, err := tx.ExecN(ctx, `UPDATE campaign_channels SET kind = $1, name = $2, utm_source = $3, utm_medium = $4, utm_campaign = $5, budget = $6
			WHERE shop_id = $7 AND campaign_id = $8 AND id = $9`, ch.Kind, ch.Name, ch.UTMSource, ch.UTMMedium, ch.UTMCampaign, ch.Budget,
			ch.ShopID, ch.CampaignID, ch.ID)
		if err != nil {
			return err
		}
		if n == 0 {
			return commerce.ErrNotFound
		}
		return InsertAudit(ctx, tx, audit)
	})
	if err != nil && s.d.IsUnique != nil && s.d.IsUnique(err) {
		return fmt.Errorf("channel utm codes: %w", commerce.ErrDuplicate)
	}
	return err
}

func (s *Store) DeleteChannel(ctx context.Context, shopID, campaignID, id string, audit *commerce.AuditEntry) error {
	return s.Write(ctx, func(tx *Tx) error {
		if err := s.activeCampaign(ctx, tx, shopID, campaignID); err != nil {
			return err
		}
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM campaign_channels WHERE shop_id = $1 AND campaign_id = $2 AND id = $3`+s.forUpdate(), shopID, campaignID, id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return commerce.ErrNotFound
		}
		if err != nil {
			return err
		}
		var spend int64
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM campaign_spend WHERE channel_id = $1`, id).Scan(&spend); err != nil {
			return err
		}
		if spend > 0 {
			return &campaign.InUseError{References: map[string]int64{"spend_entries": spend}}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM campaign_channels WHERE shop_id = $1 AND campaign_id = $2 AND id = $3`, shopID, campaignID, id); err != nil {
			return err
		}
		return InsertAudit(ctx, tx, audit)
	})
}

func (s *Store) UpdateMilestone(ctx context.Context, m *campaign.Milestone, audit *commerce.AuditEntry) error {
	var off sql.NullInt64
	if m.OffsetDays != nil {
		off = sql.NullInt64{Int64: *m.OffsetDays, Valid: true}
	}
	return s.Write(ctx, func(tx *Tx) error {
		n, err := tx.ExecN(ctx, `UPDATE campaign_milestones SET name = $1, offset_days = $2, due_on = $3, owner = $4, anchor = $5 WHERE shop_id = $6 AND campaign_id = $7 AND id = $8`,
			m.Name, off, m.DueOn, m.Owner, cmp.Or(m.Anchor, campaign.AnchorStart), m.ShopID, m.CampaignID, m.ID)
		if err != nil {
			return err
		}
		if n == 0 {
			return commerce.ErrNotFound
		}
		return InsertAudit(ctx, tx, audit)
	})
}

func (s *Store) DeleteMilestone(ctx context.Context, shopID, campaignID, id string, audit *commerce.AuditEntry) error {
	return s.Write(ctx, func(tx *Tx) error {
		n, err := tx.ExecN(ctx, `DELETE FROM campaign_milestones WHERE shop_id = $1 AND campaign_id = $2 AND id = $3`, shopID, campaignID, id)
		if err != nil {
			return err
		}
		if n == 0 {
			return commerce.ErrNotFound
		}
		return InsertAudit(ctx, tx, audit)
	})
}

// campaignReferences counts what references a campaign, in tx: attached
// promotions and coupon templates, spend, orders placed under one of its
// channels' utm_source and utm_campaign, pacing alert rules watching it and
// their unresolved alerts. Its channels are locked (PostgreSQL) so no spend
// is posted on them meanwhile.
func (s *Store) campaignReferences(ctx context.Context, tx *Tx, shopID, id string, a campaignAttachments) (map[string]int64, error) {
	refs := map[string]int64{"promotions": int64(len(a.PromotionIDs)), "coupon_templates": int64(len(a.CouponTemplateIDs))}
	rows, err := tx.Query(ctx, `SELECT utm_source, utm_campaign FROM campaign_channels WHERE shop_id = $1 AND campaign_id = $2 ORDER BY id`+s.forUpdate(), shopID, id)
	pairs, err := rowsAll(rows, err, func(r *sql.Rows) ([2]string, error) {
		var p [2]string
		return p, r.Scan(&p[0], &p[1])
	})
	if err != nil {
		return nil, err
	}
	var n int64
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM campaign_spend WHERE shop_id = $1 AND campaign_id = $2`, shopID, id).Scan(&n); err != nil {
		return nil, err
	}
	refs["spend_entries"] = n
	seen := map[[2]string]bool{}
	for _, p := range pairs {
		if seen[p] {
			continue // channels told apart by utm_medium share their orders
		}
		seen[p] = true
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM orders WHERE shop_id = $1 AND channel = $2 AND campaign = $3`, shopID, p[0], p[1]).Scan(&n); err != nil {
			return nil, err
		}
		refs["orders"] += n
	}
	rows, err = tx.Query(ctx, `SELECT spec FROM alert_rules WHERE shop_id = $1 AND kind = 'pacing'`, shopID)
	specs, err := rowsAll(rows, err, func(r *sql.Rows) (string, error) {
		var spec string
		return spec, r.Scan(&spec)
	})
	if err != nil {
		return nil, err
	}
	for _, spec := range specs {
		var rule struct {
			CampaignID string `json:"campaign_id"`
		}
		if json.Unmarshal([]byte(spec), &rule) == nil && rule.CampaignID == id {
			refs["alert_rules"]++
		}
	}
	// A pacing alert's subject is "<campaign id>/<kpi>".
	rows, err = tx.Query(ctx, `SELECT subject FROM alerts WHERE shop_id = $1 AND kind = 'pacing' AND resolved_at IS NULL`, shopID)
	subjects, err := rowsAll(rows, err, func(r *sql.Rows) (string, error) {
		var sub string
		return sub, r.Scan(&sub)
	})
	if err != nil {
		return nil, err
	}
	for _, sub := range subjects {
		if strings.HasPrefix(sub, id+"/") {
			refs["open_alerts"]++
		}
	}
	for k, v := range refs {
		if v == 0 {
			delete(refs, k)
		}
	}
	return refs, nil
}

func (s *Store) DeleteCampaign(ctx context.Context, shopID, id string, audit *commerce.AuditEntry) error {
	return s.Write(ctx, func(tx *Tx) error {
		_, a, err := s.lockCampaign(ctx, tx, shopID, id)
		if err != nil {
			return err
		}
		refs, err := s.campaignReferences(ctx, tx, shopID, id, a)
		if err != nil {
			return err
		}
		if len(refs) > 0 {
			return &campaign.InUseError{References: refs}
		}
		for _, q := range []string{
			`DELETE FROM campaign_milestones WHERE shop_id = $1 AND campaign_id = $2`,
			`DELETE FROM campaign_channels WHERE shop_id = $1 AND campaign_id = $2`,
			`DELETE FROM campaigns WHERE shop_id = $1 AND id = $2`,
		} {
			if _, err := tx.Exec(ctx, q, shopID, id); err != nil {
				return err
			}
		}
		return InsertAudit(ctx, tx, audit)
	})
}
