package httpapi_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/httpapi"
	"github.com/carnivalhq/carnival/internal/peak"
)

// newGroupEnv is newEnv with group buys served.
func newGroupEnv(t *testing.T) *env { return newEnv(t) }

// groupCounts is counts() with the group-buy tables.
func (e *env) groupCounts() string {
	out := e.counts()
	for _, table := range []string{"group_buy_campaigns", "group_buy_groups", "group_buy_members"} {
		var n int
		if err := e.store.Reader().QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
			e.t.Fatal(err)
		}
		out += " " + table + "=" + itoa(n)
	}
	return out
}

// liveCampaign creates a campaign of e.sku (list ¥258) at ¥199, size 3.
func (e *env) liveCampaign(t *testing.T) *peak.GroupCampaign {
	t.Helper()
	now := time.Now().UTC()
	r := e.do(commerce.RoleOperator, "POST", "/api/v1/group-buys", map[string]any{"name": "三人团", "sku_id": e.sku.ID, "group_price": 19900,
		"group_size": 3, "starts_at": now.Add(-time.Minute), "ends_at": now.Add(24 * time.Hour)})
	if r.status != 201 {
		t.Fatalf("create campaign: %d %s", r.status, r.body)
	}
	var c peak.GroupCampaign
	r.json(t, &c)
	return &c
}

func TestGroupBuyBadInputIsRejectedNamingTheFieldAndWritesNothing(t *testing.T) {
	e := newGroupEnv(t)
	c := e.liveCampaign(t)
	sku, cust := e.sku.ID, e.cust.ID
	now := time.Now().UTC()
	starts, ends := now.Format(time.RFC3339), now.Add(24*time.Hour).Format(time.RFC3339)
	campaign := func(extra string) string {
		return `{"name":"团","sku_id":"` + sku + `","group_price":19900,"group_size":3,"starts_at":"` + starts + `","ends_at":"` + ends + `"` + extra + `}`
	}
	// Replace one field of a valid body.
	with := func(field, value string) string {
		b := campaign("")
		i := strings.Index(b, `"`+field+`":`)
		j := i + len(field) + 3
		k := j
		for k < len(b) && b[k] != ',' && b[k] != '}' {
			k++
		}
		return b[:j] + value + b[k:]
	}
	tests := []badInput{
		{"malformed json", "POST", "/api/v1/group-buys", `{"name":`, 400, "malformed_request", ""},
		{"unknown field", "POST", "/api/v1/group-buys", campaign(`,"discount":1`), 422, "unknown_field", ""},
		{"no name", "POST", "/api/v1/group-buys", with("name", `""`), 422, "required", "name"},
		{"no sku", "POST", "/api/v1/group-buys", with("sku_id", `""`), 422, "required", "sku_id"},
		{"unknown sku", "POST", "/api/v1/group-buys", with("sku_id", `"sku_nope"`), 422, "unknown_sku", "sku_id"},
		{"price at list", "POST", "/api/v1/group-buys", with("group_price", "25800"), 422, "not_below_list", "group_price"},
		{"price zero", "POST", "/api/v1/group-buys", with("group_price", "0"), 422, "out_of_range", "group_price"},
		{"price negative", "POST", "/api/v1/group-buys", with("group_price", "-1"), 422, "out_of_range", "group_price"},
		{"price fractional", "POST", "/api/v1/group-buys", with("group_price", "199.5"), 422, "validation_failed", "group_price"},
		{"price overflows", "POST", "/api/v1/group-buys", with("group_price", "99999999999999999999999"), 422, "validation_failed", "group_price"},
		{"size one", "POST", "/api/v1/group-buys", with("group_size", "1"), 422, "out_of_range", "group_size"},
		{"size over a hundred", "POST", "/api/v1/group-buys", with("group_size", "101"), 422, "out_of_range", "group_size"},
		{"size missing", "POST", "/api/v1/group-buys", with("group_size", "0"), 422, "out_of_range", "group_size"},
		{"bad start time", "POST", "/api/v1/group-buys", with("starts_at", `"tomorrow"`), 422, "validation_failed", "starts_at"},
		{"ends before it starts", "POST", "/api/v1/group-buys", with("ends_at", `"`+now.Add(-time.Hour).Format(time.RFC3339)+`"`), 422, "window_order", "ends_at"},
		{"window too short", "POST", "/api/v1/group-buys", campaign(`,"group_window_seconds":10`), 422, "out_of_range", "group_window_seconds"},
		{"window negative", "POST", "/api/v1/group-buys", campaign(`,"group_window_seconds":-60`), 422, "out_of_range", "group_window_seconds"},
		{"limit negative", "POST", "/api/v1/group-buys", campaign(`,"per_customer_limit":-1`), 422, "out_of_range", "per_customer_limit"},
		{"payment timeout too short", "POST", "/api/v1/group-buys", campaign(`,"payment_timeout_seconds":5`), 422, "out_of_range", "payment_timeout_seconds"},
		{"end unknown campaign", "POST", "/api/v1/group-buys/gbc_nope/end", nil, 404, "group_campaign_not_found", ""},
		{"open without customer", "POST", "/api/v1/group-buys/" + c.ID + "/groups", `{}`, 422, "required", "customer_id"},
		{"open unknown customer", "POST", "/api/v1/group-buys/" + c.ID + "/groups", `{"customer_id":"cus_nope"}`, 422, "unknown_customer", "customer_id"},
		{"open overlong channel", "POST", "/api/v1/group-buys/" + c.ID + "/groups", `{"customer_id":"` + cust + `","channel":"` + strings.Repeat("c", 65) + `"}`, 422, "validation_failed", "channel"},
		{"open unknown campaign", "POST", "/api/v1/group-buys/gbc_nope/groups", `{"customer_id":"` + cust + `"}`, 404, "group_campaign_not_found", ""},
		{"open overlong key", "POST", "/api/v1/group-buys/" + c.ID + "/groups", `{"customer_id":"` + cust + `"}`, 422, "validation_failed", "Idempotency-Key"},
		{"join unknown group", "POST", "/api/v1/groups/grp_nope/join", `{"customer_id":"` + cust + `"}`, 404, "group_not_found", ""},
		{"join customer wrong type", "POST", "/api/v1/groups/grp_nope/join", `{"customer_id":7}`, 422, "validation_failed", "customer_id"},
		{"join bad id", "POST", "/api/v1/groups/" + strings.Repeat("g", 80) + "/join", `{"customer_id":"` + cust + `"}`, 422, "validation_failed", "id"},
		{"list groups bad limit", "GET", "/api/v1/group-buys/" + c.ID + "/groups?limit=501", nil, 422, "validation_failed", "limit"},
	}
	e.expectRejected(t, tests, e.groupCounts, map[string][]string{"open overlong key": {"Idempotency-Key", strings.Repeat("k", 300)}})
}

func TestGroupBuyRolesLimitWhatAKeyReaches(t *testing.T) {
	e := newGroupEnv(t)
	c := e.liveCampaign(t)
	body := map[string]any{"name": "团", "sku_id": e.sku.ID, "group_price": 100, "group_size": 2,
		"starts_at": time.Now().UTC(), "ends_at": time.Now().UTC().Add(time.Hour)}
	seat := map[string]any{"customer_id": e.cust.ID}
	tests := []struct {
		role, method, path string
		body               any
		status             int
	}{
		{"", "POST", "/api/v1/group-buys", body, 401},
		{commerce.RoleStorefront, "POST", "/api/v1/group-buys", body, 403},
		{commerce.RoleAnalyst, "POST", "/api/v1/group-buys", body, 403},
		{commerce.RoleStorefront, "GET", "/api/v1/group-buys", nil, 403},
		{commerce.RoleAnalyst, "GET", "/api/v1/group-buys", nil, 200},
		{commerce.RoleStorefront, "GET", "/api/v1/group-buys/" + c.ID, nil, 200},
		{commerce.RoleStorefront, "POST", "/api/v1/group-buys/" + c.ID + "/end", nil, 403},
		{commerce.RoleAnalyst, "POST", "/api/v1/group-buys/" + c.ID + "/groups", seat, 403},
		{"", "POST", "/api/v1/group-buys/" + c.ID + "/groups", seat, 401},
		{commerce.RoleAnalyst, "POST", "/api/v1/groups/grp_x/join", seat, 403},
		{commerce.RoleAnalyst, "GET", "/api/v1/group-buys/" + c.ID + "/groups", nil, 200},
		{commerce.RoleStorefront, "GET", "/api/v1/group-buys/" + c.ID + "/groups", nil, 200},
		{commerce.RoleOperator, "POST", "/api/v1/group-buys", body, 201},
	}
	for _, tt := range tests {
		r := e.do(tt.role, tt.method, tt.path, tt.body)
		if r.status != tt.status {
			t.Errorf("%s %s %s = %d, want %d: %s", tt.role, tt.method, tt.path, r.status, tt.status, r.body)
		}
	}
}

// The storefront flow: open with a key, replay, join, list, the group
// masked for storefront keys, fulfilment refused until the group completes.
func TestGroupBuyOverHTTP(t *testing.T) {
	e := newGroupEnv(t)
	c := e.liveCampaign(t)
	cs, err := e.svc.UpsertCustomers(context.Background(), commerce.Actor{ShopID: e.shop.ID}, []commerce.Customer{{ExternalID: "u2", Name: "赵六"}, {ExternalID: "u3", Name: "钱七"}})
	if err != nil {
		t.Fatal(err)
	}
	var opened, again peak.Seat
	r := e.do(commerce.RoleStorefront, "POST", "/api/v1/group-buys/"+c.ID+"/groups", map[string]any{"customer_id": e.cust.ID}, "Idempotency-Key", "open-1")
	if r.status != 201 {
		t.Fatalf("open: %d %s", r.status, r.body)
	}
	r.json(t, &opened)
	r = e.do(commerce.RoleStorefront, "POST", "/api/v1/group-buys/"+c.ID+"/groups", map[string]any{"customer_id": e.cust.ID}, "Idempotency-Key", "open-1")
	r.json(t, &again)
	if r.status != 200 || again.Order.ID != opened.Order.ID || again.Group.ID != opened.Group.ID {
		t.Fatalf("replay: %d %s", r.status, r.body)
	}
	if opened.Order.Lines[0].Payable != 19900 || opened.Group.Members != 1 || opened.Group.MemberList[0].Name != "李*" || opened.Group.MemberList[0].OrderID != "" {
		t.Fatalf("opened: %s", r.body)
	}
	gid := opened.Group.ID
	r = e.do(commerce.RoleStorefront, "POST", "/api/v1/groups/"+gid+"/join", map[string]any{"customer_id": e.cust.ID})
	if r.status != 409 || !strings.Contains(string(r.body), `"already_member"`) {
		t.Fatalf("join twice: %d %s", r.status, r.body)
	}
	var list httpapi.List[peak.Group]
	r = e.do(commerce.RoleStorefront, "GET", "/api/v1/group-buys/"+c.ID+"/groups", nil)
	r.json(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != gid || list.Items[0].SeatsLeft != 2 {
		t.Fatalf("open groups: %s", r.body)
	}
	var orders []string
	orders = append(orders, opened.Order.ID)
	for _, cu := range cs {
		var s peak.Seat
		r = e.do(commerce.RoleStorefront, "POST", "/api/v1/groups/"+gid+"/join", map[string]any{"customer_id": cu.ID})
		if r.status != 201 {
			t.Fatalf("join: %d %s", r.status, r.body)
		}
		r.json(t, &s)
		orders = append(orders, s.Order.ID)
	}
	r = e.do(commerce.RoleStorefront, "POST", "/api/v1/groups/"+gid+"/join", map[string]any{"customer_id": e.cust.ID})
	if r.status != 409 || !strings.Contains(string(r.body), `"group_full"`) {
		t.Fatalf("join a full group: %d %s", r.status, r.body)
	}
	for i, id := range orders {
		if r = e.do(commerce.RoleStorefront, "POST", "/api/v1/orders/"+id+"/pay", nil); r.status != 200 {
			t.Fatalf("pay: %d %s", r.status, r.body)
		}
		if i == 0 {
			r = e.do(commerce.RoleOperator, "POST", "/api/v1/orders/"+id+"/fulfil", nil)
			if r.status != 409 || !strings.Contains(string(r.body), `"group_incomplete"`) {
				t.Fatalf("fulfil before completion: %d %s", r.status, r.body)
			}
		}
	}
	var g peak.Group
	r = e.do(commerce.RoleStorefront, "GET", "/api/v1/groups/"+gid, nil)
	r.json(t, &g)
	if g.Status != peak.GroupComplete || len(g.MemberList) != 3 || g.MemberList[1].CustomerID != "" || g.MemberList[1].Name != "赵*" {
		t.Fatalf("storefront view: %s", r.body)
	}
	r = e.do(commerce.RoleAdmin, "GET", "/api/v1/groups/"+gid, nil)
	r.json(t, &g)
	if g.MemberList[1].CustomerID != cs[0].ID || g.MemberList[1].OrderID != orders[1] {
		t.Fatalf("admin view: %s", r.body)
	}
	if r = e.do(commerce.RoleOperator, "POST", "/api/v1/orders/"+orders[0]+"/fulfil", nil); r.status != 200 {
		t.Fatalf("fulfil after completion: %d %s", r.status, r.body)
	}
	if r = e.do(commerce.RoleOperator, "POST", "/api/v1/group-buys/"+c.ID+"/end", nil); r.status != 200 {
		t.Fatalf("end: %d %s", r.status, r.body)
	}
	if r = e.do(commerce.RoleOperator, "POST", "/api/v1/group-buys/"+c.ID+"/end", nil); r.status != 409 {
		t.Fatalf("end twice: %d %s", r.status, r.body)
	}
}
