package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
)

// InsertAudit writes an audit entry inside tx; nil does nothing.
func InsertAudit(ctx context.Context, tx *Tx, a *commerce.AuditEntry) error {
	if a == nil {
		return nil
	}
	_, err := tx.Exec(ctx, `INSERT INTO audit_log (id, shop_id, actor, action, entity, entity_id, before_json, after_json, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		a.ID, a.ShopID, a.Actor, a.Action, a.Entity, a.EntityID, nullJSON(a.Before), nullJSON(a.After), TS(a.At))
	return err
}

func nullJSON(b json.RawMessage) sql.NullString {
	if len(b) == 0 {
		return sql.NullString{}
	}
	return sql.NullString{String: string(b), Valid: true}
}

func (s *Store) CreateShop(ctx context.Context, sh *commerce.Shop) error {
	st, _ := json.Marshal(sh.Settings)
	return s.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO shops (id, name, currency, time_zone, settings, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			sh.ID, sh.Name, sh.Currency, sh.TimeZone, string(st), TS(sh.CreatedAt))
		return err
	})
}

const shopCols = `id, name, currency, time_zone, settings, created_at`

func scanShop(r rowScanner) (commerce.Shop, error) {
	var sh commerce.Shop
	var st string
	var created int64
	if err := r.Scan(&sh.ID, &sh.Name, &sh.Currency, &sh.TimeZone, &st, &created); err != nil {
		return sh, err
	}
	sh.CreatedAt = FromTS(created)
	// Settings added after a shop was saved are absent from its JSON and
	// read as their defaults (the order caps came later than the rest).
	d := commerce.DefaultSettings()
	sh.Settings = commerce.ShopSettings{MaxLineQuantity: d.MaxLineQuantity, MaxOrderQuantity: d.MaxOrderQuantity,
		MaxUnpaidOrders: d.MaxUnpaidOrders, MaxAnonymousUnpaidOrders: d.MaxAnonymousUnpaidOrders, Language: d.Language}
	return sh, json.Unmarshal([]byte(st), &sh.Settings)
}

func (s *Store) GetShop(ctx context.Context, id string) (*commerce.Shop, error) {
	sh, err := scanShop(s.QueryRow(ctx, `SELECT `+shopCols+` FROM shops WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, commerce.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return &sh, nil
}

func (s *Store) ListShops(ctx context.Context) ([]commerce.Shop, error) {
	rows, err := s.Query(ctx, `SELECT `+shopCols+` FROM shops ORDER BY id`)
	return rowsAll(rows, err, func(r *sql.Rows) (commerce.Shop, error) { return scanShop(r) })
}

func (s *Store) UpdateShop(ctx context.Context, sh *commerce.Shop, audit *commerce.AuditEntry) error {
	st, _ := json.Marshal(sh.Settings)
	return s.Write(ctx, func(tx *Tx) error {
		n, err := tx.ExecN(ctx, `UPDATE shops SET name = $1, time_zone = $2, settings = $3 WHERE id = $4`, sh.Name, sh.TimeZone, string(st), sh.ID)
		if err != nil {
			return err
		}
		if n == 0 {
			return commerce.ErrNotFound
		}
		return InsertAudit(ctx, tx, audit)
	})
}

func (s *Store) CreateAPIKey(ctx context.Context, k *commerce.APIKey, audit *commerce.AuditEntry) error {
	return s.Write(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO api_keys (id, shop_id, role, name, hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			k.ID, k.ShopID, k.Role, k.Name, k.Hash, TS(k.CreatedAt)); err != nil {
			return err
		}
		return InsertAudit(ctx, tx, audit)
	})
}

const keyCols = `id, shop_id, role, name, hash, created_at, revoked_at`

func scanKey(r rowScanner) (commerce.APIKey, error) {
	var k commerce.APIKey
	var created int64
	var revoked sql.NullInt64
	err := r.Scan(&k.ID, &k.ShopID, &k.Role, &k.Name, &k.Hash, &created, &revoked)
	k.CreatedAt, k.RevokedAt = FromTS(created), FromNullTS(revoked)
	return k, err
}

func (s *Store) APIKeyByHash(ctx context.Context, hash []byte) (*commerce.APIKey, error) {
	k, err := scanKey(s.QueryRow(ctx, `SELECT `+keyCols+` FROM api_keys WHERE hash = $1 AND revoked_at IS NULL`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, commerce.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return &k, nil
}

func (s *Store) ListAPIKeys(ctx context.Context, shopID string) ([]commerce.APIKey, error) {
	rows, err := s.Query(ctx, `SELECT `+keyCols+` FROM api_keys WHERE shop_id = $1 ORDER BY id`, shopID)
	return rowsAll(rows, err, func(r *sql.Rows) (commerce.APIKey, error) { return scanKey(r) })
}

func (s *Store) RevokeAPIKey(ctx context.Context, shopID, id string, at time.Time, audit *commerce.AuditEntry) error {
	return s.Write(ctx, func(tx *Tx) error {
		n, err := tx.ExecN(ctx, `UPDATE api_keys SET revoked_at = $1 WHERE shop_id = $2 AND id = $3 AND revoked_at IS NULL`, TS(at), shopID, id)
		if err != nil {
			return err
		}
		if n == 0 {
			return commerce.ErrNotFound
		}
		return InsertAudit(ctx, tx, audit)
	})
}

func (s *Store) ListAudit(ctx context.Context, shopID string, f commerce.AuditFilter, p commerce.Page) ([]commerce.AuditEntry, error) {
	// Only the filters given go into the query, so each can use its index
	// (audit_log_shop_actor, _action, _entity, _entity_id, _at).
	where, args := []string{"shop_id = $1"}, []any{shopID}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if p.Cursor != "" {
		add("id < ?", p.Cursor)
	}
	for _, c := range []struct{ col, v string }{{"actor", f.Actor}, {"action", f.Action}, {"entity", f.Entity}, {"entity_id", f.EntityID}} {
		if c.v != "" {
			add(c.col+" = ?", c.v)
		}
	}
	if !f.From.IsZero() {
		add("at >= ?", TS(f.From))
	}
	if !f.To.IsZero() {
		add("at < ?", TS(f.To))
	}
	args = append(args, p.Limit)
	rows, err := s.Query(ctx, `SELECT id, actor, action, entity, entity_id, before_json, after_json, at FROM audit_log
		WHERE `+strings.Join(where, " AND ")+` ORDER BY id DESC LIMIT $`+strconv.Itoa(len(args)), args...)
	return rowsAll(rows, err, func(r *sql.Rows) (commerce.AuditEntry, error) {
		var a commerce.AuditEntry
		var before, after sql.NullString
		var at int64
		err := r.Scan(&a.ID, &a.Actor, &a.Action, &a.Entity, &a.EntityID, &before, &after, &at)
		a.ShopID, a.At = shopID, FromTS(at)
		if before.Valid {
			a.Before = json.RawMessage(before.String)
		}
		if after.Valid {
			a.After = json.RawMessage(after.String)
		}
		return a, err
	})
}
