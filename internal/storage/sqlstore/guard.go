package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/peak/guard"
)

// ---- the anti-abuse guard: blocks, refusal records, the shop's policy ----

var _ guard.Store = (*Store)(nil)

const blockCols = `id, shop_id, dimension, block_key, scope, rule, reason, failures, window_seconds, created_at, until_at, lifted_at, lifted_by, updated_at`

func scanBlock(r rowScanner) (guard.Block, error) {
	var b guard.Block
	var created, until, updated int64
	var lifted sql.NullInt64
	err := r.Scan(&b.ID, &b.ShopID, &b.Dimension, &b.Key, &b.Scope, &b.Rule, &b.Reason, &b.Failures, &b.WindowSeconds,
		&created, &until, &lifted, &b.LiftedBy, &updated)
	b.CreatedAt, b.Until, b.LiftedAt, b.UpdatedAt = FromTS(created), FromTS(until), FromNullTS(lifted), FromTS(updated)
	return b, err
}

func (s *Store) SaveBlock(ctx context.Context, b *guard.Block, audit *commerce.AuditEntry) error {
	return s.Write(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO guard_blocks (`+blockCols+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
			b.ID, b.ShopID, b.Dimension, b.Key, b.Scope, b.Rule, b.Reason, b.Failures, b.WindowSeconds,
			TS(b.CreatedAt), TS(b.Until), NullTS(b.LiftedAt), b.LiftedBy, TS(b.UpdatedAt)); err != nil {
			return err
		}
		return InsertAudit(ctx, tx, audit)
	})
}

// LiftBlock lifts the block and any other unlifted block of the same key:
// instances that blocked the key at the same moment each wrote one, and
// the operator means the key.
func (s *Store) LiftBlock(ctx context.Context, shopID, id string, at time.Time, actor string, audit *commerce.AuditEntry) (*guard.Block, error) {
	var out guard.Block
	err := s.Write(ctx, func(tx *Tx) error {
		b, err := scanBlock(tx.QueryRow(ctx, `SELECT `+blockCols+` FROM guard_blocks WHERE shop_id = $1 AND id = $2`, shopID, id))
		if errors.Is(err, sql.ErrNoRows) {
			return commerce.ErrNotFound
		}
		if err != nil {
			return err
		}
		if b.LiftedAt != nil {
			return commerce.ErrStale
		}
		if _, err := tx.Exec(ctx, `UPDATE guard_blocks SET lifted_at = $1, lifted_by = $2, updated_at = $1
			WHERE shop_id = $3 AND dimension = $4 AND block_key = $5 AND lifted_at IS NULL`, TS(at), actor, shopID, b.Dimension, b.Key); err != nil {
			return err
		}
		b.LiftedAt, b.LiftedBy, b.UpdatedAt = &at, actor, at
		out = b
		return InsertAudit(ctx, tx, audit)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

func (s *Store) ActiveBlocks(ctx context.Context, now time.Time) ([]guard.Block, error) {
	rows, err := s.Query(ctx, `SELECT `+blockCols+` FROM guard_blocks WHERE until_at > $1 AND lifted_at IS NULL`, TS(now))
	return rowsAll(rows, err, func(r *sql.Rows) (guard.Block, error) { return scanBlock(r) })
}

func (s *Store) BlocksChangedSince(ctx context.Context, since time.Time) ([]guard.Block, error) {
	rows, err := s.Query(ctx, `SELECT `+blockCols+` FROM guard_blocks WHERE updated_at >= $1`, TS(since))
	return rowsAll(rows, err, func(r *sql.Rows) (guard.Block, error) { return scanBlock(r) })
}

// ListBlocks pages newest first: the cursor is the last id seen, and an
// empty one starts from the newest.
func (s *Store) ListBlocks(ctx context.Context, shopID string, activeAt *time.Time, p commerce.Page) ([]guard.Block, error) {
	var rows *sql.Rows
	var err error
	if activeAt != nil {
		rows, err = s.Query(ctx, `SELECT `+blockCols+` FROM guard_blocks WHERE shop_id = $1 AND ($2 = '' OR id < $2)
			AND until_at > $3 AND lifted_at IS NULL ORDER BY id DESC LIMIT $4`, shopID, p.Cursor, TS(*activeAt), p.Limit)
	} else {
		rows, err = s.Query(ctx, `SELECT `+blockCols+` FROM guard_blocks WHERE shop_id = $1 AND ($2 = '' OR id < $2)
			ORDER BY id DESC LIMIT $3`, shopID, p.Cursor, p.Limit)
	}
	return rowsAll(rows, err, func(r *sql.Rows) (guard.Block, error) { return scanBlock(r) })
}

// refusalChunk is the most rows one INSERT carries (10 parameters each,
// well under both engines' parameter limits).
const refusalChunk = 100

func (s *Store) SaveRefusals(ctx context.Context, rs []guard.RefusalRecord) error {
	if len(rs) == 0 {
		return nil
	}
	return s.Write(ctx, func(tx *Tx) error {
		for len(rs) > 0 {
			n := min(len(rs), refusalChunk)
			var q strings.Builder
			q.WriteString(`INSERT INTO guard_refusals (id, shop_id, scope, rule, dimension, refused_key, block_id, refusals, first_at, last_at) VALUES `)
			args := make([]any, 0, n*10)
			for i, r := range rs[:n] {
				if i > 0 {
					q.WriteString(", ")
				}
				q.WriteString("(" + placeholders(i*10+1, 10) + ")")
				args = append(args, r.ID, r.ShopID, r.Scope, r.Rule, r.Dimension, r.Key, r.BlockID, r.Count, TS(r.FirstAt), TS(r.LastAt))
			}
			if _, err := tx.Exec(ctx, q.String(), args...); err != nil {
				return err
			}
			rs = rs[n:]
		}
		return nil
	})
}

func (s *Store) ListRefusals(ctx context.Context, shopID string, f guard.RefusalFilter, p commerce.Page) ([]guard.RefusalRecord, error) {
	rows, err := s.Query(ctx, `SELECT id, scope, rule, dimension, refused_key, block_id, refusals, first_at, last_at FROM guard_refusals
		WHERE shop_id = $1 AND ($2 = '' OR id < $2) AND ($3 = '' OR scope = $3) AND ($4 = '' OR rule = $4)
		ORDER BY id DESC LIMIT $5`, shopID, p.Cursor, f.Scope, f.Rule, p.Limit)
	return rowsAll(rows, err, func(r *sql.Rows) (guard.RefusalRecord, error) {
		rec := guard.RefusalRecord{ShopID: shopID}
		var first, last int64
		err := r.Scan(&rec.ID, &rec.Scope, &rec.Rule, &rec.Dimension, &rec.Key, &rec.BlockID, &rec.Count, &first, &last)
		rec.FirstAt, rec.LastAt = FromTS(first), FromTS(last)
		return rec, err
	})
}

func (s *Store) GuardPolicy(ctx context.Context, shopID string) (*guard.Policy, error) {
	var body string
	err := s.QueryRow(ctx, `SELECT body FROM guard_policies WHERE shop_id = $1`, shopID).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, commerce.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	var p guard.Policy
	return &p, json.Unmarshal([]byte(body), &p)
}

func (s *Store) SaveGuardPolicy(ctx context.Context, shopID string, p guard.Policy, at time.Time, audit *commerce.AuditEntry) error {
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return s.Write(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO guard_policies (shop_id, body, updated_at) VALUES ($1, $2, $3)
			ON CONFLICT (shop_id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at`, shopID, string(body), TS(at)); err != nil {
			return err
		}
		return InsertAudit(ctx, tx, audit)
	})
}
