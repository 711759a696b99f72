package httpapi_test

import (
	"strings"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/clock"
	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/peak"
	"github.com/carnivalhq/carnival/internal/storage/storetest"
)

// presaleEnv is env with a settable clock and presales served.
type presaleEnv struct {
	*env
	clk *clock.Settable
	t0  time.Time
}

func newPresaleEnv(t *testing.T) *presaleEnv {
	t.Helper()
	clk := storetest.NewClock()
	return &presaleEnv{env: newEnvAt(t, clk, 129900), clk: clk, t0: clk.Now()}
}

func (e *presaleEnv) body(over map[string]any) map[string]any {
	b := map[string]any{"name": "双11 预售", "deposit_starts_at": e.t0, "deposit_ends_at": e.t0.Add(7 * 24 * time.Hour),
		"balance_starts_at": e.t0.Add(7 * 24 * time.Hour), "balance_ends_at": e.t0.Add(9 * 24 * time.Hour), "per_customer_limit": 2,
		"items": []map[string]any{{"sku_id": e.sku.ID, "deposit": 10000, "value": 20000}}}
	for k, v := range over {
		b[k] = v
	}
	return b
}

func (e *presaleEnv) create(t *testing.T, over map[string]any) peak.Presale {
	t.Helper()
	var p peak.Presale
	r := e.do(commerce.RoleOperator, "POST", "/api/v1/presales", e.body(over))
	if r.status != 201 {
		t.Fatalf("create presale: %d %s", r.status, r.body)
	}
	r.json(t, &p)
	return p
}

func (e *presaleEnv) presaleCounts() string {
	out := e.counts()
	for _, table := range []string{"presales", "presale_items", "presale_deposits"} {
		var n int
		if err := e.store.Reader().QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
			e.t.Fatal(err)
		}
		out += " " + table + "=" + itoa(n)
	}
	return out
}

// A presale over HTTP: deposit (replayed with its key), payment, the
// balance with the deposit's value credited, and both orders showing it.
func TestAPresaleGoesFromDepositToBalanceOverHTTP(t *testing.T) {
	e := newPresaleEnv(t)
	p := e.create(t, nil)
	if !strings.Contains(p.Terms, "定金不退") || !strings.Contains(p.Terms, "forfeited") {
		t.Fatalf("default terms do not state the forfeit: %q", p.Terms)
	}
	body := map[string]any{"sku_id": e.sku.ID, "customer_id": e.cust.ID}
	r := e.do(commerce.RoleStorefront, "POST", "/api/v1/presales/"+p.ID+"/deposits", body, "Idempotency-Key", "dep-1")
	if r.status != 201 {
		t.Fatalf("deposit: %d %s", r.status, r.body)
	}
	var dep commerce.Order
	r.json(t, &dep)
	if dep.Payable != 10000 || dep.Presale == nil || dep.Presale.PresaleID != p.ID {
		t.Fatalf("deposit order: %s", r.body)
	}
	r = e.do(commerce.RoleStorefront, "POST", "/api/v1/presales/"+p.ID+"/deposits", body, "Idempotency-Key", "dep-1")
	var again commerce.Order
	r.json(t, &again)
	if r.status != 200 || again.ID != dep.ID {
		t.Fatalf("replayed deposit: %d %s", r.status, r.body)
	}
	if r := e.do(commerce.RoleStorefront, "POST", "/api/v1/orders/"+dep.ID+"/pay", nil); r.status != 200 {
		t.Fatalf("pay deposit: %d %s", r.status, r.body)
	}
	e.clk.Set(e.t0.Add(7 * 24 * time.Hour))
	r = e.do(commerce.RoleStorefront, "POST", "/api/v1/presale-deposits/"+dep.ID+"/balance", map[string]any{"customer_id": e.cust.ID}, "Idempotency-Key", "bal-1")
	if r.status != 201 {
		t.Fatalf("balance: %d %s", r.status, r.body)
	}
	var bal commerce.Order
	r.json(t, &bal)
	if bal.Payable != 109900+commerce.DefaultShippingFee || bal.DepositCredit != 20000 || bal.Presale.Role != "balance" || bal.Presale.DepositOrderID != dep.ID {
		t.Fatalf("balance order: %s", r.body)
	}
	r = e.do(commerce.RoleStorefront, "GET", "/api/v1/orders/"+dep.ID, nil)
	var got struct {
		Status  string `json:"status"`
		Presale struct {
			PresaleID       string    `json:"presale_id"`
			Deposit         int64     `json:"deposit"`
			Value           int64     `json:"value"`
			BalanceEndsAt   time.Time `json:"balance_ends_at"`
			BalanceOrderID  string    `json:"balance_order_id"`
			BalanceStatus   string    `json:"balance_status"`
			State           string    `json:"state"`
			Terms           string    `json:"terms"`
			ForfeitedAtSeen *string   `json:"forfeited_at"`
		} `json:"presale"`
	}
	r.json(t, &got)
	if got.Status != commerce.OrderDepositPaid || got.Presale.PresaleID != p.ID || got.Presale.Deposit != 10000 || got.Presale.Value != 20000 ||
		got.Presale.BalanceOrderID != bal.ID || got.Presale.BalanceStatus != "pending_payment" || got.Presale.State != "balance_placed" ||
		got.Presale.Terms != p.Terms || !got.Presale.BalanceEndsAt.Equal(p.BalanceEndsAt) {
		t.Fatalf("GET deposit order: %s", r.body)
	}
}

func TestBadPresaleInputIsRejectedNamingTheFieldAndWritesNothing(t *testing.T) {
	e := newPresaleEnv(t)
	p := e.create(t, nil)
	strict := e.create(t, map[string]any{"deposit_starts_at": e.t0.Add(-time.Hour)})
	// A paid deposit and an ordinary order exist before the table runs.
	var dep commerce.Order
	r := e.do(commerce.RoleStorefront, "POST", "/api/v1/presales/"+strict.ID+"/deposits", map[string]any{"sku_id": e.sku.ID, "customer_id": e.cust.ID})
	r.json(t, &dep)
	if r := e.do(commerce.RoleStorefront, "POST", "/api/v1/orders/"+dep.ID+"/pay", nil); r.status != 200 {
		t.Fatalf("pay deposit: %d %s", r.status, r.body)
	}
	var plain commerce.Order
	e.do(commerce.RoleStorefront, "POST", "/api/v1/orders", map[string]any{"lines": []map[string]any{{"sku_id": e.sku.ID, "quantity": 1}}}).json(t, &plain)

	item := func(deposit, value int64) map[string]any {
		return map[string]any{"items": []map[string]any{{"sku_id": e.sku.ID, "deposit": deposit, "value": value}}}
	}
	day := 24 * time.Hour
	sku, cust := e.sku.ID, e.cust.ID
	deposits, balance := "/api/v1/presales/"+p.ID+"/deposits", "/api/v1/presale-deposits/"+dep.ID+"/balance"
	tests := []badInput{
		{"no name", "POST", "/api/v1/presales", e.body(map[string]any{"name": ""}), 422, "required", "name"},
		{"deposit zero", "POST", "/api/v1/presales", e.body(item(0, 20000)), 422, "validation_failed", "items[0].deposit"},
		{"value below deposit", "POST", "/api/v1/presales", e.body(item(10000, 9999)), 422, "below_deposit", "items[0].value"},
		{"value at list price", "POST", "/api/v1/presales", e.body(item(10000, 129900)), 422, "not_below_list", "items[0].value"},
		{"value as a string", "POST", "/api/v1/presales", e.body(map[string]any{"items": []map[string]any{{"sku_id": sku, "deposit": 1, "value": "2"}}}), 422, "validation_failed", "items[0].value"},
		{"unknown sku", "POST", "/api/v1/presales", e.body(map[string]any{"items": []map[string]any{{"sku_id": "sku_nope", "deposit": 1, "value": 2}}}), 422, "unknown_sku", "items[0].sku_id"},
		{"sku twice", "POST", "/api/v1/presales", e.body(map[string]any{"items": []map[string]any{{"sku_id": sku, "deposit": 1, "value": 2}, {"sku_id": sku, "deposit": 1, "value": 2}}}), 422, "duplicate", "items[1].sku_id"},
		{"no items", "POST", "/api/v1/presales", e.body(map[string]any{"items": []any{}}), 422, "validation_failed", "items"},
		{"deposit window backwards", "POST", "/api/v1/presales", e.body(map[string]any{"deposit_ends_at": e.t0.Add(-time.Hour)}), 422, "window_order", "deposit_ends_at"},
		{"balance before deposits end", "POST", "/api/v1/presales", e.body(map[string]any{"balance_starts_at": e.t0.Add(6 * day)}), 422, "window_order", "balance_starts_at"},
		{"balance window empty", "POST", "/api/v1/presales", e.body(map[string]any{"balance_ends_at": e.t0.Add(7 * day)}), 422, "window_order", "balance_ends_at"},
		{"deposit window over", "POST", "/api/v1/presales", e.body(map[string]any{"deposit_starts_at": e.t0.Add(-2 * day), "deposit_ends_at": e.t0.Add(-day)}), 422, "in_past", "deposit_ends_at"},
		{"negative cap", "POST", "/api/v1/presales", e.body(map[string]any{"quantity_cap": -1}), 422, "validation_failed", "quantity_cap"},
		{"blank terms", "POST", "/api/v1/presales", e.body(map[string]any{"terms": "   "}), 422, "required", "terms"},
		{"overlong terms", "POST", "/api/v1/presales", e.body(map[string]any{"terms": strings.Repeat("定", 4001)}), 422, "validation_failed", "terms"},
		{"unknown field", "POST", "/api/v1/presales", e.body(map[string]any{"discount": 1}), 422, "unknown_field", ""},
		{"malformed json", "POST", "/api/v1/presales", `{"name": `, 400, "malformed_request", ""},
		{"end unknown presale", "POST", "/api/v1/presales/psl_nope/end", nil, 404, "presale_not_found", ""},
		{"deposit unknown presale", "POST", "/api/v1/presales/psl_nope/deposits", map[string]any{"sku_id": sku, "customer_id": cust}, 404, "presale_not_found", ""},
		{"deposit sku not in presale", "POST", deposits, map[string]any{"sku_id": "sku_other", "customer_id": cust}, 422, "not_in_presale", "sku_id"},
		{"deposit over the limit", "POST", deposits, map[string]any{"sku_id": sku, "customer_id": cust, "quantity": 3}, 422, "out_of_range", "quantity"},
		{"deposit negative quantity", "POST", deposits, map[string]any{"sku_id": sku, "customer_id": cust, "quantity": -1}, 422, "validation_failed", "quantity"},
		{"deposit without customer", "POST", deposits, map[string]any{"sku_id": sku, "customer_id": ""}, 422, "validation_failed", "customer_id"},
		{"deposit unknown customer", "POST", deposits, map[string]any{"sku_id": sku, "customer_id": "cus_nope"}, 422, "unknown_customer", "customer_id"},
		{"deposit overlong key", "POST", deposits, map[string]any{"sku_id": sku, "customer_id": cust}, 422, "validation_failed", "Idempotency-Key"},
		{"balance unknown deposit", "POST", "/api/v1/presale-deposits/ord_nope/balance", map[string]any{"customer_id": cust}, 404, "deposit_not_found", ""},
		{"balance of an ordinary order", "POST", "/api/v1/presale-deposits/" + plain.ID + "/balance", map[string]any{"customer_id": cust}, 404, "deposit_not_found", ""},
		{"balance by another customer", "POST", balance, map[string]any{"customer_id": "cus_other"}, 422, "not_deposit_customer", "customer_id"},
		{"balance with a coupon not allowed", "POST", balance, map[string]any{"customer_id": cust, "coupon_codes": []string{"X"}}, 422, "coupons_not_allowed", "coupon_codes"},
		{"balance lists the presale sku", "POST", balance, map[string]any{"customer_id": cust, "lines": []map[string]any{{"sku_id": sku, "quantity": 1}}}, 422, "presale_sku", "lines[0].sku_id"},
		{"balance before its window", "POST", balance, map[string]any{"customer_id": cust}, 409, "balance_window_not_open", ""},
		{"cancel unknown deposit", "POST", "/api/v1/presale-deposits/ord_nope/cancel", nil, 404, "order_not_found", ""},
		{"cancel an ordinary order as a deposit", "POST", "/api/v1/presale-deposits/" + plain.ID + "/cancel", nil, 404, "deposit_not_found", ""},
	}
	e.expectRejected(t, tests, e.presaleCounts, map[string][]string{"deposit overlong key": {"Idempotency-Key", strings.Repeat("k", 300)}})
}

func TestPresaleRolesLimitWhatAKeyReaches(t *testing.T) {
	e := newPresaleEnv(t)
	p := e.create(t, nil)
	deposit := map[string]any{"sku_id": e.sku.ID, "customer_id": e.cust.ID}
	tests := []struct {
		role, method, path string
		body               any
		status             int
	}{
		{"", "GET", "/api/v1/presales", nil, 401},
		{commerce.RoleStorefront, "POST", "/api/v1/presales", e.body(nil), 403},
		{commerce.RoleAnalyst, "POST", "/api/v1/presales", e.body(nil), 403},
		{commerce.RoleStorefront, "GET", "/api/v1/presales", nil, 403},
		{commerce.RoleStorefront, "POST", "/api/v1/presales/" + p.ID + "/end", nil, 403},
		{commerce.RoleAnalyst, "POST", "/api/v1/presales/" + p.ID + "/deposits", deposit, 403},
		{commerce.RoleAnalyst, "GET", "/api/v1/presales", nil, 200},
		{commerce.RoleStorefront, "GET", "/api/v1/presales/" + p.ID, nil, 200},
		{commerce.RoleStorefront, "POST", "/api/v1/presales/" + p.ID + "/deposits", deposit, 201},
		{commerce.RoleOperator, "POST", "/api/v1/presales/" + p.ID + "/end", nil, 200},
		{commerce.RoleStorefront, "POST", "/api/v1/presales/" + p.ID + "/deposits", deposit, 409},
	}
	for _, tt := range tests {
		r := e.do(tt.role, tt.method, tt.path, tt.body)
		if r.status != tt.status {
			t.Errorf("%s %s %s: status %d, want %d (%s)", tt.role, tt.method, tt.path, r.status, tt.status, r.body)
		}
	}
}
