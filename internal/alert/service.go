package alert

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/carnivalhq/carnival/internal/analytics"
	"github.com/carnivalhq/carnival/internal/campaign"
	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/localtime"
	"github.com/carnivalhq/carnival/internal/netguard"
)

// AlertFilter narrows an alert list.
type AlertFilter struct {
	Status, Severity string
}

// LowStock is a SKU at or below its safety stock.
type LowStock struct {
	SKUID, Code, Name  string
	Stock, SafetyStock int64
}

// BudgetUse is a live promotion with a budget and what it has used (held
// uses count, as they do against the limit).
type BudgetUse struct {
	PromotionID, Name string
	Budget, Used      int64
}

// Store is what alerts need from storage. Writes that change an alert take
// the deliveries of its notification, to insert in the same transaction.
type Store interface {
	CreateRule(ctx context.Context, r *Rule, audit *commerce.AuditEntry) error
	// UpdateRule replaces a rule; commerce.ErrNotFound when there is none.
	UpdateRule(ctx context.Context, r *Rule, audit *commerce.AuditEntry) error
	// DeleteRule deletes a rule and resolves its unresolved alerts (without
	// notifying); commerce.ErrNotFound when there is none.
	DeleteRule(ctx context.Context, shopID, id string, at time.Time, audit *commerce.AuditEntry) error
	GetRule(ctx context.Context, shopID, id string) (*Rule, error)
	ListRules(ctx context.Context, shopID string, p commerce.Page) ([]Rule, error)
	// ShopsWithRules lists the shops that have at least one rule.
	ShopsWithRules(ctx context.Context) ([]string, error)

	// UnresolvedAlerts lists a rule's open and acknowledged alerts.
	UnresolvedAlerts(ctx context.Context, shopID, ruleID string) ([]Alert, error)
	// LastResolved is the latest resolved alert with the fingerprint, nil
	// when there is none.
	LastResolved(ctx context.Context, shopID, fingerprint string) (*Alert, error)
	// ApplyChange creates or updates the alert of ch and inserts ds, in one
	// transaction. An update only applies to an unresolved alert
	// (commerce.ErrStale otherwise); a create of a fingerprint that is
	// already unresolved is commerce.ErrDuplicate.
	ApplyChange(ctx context.Context, ch Change, ds []Delivery) error
	GetAlert(ctx context.Context, shopID, id string) (*Alert, error)
	// ListAlerts lists alerts newest first; the cursor is the last id seen.
	ListAlerts(ctx context.Context, shopID string, f AlertFilter, p commerce.Page) ([]Alert, error)
	// AcknowledgeAlert acknowledges an open alert; commerce.ErrStale when
	// it is not open.
	AcknowledgeAlert(ctx context.Context, shopID, id, by string, at time.Time, audit *commerce.AuditEntry) error

	CreateWebhook(ctx context.Context, w *Webhook, audit *commerce.AuditEntry) error
	// DeleteWebhook deletes a webhook; its pending deliveries fail.
	DeleteWebhook(ctx context.Context, shopID, id string, at time.Time, audit *commerce.AuditEntry) error
	GetWebhook(ctx context.Context, shopID, id string) (*Webhook, error)
	ListWebhooks(ctx context.Context, shopID string, p commerce.Page) ([]Webhook, error)
	// ListDeliveries lists a webhook's deliveries newest first.
	ListDeliveries(ctx context.Context, shopID, webhookID string, p commerce.Page) ([]Delivery, error)

	Outbox

	// LowStock lists active SKUs with a safety stock whose stock is at or
	// below it, at most limit.
	LowStock(ctx context.Context, shopID string, limit int) ([]LowStock, error)
	// PromotionBudgets lists active promotions with a budget, live at now.
	PromotionBudgets(ctx context.Context, shopID string, now time.Time) ([]BudgetUse, error)
}

// Campaigns is the campaign service pacing and milestone rules read.
type Campaigns interface {
	Get(ctx context.Context, shopID, id string) (*campaign.Campaign, error)
	Pacing(ctx context.Context, shopID, id string, day string) (*campaign.PacingReport, error)
	// List lists the shop's campaigns by id (without milestone statuses).
	List(ctx context.Context, shopID string, p commerce.Page) ([]campaign.Campaign, error)
}

// Metrics are the analytics rollups threshold and anomaly rules read.
type Metrics interface {
	RollupCounters(ctx context.Context, shopID, grain string, from, to int64, f analytics.Filter) ([]analytics.BucketCounters, error)
	Distincts(ctx context.Context, shopID string, fromDay, toDay int64, f analytics.Filter) (analytics.Distincts, error)
}

// Options are the sources of a Service; a nil source leaves its rule kinds
// unevaluated (they are still accepted).
type Options struct {
	Campaigns Campaigns
	Metrics   Metrics
	Logger    *slog.Logger
}

// Service manages rules, alerts and webhooks and evaluates the rules.
type Service struct {
	st   Store
	com  *commerce.Service
	opts Options
	log  *slog.Logger
}

// New returns the alert service.
func New(st Store, com *commerce.Service, opts Options) *Service {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Service{st: st, com: com, opts: opts, log: log}
}

// ---- rules ----

func (s *Service) checkRule(ctx context.Context, shopID string, in *RuleInput) error {
	if err := in.Validate(); err != nil {
		return err
	}
	if (in.Kind == KindPacing || in.Kind == KindMilestone && in.CampaignID != "") && s.opts.Campaigns != nil {
		if _, err := s.opts.Campaigns.Get(ctx, shopID, in.CampaignID); err != nil {
			if ce, ok := commerce.AsError(err); ok && ce.Kind == commerce.KindNotFound {
				return commerce.Invalid("campaign_id", "unknown_campaign", "campaign %q does not exist", in.CampaignID)
			}
			return err
		}
	}
	return nil
}

// CreateRule validates and saves a rule (audited).
func (s *Service) CreateRule(ctx context.Context, a commerce.Actor, in RuleInput) (*Rule, error) {
	if err := s.checkRule(ctx, a.ShopID, &in); err != nil {
		return nil, err
	}
	now := s.com.Now().UTC()
	r := &Rule{ID: s.com.ID("alr"), ShopID: a.ShopID, RuleInput: in, CreatedAt: now, UpdatedAt: now}
	if err := s.st.CreateRule(ctx, r, s.com.Audit(a, "create", "alert_rule", r.ID, nil, r)); err != nil {
		return nil, fmt.Errorf("create alert rule: %w", err)
	}
	return r, nil
}

// Rule reads a rule.
func (s *Service) Rule(ctx context.Context, shopID, id string) (*Rule, error) {
	r, err := s.st.GetRule(ctx, shopID, id)
	if errors.Is(err, commerce.ErrNotFound) {
		return nil, commerce.NotFound("alert_rule", id)
	}
	return r, err
}

// Rules lists rules by id.
func (s *Service) Rules(ctx context.Context, shopID string, p commerce.Page) ([]Rule, error) {
	return s.st.ListRules(ctx, shopID, p.Normalized())
}

// UpdateRule replaces a rule (audited). Its unresolved alerts stay and are
// judged by the new rule at the next evaluation.
func (s *Service) UpdateRule(ctx context.Context, a commerce.Actor, id string, in RuleInput) (*Rule, error) {
	before, err := s.Rule(ctx, a.ShopID, id)
	if err != nil {
		return nil, err
	}
	if err := s.checkRule(ctx, a.ShopID, &in); err != nil {
		return nil, err
	}
	after := *before
	after.RuleInput, after.UpdatedAt = in, s.com.Now().UTC()
	err = s.st.UpdateRule(ctx, &after, s.com.Audit(a, "update", "alert_rule", id, before, after))
	if errors.Is(err, commerce.ErrNotFound) {
		return nil, commerce.NotFound("alert_rule", id)
	}
	if err != nil {
		return nil, fmt.Errorf("update alert rule %s: %w", id, err)
	}
	return &after, nil
}

// DeleteRule deletes a rule and resolves its alerts (audited).
func (s *Service) DeleteRule(ctx context.Context, a commerce.Actor, id string) error {
	before, err := s.Rule(ctx, a.ShopID, id)
	if err != nil {
		return err
	}
	err = s.st.DeleteRule(ctx, a.ShopID, id, s.com.Now().UTC(), s.com.Audit(a, "delete", "alert_rule", id, before, nil))
	if errors.Is(err, commerce.ErrNotFound) {
		return commerce.NotFound("alert_rule", id)
	}
	return err
}

// ---- alerts ----

// Alerts lists alerts newest first, optionally by status and severity.
func (s *Service) Alerts(ctx context.Context, shopID string, f AlertFilter, p commerce.Page) ([]Alert, error) {
	if f.Status != "" && !slices.Contains([]string{StatusOpen, StatusAcknowledged, StatusResolved}, f.Status) {
		return nil, commerce.Invalid("status", "invalid_status", "status is open, acknowledged or resolved")
	}
	f.Severity = NormalizeSeverity(f.Severity)
	if f.Severity != "" && Rank(f.Severity) == 0 {
		return nil, commerce.Invalid("severity", "invalid_severity", "severity is reminder, warning or urgent")
	}
	return s.st.ListAlerts(ctx, shopID, f, p.Normalized())
}

// Alert reads an alert.
func (s *Service) Alert(ctx context.Context, shopID, id string) (*Alert, error) {
	a, err := s.st.GetAlert(ctx, shopID, id)
	if errors.Is(err, commerce.ErrNotFound) {
		return nil, commerce.NotFound("alert", id)
	}
	return a, err
}

// Acknowledge marks an open alert acknowledged (audited): someone is on
// it. It stays unresolved, so it keeps being updated and can escalate.
func (s *Service) Acknowledge(ctx context.Context, a commerce.Actor, id string) (*Alert, error) {
	if _, err := s.Alert(ctx, a.ShopID, id); err != nil {
		return nil, err
	}
	err := s.st.AcknowledgeAlert(ctx, a.ShopID, id, a.String(), s.com.Now().UTC(), s.com.Audit(a, "acknowledge", "alert", id, nil, nil))
	if errors.Is(err, commerce.ErrStale) {
		return nil, commerce.Conflict("alert_not_open", "alert %s is not open (already acknowledged or resolved)", id)
	}
	if err != nil {
		return nil, fmt.Errorf("acknowledge alert %s: %w", id, err)
	}
	return s.Alert(ctx, a.ShopID, id)
}

// ---- webhooks ----

// WebhookInput creates a webhook.
type WebhookInput struct {
	URL         string `json:"url" minLength:"1" maxLength:"2000" doc:"http(s) URL; no user:password@, redirects are not followed. Loopback, private, link-local and other internal destinations are refused (422 destination_not_allowed) unless the shop's settings.webhook_allowlist names them"`
	Description string `json:"description,omitempty" maxLength:"200"`
	Secret      string `json:"secret,omitempty" maxLength:"200" doc:"The signing secret (16 to 200 characters); generated when left out. Shown once."`
	MinSeverity string `json:"min_severity,omitempty" enum:"reminder,warning,urgent,提醒,警告,紧急," doc:"Alerts below this severity are not sent: reminder 提醒 (default: everything), warning 警告 or urgent 紧急 (either name; answered as the code)"`
}

// CheckURL accepts an absolute http or https URL without user info.
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return commerce.Invalid("url", "invalid_url", "url must be an absolute http(s) URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return commerce.Invalid("url", "invalid_scheme", "url must be http or https")
	}
	if u.User != nil {
		return commerce.Invalid("url", "userinfo_refused", "url must not carry a user name or password; authenticate with the signature")
	}
	if u.Hostname() == "" {
		return commerce.Invalid("url", "invalid_url", "url needs a host")
	}
	if u.Fragment != "" {
		return commerce.Invalid("url", "invalid_url", "url must not have a fragment")
	}
	return nil
}

// CheckDestination is the early check of a webhook's destination when it
// is saved: a literal loopback, private, link-local or unique-local
// address (in any spelling: 0x7f000001, 2130706433, ::ffff:127.0.0.1) or
// a local name (localhost) is refused unless the shop's allowlist names
// it. Host names are judged again on every resolved address when a
// delivery connects, so this is not the only line.
func CheckDestination(raw string, allow []string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return commerce.Invalid("url", "invalid_url", "url must be an absolute http(s) URL")
	}
	port := 80
	if u.Scheme == "https" {
		port = 443
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return commerce.Invalid("url", "invalid_url", "url has an invalid port")
		}
		port = n
	}
	list, err := netguard.ParseAllowlist(allow)
	if err != nil {
		list = netguard.Allowlist{}
	}
	if list.CheckHost(u.Hostname(), port) != nil {
		return commerce.Invalid("url", "destination_not_allowed",
			"url points at a loopback, private, link-local or otherwise internal address; add it to the shop's settings.webhook_allowlist to allow a private receiver")
	}
	return nil
}

// CreateWebhook validates and saves a webhook (audited, without the
// secret); the answer is the only one that carries the secret.
func (s *Service) CreateWebhook(ctx context.Context, a commerce.Actor, in WebhookInput) (*Webhook, error) {
	in.URL = strings.TrimSpace(in.URL)
	if err := CheckURL(in.URL); err != nil {
		return nil, err
	}
	if err := commerce.CheckFreeText("description", in.Description, false, commerce.MaxNameLen); err != nil {
		return nil, err
	}
	if err := commerce.CheckText("url", in.URL, false, 2000); err != nil {
		return nil, err
	}
	if err := commerce.CheckText("secret", in.Secret, false, 200); err != nil {
		return nil, err
	}
	sh, err := s.com.Shop(ctx, a.ShopID)
	if err != nil {
		return nil, err
	}
	if err := CheckDestination(in.URL, sh.Settings.WebhookAllowlist); err != nil {
		return nil, err
	}
	if in.Secret != "" && (len(in.Secret) < 16 || len(in.Secret) > 200) {
		return nil, commerce.Invalid("secret", "out_of_range", "secret is 16 to 200 characters")
	}
	if in.MinSeverity == "" {
		in.MinSeverity = SevReminder
	}
	in.MinSeverity = NormalizeSeverity(in.MinSeverity)
	if Rank(in.MinSeverity) == 0 {
		return nil, commerce.Invalid("min_severity", "invalid_severity", "min_severity is reminder, warning or urgent")
	}
	if in.Secret == "" {
		var b [24]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, err
		}
		in.Secret = "whsec_" + hex.EncodeToString(b[:])
	}
	w := &Webhook{ID: s.com.ID("awh"), ShopID: a.ShopID, URL: in.URL, Description: in.Description, MinSeverity: in.MinSeverity, Secret: in.Secret,
		CreatedAt: s.com.Now().UTC()}
	public := *w
	public.Secret = ""
	if err := s.st.CreateWebhook(ctx, w, s.com.Audit(a, "create", "alert_webhook", w.ID, nil, public)); err != nil {
		return nil, fmt.Errorf("create webhook: %w", err)
	}
	return w, nil
}

// Webhook reads a webhook, without its secret.
func (s *Service) Webhook(ctx context.Context, shopID, id string) (*Webhook, error) {
	w, err := s.st.GetWebhook(ctx, shopID, id)
	if errors.Is(err, commerce.ErrNotFound) {
		return nil, commerce.NotFound("alert_webhook", id)
	}
	if err != nil {
		return nil, err
	}
	w.Secret = ""
	return w, nil
}

// Webhooks lists webhooks by id, without their secrets.
func (s *Service) Webhooks(ctx context.Context, shopID string, p commerce.Page) ([]Webhook, error) {
	ws, err := s.st.ListWebhooks(ctx, shopID, p.Normalized())
	for i := range ws {
		ws[i].Secret = ""
	}
	return ws, err
}

// DeleteWebhook deletes a webhook (audited); its pending deliveries fail.
func (s *Service) DeleteWebhook(ctx context.Context, a commerce.Actor, id string) error {
	before, err := s.Webhook(ctx, a.ShopID, id)
	if err != nil {
		return err
	}
	err = s.st.DeleteWebhook(ctx, a.ShopID, id, s.com.Now().UTC(), s.com.Audit(a, "delete", "alert_webhook", id, before, nil))
	if errors.Is(err, commerce.ErrNotFound) {
		return commerce.NotFound("alert_webhook", id)
	}
	return err
}

// Deliveries lists a webhook's deliveries newest first.
func (s *Service) Deliveries(ctx context.Context, shopID, webhookID string, p commerce.Page) ([]Delivery, error) {
	if _, err := s.Webhook(ctx, shopID, webhookID); err != nil {
		return nil, err
	}
	return s.st.ListDeliveries(ctx, shopID, webhookID, p.Normalized())
}

// ---- evaluation ----

// Evaluate evaluates every rule of every shop that has rules at now. A
// rule whose sources fail is skipped (its alerts stay as they are) and the
// error is returned with the others after all shops are done.
func (s *Service) Evaluate(ctx context.Context, now time.Time) error {
	shops, err := s.st.ShopsWithRules(ctx)
	if err != nil {
		return fmt.Errorf("shops with alert rules: %w", err)
	}
	var errs []error
	for _, sh := range shops {
		if err := s.EvaluateShop(ctx, sh, now); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// EvaluateShop evaluates one shop's enabled rules at now.
func (s *Service) EvaluateShop(ctx context.Context, shopID string, now time.Time) error {
	sh, err := s.com.Shop(ctx, shopID)
	if err != nil {
		return err
	}
	loc, err := time.LoadLocation(sh.TimeZone)
	if err != nil {
		return fmt.Errorf("shop %s time zone: %w", shopID, err)
	}
	var rules []Rule
	for p := (commerce.Page{Limit: 500}); ; {
		page, err := s.st.ListRules(ctx, shopID, p)
		if err != nil {
			return err
		}
		rules = append(rules, page...)
		if len(page) < p.Limit {
			break
		}
		p.Cursor = page[len(page)-1].ID
	}
	var hooks []Webhook
	for p := (commerce.Page{Limit: 500}); ; {
		page, err := s.st.ListWebhooks(ctx, shopID, p)
		if err != nil {
			return err
		}
		hooks = append(hooks, page...)
		if len(page) < p.Limit {
			break
		}
		p.Cursor = page[len(page)-1].ID
	}
	var errs []error
	for i := range rules {
		r := &rules[i]
		if !r.IsEnabled() {
			continue
		}
		fs, err := s.findings(ctx, r, loc, now)
		localize(fs, sh.Settings.Effective().Language)
		if errors.Is(err, errNoSource) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("alert rule %s: %w", r.ID, err))
			continue
		}
		if err := s.reconcile(ctx, r, fs, hooks, now); err != nil {
			errs = append(errs, fmt.Errorf("alert rule %s: %w", r.ID, err))
		}
	}
	return errors.Join(errs...)
}

// Fingerprint names a rule's alert about subject.
func Fingerprint(ruleID, subject string) string { return ruleID + "|" + subject }

func (s *Service) reconcile(ctx context.Context, r *Rule, fs []Finding, hooks []Webhook, now time.Time) error {
	open, err := s.st.UnresolvedAlerts(ctx, r.ShopID, r.ID)
	if err != nil {
		return err
	}
	byFP := map[string]*Alert{}
	for i := range open {
		byFP[open[i].Fingerprint] = &open[i]
	}
	seen := map[string]bool{}
	var errs []error
	for i := range fs {
		f := &fs[i]
		fp := Fingerprint(r.ID, f.Subject)
		if seen[fp] {
			continue
		}
		seen[fp] = true
		prev := byFP[fp]
		if prev == nil {
			if prev, err = s.st.LastResolved(ctx, r.ShopID, fp); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		errs = append(errs, s.apply(ctx, r, fp, Step(prev, f, now, r.Cooldown(), s.newAlert(r, fp)), hooks, now))
	}
	for fp, a := range byFP {
		if !seen[fp] {
			errs = append(errs, s.apply(ctx, r, fp, Step(a, nil, now, r.Cooldown(), nil), hooks, now))
		}
	}
	return errors.Join(errs...)
}

func (s *Service) newAlert(r *Rule, fp string) func() *Alert {
	return func() *Alert {
		return &Alert{ID: s.com.ID("alt"), ShopID: r.ShopID, RuleID: r.ID, Kind: r.Kind, Fingerprint: fp}
	}
}

// Payload is the JSON body a webhook receives.
type Payload struct {
	Event    string    `json:"event"`
	ShopID   string    `json:"shop_id"`
	RuleName string    `json:"rule_name"`
	Alert    Alert     `json:"alert"`
	At       time.Time `json:"at"`
}

func (s *Service) apply(ctx context.Context, r *Rule, fp string, ch Change, hooks []Webhook, now time.Time) error {
	if ch.Alert == nil {
		return nil
	}
	var ds []Delivery
	if ch.Event != "" {
		// A receiver reads the times in the shop's offset, as the API answers them.
		loc, err := s.com.ShopLocation(ctx, r.ShopID)
		if err != nil {
			return err
		}
		body, err := json.Marshal(localtime.In(Payload{Event: ch.Event, ShopID: r.ShopID, RuleName: r.Name, Alert: *ch.Alert, At: now}, loc))
		if err != nil {
			return err
		}
		for _, w := range hooks {
			if Rank(ch.Alert.Notified) < Rank(w.MinSeverity) {
				continue
			}
			ds = append(ds, Delivery{ID: s.com.ID("adl"), ShopID: r.ShopID, WebhookID: w.ID, AlertID: ch.Alert.ID, Event: ch.Event, Body: string(body),
				Status: DeliveryPending, NextAttemptAt: now.UTC(), CreatedAt: now.UTC()})
		}
	}
	err := s.st.ApplyChange(ctx, ch, ds)
	if errors.Is(err, commerce.ErrDuplicate) || errors.Is(err, commerce.ErrStale) {
		// Another evaluator got there first; the next round sees its row.
		s.log.Info("alert changed concurrently", "fingerprint", fp)
		return nil
	}
	if err == nil && ch.Event != "" {
		s.log.Info("alert", "event", ch.Event, "shop", r.ShopID, "rule", r.ID, "subject", ch.Alert.Subject, "severity", ch.Alert.Severity, "webhooks", len(ds))
	}
	return err
}

var errNoSource = errors.New("no source for this rule kind")

// findings asks the rule's source what holds now.
func (s *Service) findings(ctx context.Context, r *Rule, loc *time.Location, now time.Time) ([]Finding, error) {
	var fs []Finding
	var err error
	switch r.Kind {
	case KindPacing:
		if s.opts.Campaigns == nil {
			return nil, errNoSource
		}
		fs, err = s.pacing(ctx, r, loc, now)
	case KindThreshold:
		if s.opts.Metrics == nil {
			return nil, errNoSource
		}
		fs, err = s.threshold(ctx, r, loc, now)
	case KindAnomaly:
		if s.opts.Metrics == nil {
			return nil, errNoSource
		}
		fs, err = s.anomaly(ctx, r, loc, now)
	case KindStock:
		fs, err = s.stock(ctx, r)
	case KindPromotionBudget:
		fs, err = s.budgets(ctx, r, now)
	case KindMilestone:
		if s.opts.Campaigns == nil {
			return nil, errNoSource
		}
		fs, err = s.milestones(ctx, r, loc, now)
	default:
		return nil, errNoSource
	}
	sort.Slice(fs, func(i, j int) bool { return fs[i].Subject < fs[j].Subject })
	return fs, err
}
