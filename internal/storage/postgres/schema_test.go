package postgres_test

import (
	"strings"
	"testing"

	"github.com/carnivalhq/carnival/internal/storage/storetest"
)

// schemaDriftAllowed lists the differences between the migrated SQLite and
// PostgreSQL schemas that are there by design, each with the reason. Every
// other difference fails TestSchemaParity, and so does an entry here that
// no longer occurs.
var schemaDriftAllowed = map[string]string{}

// TestSchemaParity migrates both engines and compares what they declare:
// tables, columns (type family and NOT NULL) and indexes (key columns,
// uniqueness, partial or not), so the two migration folders cannot drift.
func TestSchemaParity(t *testing.T) {
	lite := storetest.ReadSchema(t, storetest.OpenSQLite(t))
	pg := storetest.ReadSchema(t, storetest.OpenPostgres(t))
	t.Logf("sqlite: %s; postgres: %s", lite.Summary(), pg.Summary())
	if diff := storetest.DiffSchemas("sqlite", lite, "postgres", pg, schemaDriftAllowed); len(diff) > 0 {
		t.Errorf("migrated schemas differ (%d):\n  %s", len(diff), strings.Join(diff, "\n  "))
	}
}

// TestSchemaDiffAllowlist checks the comparison itself, with no database:
// an allowed difference is silenced, a stale allowance is reported.
func TestSchemaDiffAllowlist(t *testing.T) {
	table := func(cols map[string]string, idx ...string) *storetest.TableSchema {
		ts := &storetest.TableSchema{Columns: cols, Indexes: map[string]int{}}
		for _, i := range idx {
			ts.Indexes[i]++
		}
		return ts
	}
	a := storetest.Schema{"t": table(map[string]string{"id": "text not null", "n": "integer"}, "primary key (id)")}
	b := storetest.Schema{"t": table(map[string]string{"id": "text not null", "n": "real"}, "primary key (id)", "index (n)"), "u": table(nil)}
	got := storetest.DiffSchemas("a", a, "b", b, map[string]string{
		"column t.n: a integer, b real": "stored differently by design",
		"table gone: only in a":         "stale",
	})
	want := []string{
		"allowlisted difference no longer occurs (remove it): table gone: only in a",
		"index on t index (n): 0 in a, 1 in b",
		"table u: only in b",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("diff:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for decl, fam := range map[string]string{"INTEGER": "integer", "bigint": "integer", "TEXT": "text", "character varying": "text",
		"BLOB": "bytes", "bytea": "bytes", "boolean": "boolean", "double precision": "real", "REAL": "real",
		"timestamp with time zone": "timestamp"} {
		if got := storetest.TypeFamily(decl); got != fam {
			t.Errorf("TypeFamily(%q) = %s, want %s", decl, got, fam)
		}
	}
}
