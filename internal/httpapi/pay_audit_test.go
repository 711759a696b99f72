package httpapi_test

import (
	"encoding/json"
	"testing"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/httpapi"
)

// Recording a payment moves money: the audit log names the key that did
// it and the amount, so a payment no one expected can be traced.
func TestAPaymentIsAuditedWithTheKeyThatRecordedIt(t *testing.T) {
	e := newEnv(t)
	var o commerce.Order
	r := e.do(commerce.RoleStorefront, "POST", "/api/v1/orders", map[string]any{"customer_id": e.cust.ID,
		"lines": []map[string]any{{"sku_id": e.sku.ID, "quantity": 2}}})
	if r.status != 201 {
		t.Fatalf("place: %d %s", r.status, r.body)
	}
	r.json(t, &o)
	if r := e.do(commerce.RoleStorefront, "POST", "/api/v1/orders/"+o.ID+"/pay", nil); r.status != 200 {
		t.Fatalf("pay: %d %s", r.status, r.body)
	}
	var keys httpapi.List[commerce.APIKey]
	e.do(commerce.RoleAdmin, "GET", "/api/v1/keys", nil).json(t, &keys)
	storefront := ""
	for _, k := range keys.Items {
		if k.Role == commerce.RoleStorefront {
			storefront = "key:" + k.ID
		}
	}
	var audit httpapi.List[commerce.AuditEntry]
	e.do(commerce.RoleAdmin, "GET", "/api/v1/audit?action=pay&entity_id="+o.ID, nil).json(t, &audit)
	if len(audit.Items) != 1 || storefront == "" || audit.Items[0].Actor != storefront || audit.Items[0].Entity != "order" {
		t.Fatalf("payment audit = %+v; want one entry by %s", audit.Items, storefront)
	}
	var after struct {
		Amount int64 `json:"amount"`
	}
	if err := json.Unmarshal(audit.Items[0].After, &after); err != nil || after.Amount != int64(o.Payable) || after.Amount == 0 {
		t.Fatalf("payment audit after = %s; want the payable %d", audit.Items[0].After, int64(o.Payable))
	}
	// A second attempt is refused and leaves the log as it was.
	if r := e.do(commerce.RoleStorefront, "POST", "/api/v1/orders/"+o.ID+"/pay", nil); r.status != 409 {
		t.Fatalf("second pay: %d %s", r.status, r.body)
	}
	e.do(commerce.RoleAdmin, "GET", "/api/v1/audit?action=pay", nil).json(t, &audit)
	if len(audit.Items) != 1 {
		t.Fatalf("a refused payment was audited: %+v", audit.Items)
	}
}
