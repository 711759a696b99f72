package analytics

import (
	"context"
	"time"
)

// RawEvent is one stored event as it was accepted: Body is its JSON with
// the API's field names.
type RawEvent struct {
	Seq  int64
	Body string
}

// Exporter reads raw events back for export.
type Exporter interface {
	// ExportEvents returns up to limit of the shop's events whose ts is in
	// [from, to) and whose sequence is after after, in sequence order.
	ExportEvents(ctx context.Context, shopID string, from, to time.Time, after int64, limit int) ([]RawEvent, error)
}
