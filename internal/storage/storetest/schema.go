package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/carnivalhq/carnival/internal/storage/sqlstore"
)

// Schema is what a migrated database declares, reduced to what both engines
// can express the same way: per table, its columns (type family and NOT
// NULL) and its indexes (key columns and uniqueness, not names).
type Schema map[string]*TableSchema

// TableSchema describes one table.
type TableSchema struct {
	Columns map[string]string // column → "family" or "family not null"
	Indexes map[string]int    // "primary key (a, b)" / "unique (a)" / "index (a) partial" → how many
}

// migrationTable is goose's bookkeeping table, not part of Carnival's schema.
const migrationTable = "goose_db_version"

// TypeFamily maps a declared column type (a SQLite declaration or a
// PostgreSQL information_schema data_type) to the family the value is
// stored as, following SQLite's affinity rules for the rest.
func TypeFamily(declared string) string {
	t := strings.ToUpper(strings.TrimSpace(declared))
	switch {
	case strings.Contains(t, "BOOL"):
		return "boolean"
	case strings.Contains(t, "TIMESTAMP") || t == "DATE" || strings.HasPrefix(t, "TIME"):
		return "timestamp"
	case strings.Contains(t, "INT"): // INTEGER, BIGINT, SMALLINT
		return "integer"
	case strings.Contains(t, "CHAR") || strings.Contains(t, "CLOB") || strings.Contains(t, "TEXT") || t == "JSON" || t == "JSONB" || t == "UUID":
		return "text"
	case t == "" || strings.Contains(t, "BLOB") || t == "BYTEA":
		return "bytes"
	case strings.Contains(t, "REAL") || strings.Contains(t, "FLOA") || strings.Contains(t, "DOUB"):
		return "real"
	case strings.Contains(t, "NUMERIC") || strings.Contains(t, "DECIMAL"):
		return "numeric"
	}
	return "other(" + strings.ToLower(t) + ")"
}

func newTable() *TableSchema {
	return &TableSchema{Columns: map[string]string{}, Indexes: map[string]int{}}
}

func column(family string, notNull bool) string {
	if notNull {
		return family + " not null"
	}
	return family
}

func indexKey(primary, unique, partial bool, cols []string) string {
	kind := "index"
	switch {
	case primary:
		kind = "primary key"
	case unique:
		kind = "unique"
	}
	k := kind + " (" + strings.Join(cols, ", ") + ")"
	if partial {
		k += " partial"
	}
	return k
}

// Summary counts the tables, columns and indexes, for the test log.
func (s Schema) Summary() string {
	var cols, idxs int
	for _, t := range s {
		cols += len(t.Columns)
		for _, n := range t.Indexes {
			idxs += n
		}
	}
	return fmt.Sprintf("%d tables, %d columns, %d indexes", len(s), cols, idxs)
}

// ReadSchema reads the schema of the store's database after migration.
func ReadSchema(t *testing.T, st *sqlstore.Store) Schema {
	t.Helper()
	var s Schema
	var err error
	if st.Dialect().Name == "postgres" {
		s, err = readPostgresSchema(context.Background(), st.Reader())
	} else {
		s, err = readSQLiteSchema(context.Background(), st.Reader())
	}
	if err != nil {
		t.Fatalf("read %s schema: %v", st.Dialect().Name, err)
	}
	if len(s) == 0 {
		t.Fatalf("read %s schema: no tables", st.Dialect().Name)
	}
	return s
}

func readSQLiteSchema(ctx context.Context, db *sql.DB) (Schema, error) {
	rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' AND name <> ?`, migrationTable)
	if err != nil {
		return nil, err
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, err
		}
		names = append(names, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	s := Schema{}
	for _, name := range names {
		tb := newTable()
		s[name] = tb
		// PRAGMA table_info: cid, name, type, notnull, dflt_value, pk.
		rows, err := db.QueryContext(ctx, `SELECT name, type, "notnull", pk FROM pragma_table_info(?)`, name)
		if err != nil {
			return nil, err
		}
		pk := map[int]string{}
		for rows.Next() {
			var col, typ string
			var notNull, pkPos int
			if err := rows.Scan(&col, &typ, &notNull, &pkPos); err != nil {
				rows.Close()
				return nil, err
			}
			// A PostgreSQL primary key column is NOT NULL; SQLite only
			// enforces that for INTEGER PRIMARY KEY, so every key column
			// counts as NOT NULL here (the store never writes NULL keys).
			tb.Columns[col] = column(TypeFamily(typ), notNull == 1 || pkPos > 0)
			if pkPos > 0 {
				pk[pkPos] = col
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		if len(pk) > 0 {
			cols := make([]string, len(pk))
			for i := range cols {
				cols[i] = pk[i+1]
			}
			tb.Indexes[indexKey(true, true, false, cols)]++
		}
		// PRAGMA index_list: seq, name, unique, origin, partial. The
		// primary key ("pk" origin, absent for a rowid alias) is read
		// from table_info above.
		rows, err = db.QueryContext(ctx, `SELECT name, "unique", origin, partial FROM pragma_index_list(?)`, name)
		if err != nil {
			return nil, err
		}
		type idx struct {
			name            string
			unique, partial bool
		}
		var idxs []idx
		for rows.Next() {
			var n, origin string
			var unique, partial int
			if err := rows.Scan(&n, &unique, &origin, &partial); err != nil {
				rows.Close()
				return nil, err
			}
			if origin != "pk" {
				idxs = append(idxs, idx{n, unique == 1, partial == 1})
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		for _, ix := range idxs {
			// PRAGMA index_info: seqno, cid, name (NULL for an expression).
			rows, err := db.QueryContext(ctx, `SELECT COALESCE(name, '<expr>') FROM pragma_index_info(?) ORDER BY seqno`, ix.name)
			if err != nil {
				return nil, err
			}
			var cols []string
			for rows.Next() {
				var c string
				if err := rows.Scan(&c); err != nil {
					rows.Close()
					return nil, err
				}
				cols = append(cols, c)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return nil, err
			}
			tb.Indexes[indexKey(false, ix.unique, ix.partial, cols)]++
		}
	}
	return s, nil
}

func readPostgresSchema(ctx context.Context, db *sql.DB) (Schema, error) {
	s := Schema{}
	rows, err := db.QueryContext(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> $1`, migrationTable)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, err
		}
		s[n] = newTable()
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = db.QueryContext(ctx, `SELECT table_name, column_name, data_type, is_nullable
		FROM information_schema.columns WHERE table_schema = current_schema()`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var tbl, col, typ, nullable string
		if err := rows.Scan(&tbl, &col, &typ, &nullable); err != nil {
			rows.Close()
			return nil, err
		}
		if tb := s[tbl]; tb != nil {
			tb.Columns[col] = column(TypeFamily(typ), nullable == "NO")
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// One row per index key column, in key order; attnum 0 is an expression.
	rows, err = db.QueryContext(ctx, `SELECT t.relname, c.relname, i.indisprimary, i.indisunique, i.indpred IS NOT NULL,
			COALESCE(a.attname, '<expr>')
		FROM pg_index i
		JOIN pg_class c ON c.oid = i.indexrelid
		JOIN pg_class t ON t.oid = i.indrelid
		JOIN pg_namespace ns ON ns.oid = t.relnamespace
		CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, n)
		LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum AND k.attnum > 0
		WHERE ns.nspname = current_schema() AND k.n <= i.indnkeyatts
		ORDER BY t.relname, c.relname, k.n`)
	if err != nil {
		return nil, err
	}
	type idx struct {
		table                    string
		primary, unique, partial bool
		cols                     []string
	}
	var order []string
	idxs := map[string]*idx{}
	for rows.Next() {
		var tbl, name, col string
		var primary, unique, partial bool
		if err := rows.Scan(&tbl, &name, &primary, &unique, &partial, &col); err != nil {
			rows.Close()
			return nil, err
		}
		ix := idxs[name]
		if ix == nil {
			ix = &idx{table: tbl, primary: primary, unique: unique, partial: partial}
			idxs[name] = ix
			order = append(order, name)
		}
		ix.cols = append(ix.cols, col)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, name := range order {
		ix := idxs[name]
		if tb := s[ix.table]; tb != nil {
			tb.Indexes[indexKey(ix.primary, ix.unique, ix.partial, ix.cols)]++
		}
	}
	return s, nil
}

// DiffSchemas lists every difference between a and b (named an and bn), one
// line each, sorted; allowed holds lines that are expected, and any allowed
// line that no longer occurs is reported too, so the list cannot go stale.
func DiffSchemas(an string, a Schema, bn string, b Schema, allowed map[string]string) []string {
	var out []string
	for _, tbl := range unionKeys(a, b) {
		ta, tb := a[tbl], b[tbl]
		switch {
		case ta == nil:
			out = append(out, fmt.Sprintf("table %s: only in %s", tbl, bn))
			continue
		case tb == nil:
			out = append(out, fmt.Sprintf("table %s: only in %s", tbl, an))
			continue
		}
		for _, col := range unionKeys(ta.Columns, tb.Columns) {
			ca, okA := ta.Columns[col]
			cb, okB := tb.Columns[col]
			switch {
			case !okA:
				out = append(out, fmt.Sprintf("column %s.%s: only in %s (%s)", tbl, col, bn, cb))
			case !okB:
				out = append(out, fmt.Sprintf("column %s.%s: only in %s (%s)", tbl, col, an, ca))
			case ca != cb:
				out = append(out, fmt.Sprintf("column %s.%s: %s %s, %s %s", tbl, col, an, ca, bn, cb))
			}
		}
		for _, ix := range unionKeys(ta.Indexes, tb.Indexes) {
			if na, nb := ta.Indexes[ix], tb.Indexes[ix]; na != nb {
				out = append(out, fmt.Sprintf("index on %s %s: %d in %s, %d in %s", tbl, ix, na, an, nb, bn))
			}
		}
	}
	var kept []string
	seen := map[string]bool{}
	for _, d := range out {
		if _, ok := allowed[d]; ok {
			seen[d] = true
			continue
		}
		kept = append(kept, d)
	}
	for d := range allowed {
		if !seen[d] {
			kept = append(kept, "allowlisted difference no longer occurs (remove it): "+d)
		}
	}
	sort.Strings(kept)
	return kept
}

func unionKeys[V any](a, b map[string]V) []string {
	set := map[string]bool{}
	for k := range a {
		set[k] = true
	}
	for k := range b {
		set[k] = true
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
