package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/carnivalhq/carnival/internal/analytics"
)

// ExportEvents pages through a shop's raw events with ts in [from, to),
// by sequence. It walks the sequence (no index on time, which would tax
// every ingested event): an export reads the table once over all its
// pages.
func (s *Store) ExportEvents(ctx context.Context, shopID string, from, to time.Time, after int64, limit int) ([]analytics.RawEvent, error) {
	rows, err := s.Query(ctx, `SELECT seq, body FROM analytics_events WHERE seq > $1 AND shop_id = $2 AND ts >= $3 AND ts < $4 ORDER BY seq LIMIT $5`,
		after, shopID, TS(from), TS(to), limit)
	return rowsAll(rows, err, func(r *sql.Rows) (analytics.RawEvent, error) {
		var e analytics.RawEvent
		err := r.Scan(&e.Seq, &e.Body)
		return e, err
	})
}

var _ analytics.Exporter = (*Store)(nil)
