package httpapi

import (
	"context"
	"math"
	"net/http"
	"strconv"

	"github.com/danielgtaylor/huma/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/peak/guard"
)

// masked hides IPs and device ids from analysts, who may see that abuse
// happened but not who.
func masked(ctx context.Context, dim, key string) string {
	if CallerFrom(ctx).Key.Role == commerce.RoleAnalyst {
		return guard.MaskKey(dim, key)
	}
	return key
}

func (s *Server) registerGuard() {
	g := s.cfg.Guard
	s.registerGuardMetrics(g)

	type listBlocksIn struct {
		Active bool   `query:"active" doc:"Only blocks neither lifted nor expired"`
		Cursor string `query:"cursor" maxLength:"64" doc:"The next_cursor of the previous page"`
		Limit  int    `query:"limit" minimum:"0" maximum:"500" doc:"Page size, default 50"`
	}
	huma.Register(s.api, op("list-guard-blocks", http.MethodGet, "/api/v1/guard/blocks", "Customers, devices and IPs blocked after failed attempts, newest first", "Guard", rolesRead),
		func(ctx context.Context, in *listBlocksIn) (*struct{ Body List[guard.Block] }, error) {
			bs, err := g.ListBlocks(ctx, CallerFrom(ctx).ShopID(), in.Active, commerce.Page{Cursor: in.Cursor, Limit: in.Limit})
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			for i := range bs {
				bs[i].Key = masked(ctx, bs[i].Dimension, bs[i].Key)
			}
			return listOf(bs, in.Limit, func(b guard.Block) string { return b.ID }), nil
		})
	huma.Register(s.api, op("lift-guard-block", http.MethodDelete, "/api/v1/guard/blocks/{id}", "Lift a block at once (and any other block of the same key); audited", "Guard", rolesWrite),
		func(ctx context.Context, in *idInput) (*struct{}, error) {
			c := CallerFrom(ctx)
			if err := g.Lift(ctx, c.ShopID(), in.ID, c.Actor().String()); err != nil {
				return nil, s.fail(ctx, err)
			}
			return nil, nil
		})

	type listRefusalsIn struct {
		Scope  string `query:"scope" maxLength:"200" doc:"Only this scope, e.g. flash:<sale id> or claim:<template id>"`
		Rule   string `query:"rule" enum:"rate_limit,blocked" doc:"Only this rule"`
		Cursor string `query:"cursor" maxLength:"64" doc:"The next_cursor of the previous page"`
		Limit  int    `query:"limit" minimum:"0" maximum:"500" doc:"Page size, default 50"`
	}
	huma.Register(s.api, op("list-guard-refusals", http.MethodGet, "/api/v1/guard/refusals", "Attempts the guard refused, counted per key, rule and scope, newest first", "Guard", rolesRead),
		func(ctx context.Context, in *listRefusalsIn) (*struct{ Body List[guard.RefusalRecord] }, error) {
			rs, err := g.ListRefusals(ctx, CallerFrom(ctx).ShopID(), guard.RefusalFilter{Scope: in.Scope, Rule: in.Rule}, commerce.Page{Cursor: in.Cursor, Limit: in.Limit})
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			for i := range rs {
				rs[i].Key = masked(ctx, rs[i].Dimension, rs[i].Key)
			}
			return listOf(rs, in.Limit, func(r guard.RefusalRecord) string { return r.ID }), nil
		})

	huma.Register(s.api, op("get-guard-policy", http.MethodGet, "/api/v1/guard/policy", "The shop's default guard policy (a sale or coupon template may have its own)", "Guard", rolesRead),
		func(ctx context.Context, _ *struct{}) (*struct{ Body guard.PolicySpec }, error) {
			p, err := g.ShopPolicy(ctx, CallerFrom(ctx).ShopID())
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body guard.PolicySpec }{Body: guard.SpecOf(p.Effective())}, nil
		})
	type putPolicyIn struct{ Body guard.PolicySpec }
	huma.Register(s.api, op("put-guard-policy", http.MethodPut, "/api/v1/guard/policy", "Replace the shop's default guard policy; audited", "Guard", rolesWrite),
		func(ctx context.Context, in *putPolicyIn) (*struct{ Body guard.PolicySpec }, error) {
			c := CallerFrom(ctx)
			p := in.Body.Policy()
			if err := g.SetShopPolicy(ctx, c.ShopID(), c.Actor().String(), p); err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body guard.PolicySpec }{Body: guard.SpecOf(p.Effective())}, nil
		})
}

func (s *Server) registerGuardMetrics(g *guard.Guard) {
	counter := func(name, help string, labels prometheus.Labels, v func(guard.Metrics) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: labels},
			func() float64 { return float64(v(g.Metrics())) })
	}
	s.reg.MustRegister(
		counter("carnival_guard_refusals_total", "Attempts the guard refused, by rule.", prometheus.Labels{"rule": guard.RuleRateLimit},
			func(m guard.Metrics) uint64 { return m.RateLimited }),
		counter("carnival_guard_refusals_total", "Attempts the guard refused, by rule.", prometheus.Labels{"rule": guard.RuleBlocked},
			func(m guard.Metrics) uint64 { return m.BlockedRefused }),
		counter("carnival_guard_blocks_total", "Blocks created by failed attempts.", nil,
			func(m guard.Metrics) uint64 { return m.BlocksMade }),
		counter("carnival_guard_refusal_records_dropped_total", "Refusals not recorded because the write queue was full or the write failed.", nil,
			func(m guard.Metrics) uint64 { return m.RecordsDropped }),
	)
}

// guardError is the answer to an attempt guard.Check did not let through,
// for the peak-path handlers to return as is: a rate limit is 429
// rate_limited, a block 403 blocked, both with Retry-After (whole seconds,
// rounded up) and the rule and dimension in extra; anything else means the
// guard could not decide (Redis unreachable), and the attempt is refused
// with 503 guard_unavailable — failing closed.
func (s *Server) guardError(ctx context.Context, err error) error {
	r, ok := guard.AsRefusal(err)
	if !ok {
		rid, _ := ctx.Value(keyRequestID).(string)
		s.log.Error("guard could not decide; attempt refused", "err", err, "request_id", rid)
		return problemFrom(&commerce.Error{Kind: commerce.KindUnavailable, Code: "guard_unavailable", Detail: "the attempt could not be checked; retry shortly"})
	}
	secs := int64(math.Ceil(r.RetryAfter.Seconds()))
	if secs < 1 {
		secs = 1
	}
	p := &Problem{Status: http.StatusTooManyRequests, Code: "rate_limited", Detail: "too many attempts; retry in " + strconv.FormatInt(secs, 10) + " s",
		Extra: map[string]any{"rule": r.Rule, "dimension": r.Dimension, "retry_after_seconds": secs}}
	if r.Blocked {
		p.Status, p.Code = http.StatusForbidden, "blocked"
		p.Detail = "blocked after repeated failed attempts; retry in " + strconv.FormatInt(secs, 10) + " s"
	}
	p.Title = http.StatusText(p.Status)
	return huma.ErrorWithHeaders(p, http.Header{"Retry-After": {strconv.FormatInt(secs, 10)}})
}
