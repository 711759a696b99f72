package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/carnivalhq/carnival/internal/analytics"
	"github.com/carnivalhq/carnival/internal/commerce"
)

type eventsIn struct {
	Body struct {
		Events []analytics.Event `json:"events" maxItems:"1000"`
	}
}

type eventsAnswer struct {
	Accepted   int                   `json:"accepted" doc:"Items stored (including ones already stored: ids are idempotent)"`
	Duplicates int                   `json:"duplicates" doc:"Accepted items whose id was already stored"`
	Rejected   []analytics.Rejection `json:"rejected"`
}

type eventsOut struct{ Body eventsAnswer }

func (s *Server) registerAnalytics() {
	o := op("ingest-events", http.MethodPost, "/api/v1/events", "Ingest a batch of storefront events", "Analytics", rolesPublishable)
	o.Description = "Up to 1000 events. Each item is validated alone: bad items are listed in `rejected` with their index, field (a path inside the item, e.g. `ts` or `lines[0].quantity`; empty for the item as a whole) and code, the rest are stored. " +
		"An item with a field the schema does not name is rejected with code `unknown_field`; a value of the wrong type with `malformed_event`. Only a malformed body (or an unknown top-level field) fails the whole batch."
	registerPlain[eventsIn, eventsOut](s, o, s.eventsHandler)
	huma.Register(s.api, op("metric-kpis", http.MethodGet, "/api/v1/metrics/kpis", "KPI time series with comparisons", "Analytics", rolesRead),
		func(ctx context.Context, in *struct {
			From        string `query:"from" required:"true" doc:"first local day, YYYY-MM-DD"`
			To          string `query:"to" required:"true" doc:"day after the last, YYYY-MM-DD"`
			Granularity string `query:"granularity" enum:"day,hour" default:"day"`
			Channel     string `query:"channel" maxLength:"128"`
			Campaign    string `query:"campaign" maxLength:"128"`
			Cost        int64  `query:"cost" minimum:"0" doc:"spend in fen, for ROI"`
			Exact       bool   `query:"exact" doc:"count UV exactly over visitor rows instead of from sketches (slower)"`
		}) (*struct{ Body *analytics.Report }, error) {
			c := CallerFrom(ctx)
			p, err := s.period(ctx, c.ShopID(), in.From, in.To)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			f := analytics.FilterOf(in.Channel, in.Campaign)
			g := analytics.Day
			if in.Granularity == "hour" {
				g = analytics.Hour
			}
			rep, err := analytics.Reader{St: s.cfg.AnalyticsStore, Exact: in.Exact, Cache: s.cfg.AnalyticsCache}.KPIs(ctx, c.ShopID(), p, g, f, in.Cost)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body *analytics.Report }{rep}, nil
		})
	huma.Register(s.api, op("metric-funnel", http.MethodGet, "/api/v1/metrics/funnel", "Funnel: visit → product view → cart → order → paid", "Analytics", rolesRead),
		func(ctx context.Context, in *struct {
			From  string `query:"from" required:"true"`
			To    string `query:"to" required:"true"`
			By    string `query:"by" enum:"channel,"`
			Exact bool   `query:"exact" doc:"count visitors exactly over visitor rows instead of from sketches (slower)"`
		}) (*struct {
			Body struct {
				Steps []analytics.FunnelRow `json:"steps"`
			}
		}, error) {
			c := CallerFrom(ctx)
			p, err := s.period(ctx, c.ShopID(), in.From, in.To)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			rows, err := analytics.Reader{St: s.cfg.AnalyticsStore, Exact: in.Exact, Cache: s.cfg.AnalyticsCache}.Funnel(ctx, c.ShopID(), p, in.By == "channel")
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			out := &struct {
				Body struct {
					Steps []analytics.FunnelRow `json:"steps"`
				}
			}{}
			out.Body.Steps = rows
			return out, nil
		})
}

// period parses [from, to) as local days of the shop, at most 366 days.
func (s *Server) period(ctx context.Context, shopID, from, to string) (analytics.Period, error) {
	shop, err := s.cfg.Commerce.Shop(ctx, shopID)
	if err != nil {
		return analytics.Period{}, err
	}
	loc, err := time.LoadLocation(shop.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	f, err := time.ParseInLocation(time.DateOnly, from, loc)
	if err != nil {
		return analytics.Period{}, commerce.Invalid("from", "invalid_date", "from must be YYYY-MM-DD")
	}
	t, err := time.ParseInLocation(time.DateOnly, to, loc)
	if err != nil {
		return analytics.Period{}, commerce.Invalid("to", "invalid_date", "to must be YYYY-MM-DD")
	}
	if !t.After(f) || t.Sub(f) > 367*24*time.Hour {
		return analytics.Period{}, commerce.Invalid("to", "invalid_range", "to must be after from, at most 366 days later")
	}
	return analytics.Period{From: f, To: t}, nil
}

// eventsHandler decodes a batch once and validates each item alone.
func (s *Server) eventsHandler(op *huma.Operation) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Storefront pages on the shop's own domain post here (t.js): the
		// publishable key, not a cookie, authorizes, so any origin may.
		w.Header().Set("Access-Control-Allow-Origin", "*")
		caller, hctx, ok := s.plainAuth(op, w, r)
		if !ok {
			return
		}
		bp := getBuf()
		defer putBuf(bp)
		body, rerr := readBody(r.Body, (*bp)[:0], MaxBody)
		*bp = body
		if rerr != nil {
			s.writeProblem(hctx(), rerr)
			return
		}
		badText, terr := eventTextRejections(body) // textcheck.go
		if terr != nil {
			s.writeErr(hctx(), terr)
			return
		}
		// Decode the batch once; only a batch with an item that does not
		// decode (a string for an amount, a bad ts, a field the schema
		// does not have) is decoded again item by item, so that item alone
		// is refused.
		var fast struct {
			Events []analytics.Event `json:"events"`
		}
		var evs []analytics.Event
		var idx []int
		var rejected []analytics.Rejection
		if decodeStrict(body, &fast) == nil && fast.Events != nil {
			if len(fast.Events) > analytics.MaxBatch {
				s.writeErr(hctx(), commerce.Invalid("events", "too_many", "at most %d events per batch", analytics.MaxBatch))
				return
			}
			evs = fast.Events
		} else {
			var in struct {
				Events []json.RawMessage `json:"events"`
			}
			if err := json.Unmarshal(body, &in); err != nil || in.Events == nil {
				s.writeErr(hctx(), commerce.Invalid("events", "malformed_body", "the body must be {\"events\": [...]}"))
				return
			}
			if d := locate(body, reflect.TypeOf(in), "", true, 0); d != nil {
				s.writeErr(hctx(), commerce.Invalid(d.Loc, "unknown_field", "%s", d.Msg))
				return
			}
			if len(in.Events) > analytics.MaxBatch {
				s.writeErr(hctx(), commerce.Invalid("events", "too_many", "at most %d events per batch", analytics.MaxBatch))
				return
			}
			evs = make([]analytics.Event, 0, len(in.Events))
			idx = make([]int, 0, len(in.Events))
			for i, raw := range in.Events {
				var e analytics.Event
				if err := decodeStrict(raw, &e); err != nil {
					rejected = append(rejected, eventRejection(i, locate(raw, eventType, "", true, 0)))
					continue
				}
				evs = append(evs, e)
				idx = append(idx, i)
			}
		}
		if len(badText) > 0 {
			evs, idx, rejected = dropBadText(evs, idx, rejected, badText)
		}
		acc, dups, rej, err := s.cfg.Analytics.Ingest(r.Context(), caller.ShopID(), evs, false)
		if err != nil {
			s.writeErr(hctx(), err)
			return
		}
		for _, x := range rej {
			if idx != nil {
				x.Index = idx[x.Index]
			}
			rejected = append(rejected, x)
		}
		slices.SortFunc(rejected, func(a, b analytics.Rejection) int { return a.Index - b.Index })
		if rejected == nil {
			rejected = []analytics.Rejection{}
		}
		b, _ := json.Marshal(eventsAnswer{Accepted: acc, Duplicates: dups, Rejected: rejected})
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.Write(b)
	})
}

var eventType = reflect.TypeFor[analytics.Event]()

// decodeStrict decodes the JSON document body into v like json.Unmarshal,
// and fails on a key that names no field (the schema allows none).
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON document")
	}
	return nil
}

// eventRejection refuses item i of a batch, which does not decode as an
// event (d says where and why; nil when it could not be located).
func eventRejection(i int, d *decodeError) analytics.Rejection {
	if d == nil {
		return analytics.Rejection{Index: i, Code: "malformed_event", Detail: "the event does not match the schema"}
	}
	if strings.HasSuffix(d.Msg, unknownFieldHint) {
		return analytics.Rejection{Index: i, Field: d.Loc, Code: "unknown_field", Detail: d.Msg}
	}
	detail := d.Msg
	if d.Loc != "" {
		detail = d.Loc + ": " + d.Msg
	}
	return analytics.Rejection{Index: i, Field: d.Loc, Code: "malformed_event", Detail: detail}
}

// eventsPreflight answers the browser's CORS preflight for POST /api/v1/events.
func eventsPreflight(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "POST")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
	h.Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
}
