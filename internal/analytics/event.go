// Package analytics owns storefront and order events, the rollups written
// as they arrive, and the metrics and funnels read from those rollups
// (definitions: docs/METRICS.md). Dashboards never scan raw events: raw
// events are kept for export and for rebuilding rollups after a crash.
package analytics

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/jsonw"
)

// Event types a storefront may send.
const (
	PageView      = "page_view"
	ProductView   = "product_view"
	AddToCart     = "add_to_cart"
	CheckoutStart = "checkout_start"
	Search        = "search"
	Share         = "share"
)

// Event types only the order flow emits (server side).
const (
	OrderPlaced    = "order_placed"
	OrderPaid      = "order_paid"
	OrderCancelled = "order_cancelled"
	OrderRefunded  = "order_refunded"
)

var clientTypes = map[string]bool{PageView: true, ProductView: true, AddToCart: true, CheckoutStart: true, Search: true, Share: true}
var serverTypes = map[string]bool{OrderPlaced: true, OrderPaid: true, OrderCancelled: true, OrderRefunded: true}

// Limits of an event.
const (
	MaxBatch    = 1000
	MaxIDLen    = 64
	MaxUTMLen   = 128
	MaxURLLen   = 2048
	MaxFuture   = 5 * time.Minute
	MaxPast     = 7 * 24 * time.Hour
	MaxDeviceLn = 64
)

// Event is one tracked event. Amounts are fen.
type Event struct {
	ID          string    `json:"id"`
	Type        string    `json:"type"`
	TS          time.Time `json:"ts"`
	AnonymousID string    `json:"anonymous_id,omitempty"`
	CustomerID  string    `json:"customer_id,omitempty"`
	SessionID   string    `json:"session_id,omitempty"`
	SKUID       string    `json:"sku_id,omitempty"`
	OrderID     string    `json:"order_id,omitempty"`
	Amount      int64     `json:"amount,omitempty"`
	Discount    int64     `json:"discount,omitempty"`
	UTMSource   string    `json:"utm_source,omitempty"`
	UTMMedium   string    `json:"utm_medium,omitempty"`
	UTMCampaign string    `json:"utm_campaign,omitempty"`
	UTMContent  string    `json:"utm_content,omitempty"`
	UTMTerm     string    `json:"utm_term,omitempty"`
	Device      string    `json:"device,omitempty"`
	URL         string    `json:"url,omitempty"`
	// BalanceOf (server only) marks a presale's balance order: it names
	// the deposit order, and the two count as one purchase.
	BalanceOf string `json:"balance_of,omitempty"`
	// Lines are an order's lines (server-side order events only).
	Lines []EventLine `json:"lines,omitempty"`
}

// EventLine is one line of an order event: Amount is the line's payable
// share in fen.
type EventLine struct {
	SKUID    string `json:"sku_id"`
	Quantity int64  `json:"quantity"`
	Amount   int64  `json:"amount"`
}

// MaxLines bounds the lines of one order event.
const MaxLines = 200

// Rejection says why one item of a batch was refused.
type Rejection struct {
	Index  int    `json:"index"`
	Field  string `json:"field"`
	Code   string `json:"code"`
	Detail string `json:"detail"`
}

// Validate checks a storefront event at now; nil when it is acceptable.
// server allows the order flow's own types.
func Validate(e *Event, now time.Time, server bool) *Rejection {
	bad := func(field, code, f string, a ...any) *Rejection {
		return &Rejection{Field: field, Code: code, Detail: fmt.Sprintf(f, a...)}
	}
	if !clientTypes[e.Type] && !(server && serverTypes[e.Type]) {
		if serverTypes[e.Type] {
			return bad("type", "server_only", "%s events come from the order flow, not the storefront", e.Type)
		}
		return bad("type", "unknown_type", "type must be one of page_view, product_view, add_to_cart, checkout_start, search, share")
	}
	if e.ID == "" || utf8.RuneCountInString(e.ID) > MaxIDLen || strings.IndexByte(e.ID, 0) >= 0 {
		return bad("id", "invalid_id", "id is required, at most %d characters", MaxIDLen)
	}
	if e.TS.IsZero() {
		return bad("ts", "required", "ts is required (RFC 3339)")
	}
	if e.TS.After(now.Add(MaxFuture)) {
		return bad("ts", "in_future", "ts is more than 5 minutes ahead of the server clock")
	}
	if e.TS.Before(now.Add(-MaxPast)) {
		return bad("ts", "too_old", "ts is more than 7 days old")
	}
	if e.AnonymousID == "" && e.CustomerID == "" {
		return bad("anonymous_id", "required", "anonymous_id or customer_id is required")
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{{"anonymous_id", e.AnonymousID, MaxIDLen}, {"customer_id", e.CustomerID, MaxIDLen}, {"session_id", e.SessionID, MaxIDLen},
		{"sku_id", e.SKUID, MaxIDLen}, {"order_id", e.OrderID, MaxIDLen}, {"device", e.Device, MaxDeviceLn}, {"url", e.URL, MaxURLLen},
		{"utm_source", e.UTMSource, MaxUTMLen}, {"utm_medium", e.UTMMedium, MaxUTMLen}, {"utm_campaign", e.UTMCampaign, MaxUTMLen},
		{"utm_content", e.UTMContent, MaxUTMLen}, {"utm_term", e.UTMTerm, MaxUTMLen}, {"balance_of", e.BalanceOf, MaxIDLen}} {
		if len(f.v) > f.max && utf8.RuneCountInString(f.v) > f.max {
			return bad(f.name, "too_long", "%s is longer than %d characters", f.name, f.max)
		}
		// The text rule of every stored string (PostgreSQL text cannot
		// hold NUL: one would stall the rollups).
		if p := commerce.TextProblem(f.v, false); p != "" {
			return bad(f.name, "invalid_text", "%s %s", f.name, p)
		}
	}
	if e.Amount < 0 {
		return bad("amount", "negative", "amount is fen and cannot be negative")
	}
	if e.Discount < 0 {
		return bad("discount", "negative", "discount is fen and cannot be negative")
	}
	if len(e.Lines) > 0 && !serverTypes[e.Type] {
		return bad("lines", "server_only", "lines come with the order flow's events only")
	}
	if len(e.Lines) > MaxLines {
		return bad("lines", "too_many", "at most %d lines", MaxLines)
	}
	for _, l := range e.Lines {
		if l.SKUID == "" || len(l.SKUID) > MaxIDLen || !utf8.ValidString(l.SKUID) {
			return bad("lines", "invalid_sku_id", "each line needs a sku_id of at most %d characters", MaxIDLen)
		}
		if l.Quantity < 0 || l.Amount < 0 {
			return bad("lines", "negative", "line quantity and amount cannot be negative")
		}
	}
	if (e.Type == ProductView || e.Type == AddToCart) && e.SKUID == "" {
		return bad("sku_id", "required", "%s needs sku_id", e.Type)
	}
	return nil
}

// Visitor is the event's visitor key before identity merging: the
// customer when known, the anonymous id otherwise ("c:"/"a:" keep the two
// id spaces apart).
func (e *Event) Visitor() string {
	if e.CustomerID != "" {
		return "c:" + e.CustomerID
	}
	return "a:" + e.AnonymousID
}

// AppendJSON appends the event as JSON with the API's field names (what
// encoding/json would write, without reflection: it runs for every event
// ingested).
func (e *Event) AppendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = jsonw.String(b, e.ID, false)
	b = append(b, `,"type":`...)
	b = jsonw.String(b, e.Type, false)
	b = append(b, `,"ts":"`...)
	b = e.TS.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	for _, f := range [...]struct{ k, v string }{{"anonymous_id", e.AnonymousID}, {"customer_id", e.CustomerID}, {"session_id", e.SessionID},
		{"sku_id", e.SKUID}, {"order_id", e.OrderID}, {"utm_source", e.UTMSource}, {"utm_medium", e.UTMMedium}, {"utm_campaign", e.UTMCampaign},
		{"utm_content", e.UTMContent}, {"utm_term", e.UTMTerm}, {"device", e.Device}, {"url", e.URL}, {"balance_of", e.BalanceOf}} {
		if f.v != "" {
			b = append(b, `,"`...)
			b = append(b, f.k...)
			b = append(b, `":`...)
			b = jsonw.String(b, f.v, false)
		}
	}
	if e.Amount != 0 {
		b = append(b, `,"amount":`...)
		b = jsonw.Int(b, e.Amount)
	}
	if e.Discount != 0 {
		b = append(b, `,"discount":`...)
		b = jsonw.Int(b, e.Discount)
	}
	if len(e.Lines) > 0 {
		b = append(b, `,"lines":[`...)
		for i, l := range e.Lines {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"sku_id":`...)
			b = jsonw.String(b, l.SKUID, false)
			b = append(b, `,"quantity":`...)
			b = jsonw.Int(b, l.Quantity)
			b = append(b, `,"amount":`...)
			b = jsonw.Int(b, l.Amount)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}
