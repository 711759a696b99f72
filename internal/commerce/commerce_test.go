package commerce

import (
	"reflect"
	"testing"
)

func TestPersonalFieldsAreMaskedInLists(t *testing.T) {
	c := Customer{Name: "欧阳娜娜", Phone: "13812345678", Email: "nana@example.com"}.Masked()
	if c.Name != "欧***" || c.Phone != "138****5678" || c.Email != "n***@example.com" {
		t.Fatalf("masked = %q %q %q", c.Name, c.Phone, c.Email)
	}
	short := Customer{Name: "李", Phone: "12345", Email: "x"}.Masked()
	if short.Name != "李" || short.Phone != "*****" || short.Email != "x" {
		t.Fatalf("short values masked = %q %q %q", short.Name, short.Phone, short.Email)
	}
}

// Refunding a line unit by unit returns exactly its payable, whatever the
// rounding of each piece.
func TestRefundingALineInPiecesReturnsExactlyItsPayable(t *testing.T) {
	for _, tc := range []struct{ payable, qty int64 }{{10000, 3}, {9999, 7}, {1, 3}, {0, 4}, {123457, 11}} {
		var refunded, prev int64
		for k := int64(1); k <= tc.qty; k++ {
			part := proportional(tc.payable, k, tc.qty) - prev
			if part < 0 {
				t.Fatalf("payable %d qty %d: unit %d refunds %d", tc.payable, tc.qty, k, part)
			}
			prev += part
			refunded += part
		}
		if refunded != tc.payable {
			t.Fatalf("payable %d over %d units refunded %d", tc.payable, tc.qty, refunded)
		}
	}
}

func TestSettingsPatchChangesOnlyWhatItNames(t *testing.T) {
	zero, mode := int64(0), "block"
	got := SettingsPatch{ShippingFee: &zero, MarginMode: &mode}.apply(DefaultSettings())
	want := DefaultSettings()
	want.ShippingFee, want.MarginMode = 0, "block"
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("patched = %+v, want %+v", got, want)
	}
	if err := validateSettings(got); err != nil {
		t.Fatalf("free shipping and block mode rejected: %v", err)
	}
	bad := DefaultSettings()
	bad.PointsMultiple = 0
	if e, ok := AsError(validateSettings(bad)); !ok || e.Field != "settings.points_multiple" {
		t.Fatalf("points multiple 0: %v", validateSettings(bad))
	}
}

func TestValidateCartNamesTheField(t *testing.T) {
	tests := []struct {
		lines  []CartLine
		cust   string
		points int64
		field  string
	}{
		{nil, "", 0, "lines"},
		{[]CartLine{{SKUID: "a", Quantity: 0}}, "", 0, "lines[0].quantity"},
		{[]CartLine{{SKUID: "a", Quantity: 1}, {SKUID: "", Quantity: 1}}, "", 0, "lines[1].sku_id"},
		{[]CartLine{{SKUID: "a", Quantity: 1}, {SKUID: "a", Quantity: 1}}, "", 0, "lines[1].sku_id"},
		{[]CartLine{{SKUID: "a", Quantity: MaxQuantity + 1}}, "", 0, "lines[0].quantity"},
		{[]CartLine{{SKUID: "a", Quantity: 1}}, "", 100, "points"},
		{[]CartLine{{SKUID: "a", Quantity: 1}}, "c", -1, "points"},
	}
	for _, tt := range tests {
		e, ok := AsError(ValidateCart(tt.cust, tt.lines, tt.points))
		if !ok || e.Field != tt.field || e.Kind != KindInvalid {
			t.Errorf("ValidateCart(%v, %q, %d) = %v; want an invalid %s", tt.lines, tt.cust, tt.points, e, tt.field)
		}
	}
	if err := ValidateCart("c", []CartLine{{SKUID: "a", Quantity: 2}}, 100); err != nil {
		t.Errorf("a good cart was refused: %v", err)
	}
}
