// Package sqlstore implements commerce.Store over database/sql for both
// engines. Its SQL is written once in the portable subset SQLite and
// PostgreSQL share (ON CONFLICT, RETURNING, conditional UPDATEs, integer
// timestamps in microseconds), with $n placeholders that a Dialect rebinds;
// the engine packages (storage/sqlite, storage/postgres) own connection
// setup and migrations. Keeping one copy of the SQL means one place to
// review it, and storetest holds both engines to the same behaviour.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
)

// Dialect is what differs between engines at run time.
type Dialect struct {
	Name string
	// NumberedPlaceholder renders placeholder n (1-based): "$1" or "?1".
	NumberedPlaceholder func(n int) string
	// IsUnique reports a unique-constraint violation.
	IsUnique func(error) bool
	// IsRetryable reports an error after which the whole transaction may be
	// retried (deadlock, serialization failure, busy).
	IsRetryable func(error) bool
	// CacheStatements keeps reads prepared in the store (pgx already caches
	// statements itself; modernc's SQLite does not).
	CacheStatements bool
}

// Store is commerce.Store over a writer pool and a reader pool (the same
// pool on PostgreSQL; one writer connection and many readers on SQLite).
type Store struct {
	w, r    *sql.DB
	d       Dialect
	queries sync.Map // portable SQL → rebound SQL
	group   *grouper
	rstmts  sync.Map // rebound SQL → *sql.Stmt on the read pool
}

// New returns a Store. w takes every write transaction; r serves reads.
func New(w, r *sql.DB, d Dialect) *Store {
	return &Store{w: w, r: r, d: d}
}

// Dialect returns the store's dialect.
func (s *Store) Dialect() Dialect { return s.d }

// Reader exposes the read pool, for tests that inspect the database.
func (s *Store) Reader() *sql.DB { return s.r }

// Q rebinds portable SQL ($n placeholders) for the engine, cached.
func (s *Store) Q(query string) string {
	if v, ok := s.queries.Load(query); ok {
		return v.(string)
	}
	out := Rebind(query, s.d.NumberedPlaceholder)
	s.queries.Store(query, out)
	return out
}

// Rebind rewrites $n placeholders outside string literals with ph(n).
func Rebind(query string, ph func(int) string) string {
	if ph == nil {
		return query
	}
	var b strings.Builder
	b.Grow(len(query))
	inStr := false
	for i := 0; i < len(query); i++ {
		c := query[i]
		if c == '\'' {
			inStr = !inStr
		}
		if c == '$' && !inStr && i+1 < len(query) && query[i+1] >= '0' && query[i+1] <= '9' {
			j := i + 1
			for j < len(query) && query[j] >= '0' && query[j] <= '9' {
				j++
			}
			n, _ := strconv.Atoi(query[i+1 : j])
			b.WriteString(ph(n))
			i = j - 1
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// Tx wraps a write transaction with the store's rebinding.
type Tx struct {
	tx *sql.Tx
	s  *Store
	// stmts caches statements prepared in this transaction. Under group
	// commit one transaction carries a whole batch, so each statement is
	// parsed once per batch instead of once per use.
	stmts map[string]*sql.Stmt
}

// prepared returns the transaction's prepared statement for q, preparing it
// on first use (statements close with the transaction).
func (t *Tx) prepared(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := t.stmts[q]; ok {
		return st, nil
	}
	st, err := t.tx.PrepareContext(ctx, t.s.Q(q))
	if err != nil {
		return nil, err
	}
	if t.stmts == nil {
		t.stmts = map[string]*sql.Stmt{}
	}
	t.stmts[q] = st
	return st, nil
}

// Exec runs a statement.
func (t *Tx) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if t.s.group != nil {
		st, err := t.prepared(ctx, q)
		if err != nil {
			return nil, err
		}
		return st.ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, t.s.Q(q), args...)
}

// ExecN runs a statement and returns the rows it affected.
func (t *Tx) ExecN(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := t.Exec(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// QueryRow runs a query for one row.
func (t *Tx) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	if t.s.group != nil {
		if st, err := t.prepared(ctx, q); err == nil {
			return st.QueryRowContext(ctx, args...)
		}
	}
	return t.tx.QueryRowContext(ctx, t.s.Q(q), args...)
}

// Query runs a query.
func (t *Tx) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if t.s.group != nil {
		st, err := t.prepared(ctx, q)
		if err != nil {
			return nil, err
		}
		return st.QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, t.s.Q(q), args...)
}

// Write runs fn in a write transaction, committing if it returns nil and
// retrying the whole transaction on deadlocks and busy errors.
func (s *Store) Write(ctx context.Context, fn func(*Tx) error) error {
	if s.group != nil {
		return s.groupWrite(ctx, fn)
	}
	var err error
	for attempt := 0; attempt < 8; attempt++ {
		err = s.writeOnce(ctx, fn)
		if err == nil || s.d.IsRetryable == nil || !s.d.IsRetryable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(1<<attempt) * time.Millisecond):
		}
	}
	return err
}

func (s *Store) writeOnce(ctx context.Context, fn func(*Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(&Tx{tx: tx, s: s}); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// readStmt returns the read pool's prepared statement for q. database/sql
// prepares it lazily on each pooled connection and keeps it, so a hot read
// is parsed once per connection rather than once per call.
func (s *Store) readStmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if v, ok := s.rstmts.Load(q); ok {
		return v.(*sql.Stmt), nil
	}
	st, err := s.r.PrepareContext(ctx, s.Q(q))
	if err != nil {
		return nil, err
	}
	if prev, loaded := s.rstmts.LoadOrStore(q, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// QueryRow reads one row from the read pool.
func (s *Store) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	if s.d.CacheStatements {
		if st, err := s.readStmt(ctx, q); err == nil {
			return st.QueryRowContext(ctx, args...)
		}
	}
	return s.r.QueryRowContext(ctx, s.Q(q), args...)
}

// Query reads from the read pool.
func (s *Store) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if s.d.CacheStatements {
		st, err := s.readStmt(ctx, q)
		if err != nil {
			return nil, err
		}
		return st.QueryContext(ctx, args...)
	}
	return s.r.QueryContext(ctx, s.Q(q), args...)
}

// Close stops group commit and closes both pools.
func (s *Store) Close() error {
	if s.group != nil {
		close(s.group.quit)
		<-s.group.gone
	}
	s.rstmts.Range(func(_, v any) bool { v.(*sql.Stmt).Close(); return true })
	err := s.w.Close()
	if s.r != s.w {
		err = errors.Join(err, s.r.Close())
	}
	return err
}

// Ping checks the database answers, for /readyz.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.r.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// Times are stored as integer microseconds since the Unix epoch, UTC, so
// both engines compare and index them the same way.

// TS converts a time for storage.
func TS(t time.Time) int64 { return t.UnixMicro() }

// FromTS converts a stored time back.
func FromTS(v int64) time.Time { return time.UnixMicro(v).UTC() }

// NullTS converts an optional time for storage.
func NullTS(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

// FromNullTS converts an optional stored time back.
func FromNullTS(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := FromTS(v.Int64)
	return &t
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// rowsAll scans every row with scan and closes rows.
func rowsAll[T any](rows *sql.Rows, err error, scan func(*sql.Rows) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// rowScanner is a *sql.Row or *sql.Rows.
type rowScanner interface{ Scan(...any) error }

// getByID reads the shop's row with id from table (cols in the order scan
// reads them), then what belongs to it with more (nil: nothing);
// commerce.ErrNotFound when there is no such row.
func getByID[T any](ctx context.Context, s *Store, table, cols, shopID, id string, scan func(rowScanner) (T, error), more func(context.Context, []T) ([]T, error)) (*T, error) {
	v, err := scan(s.QueryRow(ctx, `SELECT `+cols+` FROM `+table+` WHERE shop_id = $1 AND id = $2`, shopID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, commerce.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	out := []T{v}
	if more != nil {
		if out, err = more(ctx, out); err != nil {
			return nil, err
		}
	}
	return &out[0], nil
}

// listPage reads one page of the shop's rows from table, by id, then what
// belongs to them with more (nil: nothing).
func listPage[T any](ctx context.Context, s *Store, table, cols, shopID string, p commerce.Page, scan func(rowScanner) (T, error), more func(context.Context, []T) ([]T, error)) ([]T, error) {
	rows, err := s.Query(ctx, `SELECT `+cols+` FROM `+table+` WHERE shop_id = $1 AND id > $2 ORDER BY id LIMIT $3`, shopID, p.Cursor, p.Limit)
	out, err := rowsAll(rows, err, func(r *sql.Rows) (T, error) { return scan(r) })
	if err != nil || more == nil {
		return out, err
	}
	return more(ctx, out)
}
