package httpapi

import (
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/carnivalhq/carnival/internal/analytics"
	"github.com/carnivalhq/carnival/internal/localtime"
)

// exportPage is how many raw events one read of an export takes.
var exportPage = 5000

// registerEventExport serves the raw events as NDJSON, when the analytics
// store can read them back.
func (s *Server) registerEventExport() {
	ex, ok := s.cfg.AnalyticsStore.(analytics.Exporter)
	if !ok {
		return
	}
	o := op("export-events", http.MethodGet, "/api/v1/events/export", "Export raw events as NDJSON", "Analytics", rolesRead)
	o.Description = "The shop's raw events whose `ts` falls in the shop-local days [from, to), one JSON object per line " +
		"(`application/x-ndjson`), in the order they were stored, with the fields the events API takes plus the order flow's own " +
		"events (order_placed, order_paid, order_cancelled, order_refunded). The answer is streamed."
	o.Responses = map[string]*huma.Response{"200": {Description: "One event per line",
		Content: map[string]*huma.MediaType{"application/x-ndjson": {Schema: &huma.Schema{Type: "string"}}}}}
	registerPlain[struct {
		From string `query:"from" required:"true" doc:"First shop-local day, YYYY-MM-DD"`
		To   string `query:"to" required:"true" doc:"Day after the last, YYYY-MM-DD (at most 366 days after from)"`
	}, struct{}](s, o, func(o *huma.Operation) http.Handler { return s.exportHandler(o, ex) })
}

// exportHandler streams the export page by page.
func (s *Server) exportHandler(op *huma.Operation, ex analytics.Exporter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		caller, hctx, ok := s.plainAuth(op, w, r)
		if !ok {
			return
		}
		q := r.URL.Query()
		p, err := s.period(r.Context(), caller.ShopID(), q.Get("from"), q.Get("to"))
		if err != nil {
			s.writeErr(hctx(), err)
			return
		}
		ctx := r.Context()
		page, err := ex.ExportEvents(ctx, caller.ShopID(), p.From, p.To, 0, exportPage)
		if err != nil {
			s.writeErr(hctx(), err)
			return
		}
		rc := http.NewResponseController(w)
		// A large export outlasts the server's write timeout.
		_ = rc.SetWriteDeadline(time.Time{})
		w.Header().Set("Content-Type", "application/x-ndjson")
		w.Header().Set("Content-Disposition", `attachment; filename="events-`+q.Get("from")+`-`+q.Get("to")+`.ndjson"`)
		w.WriteHeader(http.StatusOK)
		// Events are kept as received, in UTC; they answer in the shop's
		// offset like every other time (an unreadable shop was refused by
		// period above).
		loc, _ := s.cfg.Commerce.ShopLocation(ctx, caller.ShopID())
		var buf []byte
		for {
			buf = buf[:0]
			for _, e := range page {
				if loc != nil {
					buf = append(buf, localtime.Snapshot([]byte(e.Body), loc)...)
				} else {
					buf = append(buf, e.Body...)
				}
				buf = append(buf, '\n')
			}
			if _, err := w.Write(buf); err != nil {
				return
			}
			if len(page) < exportPage {
				return
			}
			_ = rc.Flush()
			if page, err = ex.ExportEvents(ctx, caller.ShopID(), p.From, p.To, page[len(page)-1].Seq, exportPage); err != nil {
				// The status is sent: all that is left is to stop short,
				// which the client sees as a truncated body.
				s.log.Error("event export", "err", err, "shop", caller.ShopID())
				return
			}
		}
	})
}
