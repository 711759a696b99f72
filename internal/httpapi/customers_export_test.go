package httpapi_test

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/httpapi"
	"github.com/carnivalhq/carnival/internal/storage/storetest"
)

// TestRecallExportListsLapsedCustomersWithContactAndConsent: the recall
// CSV keeps the customers the filters say, with full contact fields, tags,
// tier, the last paid order's time in RFC 3339 and consent spelled out;
// each export is audited with its filter; analysts get 403.
func TestRecallExportListsLapsedCustomersWithContactAndConsent(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			clk := storetest.NewClock()
			e := newEnvOn(t, engine, clk, 25800)
			ctx := t.Context()
			admin := commerce.Actor{ShopID: e.shop.ID, KeyID: "key_seed", Role: commerce.RoleAdmin}
			cs, err := e.svc.UpsertCustomers(ctx, admin, []commerce.Customer{
				{ExternalID: "lapsed", Name: "王小明", Phone: "+8613800138000", Email: "wang@example.com", Tier: "gold", Tags: []string{"vip", "a|b"}, MarketingConsent: true},
				{ExternalID: "recent", Name: "赵六", Phone: "13700000000", Tier: "gold", Tags: []string{"vip"}, MarketingConsent: true},
				{ExternalID: "never", Name: "=SUM(A1)", Tier: "gold", Tags: []string{"vip"}},
				{ExternalID: "quoted", Name: "引号", Tier: "gold", Tags: []string{`x"vip`}, MarketingConsent: true},
				{ExternalID: "gone", Name: "钱七", Tier: "gold", Tags: []string{"vip"}, MarketingConsent: true},
			})
			if err != nil {
				t.Fatal(err)
			}
			pay := func(cust string) time.Time {
				o, _, err := e.svc.PlaceOrder(ctx, e.shop.ID, &commerce.PlaceRequest{CustomerID: cust, Lines: []commerce.CartLine{{SKUID: e.sku.ID, Quantity: 1}}}, "")
				if err != nil {
					t.Fatal(err)
				}
				if _, err := e.svc.PayOrder(ctx, e.shop.ID, o.ID); err != nil {
					t.Fatal(err)
				}
				return clk.Now()
			}
			lapsedPaid := pay(cs[0].ID)
			pay(cs[4].ID)
			clk.Advance(100 * 24 * time.Hour)
			pay(cs[1].ID)
			if err := e.svc.EraseCustomer(ctx, admin, cs[4].ID); err != nil {
				t.Fatal(err)
			}

			get := func(role string, q url.Values) (resp, [][]string) {
				t.Helper()
				r := e.do(role, http.MethodGet, "/api/v1/customers/export.csv?"+q.Encode(), nil)
				if r.status != http.StatusOK {
					return r, nil
				}
				if !strings.HasPrefix(string(r.body), "\ufeff") || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") {
					t.Fatalf("not a UTF-8 CSV with a BOM: %q %q", r.header.Get("Content-Type"), r.body)
				}
				rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(r.body), "\ufeff"))).ReadAll()
				if err != nil {
					t.Fatal(err)
				}
				if strings.Join(rows[0], ",") != strings.Join(httpapi.RecallCSVHeader, ",") {
					t.Fatalf("header = %v", rows[0])
				}
				return r, rows[1:]
			}
			col := func(name string) int {
				for i, h := range httpapi.RecallCSVHeader {
					if h == name {
						return i
					}
				}
				t.Fatalf("no column %s", name)
				return -1
			}
			// Dormant 30 days, with a vip tag, consenting: only the lapsed one.
			_, rows := get("operator", url.Values{"dormant_days": {"30"}, "tag": {"vip"}, "marketing_consent": {"true"}, "tier": {"gold"}})
			if len(rows) != 1 {
				t.Fatalf("recall rows = %v", rows)
			}
			r := rows[0]
			if r[col("external_id")] != "lapsed" || r[col("name")] != "王小明" || r[col("phone")] != "'+8613800138000" || r[col("email")] != "wang@example.com" ||
				r[col("tier")] != "gold" || r[col("tags")] != "vip|a|b" || r[col("marketing_consent")] != "true" {
				t.Fatalf("row = %v", r)
			}
			last, err := time.Parse(time.RFC3339, r[col("last_paid_at")])
			if err != nil || !last.Equal(lapsedPaid.Truncate(time.Second)) || !strings.HasSuffix(r[col("last_paid_at")], "+08:00") {
				t.Fatalf("last_paid_at = %q, want %v in the shop's zone", r[col("last_paid_at")], lapsedPaid)
			}
			// Never paid, by time cut-off: the never-paying customers too; a
			// formula-looking name is defused; consent false is spelled out.
			_, rows = get("admin", url.Values{"no_paid_since": {clk.Now().Add(-time.Hour).Format(time.RFC3339)}, "ever_paid": {"false"}})
			got := map[string][]string{}
			for _, r := range rows {
				got[r[col("external_id")]] = r
			}
			if len(rows) != 3 || got["u1"] == nil || got["never"][col("name")] != "'=SUM(A1)" || got["never"][col("marketing_consent")] != "false" ||
				got["never"][col("last_paid_at")] != "" || got["quoted"] == nil {
				t.Fatalf("never-paid rows = %v", rows)
			}
			// No filter: every customer but the erased one, across pages
			// (two customers a page: the erased one leaves a page short).
			restore := httpapi.SetRecallPage(2)
			_, rows = get("admin", nil)
			restore()
			if len(rows) != 5 { // 4 + the env's own customer
				t.Fatalf("unfiltered rows = %d: %v", len(rows), rows)
			}
			if r, _ := get("analyst", nil); r.status != http.StatusForbidden {
				t.Fatalf("an analyst exported contact data: %d", r.status)
			}
			if r, _ := get("storefront", nil); r.status != http.StatusForbidden {
				t.Fatalf("a storefront key exported contact data: %d", r.status)
			}
			if r, _ := get("admin", url.Values{"dormant_days": {"-1"}}); r.status != http.StatusUnprocessableEntity {
				t.Fatalf("dormant_days=-1: %d", r.status)
			}
			// Every export is audited with who and the filter.
			var audit struct{ Items []commerce.AuditEntry }
			e.do("admin", http.MethodGet, "/api/v1/audit?action=export&entity=customers", nil).json(t, &audit)
			if len(audit.Items) != 3 {
				t.Fatalf("export audit = %+v", audit.Items)
			}
			var f commerce.RecallFilter
			oldest := audit.Items[len(audit.Items)-1]
			if err := json.Unmarshal(oldest.After, &f); err != nil || f.Tag != "vip" || f.NoPaidSince == nil || f.Consent == nil || !*f.Consent || !strings.HasPrefix(oldest.Actor, "key:") {
				t.Fatalf("first export's audit = %+v (%s)", oldest, oldest.After)
			}
		})
	}
}
