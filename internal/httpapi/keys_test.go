package httpapi_test

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
)

// publishableAllowed are the only operations a publishable key may call.
// Anything added to the API is refused to it until it is listed here (and
// in rolesPublishable's users in the API).
var publishableAllowed = map[string]bool{
	"ingest-events": true,
	"quote":         true,
}

// publicOps take no API key at all (they verify something else); a
// publishable key gains nothing there.
var publicOps = map[string]bool{
	"payment-callback": true, // signed with the shop's payment-callback secret
}

// openapiOps lists every operation of the served OpenAPI document, and
// fails the test when one that is not in publicOps takes no API key.
func openapiOps(t *testing.T, e *env) [][3]string {
	t.Helper()
	r := e.do("", "GET", "/api/v1/openapi.json", nil)
	if r.status != 200 {
		t.Fatalf("openapi: %d", r.status)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string                `json:"operationId"`
			Security    []map[string][]string `json:"security"`
		}
	}
	r.json(t, &doc)
	var out [][3]string
	for p, ops := range doc.Paths {
		for m, o := range ops {
			if o.OperationID == "" {
				continue
			}
			if len(o.Security) == 0 != publicOps[o.OperationID] {
				t.Errorf("%s: security %v; only %v take no API key", o.OperationID, o.Security, publicOps)
			}
			out = append(out, [3]string{o.OperationID, strings.ToUpper(m), p})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// TestPublishableKeyIsRefusedEverythingButItsOperations calls every
// operation of the OpenAPI document with a publishable key: all but the
// allowed ones answer 403 forbidden_role and write nothing, so a new
// operation cannot be forgotten.
func TestPublishableKeyIsRefusedEverythingButItsOperations(t *testing.T) {
	e := newEnv(t)
	ops := openapiOps(t, e)
	if len(ops) < 50 {
		t.Fatalf("only %d operations in the OpenAPI document", len(ops))
	}
	before := e.counts()
	seen := map[string]bool{}
	for _, o := range ops {
		id, method, path := o[0], o[1], o[2]
		seen[id] = true
		if publishableAllowed[id] || publicOps[id] {
			continue
		}
		for strings.Contains(path, "{") {
			i, j := strings.Index(path, "{"), strings.Index(path, "}")
			path = path[:i] + "x" + path[j+1:]
		}
		var body any
		if method != "GET" && method != "DELETE" {
			body = `{}`
		}
		r := e.do(commerce.RolePublishable, method, path, body, "Idempotency-Key", "k-"+id)
		var p struct{ Code string }
		json.Unmarshal(r.body, &p)
		if r.status != http.StatusForbidden || p.Code != "forbidden_role" {
			t.Errorf("%s %s %s with a publishable key: %d %s; want 403 forbidden_role", id, method, path, r.status, r.body)
		}
	}
	for id := range publishableAllowed {
		if !seen[id] {
			t.Errorf("allowed operation %s is not in the OpenAPI document", id)
		}
	}
	if after := e.counts(); after != before {
		t.Fatalf("refused calls wrote:\n%s\n%s", before, after)
	}
	// The payment confirmation, named: only server-side keys.
	o := e.placeOrder(commerce.RoleStorefront)
	if r := e.do(commerce.RolePublishable, "POST", "/api/v1/orders/"+o+"/pay", nil); r.status != 403 {
		t.Fatalf("publishable key paid an order: %d %s", r.status, r.body)
	}
	if r := e.do(commerce.RoleStorefront, "POST", "/api/v1/orders/"+o+"/pay", nil); r.status != 200 {
		t.Fatalf("the storefront secret key cannot pay: %d %s", r.status, r.body)
	}
}

func (e *env) placeOrder(role string) string {
	e.t.Helper()
	r := e.do(role, "POST", "/api/v1/orders", map[string]any{"lines": []any{map[string]any{"sku_id": e.sku.ID, "quantity": 1}}},
		"Idempotency-Key", "place-"+commerce.NewID("t"))
	if r.status != 201 {
		e.t.Fatalf("place: %d %s", r.status, r.body)
	}
	var o struct{ ID string }
	r.json(e.t, &o)
	return o.ID
}

// TestPublishableKeySendsEventsAndQuotesAnonymously: what a page needs
// works; a quote for a customer, their coupons or points is refused, naming
// the field.
func TestPublishableKeySendsEventsAndQuotesAnonymously(t *testing.T) {
	e := newEnv(t)
	ts := e.svc.Now().UTC().Format(time.RFC3339)
	r := e.do(commerce.RolePublishable, "POST", "/api/v1/events", map[string]any{"events": []any{
		map[string]any{"id": "e1", "type": "page_view", "ts": ts, "anonymous_id": "a1"},
	}})
	if r.status != 200 || !strings.Contains(string(r.body), `"accepted":1`) {
		t.Fatalf("publishable events: %d %s", r.status, r.body)
	}
	line := `"lines":[{"sku_id":"` + e.sku.ID + `","quantity":1}]`
	if r := e.do(commerce.RolePublishable, "POST", "/api/v1/quote", `{`+line+`}`); r.status != 200 {
		t.Fatalf("anonymous quote: %d %s", r.status, r.body)
	}
	for _, c := range []struct{ body, field string }{
		{`{"customer_id":"` + e.cust.ID + `",` + line + `}`, "customer_id"},
		{`{"points":100,` + line + `}`, "points"},
		{`{"coupon_codes":["ABC"],` + line + `}`, "coupon_codes"},
		{`{"best_coupons":true,` + line + `}`, "best_coupons"},
		// The slow decoding path (a content type with parameters) too.
		{`{"customer_id":"` + e.cust.ID + `",` + line + `}`, "customer_id;slow"},
	} {
		hdr := []string{}
		field, slow := strings.CutSuffix(c.field, ";slow")
		if slow {
			hdr = []string{"Content-Type", "application/json; charset=utf-8"}
		}
		r := e.do(commerce.RolePublishable, "POST", "/api/v1/quote", c.body, hdr...)
		var p struct{ Code, Field string }
		json.Unmarshal(r.body, &p)
		if r.status != 403 || p.Code != "publishable_key_customer_data" || p.Field != field {
			t.Errorf("%s: %d %s; want 403 naming %s", c.field, r.status, r.body, field)
		}
		// The secret key may (points without a customer are refused for
		// another reason).
		if r := e.do(commerce.RoleStorefront, "POST", "/api/v1/quote", c.body, hdr...); r.status == 403 || r.status >= 500 {
			t.Errorf("%s with the secret key: %d %s", c.field, r.status, r.body)
		}
	}
}

// TestCreateKeyAnswers201AuditedAndPublishable: POST /api/v1/keys creates
// (201), accepts the publishable role and is audited with its actor,
// never the secret.
func TestCreateKeyAnswers201AuditedAndPublishable(t *testing.T) {
	e := newEnv(t)
	r := e.do(commerce.RoleAdmin, "POST", "/api/v1/keys", map[string]any{"role": "publishable", "name": "shop page"})
	var k struct{ ID, Role, Secret string }
	r.json(t, &k)
	if r.status != 201 || k.Role != "publishable" || !strings.HasPrefix(k.Secret, "ck_pk_") {
		t.Fatalf("create publishable key: %d %s", r.status, r.body)
	}
	a := e.do(commerce.RoleAdmin, "GET", "/api/v1/audit?limit=500", nil)
	var list struct {
		Items []struct {
			Actor, Action, Entity string
			EntityID              string `json:"entity_id"`
		}
	}
	a.json(t, &list)
	found := false
	for _, it := range list.Items {
		if it.Action == "create" && it.Entity == "api_key" && it.EntityID == k.ID {
			found = true
			if !strings.HasPrefix(it.Actor, "key:key_") || strings.Contains(string(a.body), k.Secret) {
				t.Fatalf("audit entry %+v: want the admin key as actor and no secret", it)
			}
		}
	}
	if !found {
		t.Fatalf("key creation not audited: %s", a.body)
	}
	if r := e.do(commerce.RoleAdmin, "POST", "/api/v1/keys", map[string]any{"role": "root"}); r.status != 422 {
		t.Fatalf("unknown role: %d %s", r.status, r.body)
	}
}

// TestBearerSchemeIsCaseInsensitive (RFC 9110 §11.1).
func TestBearerSchemeIsCaseInsensitive(t *testing.T) {
	e := newEnv(t)
	for _, scheme := range []string{"Bearer", "bearer", "BEARER", "bEaReR"} {
		req, _ := http.NewRequest("GET", e.srv.URL+"/api/v1/shop", nil)
		req.Header.Set("Authorization", scheme+" "+e.keys[commerce.RoleAdmin])
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Errorf("%s scheme: %d", scheme, res.StatusCode)
		}
	}
	req, _ := http.NewRequest("GET", e.srv.URL+"/api/v1/shop", nil)
	req.Header.Set("Authorization", "Basic "+e.keys[commerce.RoleAdmin])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 401 {
		t.Errorf("Basic scheme: %d; want 401", res.StatusCode)
	}
}
