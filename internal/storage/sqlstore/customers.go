package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
)

const customerCols = `id, external_id, name, phone, email, tier, growth_value, points, points_held, tags, marketing_consent,
	time_zone, first_paid_at, erased_at, created_at, updated_at, shop_id`

func scanCustomer(r rowScanner) (commerce.Customer, error) {
	var c commerce.Customer
	var tags string
	var consent int
	var firstPaid, erased sql.NullInt64
	var created, updated int64
	err := r.Scan(&c.ID, &c.ExternalID, &c.Name, &c.Phone, &c.Email, &c.Tier, &c.GrowthValue, &c.Points, &c.PointsHeld, &tags, &consent,
		&c.TimeZone, &firstPaid, &erased, &created, &updated, &c.ShopID)
	if err != nil {
		return c, err
	}
	c.MarketingConsent = consent != 0
	c.FirstPaidAt, c.ErasedAt = FromNullTS(firstPaid), FromNullTS(erased)
	c.CreatedAt, c.UpdatedAt = FromTS(created), FromTS(updated)
	c.Tags = []string{}
	return c, json.Unmarshal([]byte(tags), &c.Tags)
}

// setList builds the SET list of a partial update: only the columns a
// patch sets, with their arguments numbered from 1.
type setList struct {
	cols []string
	args []any
}

func (l *setList) add(col string, v any) {
	l.args = append(l.args, v)
	l.cols = append(l.cols, col+" = $"+strconv.Itoa(len(l.args)))
}

// arg appends an argument that is not a column and returns its placeholder.
func (l *setList) arg(v any) string {
	l.args = append(l.args, v)
	return "$" + strconv.Itoa(len(l.args))
}

func (l *setList) sql() string { return strings.Join(l.cols, ", ") }

// customerSets adds the columns p sets to l.
func customerSets(l *setList, p commerce.CustomerPatch) {
	for _, c := range []struct {
		col string
		v   *string
	}{{"name", p.Name}, {"phone", p.Phone}, {"email", p.Email}, {"tier", p.Tier}, {"time_zone", p.TimeZone}} {
		if c.v != nil {
			l.add(c.col, *c.v)
		}
	}
	if p.GrowthValue != nil {
		l.add("growth_value", *p.GrowthValue)
	}
	if p.Tags != nil {
		l.add("tags", tagsJSON(*p.Tags))
	}
	if p.MarketingConsent != nil {
		l.add("marketing_consent", b2i(*p.MarketingConsent))
	}
}

func tagsJSON(tags []string) string {
	if tags == nil {
		tags = []string{}
	}
	b, _ := json.Marshal(tags)
	return string(b)
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func (s *Store) UpsertCustomers(ctx context.Context, shopID string, ps []commerce.CustomerPatch, newID func(string) string, at time.Time, audit *commerce.AuditEntry) ([]commerce.Customer, error) {
	out := make([]commerce.Customer, 0, len(ps))
	err := s.Write(ctx, func(tx *Tx) error {
		out = out[:0]
		for _, p := range ps {
			// A new customer takes every value (the empty one where the patch
			// has none); an existing one changes only the columns set.
			set := []string{"updated_at = excluded.updated_at"}
			for _, col := range p.Fields() {
				set = append(set, col+" = excluded."+col)
			}
			var id string
			if err := tx.QueryRow(ctx, `INSERT INTO customers (id, shop_id, external_id, name, phone, email, tier, growth_value, points, points_held,
					tags, marketing_consent, time_zone, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, 0, $9, $10, $11, $12, $12)
				ON CONFLICT (shop_id, external_id) DO UPDATE SET `+strings.Join(set, ", ")+`
				RETURNING id`,
				newID("cus"), shopID, p.ExternalID, deref(p.Name), deref(p.Phone), deref(p.Email), deref(p.Tier), deref(p.GrowthValue),
				tagsJSON(deref(p.Tags)), b2i(deref(p.MarketingConsent)), deref(p.TimeZone), TS(at)).Scan(&id); err != nil {
				return err
			}
			got, err := scanCustomer(tx.QueryRow(ctx, `SELECT `+customerCols+` FROM customers WHERE id = $1`, id))
			if err != nil {
				return err
			}
			out = append(out, got)
		}
		return InsertAudit(ctx, tx, audit)
	})
	return out, err
}

func (s *Store) PatchCustomer(ctx context.Context, shopID, id string, p commerce.CustomerPatch, at time.Time, audit *commerce.AuditEntry) (*commerce.Customer, error) {
	var out commerce.Customer
	err := s.Write(ctx, func(tx *Tx) error {
		var l setList
		customerSets(&l, p)
		l.add("updated_at", TS(at))
		q := `UPDATE customers SET ` + l.sql() + ` WHERE shop_id = ` + l.arg(shopID) + ` AND id = ` + l.arg(id) + ` AND erased_at IS NULL`
		n, err := tx.ExecN(ctx, q, l.args...)
		if err != nil {
			return err
		}
		if n == 0 {
			var erased sql.NullInt64
			if err := tx.QueryRow(ctx, `SELECT erased_at FROM customers WHERE shop_id = $1 AND id = $2`, shopID, id).Scan(&erased); errors.Is(err, sql.ErrNoRows) {
				return commerce.ErrNotFound
			} else if err != nil {
				return err
			}
			return commerce.ErrStale
		}
		if out, err = scanCustomer(tx.QueryRow(ctx, `SELECT `+customerCols+` FROM customers WHERE id = $1`, id)); err != nil {
			return err
		}
		return InsertAudit(ctx, tx, audit)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

func (s *Store) GetCustomer(ctx context.Context, shopID, id string) (*commerce.Customer, error) {
	c, err := scanCustomer(s.QueryRow(ctx, `SELECT `+customerCols+` FROM customers WHERE shop_id = $1 AND id = $2`, shopID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, commerce.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return &c, nil
}

func (s *Store) ListCustomers(ctx context.Context, shopID string, p commerce.Page) ([]commerce.Customer, error) {
	rows, err := s.Query(ctx, `SELECT `+customerCols+` FROM customers WHERE shop_id = $1 AND id > $2 ORDER BY id LIMIT $3`, shopID, p.Cursor, p.Limit)
	return rowsAll(rows, err, func(r *sql.Rows) (commerce.Customer, error) { return scanCustomer(r) })
}

func (s *Store) EraseCustomer(ctx context.Context, shopID, id string, at time.Time, audit *commerce.AuditEntry) error {
	return s.Write(ctx, func(tx *Tx) error {
		// The external id is replaced by the customer id so the unique key
		// holds and the shop's own id no longer points at a person.
		n, err := tx.ExecN(ctx, `UPDATE customers SET external_id = id, name = '', phone = '', email = '', tags = '[]',
			marketing_consent = 0, erased_at = $1, updated_at = $1 WHERE shop_id = $2 AND id = $3`, TS(at), shopID, id)
		if err != nil {
			return err
		}
		if n == 0 {
			return commerce.ErrNotFound
		}
		return InsertAudit(ctx, tx, audit)
	})
}

// insertPointsMove writes a points ledger entry inside tx.
func insertPointsMove(ctx context.Context, tx *Tx, shopID string, m commerce.PointsMove) error {
	_, err := tx.Exec(ctx, `INSERT INTO points_moves (id, shop_id, customer_id, delta, reason, order_id, actor, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		m.ID, shopID, m.CustomerID, m.Delta, m.Reason, m.OrderID, m.Actor, TS(m.At))
	return err
}

func (s *Store) AdjustPoints(ctx context.Context, shopID string, m commerce.PointsMove, audit *commerce.AuditEntry) (*commerce.Customer, error) {
	var out commerce.Customer
	err := s.Write(ctx, func(tx *Tx) error {
		n, err := tx.ExecN(ctx, `UPDATE customers SET points = points + $1, updated_at = $2 WHERE shop_id = $3 AND id = $4 AND points + $1 >= 0`,
			m.Delta, TS(m.At), shopID, m.CustomerID)
		if err != nil {
			return err
		}
		if n == 0 {
			return commerce.ErrStale
		}
		if err := insertPointsMove(ctx, tx, shopID, m); err != nil {
			return err
		}
		if err := InsertAudit(ctx, tx, audit); err != nil {
			return err
		}
		out, err = scanCustomer(tx.QueryRow(ctx, `SELECT `+customerCols+` FROM customers WHERE id = $1`, m.CustomerID))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

func (s *Store) ListPointsMoves(ctx context.Context, shopID, customerID string, p commerce.Page) ([]commerce.PointsMove, error) {
	rows, err := s.Query(ctx, `SELECT id, customer_id, delta, reason, order_id, actor, at FROM points_moves
		WHERE shop_id = $1 AND customer_id = $2 AND id > $3 ORDER BY id LIMIT $4`, shopID, customerID, p.Cursor, p.Limit)
	return rowsAll(rows, err, func(r *sql.Rows) (commerce.PointsMove, error) {
		var m commerce.PointsMove
		var at int64
		err := r.Scan(&m.ID, &m.CustomerID, &m.Delta, &m.Reason, &m.OrderID, &m.Actor, &at)
		m.At = FromTS(at)
		return m, err
	})
}

func (s *Store) AppendAudit(ctx context.Context, audit *commerce.AuditEntry) error {
	return s.Write(ctx, func(tx *Tx) error { return InsertAudit(ctx, tx, audit) })
}

// likeEscape escapes LIKE's wildcards and its escape character '\'.
var likeEscape = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

func (s *Store) RecallCustomers(ctx context.Context, shopID string, f commerce.RecallFilter, after string, limit int) ([]commerce.RecallRow, string, error) {
	// The page is cut on the ids scanned, so that a filter keeping few
	// customers still moves forward by limit at a time.
	rows, err := s.Query(ctx, `SELECT id FROM customers WHERE shop_id = $1 AND id > $2 ORDER BY id LIMIT $3`, shopID, after, limit)
	ids, err := rowsAll(rows, err, func(r *sql.Rows) (string, error) {
		var id string
		return id, r.Scan(&id)
	})
	if err != nil || len(ids) == 0 {
		return nil, "", err
	}
	last := ids[len(ids)-1]
	next := last
	if len(ids) < limit {
		next = ""
	}
	var l setList
	where := []string{"c.shop_id = " + l.arg(shopID), "c.id > " + l.arg(after), "c.id <= " + l.arg(last), "c.erased_at IS NULL"}
	if f.Tier != "" {
		where = append(where, "c.tier = "+l.arg(f.Tier))
	}
	if f.Consent != nil {
		where = append(where, "c.marketing_consent = "+l.arg(b2i(*f.Consent)))
	}
	if f.Tag != "" {
		// A coarse match on the stored JSON array; the exact one is below.
		quoted := tagsJSON([]string{f.Tag})
		where = append(where, `c.tags LIKE `+l.arg("%"+likeEscape.Replace(quoted[1:len(quoted)-1])+"%")+` ESCAPE '\'`)
	}
	const paid = `SELECT 1 FROM orders o WHERE o.shop_id = c.shop_id AND o.customer_id = c.id AND o.paid_at IS NOT NULL`
	if f.NoPaidSince != nil {
		where = append(where, "NOT EXISTS ("+paid+" AND o.paid_at >= "+l.arg(TS(*f.NoPaidSince))+")")
	}
	if f.EverPaid != nil {
		cond := "EXISTS (" + paid + ")"
		if !*f.EverPaid {
			cond = "NOT " + cond
		}
		where = append(where, cond)
	}
	q := `SELECT ` + recallCols + `, (SELECT MAX(o.paid_at) FROM orders o WHERE o.shop_id = c.shop_id AND o.customer_id = c.id) AS last_paid
		FROM customers c WHERE ` + strings.Join(where, " AND ") + ` ORDER BY c.id`
	res, err := s.Query(ctx, q, l.args...)
	out, err := rowsAll(res, err, func(r *sql.Rows) (commerce.RecallRow, error) {
		var row commerce.RecallRow
		var lastPaid sql.NullInt64
		c, err := scanCustomer(withLast{r, &lastPaid})
		row.Customer, row.LastPaidAt = c, FromNullTS(lastPaid)
		return row, err
	})
	if err != nil {
		return nil, "", err
	}
	if f.Tag != "" {
		kept := out[:0]
		for _, r := range out {
			if slices.Contains(r.Tags, f.Tag) {
				kept = append(kept, r)
			}
		}
		out = kept
	}
	return out, next, nil
}

// recallCols are customerCols of the customers aliased c.
var recallCols = "c." + strings.Join(strings.Split(strings.Join(strings.Fields(customerCols), " "), ", "), ", c.")

// withLast scans a customer row followed by one more column into last.
type withLast struct {
	r    rowScanner
	last *sql.NullInt64
}

func (w withLast) Scan(dest ...any) error { return w.r.Scan(append(dest, w.last)...) }
