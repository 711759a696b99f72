// Package httpapi is Carnival's REST API: huma v2 operations on the
// standard ServeMux, API-key auth by role, RFC 9457 problem+json errors,
// request ids, JSON logs, Prometheus metrics and health endpoints. It
// translates HTTP to the domain services and back, and nothing more.
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/carnivalhq/carnival/internal/alert"
	"github.com/carnivalhq/carnival/internal/analytics"
	"github.com/carnivalhq/carnival/internal/campaign"
	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/peak"
	"github.com/carnivalhq/carnival/internal/peak/guard"
	"github.com/carnivalhq/carnival/internal/promotion"
	"github.com/carnivalhq/carnival/internal/review"
)

// Version is the API version reported in the OpenAPI document.
const Version = "0.1.0"

// MaxBody is the request body limit.
const MaxBody = 1 << 20

// Config wires the API to the services.
type Config struct {
	Commerce *commerce.Service
	// Promotions serves promotions, coupons and quotes; nil leaves them out.
	Promotions *promotion.Service
	// Flash serves flash sales; nil leaves them out.
	Flash *peak.Flash
	// Grabs serves limited coupon grabs; nil leaves them out.
	Grabs *peak.Grabs
	// Guard serves the anti-abuse guard's blocks, refusals and shop
	// policy; nil leaves them out.
	Guard *guard.Guard
	// Presales serves presales with deposits; nil leaves them out.
	Presales *peak.Presales
	Logger   *slog.Logger
	// Ready reports whether dependencies answer, for /readyz.
	Ready func(context.Context) error
	// Groups serves group buys (拼团); nil leaves them out.
	Groups *peak.Groups
	// Campaigns serves campaign plans and the marketing calendar; nil
	// leaves them out.
	Campaigns *campaign.Service
	// Analytics ingests events and AnalyticsStore answers metric queries;
	// nil leaves them out.
	Analytics      *analytics.Ingestor
	AnalyticsStore analytics.Store
	// AnalyticsCache keeps merged sketches of closed days across metric
	// reads; nil caches nothing.
	AnalyticsCache *analytics.Cache
	// Review fills campaign reviews (复盘); nil (or no Campaigns) leaves
	// them out.
	Review review.Sources
	// Alerts serves alert rules, alerts and webhooks; nil leaves them out.
	Alerts *alert.Service
	// LiveStreamsPerKey caps the live-tile streams one API key holds open
	// (0: DefaultLiveStreamsPerKey).
	LiveStreamsPerKey int

	// TrustedProxies are the proxies whose forwarding headers name the
	// client IP (clientip.go); none by default.
	TrustedProxies TrustedProxies

	// humaQuote serves the quote through huma like every other operation,
	// for tests that compare the plain handler with it.
	humaQuote bool
}

// plainAdapter registers huma operations on the mux, except those named in
// plain: their pattern goes to a plain handler while huma still puts them
// in the OpenAPI document, with the same schemas. An operation registered
// with registerPlain has no other handler: registering it without its
// plain handler fails, and so does a plain handler no operation took
// (check), so a missing one stops start-up instead of answering 500.
type plainAdapter struct {
	huma.Adapter
	mux    *http.ServeMux
	plain  map[string]func(*huma.Operation) http.Handler
	served map[string]bool
}

// plainOnly marks, in an operation's Metadata, one that only a plain
// handler serves.
const plainOnly = "plain"

func (a *plainAdapter) Handle(op *huma.Operation, h func(huma.Context)) {
	if mk := a.plain[op.OperationID]; mk != nil {
		a.mux.Handle(strings.ToUpper(op.Method)+" "+op.Path, mk(op))
		a.served[op.OperationID] = true
		return
	}
	if op.Metadata[plainOnly] == true {
		panic(fmt.Sprintf("httpapi: operation %s is served by a plain handler, but none was installed", op.OperationID))
	}
	a.Adapter.Handle(op, h)
}

// check reports plain handlers that no registered operation took.
func (a *plainAdapter) check() error {
	var unused []string
	for id := range a.plain {
		if !a.served[id] {
			unused = append(unused, id)
		}
	}
	if len(unused) > 0 {
		slices.Sort(unused)
		return fmt.Errorf("httpapi: plain handlers for operations that were not registered: %s", strings.Join(unused, ", "))
	}
	return nil
}

// servePlain serves operation id, when it is registered, by the plain
// handler mk makes instead of its huma handler.
func (s *Server) servePlain(id string, mk func(*huma.Operation) http.Handler) {
	pa, ok := s.api.Adapter().(*plainAdapter)
	if !ok {
		panic(fmt.Sprintf("httpapi: operation %s is served by a plain handler, but the API's adapter cannot install one", id))
	}
	pa.plain[id] = mk
}

// registerPlain documents o, with input I and output O, and serves it
// only by the plain handler mk makes.
func registerPlain[I, O any](s *Server, o huma.Operation, mk func(*huma.Operation) http.Handler) {
	s.servePlain(o.OperationID, mk)
	if o.Metadata == nil {
		o.Metadata = map[string]any{}
	}
	o.Metadata[plainOnly] = true
	huma.Register(s.api, o, func(context.Context, *I) (*O, error) {
		return nil, huma.NewError(http.StatusInternalServerError, "served by the plain handler")
	})
}

// Server is the HTTP API.
type Server struct {
	cfg     Config
	log     *slog.Logger
	mux     *http.ServeMux
	api     huma.API
	reg     *prometheus.Registry
	reqs    *prometheus.CounterVec
	latency *prometheus.HistogramVec
	handler http.Handler
	streams *streams // analytics_views.go
}

type ctxKey int

const (
	keyCaller ctxKey = iota
	keyRequestID
	keyClientIP
)

// New builds the API.
func New(cfg Config) *Server {
	useProblems()
	s := &Server{cfg: cfg, log: cfg.Logger, mux: http.NewServeMux(), reg: prometheus.NewRegistry()}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.reqs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "carnival_http_requests_total", Help: "HTTP requests by operation and status."}, []string{"operation", "status"})
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "carnival_http_request_seconds", Help: "HTTP request latency by operation.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}}, []string{"operation"})
	s.reg.MustRegister(s.reqs, s.latency)

	hc := huma.DefaultConfig("Carnival API", Version)
	hc.Info.Description = "Carnival is a campaign operations platform for online stores: catalog, customers, orders with holds, " +
		"the promotion engine and the peak-load paths. Amounts are integer fen; ids are prefixed strings. " +
		"Authenticate with `Authorization: Bearer <API key>`. Errors are RFC 9457 problem+json with a stable `code` and the offending `field`; their `title` and `detail` " +
		"are in the language `Accept-Language` asks for (zh-CN or en), else the shop's `settings.language`. " +
		"Every id, query value, header value and JSON string must be valid UTF-8 without NUL or control characters " +
		"(free-text `description`, `note`, `reason` and `terms` may hold tabs and line breaks): anything else is 422 `invalid_text`."
	hc.OpenAPIPath = "/api/v1/openapi"
	hc.DocsPath = ""
	hc.SchemasPath = "/api/v1/schemas"
	hc.Formats = jsonFormats() // decode errors name the field (decode.go)
	// Times answer in the shop's offset (localtime.go), before the schema
	// link is added so the cached walk sees the operations' own types.
	hc.Transformers = append([]huma.Transformer{s.shopTimes}, hc.Transformers...)
	hc.Transformers = append(hc.Transformers, s.localizeProblems) // problem.go
	hc.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"apiKey": {Type: "http", Scheme: "bearer", Description: "An API key made with `carnival keys create` or POST /api/v1/keys."},
	}
	// Operations in plain are documented by huma but served by a plain
	// handler (ARCHITECTURE.md: a hot endpoint may be one when the
	// benchmark says so).
	pa := &plainAdapter{Adapter: humago.NewAdapter(s.mux, ""), mux: s.mux,
		plain: map[string]func(*huma.Operation) http.Handler{}, served: map[string]bool{}}
	s.api = huma.NewAPI(hc, pa)
	s.api.UseMiddleware(s.authenticate, s.checkInput, s.requireIdempotency)

	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	s.mux.HandleFunc("GET /readyz", s.readyz)
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{Registry: s.reg}))
	s.mux.HandleFunc("GET /docs", s.docs)
	s.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/docs", http.StatusFound) })

	s.registerShop()
	s.registerCatalog()
	s.registerCustomers()
	s.registerOrders()
	if cfg.Promotions != nil {
		s.registerPromotions()
	}
	if cfg.Flash != nil {
		s.registerFlash()
	}
	if cfg.Grabs != nil {
		s.registerGrabs()
	}
	if cfg.Guard != nil {
		s.registerGuard()
	}
	if cfg.Presales != nil {
		s.registerPresales()
	}
	if cfg.Groups != nil {
		s.registerGroupBuys()
	}
	if cfg.Campaigns != nil {
		s.registerCampaigns()
		s.registerCampaignEdits()
	}
	if cfg.Campaigns != nil && cfg.Review != nil {
		s.registerReview()
	}
	if cfg.Analytics != nil {
		s.registerAnalytics()
		s.registerAnalyticsViews()
		s.registerEventExport()
		s.mux.HandleFunc("GET /t.js", serveTracker)
		s.mux.HandleFunc("OPTIONS /api/v1/events", eventsPreflight)
	}
	if cfg.Alerts != nil {
		s.registerAlerts()
	}
	if err := pa.check(); err != nil {
		panic(err)
	}
	documentIdempotency(s.api)
	s.handler = s.observe(s.mux)
	return s
}

// Handler is the whole API with logging, request ids, metrics and panic
// recovery around it.
func (s *Server) Handler() http.Handler { return s.handler }

// Registry exposes the metrics registry, for packages that add metrics.
func (s *Server) Registry() *prometheus.Registry { return s.reg }

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.cfg.Ready(ctx); err != nil {
			s.log.Warn("not ready", "err", err)
			http.Error(w, "not ready\n", http.StatusServiceUnavailable)
			return
		}
	}
	w.Write([]byte("ready\n"))
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

// WriteHeader forwards only the first status: a second one (a handler
// reporting an error after it began to answer, e.g. when the client went
// away) cannot change what was sent.
func (w *statusWriter) WriteHeader(code int) {
	if w.status != 0 {
		return
	}
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// observe adds the request id, the access log, metrics and recovery.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if id == "" || len(id) > 64 {
			id = newRequestID()
		}
		w.Header().Set("X-Request-Id", id)
		secureHeaders(w.Header())
		ctx := context.WithValue(r.Context(), keyRequestID, id)
		ctx = withClientIP(ctx, s.cfg.TrustedProxies, r)
		r = r.WithContext(ctx)
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("panic", "request_id", id, "panic", p, "path", r.URL.Path)
				if sw.status == 0 {
					w.Header().Set("Content-Type", "application/problem+json")
					w.WriteHeader(http.StatusInternalServerError)
					w.Write([]byte(`{"title":"Internal Server Error","status":500,"code":"internal","detail":"an internal error occurred; it has been logged"}`))
				}
				sw.status = http.StatusInternalServerError
			}
			op := r.Pattern
			if op == "" {
				op = "unmatched"
			}
			d := time.Since(start)
			s.reqs.WithLabelValues(op, strconv.Itoa(sw.status)).Inc()
			s.latency.WithLabelValues(op).Observe(d.Seconds())
			lvl := slog.LevelDebug
			if sw.status >= 500 {
				lvl = slog.LevelError
			}
			s.log.Log(r.Context(), lvl, "request", "request_id", id, "method", r.Method, "path", r.URL.Path, "status", sw.status, "ms", float64(d.Microseconds())/1000)
		}()
		next.ServeHTTP(sw, r)
	})
}

// Caller is the authenticated API key of a request.
type Caller struct {
	Key *commerce.APIKey
}

// Actor is the caller as the audit log records it.
func (c Caller) Actor() commerce.Actor {
	return commerce.Actor{ShopID: c.Key.ShopID, KeyID: c.Key.ID, Role: c.Key.Role}
}

// ShopID is the caller's shop.
func (c Caller) ShopID() string { return c.Key.ShopID }

// CallerFrom returns the caller of an authenticated operation.
func CallerFrom(ctx context.Context) Caller {
	c, _ := ctx.Value(keyCaller).(Caller)
	return c
}

// authenticate checks the API key and the operation's roles. Operations
// list their roles in Metadata["roles"]; operations without roles are
// public (none today but the spec itself).
func (s *Server) authenticate(ctx huma.Context, next func(huma.Context)) {
	op := ctx.Operation()
	if roles, _ := op.Metadata["roles"].([]string); len(roles) == 0 {
		next(ctx)
		return
	}
	c, err := s.authorize(ctx.Context(), op, ctx.Header("Authorization"))
	if err != nil {
		s.writeErr(ctx, err)
		return
	}
	next(huma.WithValue(ctx, keyCaller, c))
}

// authorize checks the Authorization header against the roles op lists,
// for huma operations and plain handlers alike.
// plainAuth authorizes the request of a plain handler (one served beside
// huma) for op. When ok is false the problem is written; hctx gives the
// huma context later errors are written through.
func (s *Server) plainAuth(op *huma.Operation, w http.ResponseWriter, r *http.Request) (c Caller, hctx func() huma.Context, ok bool) {
	hctx = func() huma.Context { return humago.NewContext(op, r, w) }
	c, err := s.authorize(r.Context(), op, r.Header.Get("Authorization"))
	if err == nil {
		// Problems written later know the caller (their language).
		rc := r.WithContext(context.WithValue(r.Context(), keyCaller, c))
		hctx = func() huma.Context { return humago.NewContext(op, rc, w) }
		err = checkParams(op, r) // textcheck.go
	}
	if err != nil {
		s.writeErr(hctx(), err)
		return c, hctx, false
	}
	return c, hctx, true
}

func (s *Server) authorize(ctx context.Context, op *huma.Operation, authorization string) (Caller, error) {
	roles, _ := op.Metadata["roles"].([]string)
	// The scheme is case-insensitive (RFC 9110 §11.1): bearer and BEARER
	// work as Bearer does.
	secret := ""
	if len(authorization) > 7 && strings.EqualFold(authorization[:7], "Bearer ") {
		secret = authorization[7:]
	}
	key, err := s.cfg.Commerce.Authenticate(ctx, strings.TrimSpace(secret))
	if err != nil {
		return Caller{}, err
	}
	for _, r := range roles {
		if r == key.Role {
			return Caller{Key: key}, nil
		}
	}
	const format = "a %s key cannot call %s; it needs one of: %s"
	args := []any{key.Role, op.OperationID, strings.Join(roles, ", ")}
	return Caller{}, &commerce.Error{Kind: commerce.KindForbidden, Code: "forbidden_role", Detail: fmt.Sprintf(format, args...), Format: format, Args: args}
}

func (s *Server) writeErr(ctx huma.Context, err error) {
	p := problemFrom(err)
	if p.GetStatus() >= 500 {
		s.log.Error("request failed", "err", err, "operation", ctx.Operation().OperationID)
	}
	if pr, ok := p.(*Problem); ok {
		lang := s.problemLanguage(ctx)
		p = pr.localized(lang)
		ctx.SetHeader("Content-Language", lang)
	}
	ctx.SetHeader("Content-Type", "application/problem+json")
	ctx.SetStatus(p.GetStatus())
	b, _ := jsonMarshal(p)
	ctx.BodyWriter().Write(b)
}

// fail converts err for a handler to return, logging 5xx.
func (s *Server) fail(ctx context.Context, err error) error {
	p := problemFrom(err)
	if p.GetStatus() >= 500 {
		rid, _ := ctx.Value(keyRequestID).(string)
		s.log.Error("request failed", "err", err, "request_id", rid)
	}
	return p
}

// Role sets for operations.
var (
	rolesRead  = []string{commerce.RoleAdmin, commerce.RoleOperator, commerce.RoleAnalyst}
	rolesWrite = []string{commerce.RoleAdmin, commerce.RoleOperator}
	rolesAdmin = []string{commerce.RoleAdmin}
	// rolesStorefront are the server-side keys of a storefront: its secret
	// key, operators and admins. Orders, payments, coupons and wallets take
	// one of these, never a publishable key.
	rolesStorefront = []string{commerce.RoleAdmin, commerce.RoleOperator, commerce.RoleStorefront}
	// rolesPublishable adds the publishable key a page may carry, for the
	// few operations a browser makes: sending events and quoting a cart
	// without a customer (and assigning experiments).
	rolesPublishable = []string{commerce.RoleAdmin, commerce.RoleOperator, commerce.RoleStorefront, commerce.RolePublishable}
)

// op builds an operation with the conventions every endpoint shares.
func op(id, method, path, summary, tag string, roles []string) huma.Operation {
	o := huma.Operation{
		OperationID:  id,
		Method:       method,
		Path:         path,
		Summary:      summary,
		Tags:         []string{tag},
		MaxBodyBytes: MaxBody,
		Metadata:     map[string]any{"roles": roles},
		Security:     []map[string][]string{{"apiKey": {}}},
		Errors:       []int{400, 401, 403, 404, 409, 413, 422},
	}
	return o
}
