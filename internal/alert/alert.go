// Package alert watches a shop's campaigns, metrics, stock and promotion
// budgets and raises alerts: rules say what to watch, Evaluate turns what
// the sources report into alerts (de-duplicated by fingerprint, escalated,
// resolved, held back by a cooldown), and every alert notification is
// written with a delivery row per webhook in the same transaction, for the
// Deliverer to POST, signed and retried. The package does no I/O itself:
// it declares the Store and the Sources it reads.
package alert

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
)

// Rule kinds.
const (
	KindPacing          = "pacing"           // a campaign KPI below its alert line
	KindThreshold       = "threshold"        // a KPI of the last complete hour/day against a value
	KindAnomaly         = "anomaly"          // an hourly counter far from its seasonal baseline
	KindStock           = "stock"            // SKUs at or below their safety stock
	KindPromotionBudget = "promotion_budget" // promotions with most of their budget used
	KindMilestone       = "milestone"        // campaign milestones past their due day, not done
)

// Kinds lists the rule kinds.
var Kinds = []string{KindPacing, KindThreshold, KindAnomaly, KindStock, KindPromotionBudget, KindMilestone}

// Severities, lowest first: 提醒 reminder, 警告 warning, 紧急 urgent.
const (
	SevReminder = "reminder"
	SevWarning  = "warning"
	SevUrgent   = "urgent"
)

// SeverityNames are the Chinese names of the severities, as the docs and
// the console show them: accepted wherever a severity is sent, and
// answered as the code.
var SeverityNames = map[string]string{"提醒": SevReminder, "警告": SevWarning, "紧急": SevUrgent}

// NormalizeSeverity turns a severity's Chinese name into its code; any
// other value is returned as it is.
func NormalizeSeverity(s string) string {
	if c, ok := SeverityNames[s]; ok {
		return c
	}
	return s
}

// Rank orders severities: 0 for none or unknown, then 1, 2, 3.
func Rank(sev string) int {
	switch sev {
	case SevReminder:
		return 1
	case SevWarning:
		return 2
	case SevUrgent:
		return 3
	}
	return 0
}

// Alert statuses. Open and acknowledged alerts are both unresolved: they
// keep being updated in place while their condition holds.
const (
	StatusOpen         = "open"
	StatusAcknowledged = "acknowledged"
	StatusResolved     = "resolved"
)

// Threshold windows and operators.
const (
	WindowHour = "hour"
	WindowDay  = "day"
)

// Ops are the comparison operators of threshold rules.
var Ops = []string{"<", "<=", ">", ">="}

// Compare applies op to value and limit.
func Compare(op string, value, limit int64) bool {
	switch op {
	case "<":
		return value < limit
	case "<=":
		return value <= limit
	case ">":
		return value > limit
	case ">=":
		return value >= limit
	}
	return false
}

// ThresholdKPIs are the KPIs threshold rules compare; DayOnlyKPIs need the
// distinct visitors and customers of a whole day, so only work on window day.
var (
	ThresholdKPIs = []string{"gmv", "paid_amount", "orders", "paid_orders", "refunds", "net_sales", "discount_cost", "pv", "product_views",
		"add_to_carts", "refund_rate_bp", "uv", "paying_customers", "new_customers", "conversion_bp", "aov", "uv_value"}
	DayOnlyKPIs = []string{"uv", "paying_customers", "new_customers", "conversion_bp", "aov", "uv_value"}
	// AnomalyKPIs are the additive hourly counters anomaly rules watch.
	AnomalyKPIs = []string{"pv", "orders", "gmv", "paid_amount", "paid_orders", "product_views", "add_to_carts"}
)

// Defaults and bounds of rule parameters.
const (
	DefaultCooldown    = 30 * time.Minute
	DefaultWeeks       = 8
	MinWeeks           = 4
	MaxWeeks           = 26
	DefaultPersistence = 2
	MaxPersistence     = 24
	DefaultBudgetBP    = 8000
	MaxCooldownSeconds = 7 * 24 * 3600
)

// RuleInput is what a client sends to create or replace a rule. Which
// fields apply depends on the kind; the others must be left out.
type RuleInput struct {
	Name    string `json:"name" minLength:"1" maxLength:"200" doc:"What the rule is for"`
	Kind    string `json:"kind" enum:"pacing,threshold,anomaly,stock,promotion_budget,milestone"`
	Enabled *bool  `json:"enabled,omitempty" doc:"Default true"`
	// pacing
	CampaignID string   `json:"campaign_id,omitempty" maxLength:"64" doc:"pacing: the campaign; milestone: only this campaign (default every campaign)"`
	KPIs       []string `json:"kpis,omitempty" maxItems:"20" doc:"pacing: the campaign KPIs to watch (default all it targets)"`
	// threshold, anomaly
	KPI string `json:"kpi,omitempty" maxLength:"40" doc:"threshold: a KPI of docs/METRICS.md; anomaly: an additive hourly counter"`
	// threshold
	Window   string `json:"window,omitempty" enum:"hour,day," doc:"threshold: the last complete local hour or day"`
	Op       string `json:"op,omitempty" enum:"<,<=,>,>=," doc:"threshold: the comparison"`
	Value    *int64 `json:"value,omitempty" doc:"threshold: the limit (fen, count or bp like the KPI)"`
	Severity string `json:"severity,omitempty" enum:"reminder,warning,urgent,提醒,警告,紧急," doc:"threshold: the severity when it fires (default warning): reminder 提醒, warning 警告 or urgent 紧急 (either name; answered as the code)"`
	Channel  string `json:"channel,omitempty" maxLength:"200" doc:"threshold, anomaly: only this utm_source"`
	Campaign string `json:"campaign,omitempty" maxLength:"200" doc:"threshold, anomaly: only this utm_campaign"`
	// anomaly
	Weeks       int   `json:"weeks,omitempty" doc:"anomaly: past weeks in the baseline (default 8, 4 to 26)"`
	MinVolume   int64 `json:"min_volume,omitempty" doc:"anomaly: skip an hour when both its value and the baseline median are below this"`
	Persistence int   `json:"persistence,omitempty" doc:"anomaly: consecutive complete hours that must all deviate the same way (default 2)"`
	// promotion_budget
	ThresholdBP int64 `json:"threshold_bp,omitempty" doc:"promotion_budget: fire when used budget ≥ this share (bp, default 8000)"`
	// every kind
	CooldownSeconds *int64 `json:"cooldown_seconds,omitempty" doc:"After an alert resolves, the same alert does not re-fire for this long (default 1800)"`
}

// Rule is a stored rule, defaults filled in.
type Rule struct {
	ID     string `json:"id"`
	ShopID string `json:"-"`
	RuleInput
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Cooldown is the rule's cooldown.
func (r *Rule) Cooldown() time.Duration {
	if r.CooldownSeconds == nil {
		return DefaultCooldown
	}
	return time.Duration(*r.CooldownSeconds) * time.Second
}

// IsEnabled reports whether the rule is evaluated.
func (r *Rule) IsEnabled() bool { return r.Enabled == nil || *r.Enabled }

// Validate checks the input strictly and fills the defaults; errors name
// the field.
func (in *RuleInput) Validate() error {
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		return commerce.Invalid("name", "required", "a rule needs a name")
	}
	for _, f := range []struct{ name, v string }{{"name", in.Name}, {"campaign_id", in.CampaignID}, {"kpi", in.KPI}, {"window", in.Window},
		{"op", in.Op}, {"severity", in.Severity}, {"channel", in.Channel}, {"campaign", in.Campaign}} {
		if err := commerce.CheckText(f.name, f.v, false, commerce.MaxNameLen); err != nil {
			return err
		}
	}
	if err := commerce.CheckTexts("kpis", in.KPIs, false, commerce.MaxNameLen); err != nil {
		return err
	}
	if !slices.Contains(Kinds, in.Kind) {
		return commerce.Invalid("kind", "invalid_kind", "kind is one of %s", strings.Join(Kinds, ", "))
	}
	if in.CooldownSeconds != nil && (*in.CooldownSeconds < 0 || *in.CooldownSeconds > MaxCooldownSeconds) {
		return commerce.Invalid("cooldown_seconds", "out_of_range", "cooldown_seconds is 0 to %d", MaxCooldownSeconds)
	}
	if in.Enabled == nil {
		t := true
		in.Enabled = &t
	}
	// unused lists what the kind does not take, so a misplaced field is an
	// error rather than silently ignored.
	type field struct {
		name string
		set  bool
	}
	all := []field{{"campaign_id", in.CampaignID != ""}, {"kpis", in.KPIs != nil}, {"kpi", in.KPI != ""}, {"window", in.Window != ""}, {"op", in.Op != ""},
		{"value", in.Value != nil}, {"severity", in.Severity != ""}, {"channel", in.Channel != ""}, {"campaign", in.Campaign != ""}, {"weeks", in.Weeks != 0},
		{"min_volume", in.MinVolume != 0}, {"persistence", in.Persistence != 0}, {"threshold_bp", in.ThresholdBP != 0}}
	takes := map[string][]string{
		KindPacing:          {"campaign_id", "kpis"},
		KindThreshold:       {"kpi", "window", "op", "value", "severity", "channel", "campaign"},
		KindAnomaly:         {"kpi", "channel", "campaign", "weeks", "min_volume", "persistence"},
		KindStock:           {},
		KindPromotionBudget: {"threshold_bp"},
		KindMilestone:       {"campaign_id"},
	}[in.Kind]
	for _, f := range all {
		if f.set && !slices.Contains(takes, f.name) {
			return commerce.Invalid(f.name, "not_for_kind", "a %s rule does not take %s", in.Kind, f.name)
		}
	}
	switch in.Kind {
	case KindPacing:
		if in.CampaignID == "" {
			return commerce.Invalid("campaign_id", "required", "a pacing rule needs campaign_id")
		}
		seen := map[string]bool{}
		for i, k := range in.KPIs {
			if !slices.Contains(PacingKPIs, k) {
				return commerce.Invalid(fmt.Sprintf("kpis[%d]", i), "unknown_kpi", "kpi %q is not a campaign KPI (%s)", k, strings.Join(PacingKPIs, ", ")).With("accepted", PacingKPIs)
			}
			if seen[k] {
				return commerce.Invalid(fmt.Sprintf("kpis[%d]", i), "duplicate_kpi", "kpi %q is listed twice", k)
			}
			seen[k] = true
		}
	case KindThreshold:
		if !slices.Contains(ThresholdKPIs, in.KPI) {
			return commerce.Invalid("kpi", "unknown_kpi", "kpi is one of %s", strings.Join(ThresholdKPIs, ", ")).With("accepted", ThresholdKPIs)
		}
		if in.Window != WindowHour && in.Window != WindowDay {
			return commerce.Invalid("window", "invalid_window", "window is hour or day")
		}
		if in.Window == WindowHour && slices.Contains(DayOnlyKPIs, in.KPI) {
			return commerce.Invalid("window", "day_only_kpi", "%s counts distinct visitors or customers and is only known per day: use window day", in.KPI)
		}
		if !slices.Contains(Ops, in.Op) {
			return commerce.Invalid("op", "invalid_op", "op is one of < <= > >=")
		}
		if in.Value == nil {
			return commerce.Invalid("value", "required", "a threshold rule needs value")
		}
		if *in.Value < 0 || *in.Value > 1e15 {
			return commerce.Invalid("value", "out_of_range", "value is 0 to 10^15")
		}
		if in.Severity == "" {
			in.Severity = SevWarning
		}
		in.Severity = NormalizeSeverity(in.Severity)
		if Rank(in.Severity) == 0 {
			return commerce.Invalid("severity", "invalid_severity", "severity is reminder, warning or urgent")
		}
	case KindAnomaly:
		if !slices.Contains(AnomalyKPIs, in.KPI) {
			return commerce.Invalid("kpi", "unknown_kpi", "an anomaly rule watches an additive hourly counter: %s", strings.Join(AnomalyKPIs, ", ")).With("accepted", AnomalyKPIs)
		}
		if in.Weeks == 0 {
			in.Weeks = DefaultWeeks
		}
		if in.Weeks < MinWeeks || in.Weeks > MaxWeeks {
			return commerce.Invalid("weeks", "out_of_range", "weeks is %d to %d", MinWeeks, MaxWeeks)
		}
		if in.MinVolume < 0 || in.MinVolume > 1e15 {
			return commerce.Invalid("min_volume", "out_of_range", "min_volume is 0 to 10^15")
		}
		if in.Persistence == 0 {
			in.Persistence = DefaultPersistence
		}
		if in.Persistence < 1 || in.Persistence > MaxPersistence {
			return commerce.Invalid("persistence", "out_of_range", "persistence is 1 to %d hours", MaxPersistence)
		}
	case KindPromotionBudget:
		if in.ThresholdBP == 0 {
			in.ThresholdBP = DefaultBudgetBP
		}
		if in.ThresholdBP < 1 || in.ThresholdBP > 10000 {
			return commerce.Invalid("threshold_bp", "out_of_range", "threshold_bp is 1 to 10000")
		}
	}
	return nil
}

// PacingKPIs are the campaign KPIs a pacing rule may watch.
var PacingKPIs = []string{"gmv", "paid_amount", "orders", "paying_customers", "new_customers", "aov", "conversion_rate", "uv", "roi"}

// Alert is one raised alert. Its fingerprint (rule and subject) is unique
// among unresolved alerts.
type Alert struct {
	ID          string `json:"id"`
	ShopID      string `json:"-"`
	RuleID      string `json:"rule_id"`
	Kind        string `json:"kind"`
	Fingerprint string `json:"fingerprint"`
	Subject     string `json:"subject" doc:"What the alert is about: a KPI, a SKU id, a promotion id, a milestone id"`
	Severity    string `json:"severity" enum:"reminder,warning,urgent"`
	// Notified is the highest severity notified so far: a rise above it
	// notifies again.
	Notified   string     `json:"notified_severity"`
	Status     string     `json:"status" enum:"open,acknowledged,resolved"`
	Message    string     `json:"message"`
	Value      int64      `json:"value" doc:"The observed value (fen, count or bp)"`
	Expected   *int64     `json:"expected,omitempty" doc:"What it was compared with: the threshold, the baseline median, the target to date"`
	FirstSeen  time.Time  `json:"first_seen"`
	LastSeen   time.Time  `json:"last_seen"`
	AckAt      *time.Time `json:"acknowledged_at,omitempty"`
	AckBy      string     `json:"acknowledged_by,omitempty"`
	ResolvedAt *time.Time `json:"resolved_at,omitempty"`
}

// Finding is a condition a rule sees now, for one subject.
type Finding struct {
	Subject  string
	Severity string
	// Message is the human text. A finding with a MessageKey has it
	// rendered from the message catalogue (internal/i18n) in the shop's
	// language, with MessageArgs; the alert's codes stay the same.
	Message     string
	MessageKey  string
	MessageArgs []any
	Value       int64
	Expected    *int64
}

// Notification events.
const (
	EventOpened    = "alert.opened"
	EventEscalated = "alert.escalated"
	EventResolved  = "alert.resolved"
)

// Webhook is a URL alert notifications are POSTed to, signed with Secret.
type Webhook struct {
	ID          string    `json:"id"`
	ShopID      string    `json:"-"`
	URL         string    `json:"url"`
	Description string    `json:"description,omitempty"`
	MinSeverity string    `json:"min_severity" enum:"reminder,warning,urgent" doc:"Alerts below this severity are not sent"`
	Secret      string    `json:"secret,omitempty" doc:"Only in the answer to the creation"`
	CreatedAt   time.Time `json:"created_at"`
}

// Delivery statuses.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
)

// Delivery is one notification to one webhook: the outbox row.
type Delivery struct {
	ID            string     `json:"id"`
	ShopID        string     `json:"-"`
	WebhookID     string     `json:"webhook_id"`
	AlertID       string     `json:"alert_id"`
	Event         string     `json:"event"`
	Body          string     `json:"-"`
	Status        string     `json:"status" enum:"pending,delivered,failed"`
	Attempts      int        `json:"attempts"`
	NextAttemptAt time.Time  `json:"next_attempt_at"`
	LastStatus    int        `json:"last_status,omitempty" doc:"HTTP status of the last attempt (0: no answer)"`
	LastError     string     `json:"last_error,omitempty"`
	DeliveredAt   *time.Time `json:"delivered_at,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
}
