package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/carnivalhq/carnival/internal/analytics"
	"github.com/carnivalhq/carnival/internal/commerce"
)

// streams lets the server end its open live streams at shutdown:
// http.Server.Shutdown waits for handlers and does not cancel their
// contexts, so an SSE stream would hold it for as long as the client stays.
type streams struct {
	once  sync.Once
	stop  chan struct{}
	slots *streamSlots // open streams per key (headers.go)
}

// StopStreams ends every open live-tile stream (call it from
// http.Server.RegisterOnShutdown).
func (s *Server) StopStreams() {
	if s.streams != nil {
		s.streams.once.Do(func() { close(s.streams.stop) })
	}
}

type channelsOut struct {
	Body struct {
		From     string                 `json:"from"`
		To       string                 `json:"to"`
		Channels []analytics.ChannelRow `json:"channels"`
	}
}

type topSKUsOut struct {
	Body struct {
		From string             `json:"from"`
		To   string             `json:"to"`
		By   string             `json:"by"`
		SKUs []analytics.SKURow `json:"skus"`
	}
}

type cohortsOut struct {
	Body struct {
		Period  string                `json:"period"`
		Periods int                   `json:"periods"`
		Cohorts []analytics.CohortRow `json:"cohorts"`
	}
}

// registerAnalyticsViews adds the channel table, top SKUs, cohorts and the
// live tiles stream, when the analytics store answers them.
func (s *Server) registerAnalyticsViews() {
	vs, ok := s.cfg.AnalyticsStore.(analytics.ViewStore)
	if !ok {
		return
	}
	views := analytics.Views{St: vs}
	const tag = "Analytics"

	huma.Register(s.api, op("metric-channels", http.MethodGet, "/api/v1/metrics/channels", "Channel table: traffic, orders, spend and ROI per channel", tag, rolesRead),
		func(ctx context.Context, in *struct {
			From       string `query:"from" required:"true" doc:"first local day, YYYY-MM-DD"`
			To         string `query:"to" required:"true" doc:"day after the last, YYYY-MM-DD"`
			CampaignID string `query:"campaign_id" maxLength:"64" doc:"only this campaign's channels (utm_source and utm_campaign) and spend"`
		}) (*channelsOut, error) {
			c := CallerFrom(ctx)
			p, err := s.period(ctx, c.ShopID(), in.From, in.To)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			rows, err := views.Channels(ctx, c.ShopID(), p, in.CampaignID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			out := &channelsOut{}
			out.Body.From, out.Body.To, out.Body.Channels = in.From, in.To, rows
			return out, nil
		})

	huma.Register(s.api, op("metric-top-skus", http.MethodGet, "/api/v1/metrics/top-skus", "Top SKUs by paid amount, units, product views or add-to-carts", tag, rolesRead),
		func(ctx context.Context, in *struct {
			From     string `query:"from" required:"true" doc:"first local day, YYYY-MM-DD"`
			To       string `query:"to" required:"true" doc:"day after the last, YYYY-MM-DD"`
			By       string `query:"by" enum:"paid_amount,units,product_views,carts" default:"paid_amount"`
			Limit    int    `query:"limit" minimum:"1" maximum:"100" default:"20"`
			Channel  string `query:"channel" maxLength:"128" doc:"utm_source; absent: every channel"`
			Campaign string `query:"campaign" maxLength:"128" doc:"utm_campaign; absent: every campaign"`
		}) (*topSKUsOut, error) {
			c := CallerFrom(ctx)
			p, err := s.period(ctx, c.ShopID(), in.From, in.To)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			f := analytics.FilterOf(in.Channel, in.Campaign)
			rows, err := views.TopSKUs(ctx, c.ShopID(), p, f, in.By, in.Limit)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			out := &topSKUsOut{}
			out.Body.From, out.Body.To, out.Body.By, out.Body.SKUs = in.From, in.To, in.By, rows
			return out, nil
		})

	huma.Register(s.api, op("metric-cohorts", http.MethodGet, "/api/v1/metrics/cohorts", "Cohort retention of first-time paying customers by week or month", tag, rolesRead),
		func(ctx context.Context, in *struct {
			From    string `query:"from" required:"true" doc:"first local day, YYYY-MM-DD (rounded down to its week's Monday or month's first day)"`
			To      string `query:"to" required:"true" doc:"day after the last, YYYY-MM-DD"`
			Period  string `query:"period" enum:"week,month" default:"week"`
			Periods int    `query:"periods" minimum:"1" maximum:"24" default:"8" doc:"periods followed, the cohort's own included"`
		}) (*cohortsOut, error) {
			c := CallerFrom(ctx)
			p, err := s.period(ctx, c.ShopID(), in.From, in.To)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			rows, err := views.Cohorts(ctx, c.ShopID(), p, in.Period == analytics.CohortMonth, in.Periods, s.cfg.Commerce.Now())
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			out := &cohortsOut{}
			out.Body.Period, out.Body.Periods, out.Body.Cohorts = in.Period, in.Periods, rows
			return out, nil
		})

	// The live stream is a plain handler (it writes for minutes and must
	// lift the server's write timeout); huma documents it.
	s.streams = &streams{stop: make(chan struct{}), slots: newStreamSlots(s.cfg.LiveStreamsPerKey)}
	lo := op("metric-live", http.MethodGet, "/api/v1/metrics/live", "Live tiles over Server-Sent Events (at most 4 open streams per API key: 429 too_many_streams)", tag, rolesRead)
	lo.Description = "A `text/event-stream`: an event `tiles` at once and then every `interval` seconds, with today's (shop-local) " +
		"GMV, orders, paid amount, paid orders, UV, paying customers, conversion, AOV, refunds and the last 60 minutes of paid amount and " +
		"orders per minute. The stream ends when the client goes away or the server shuts down."
	tiles := s.api.OpenAPI().Components.Schemas.Schema(reflect.TypeOf(analytics.Tiles{}), true, "Tiles")
	lo.Responses = map[string]*huma.Response{"200": {Description: "Server-Sent Events; each `data:` line is a Tiles object",
		Content: map[string]*huma.MediaType{"text/event-stream": {Schema: tiles}}}}
	registerPlain[struct {
		Interval int `query:"interval" minimum:"1" maximum:"60" default:"5" doc:"seconds between events"`
	}, struct{}](s, lo, func(o *huma.Operation) http.Handler { return s.liveHandler(o, views) })
}

// liveHandler streams the live tiles.
func (s *Server) liveHandler(op *huma.Operation, views analytics.Views) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		caller, hctx, ok := s.plainAuth(op, w, r)
		if !ok {
			return
		}
		interval := 5
		if v := r.URL.Query().Get("interval"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 60 {
				s.writeErr(hctx(), commerce.Invalid("interval", "out_of_range", "interval is whole seconds, 1 to 60"))
				return
			}
			interval = n
		}
		shop, err := s.cfg.Commerce.Shop(r.Context(), caller.ShopID())
		if err != nil {
			s.writeErr(hctx(), err)
			return
		}
		loc, err := time.LoadLocation(shop.TimeZone)
		if err != nil {
			loc = time.UTC
		}
		release, err := s.streams.slots.take(caller.Key.ID)
		if err != nil {
			s.writeErr(hctx(), err)
			return
		}
		defer release()
		ctx := r.Context()
		first, err := views.Live(ctx, caller.ShopID(), s.cfg.Commerce.Now(), loc)
		if err != nil {
			s.writeErr(hctx(), err)
			return
		}
		rc := http.NewResponseController(w)
		// The server's WriteTimeout would cut the stream: lift it for
		// this response only.
		_ = rc.SetWriteDeadline(time.Time{})
		h := w.Header()
		h.Set("Content-Type", "text/event-stream")
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Accel-Buffering", "no")
		w.WriteHeader(http.StatusOK)
		send := func(t *analytics.Tiles) bool {
			b, _ := json.Marshal(t)
			buf := make([]byte, 0, len(b)+24)
			buf = append(buf, "event: tiles\ndata: "...)
			buf = append(buf, b...)
			buf = append(buf, "\n\n"...)
			if _, err := w.Write(buf); err != nil {
				return false
			}
			return rc.Flush() == nil
		}
		if !send(first) {
			return
		}
		tick := time.NewTicker(time.Duration(interval) * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-s.streams.stop:
				return
			case <-tick.C:
			}
			t, err := views.Live(ctx, caller.ShopID(), s.cfg.Commerce.Now(), loc)
			if err != nil {
				if ctx.Err() == nil {
					s.log.Error("live tiles", "err", err, "shop", caller.ShopID())
				}
				return
			}
			if !send(t) {
				return
			}
		}
	})
}
