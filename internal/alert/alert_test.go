package alert

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-4 }

func TestMedianMADAndZ(t *testing.T) {
	if got := Median([]float64{5, 1, 3}); got != 3 {
		t.Errorf("median odd = %v, want 3", got)
	}
	if got := Median([]float64{4, 1, 3, 2}); got != 2.5 {
		t.Errorf("median even = %v, want 2.5", got)
	}
	// Eight past weeks with one campaign spike (100): sorted 10 10 11 11
	// 12 13 14 100, median 11.5; deviations 0.5 ×3, 1.5 ×3, 2.5, 88.5,
	// MAD 1.5; scale 1.4826 × 1.5 = 2.2239. The spike does not move it.
	base := []float64{10, 12, 11, 14, 100, 10, 13, 11}
	if got := MAD(base); got != 1.5 {
		t.Fatalf("MAD = %v, want 1.5", got)
	}
	for _, tt := range []struct {
		x    float64
		z    float64
		sev  string
		name string
	}{
		{25, 13.5 / 2.2239, SevUrgent, "6.07"},
		{22, 10.5 / 2.2239, SevWarning, "4.72"},
		{21, 9.5 / 2.2239, SevReminder, "4.27"},
		{18, 6.5 / 2.2239, "", "2.92"},
		{1, -10.5 / 2.2239, SevWarning, "-4.72"},
	} {
		z := RobustZ(tt.x, base)
		if !near(z, tt.z) {
			t.Errorf("z(%v) = %v, want %v", tt.x, z, tt.z)
		}
		if got := SeverityOfZ(z); got != tt.sev {
			t.Errorf("severity of z %s = %q, want %q", tt.name, got, tt.sev)
		}
	}
	if base[4] != 100 {
		t.Error("Median sorted its input")
	}
}

func TestScaleFloor(t *testing.T) {
	// A perfectly steady baseline has MAD 0: the floor is 10 % of the
	// median, so 130 against 100 is exactly z 3 and 129 is not.
	steady := []float64{100, 100, 100, 100}
	if z := RobustZ(130, steady); !near(z, 3) || SeverityOfZ(z) != SevReminder {
		t.Errorf("z(130) = %v, want 3 (reminder)", z)
	}
	if z := RobustZ(129, steady); SeverityOfZ(z) != "" {
		t.Errorf("z(129) = %v fires", z)
	}
	// An all-zero baseline: the floor is 1 unit.
	if z := RobustZ(3, []float64{0, 0, 0, 0}); !near(z, 3) {
		t.Errorf("z over zeros = %v, want 3", z)
	}
	// The MAD floor only applies below it: 1.4826 × 20 = 29.652 > 10 % of 100.
	if s := Scale(100, 20); !near(s, 29.652) {
		t.Errorf("scale = %v", s)
	}
}

func TestScoreAndPersistence(t *testing.T) {
	base := []float64{10, 10, 10, 10}
	if h := Score(20, base[:3], MinWeeks, 0); !h.Skip {
		t.Error("three baseline points scored; four are needed")
	}
	// Value and median both under min_volume: skipped; one above: scored.
	if h := Score(5, []float64{4, 4, 4, 4}, MinWeeks, 10); !h.Skip {
		t.Error("a low-volume hour was scored")
	}
	if h := Score(40, []float64{4, 4, 4, 4}, MinWeeks, 10); h.Skip || !near(h.Z, 36) {
		t.Errorf("score = %+v, want z 36 (floor 1)", h)
	}
	hs := func(zs ...float64) []HourScore {
		out := make([]HourScore, len(zs))
		for i, z := range zs {
			out[i] = HourScore{Z: z, Skip: math.IsNaN(z)}
		}
		return out
	}
	for _, tt := range []struct {
		name string
		run  []HourScore
		want string
	}{
		{"two high hours: latest's severity", hs(6.5, 4.6), SevWarning},
		{"two low hours", hs(-3.1, -7), SevUrgent},
		{"one spike then normal", hs(8, 2.9), ""},
		{"normal then spike", hs(2.9, 8), ""},
		{"opposite sides", hs(3.5, -4.6), ""},
		{"a skipped hour breaks the run", hs(math.NaN(), 5), ""},
		{"persistence 1", hs(3), SevReminder},
		{"empty", nil, ""},
	} {
		if got := Persistent(tt.run); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestStep(t *testing.T) {
	t0 := time.Date(2026, 11, 11, 2, 0, 0, 0, time.UTC)
	n := 0
	mk := func() *Alert {
		n++
		return &Alert{ID: "alt_" + string(rune('0'+n)), RuleID: "alr_1", Fingerprint: "alr_1|gmv"}
	}
	f := func(sev string, v int64) *Finding {
		return &Finding{Subject: "gmv", Severity: sev, Value: v, Message: "m"}
	}
	cool := 30 * time.Minute

	ch := Step(nil, f(SevReminder, 10), t0, cool, mk)
	if !ch.Create || ch.Event != EventOpened || ch.Alert.Status != StatusOpen || ch.Alert.Notified != SevReminder || !ch.Alert.FirstSeen.Equal(t0) {
		t.Fatalf("first sight = %+v", ch)
	}
	a := ch.Alert
	if ch := Step(nil, nil, t0, cool, mk); ch.Alert != nil {
		t.Fatal("nothing seen, nothing written")
	}

	// Nothing new a minute later: no write; five minutes later last_seen is refreshed.
	if ch := Step(a, f(SevReminder, 10), t0.Add(time.Minute), cool, mk); ch.Alert != nil {
		t.Fatalf("unchanged alert rewritten: %+v", ch)
	}
	if ch := Step(a, f(SevReminder, 10), t0.Add(Touch), cool, mk); ch.Alert == nil || ch.Event != "" || !ch.Alert.LastSeen.Equal(t0.Add(Touch)) {
		t.Fatalf("touch: %+v", ch)
	}
	// Same severity, new value: updated in place, not notified.
	ch = Step(a, f(SevReminder, 11), t0.Add(time.Minute), cool, mk)
	if ch.Create || ch.Event != "" || ch.Alert.ID != a.ID || ch.Alert.Value != 11 || !ch.Alert.LastSeen.Equal(t0.Add(time.Minute)) {
		t.Fatalf("same severity = %+v", ch)
	}
	// Escalation notifies.
	a.Status = StatusAcknowledged
	ch = Step(a, f(SevWarning, 20), t0.Add(2*time.Minute), cool, mk)
	if ch.Event != EventEscalated || ch.Alert.Severity != SevWarning || ch.Alert.Notified != SevWarning || ch.Alert.Status != StatusAcknowledged ||
		ch.Was != SevReminder {
		t.Fatalf("escalation = %+v", ch)
	}
	a = ch.Alert
	// Down to reminder and back to warning: warning was notified already.
	ch = Step(a, f(SevReminder, 12), t0.Add(3*time.Minute), cool, mk)
	if ch.Event != "" || ch.Alert.Severity != SevReminder || ch.Alert.Notified != SevWarning {
		t.Fatalf("de-escalation = %+v", ch)
	}
	a = ch.Alert
	ch = Step(a, f(SevWarning, 20), t0.Add(4*time.Minute), cool, mk)
	if ch.Event != "" {
		t.Fatalf("warning again notified: %+v", ch)
	}
	// Cleared: resolved and notified.
	tr := t0.Add(5 * time.Minute)
	ch = Step(a, nil, tr, cool, mk)
	if ch.Event != EventResolved || ch.Alert.Status != StatusResolved || ch.Alert.ResolvedAt == nil || !ch.Alert.ResolvedAt.Equal(tr) || ch.Create {
		t.Fatalf("resolution = %+v", ch)
	}
	resolved := ch.Alert
	// Within the cooldown it does not re-fire; at its end it does, as a new alert.
	if ch := Step(resolved, f(SevUrgent, 99), tr.Add(cool-time.Second), cool, mk); ch.Alert != nil {
		t.Fatalf("re-fired in the cooldown: %+v", ch)
	}
	ch = Step(resolved, f(SevUrgent, 99), tr.Add(cool), cool, mk)
	if !ch.Create || ch.Event != EventOpened || ch.Alert.ID == resolved.ID {
		t.Fatalf("after the cooldown = %+v", ch)
	}
	if ch := Step(resolved, nil, tr.Add(time.Hour), cool, mk); ch.Alert != nil {
		t.Fatal("a resolved alert was touched")
	}
}

func TestBackoffSchedule(t *testing.T) {
	want := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute, 32 * time.Minute,
		time.Hour, time.Hour, time.Hour, time.Hour}
	for i, w := range want {
		if got := Backoff(i + 1); got != w {
			t.Errorf("backoff after attempt %d = %v, want %v", i+1, got, w)
		}
	}
	if got := Jittered(time.Minute, 0); got != 54*time.Second {
		t.Errorf("jitter low = %v", got)
	}
	if got := Jittered(time.Minute, 0.5); got != time.Minute {
		t.Errorf("jitter mid = %v", got)
	}
	if got := Jittered(time.Minute, 0.999999); got <= 65*time.Second || got >= 66*time.Second {
		t.Errorf("jitter high = %v", got)
	}
}

func TestSignAndVerify(t *testing.T) {
	body := []byte(`{"event":"alert.opened"}`)
	at := time.Unix(1794362400, 0)
	// Computed independently: python3 hmac.new(secret, b"1794362400."+body, sha256).
	const want = "t=1794362400,v1=0602b7454440beb60f5f048c304f5f4bcdf74ed1c48e5bed155fa04974c03624"
	if got := Sign("whsec_test_secret_0001", at, body); got != want {
		t.Fatalf("signature %s, want %s", got, want)
	}
	if err := Verify("whsec_test_secret_0001", want, body, at.Add(time.Minute), 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"other secret": Verify("whsec_other_secret_01", want, body, at, 5*time.Minute),
		"other body":   Verify("whsec_test_secret_0001", want, []byte(`{"event":"alert.resolved"}`), at, 5*time.Minute),
		"too old":      Verify("whsec_test_secret_0001", want, body, at.Add(6*time.Minute), 5*time.Minute),
		"no v1":        Verify("whsec_test_secret_0001", "t=1794362400", body, at, 5*time.Minute),
	} {
		if err == nil {
			t.Errorf("%s verified", name)
		}
	}
}

func TestSmallRules(t *testing.T) {
	if !atLeast(8000, 10000, 8000) || atLeast(7999, 10000, 8000) {
		t.Error("80 % boundary")
	}
	if !atLeast(1e15, 1e15, 10000) || atLeast(1e15-1, 1e15, 10000) {
		t.Error("100 % of a large budget")
	}
	if PacingSeverity(2999, 6000) != SevUrgent || PacingSeverity(3000, 6000) != SevWarning {
		t.Error("pacing severity: urgent below half the alert line")
	}
	sh, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Date(2026, 11, 11, 2, 30, 0, 0, time.UTC) // 10:30 in Shanghai
	if got := LastCompleteHour(now, sh); !got.Equal(time.Date(2026, 11, 11, 9, 0, 0, 0, sh)) || HourBucket(got) != 2026111109 {
		t.Errorf("last complete hour = %v", got)
	}
	if got := LastCompleteDay(now, sh); !got.Equal(time.Date(2026, 11, 10, 0, 0, 0, 0, sh)) {
		t.Errorf("last complete day = %v", got)
	}
	for _, op := range []struct {
		op   string
		v, l int64
		want bool
	}{{"<", 1, 2, true}, {"<", 2, 2, false}, {"<=", 2, 2, true}, {">", 2, 2, false}, {">=", 2, 2, true}, {">", 3, 2, true}} {
		if Compare(op.op, op.v, op.l) != op.want {
			t.Errorf("%d %s %d", op.v, op.op, op.l)
		}
	}
}

func TestValidate(t *testing.T) {
	v := int64(100)
	for _, tt := range []struct {
		in    RuleInput
		field string
	}{
		{RuleInput{Kind: KindStock}, "name"},
		{RuleInput{Name: "x", Kind: "bogus"}, "kind"},
		{RuleInput{Name: "x", Kind: KindPacing}, "campaign_id"},
		{RuleInput{Name: "x", Kind: KindPacing, CampaignID: "cmp_1", KPIs: []string{"gmv", "pv"}}, "kpis[1]"},
		{RuleInput{Name: "x", Kind: KindThreshold, KPI: "gmv", Window: "week", Op: "<", Value: &v}, "window"},
		{RuleInput{Name: "x", Kind: KindThreshold, KPI: "uv", Window: "hour", Op: "<", Value: &v}, "window"},
		{RuleInput{Name: "x", Kind: KindThreshold, KPI: "gmv", Window: "day", Op: "=", Value: &v}, "op"},
		{RuleInput{Name: "x", Kind: KindThreshold, KPI: "gmv", Window: "day", Op: "<"}, "value"},
		{RuleInput{Name: "x", Kind: KindAnomaly, KPI: "uv"}, "kpi"},
		{RuleInput{Name: "x", Kind: KindAnomaly, KPI: "pv", Weeks: 3}, "weeks"},
		{RuleInput{Name: "x", Kind: KindAnomaly, KPI: "pv", Persistence: -1}, "persistence"},
		{RuleInput{Name: "x", Kind: KindStock, KPI: "pv"}, "kpi"},
		{RuleInput{Name: "x", Kind: KindPromotionBudget, ThresholdBP: 10001}, "threshold_bp"},
	} {
		err := tt.in.Validate()
		ce, ok := commerce.AsError(err)
		if !ok || ce.Kind != commerce.KindInvalid || ce.Field != tt.field {
			t.Errorf("%+v: err %v, want invalid %s", tt.in, err, tt.field)
		}
	}
	in := RuleInput{Name: " 流量异常 ", Kind: KindAnomaly, KPI: "pv"}
	if err := in.Validate(); err != nil {
		t.Fatal(err)
	}
	if in.Weeks != 8 || in.Persistence != 2 || !*in.Enabled || in.Name != "流量异常" {
		t.Errorf("defaults = %+v", in)
	}
	for _, u := range []string{"ftp://x.example/", "https://user:pw@x.example/", "/relative", "https:///nohost"} {
		if err := CheckURL(u); err == nil || !strings.Contains(err.Error(), "url") {
			t.Errorf("url %q accepted (%v)", u, err)
		}
	}
	if err := CheckURL("https://hooks.example.com/carnival?x=1"); err != nil {
		t.Error(err)
	}
}
