package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/carnivalhq/carnival/internal/storage/sqlite"
	"github.com/carnivalhq/carnival/internal/storage/sqlstore"
	"github.com/carnivalhq/carnival/internal/storage/storetest"
)

func open(t *testing.T) *sqlstore.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "carnival.db"), sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestSQLiteContract(t *testing.T) { storetest.Run(t, open) }

func TestSQLitePromotionContract(t *testing.T) { storetest.RunPromotions(t, open) }
