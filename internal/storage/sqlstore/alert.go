package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/carnivalhq/carnival/internal/alert"
	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/pricing"
	"github.com/carnivalhq/carnival/internal/promotion"
)

// ---- alert rules ----

const alertRuleCols = `id, shop_id, spec, created_at, updated_at`

func scanAlertRule(r rowScanner) (alert.Rule, error) {
	var ru alert.Rule
	var spec string
	var created, updated int64
	if err := r.Scan(&ru.ID, &ru.ShopID, &spec, &created, &updated); err != nil {
		return ru, err
	}
	ru.CreatedAt, ru.UpdatedAt = FromTS(created), FromTS(updated)
	if err := json.Unmarshal([]byte(spec), &ru.RuleInput); err != nil {
		return ru, fmt.Errorf("alert rule %s spec: %w", ru.ID, err)
	}
	return ru, nil
}

func (s *Store) CreateRule(ctx context.Context, r *alert.Rule, audit *commerce.AuditEntry) error {
	spec, err := json.Marshal(r.RuleInput)
	if err != nil {
		return err
	}
	return s.Write(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO alert_rules (id, shop_id, kind, spec, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			r.ID, r.ShopID, r.Kind, string(spec), TS(r.CreatedAt), TS(r.UpdatedAt)); err != nil {
			return err
		}
		return InsertAudit(ctx, tx, audit)
	})
}

func (s *Store) UpdateRule(ctx context.Context, r *alert.Rule, audit *commerce.AuditEntry) error {
	spec, err := json.Marshal(r.RuleInput)
	if err != nil {
		return err
	}
	return s.Write(ctx, func(tx *Tx) error {
		n, err := tx.ExecN(ctx, `UPDATE alert_rules SET kind = $1, spec = $2, updated_at = $3 WHERE shop_id = $4 AND id = $5`,
			r.Kind, string(spec), TS(r.UpdatedAt), r.ShopID, r.ID)
		if err != nil {
			return err
		}
		if n == 0 {
			return commerce.ErrNotFound
		}
		return InsertAudit(ctx, tx, audit)
	})
}

func (s *Store) DeleteRule(ctx context.Context, shopID, id string, at time.Time, audit *commerce.AuditEntry) error {
	return s.Write(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE alerts SET status = $1, resolved_at = $2 WHERE shop_id = $3 AND rule_id = $4 AND resolved_at IS NULL`,
			alert.StatusResolved, TS(at), shopID, id); err != nil {
			return err
		}
		n, err := tx.ExecN(ctx, `DELETE FROM alert_rules WHERE shop_id = $1 AND id = $2`, shopID, id)
		if err != nil {
			return err
		}
		if n == 0 {
			return commerce.ErrNotFound
		}
		return InsertAudit(ctx, tx, audit)
	})
}

func (s *Store) GetRule(ctx context.Context, shopID, id string) (*alert.Rule, error) {
	return getByID(ctx, s, "alert_rules", alertRuleCols, shopID, id, scanAlertRule, nil)
}

func (s *Store) ListRules(ctx context.Context, shopID string, p commerce.Page) ([]alert.Rule, error) {
	return listPage(ctx, s, "alert_rules", alertRuleCols, shopID, p, scanAlertRule, nil)
}

func (s *Store) ShopsWithRules(ctx context.Context) ([]string, error) {
	rows, err := s.Query(ctx, `SELECT DISTINCT shop_id FROM alert_rules ORDER BY shop_id`)
	return rowsAll(rows, err, func(r *sql.Rows) (string, error) {
		var id string
		return id, r.Scan(&id)
	})
}

// ---- alerts ----

const alertCols = `id, shop_id, rule_id, kind, fingerprint, subject, severity, notified, status, message, value, expected, first_seen, last_seen, ack_at, ack_by, resolved_at`

func scanAlert(r rowScanner) (alert.Alert, error) {
	var a alert.Alert
	var exp, ack, res sql.NullInt64
	var first, last int64
	err := r.Scan(&a.ID, &a.ShopID, &a.RuleID, &a.Kind, &a.Fingerprint, &a.Subject, &a.Severity, &a.Notified, &a.Status, &a.Message, &a.Value, &exp,
		&first, &last, &ack, &a.AckBy, &res)
	if exp.Valid {
		v := exp.Int64
		a.Expected = &v
	}
	a.FirstSeen, a.LastSeen, a.AckAt, a.ResolvedAt = FromTS(first), FromTS(last), FromNullTS(ack), FromNullTS(res)
	return a, err
}

func nullInt(p *int64) sql.NullInt64 {
	if p == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: *p, Valid: true}
}

func (s *Store) UnresolvedAlerts(ctx context.Context, shopID, ruleID string) ([]alert.Alert, error) {
	rows, err := s.Query(ctx, `SELECT `+alertCols+` FROM alerts WHERE shop_id = $1 AND rule_id = $2 AND resolved_at IS NULL ORDER BY id`, shopID, ruleID)
	return rowsAll(rows, err, func(r *sql.Rows) (alert.Alert, error) { return scanAlert(r) })
}

func (s *Store) LastResolved(ctx context.Context, shopID, fingerprint string) (*alert.Alert, error) {
	a, err := scanAlert(s.QueryRow(ctx, `SELECT `+alertCols+` FROM alerts WHERE shop_id = $1 AND fingerprint = $2 AND resolved_at IS NOT NULL
		ORDER BY resolved_at DESC, id DESC LIMIT 1`, shopID, fingerprint))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &a, nil
}

func (s *Store) ApplyChange(ctx context.Context, ch alert.Change, ds []alert.Delivery) error {
	a := ch.Alert
	err := s.Write(ctx, func(tx *Tx) error {
		if ch.Create {
			if _, err := tx.Exec(ctx, `INSERT INTO alerts (`+alertCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
				a.ID, a.ShopID, a.RuleID, a.Kind, a.Fingerprint, a.Subject, a.Severity, a.Notified, a.Status, a.Message, a.Value, nullInt(a.Expected),
				TS(a.FirstSeen), TS(a.LastSeen), NullTS(a.AckAt), a.AckBy, NullTS(a.ResolvedAt)); err != nil {
				return err
			}
		} else {
			// The status is only written when resolving: an acknowledgement
			// made since the alert was read must not be undone.
			n, err := tx.ExecN(ctx, `UPDATE alerts SET severity = $1, notified = $2, message = $3, value = $4, expected = $5, last_seen = $6,
				status = CASE WHEN $7 = 1 THEN $8 ELSE status END, resolved_at = $9
				WHERE shop_id = $10 AND id = $11 AND resolved_at IS NULL AND notified = $12`, a.Severity, a.Notified, a.Message, a.Value, nullInt(a.Expected),
				TS(a.LastSeen), b2i(a.ResolvedAt != nil), alert.StatusResolved, NullTS(a.ResolvedAt), a.ShopID, a.ID, ch.Was)
			if err != nil {
				return err
			}
			if n == 0 {
				return commerce.ErrStale
			}
		}
		for i := range ds {
			d := &ds[i]
			if _, err := tx.Exec(ctx, `INSERT INTO alert_deliveries (id, shop_id, webhook_id, alert_id, event, body, status, attempts, next_attempt_at, created_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9)`, d.ID, d.ShopID, d.WebhookID, d.AlertID, d.Event, d.Body, alert.DeliveryPending,
				TS(d.NextAttemptAt), TS(d.CreatedAt)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && ch.Create && s.d.IsUnique != nil && s.d.IsUnique(err) {
		return fmt.Errorf("alert %s: %w", a.Fingerprint, commerce.ErrDuplicate)
	}
	return err
}

func (s *Store) GetAlert(ctx context.Context, shopID, id string) (*alert.Alert, error) {
	return getByID(ctx, s, "alerts", alertCols, shopID, id, scanAlert, nil)
}

func (s *Store) ListAlerts(ctx context.Context, shopID string, f alert.AlertFilter, p commerce.Page) ([]alert.Alert, error) {
	rows, err := s.Query(ctx, `SELECT `+alertCols+` FROM alerts WHERE shop_id = $1 AND ($2 = '' OR id < $2) AND ($3 = '' OR status = $3) AND ($4 = '' OR severity = $4)
		ORDER BY id DESC LIMIT $5`, shopID, p.Cursor, f.Status, f.Severity, p.Limit)
	return rowsAll(rows, err, func(r *sql.Rows) (alert.Alert, error) { return scanAlert(r) })
}

func (s *Store) AcknowledgeAlert(ctx context.Context, shopID, id, by string, at time.Time, audit *commerce.AuditEntry) error {
	return s.Write(ctx, func(tx *Tx) error {
		n, err := tx.ExecN(ctx, `UPDATE alerts SET status = $1, ack_at = $2, ack_by = $3 WHERE shop_id = $4 AND id = $5 AND status = $6`,
			alert.StatusAcknowledged, TS(at), by, shopID, id, alert.StatusOpen)
		if err != nil {
			return err
		}
		if n == 0 {
			return commerce.ErrStale
		}
		return InsertAudit(ctx, tx, audit)
	})
}

// ---- webhooks ----

const webhookCols = `id, shop_id, url, description, min_severity, secret, created_at`

func scanWebhook(r rowScanner) (alert.Webhook, error) {
	var w alert.Webhook
	var created int64
	err := r.Scan(&w.ID, &w.ShopID, &w.URL, &w.Description, &w.MinSeverity, &w.Secret, &created)
	w.CreatedAt = FromTS(created)
	return w, err
}

func (s *Store) CreateWebhook(ctx context.Context, w *alert.Webhook, audit *commerce.AuditEntry) error {
	return s.Write(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO alert_webhooks (id, shop_id, url, description, min_severity, secret, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			w.ID, w.ShopID, w.URL, w.Description, w.MinSeverity, w.Secret, TS(w.CreatedAt)); err != nil {
			return err
		}
		return InsertAudit(ctx, tx, audit)
	})
}

func (s *Store) DeleteWebhook(ctx context.Context, shopID, id string, at time.Time, audit *commerce.AuditEntry) error {
	return s.Write(ctx, func(tx *Tx) error {
		n, err := tx.ExecN(ctx, `UPDATE alert_webhooks SET deleted_at = $1 WHERE shop_id = $2 AND id = $3 AND deleted_at IS NULL`, TS(at), shopID, id)
		if err != nil {
			return err
		}
		if n == 0 {
			return commerce.ErrNotFound
		}
		if _, err := tx.Exec(ctx, `UPDATE alert_deliveries SET status = $1, last_error = $2, leased_until = NULL WHERE webhook_id = $3 AND status = $4`,
			alert.DeliveryFailed, "webhook deleted", id, alert.DeliveryPending); err != nil {
			return err
		}
		return InsertAudit(ctx, tx, audit)
	})
}

func (s *Store) GetWebhook(ctx context.Context, shopID, id string) (*alert.Webhook, error) {
	w, err := scanWebhook(s.QueryRow(ctx, `SELECT `+webhookCols+` FROM alert_webhooks WHERE shop_id = $1 AND id = $2 AND deleted_at IS NULL`, shopID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, commerce.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return &w, nil
}

func (s *Store) ListWebhooks(ctx context.Context, shopID string, p commerce.Page) ([]alert.Webhook, error) {
	rows, err := s.Query(ctx, `SELECT `+webhookCols+` FROM alert_webhooks WHERE shop_id = $1 AND id > $2 AND deleted_at IS NULL ORDER BY id LIMIT $3`,
		shopID, p.Cursor, p.Limit)
	return rowsAll(rows, err, func(r *sql.Rows) (alert.Webhook, error) { return scanWebhook(r) })
}

// ---- the delivery outbox ----

const deliveryCols = `id, shop_id, webhook_id, alert_id, event, body, status, attempts, next_attempt_at, last_status, last_error, delivered_at, created_at`

func scanDelivery(r rowScanner) (alert.Delivery, error) {
	var d alert.Delivery
	var next, created int64
	var delivered sql.NullInt64
	err := r.Scan(&d.ID, &d.ShopID, &d.WebhookID, &d.AlertID, &d.Event, &d.Body, &d.Status, &d.Attempts, &next, &d.LastStatus, &d.LastError, &delivered, &created)
	d.NextAttemptAt, d.DeliveredAt, d.CreatedAt = FromTS(next), FromNullTS(delivered), FromTS(created)
	return d, err
}

func (s *Store) ListDeliveries(ctx context.Context, shopID, webhookID string, p commerce.Page) ([]alert.Delivery, error) {
	rows, err := s.Query(ctx, `SELECT `+deliveryCols+` FROM alert_deliveries WHERE shop_id = $1 AND webhook_id = $2 AND ($3 = '' OR id < $3)
		ORDER BY id DESC LIMIT $4`, shopID, webhookID, p.Cursor, p.Limit)
	return rowsAll(rows, err, func(r *sql.Rows) (alert.Delivery, error) { return scanDelivery(r) })
}

func (s *Store) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]string, error) {
	rows, err := s.Query(ctx, `SELECT id FROM alert_deliveries WHERE status = $1 AND next_attempt_at <= $2 AND (leased_until IS NULL OR leased_until < $2)
		ORDER BY next_attempt_at, id LIMIT $3`, alert.DeliveryPending, TS(now), limit)
	return rowsAll(rows, err, func(r *sql.Rows) (string, error) {
		var id string
		return id, r.Scan(&id)
	})
}

func (s *Store) ClaimDelivery(ctx context.Context, id, token string, now, until time.Time) (*alert.Claimed, error) {
	var c *alert.Claimed
	err := s.Write(ctx, func(tx *Tx) error {
		c = nil
		n, err := tx.ExecN(ctx, `UPDATE alert_deliveries SET leased_until = $1, lease_token = $2
			WHERE id = $3 AND status = $4 AND next_attempt_at <= $5 AND (leased_until IS NULL OR leased_until < $5)`,
			TS(until), token, id, alert.DeliveryPending, TS(now))
		if err != nil || n == 0 {
			return err
		}
		var deleted sql.NullInt64
		var settings string
		var got alert.Claimed
		var next, created int64
		var delivered sql.NullInt64
		d := &got.Delivery
		err = tx.QueryRow(ctx, `SELECT d.id, d.shop_id, d.webhook_id, d.alert_id, d.event, d.body, d.status, d.attempts, d.next_attempt_at, d.last_status,
			d.last_error, d.delivered_at, d.created_at, w.url, w.secret, w.deleted_at, sh.settings
			FROM alert_deliveries d JOIN alert_webhooks w ON w.id = d.webhook_id JOIN shops sh ON sh.id = d.shop_id
			WHERE d.id = $1`, id).Scan(&d.ID, &d.ShopID, &d.WebhookID, &d.AlertID,
			&d.Event, &d.Body, &d.Status, &d.Attempts, &next, &d.LastStatus, &d.LastError, &delivered, &created, &got.URL, &got.Secret, &deleted, &settings)
		if err != nil {
			return err
		}
		var st commerce.ShopSettings
		if json.Unmarshal([]byte(settings), &st) == nil {
			got.Allow = st.WebhookAllowlist
		}
		d.NextAttemptAt, d.DeliveredAt, d.CreatedAt, got.Gone = FromTS(next), FromNullTS(delivered), FromTS(created), deleted.Valid
		c = &got
		return nil
	})
	return c, err
}

func (s *Store) FinishDelivery(ctx context.Context, id, token string, o alert.Outcome) error {
	var delivered sql.NullInt64
	if o.Status == alert.DeliveryDelivered {
		delivered = sql.NullInt64{Int64: TS(o.At), Valid: true}
	}
	next := o.NextAttemptAt
	if next.IsZero() {
		next = o.At
	}
	return s.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `UPDATE alert_deliveries SET status = $1, attempts = attempts + 1, next_attempt_at = $2, last_status = $3, last_error = $4,
			delivered_at = $5, leased_until = NULL, lease_token = '' WHERE id = $6 AND lease_token = $7 AND status = $8`,
			o.Status, TS(next), o.HTTPStatus, o.Error, delivered, id, token, alert.DeliveryPending)
		return err
	})
}

// ---- what stock and budget rules read ----

func (s *Store) LowStock(ctx context.Context, shopID string, limit int) ([]alert.LowStock, error) {
	rows, err := s.Query(ctx, `SELECT id, code, name, stock, safety_stock FROM skus
		WHERE shop_id = $1 AND safety_stock > 0 AND stock <= safety_stock AND status = $2 ORDER BY id LIMIT $3`, shopID, commerce.SKUActive, limit)
	return rowsAll(rows, err, func(r *sql.Rows) (alert.LowStock, error) {
		var k alert.LowStock
		return k, r.Scan(&k.SKUID, &k.Code, &k.Name, &k.Stock, &k.SafetyStock)
	})
}

// PromotionBudgets reads the live active promotions and their all-time
// usage counter ("t": uses and discount amount, held uses included).
func (s *Store) PromotionBudgets(ctx context.Context, shopID string, now time.Time) ([]alert.BudgetUse, error) {
	rows, err := s.Query(ctx, `SELECT p.body, COALESCE(u.amount, 0) FROM promotions p
		LEFT JOIN usage_counters u ON u.shop_id = p.shop_id AND u.ref = p.id AND u.bucket = 't'
		WHERE p.shop_id = $1 AND p.status = $2 AND p.starts_at <= $3 AND p.ends_at > $3 ORDER BY p.id`, shopID, string(pricing.StatusActive), TS(now))
	all, err := rowsAll(rows, err, func(r *sql.Rows) (alert.BudgetUse, error) {
		var body string
		var u alert.BudgetUse
		if err := r.Scan(&body, &u.Used); err != nil {
			return u, err
		}
		var p promotion.Promotion
		if err := json.Unmarshal([]byte(body), &p); err != nil {
			return u, err
		}
		u.PromotionID, u.Name, u.Budget = p.ID, p.Name, p.Limits.Budget
		return u, nil
	})
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, u := range all {
		if u.Budget > 0 {
			out = append(out, u)
		}
	}
	return out, nil
}

var _ alert.Store = (*Store)(nil)
