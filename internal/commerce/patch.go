package commerce

import (
	"fmt"
	"strings"
	"time"
)

// Partial writes. An upsert (PUT) and a PATCH change only the fields the
// caller sent: a nil field is left as it is, a set one is written, and an
// empty value ("" / 0 / [] / false) clears a field that may be cleared. A
// field a record cannot be without (a product's name, a SKU's price) cannot
// be cleared (422 required), and a record an upsert creates still needs
// it. The json tags are for the audit log, which records what was sent.

// CustomerPatch is a partial write of a customer. ExternalID keys an
// upsert; a PATCH by id leaves it as it is.
type CustomerPatch struct {
	ExternalID       string    `json:"external_id,omitempty"`
	Name             *string   `json:"-"`
	Phone            *string   `json:"-"`
	Email            *string   `json:"-"`
	Tier             *string   `json:"tier,omitempty"`
	GrowthValue      *int64    `json:"growth_value,omitempty"`
	Tags             *[]string `json:"tags,omitempty"`
	MarketingConsent *bool     `json:"marketing_consent,omitempty"`
	TimeZone         *string   `json:"time_zone,omitempty"`
}

// Fields names the fields p sets, in a stable order.
func (p CustomerPatch) Fields() []string {
	var out []string
	for _, f := range []struct {
		name string
		set  bool
	}{{"name", p.Name != nil}, {"phone", p.Phone != nil}, {"email", p.Email != nil}, {"tier", p.Tier != nil},
		{"growth_value", p.GrowthValue != nil}, {"tags", p.Tags != nil}, {"marketing_consent", p.MarketingConsent != nil},
		{"time_zone", p.TimeZone != nil}} {
		if f.set {
			out = append(out, f.name)
		}
	}
	return out
}

// FullCustomerPatch is the patch that writes every field of c.
func FullCustomerPatch(c Customer) CustomerPatch {
	tags := c.Tags
	return CustomerPatch{ExternalID: c.ExternalID, Name: &c.Name, Phone: &c.Phone, Email: &c.Email, Tier: &c.Tier,
		GrowthValue: &c.GrowthValue, Tags: &tags, MarketingConsent: &c.MarketingConsent, TimeZone: &c.TimeZone}
}

// auditedCustomerPatch is what the audit log keeps of a customer write:
// which fields changed, and the values of those that are not personal
// (analysts read the audit log).
type auditedCustomerPatch struct {
	CustomerPatch
	Changed []string `json:"changed"`
}

func auditCustomerPatch(p CustomerPatch) auditedCustomerPatch {
	ch := p.Fields()
	if ch == nil {
		ch = []string{}
	}
	return auditedCustomerPatch{CustomerPatch: p, Changed: ch}
}

// check validates p's fields under prefix (items[0]. or "").
func (p *CustomerPatch) check(prefix string) error {
	for _, t := range []struct {
		field string
		v     *string
	}{{"name", p.Name}, {"phone", p.Phone}, {"email", p.Email}, {"tier", p.Tier}} {
		if t.v == nil {
			continue
		}
		if err := checkText(prefix+t.field, *t.v, false, MaxNameLen); err != nil {
			return err
		}
	}
	if p.GrowthValue != nil && (*p.GrowthValue < 0 || *p.GrowthValue > MaxPointsDelta) {
		return Invalid(prefix+"growth_value", "out_of_range", "growth value must be 0 to %d", MaxPointsDelta)
	}
	if p.Tags != nil {
		if *p.Tags == nil {
			*p.Tags = []string{}
		}
		if len(*p.Tags) > MaxTags {
			return Invalid(prefix+"tags", "too_many", "at most %d tags", MaxTags)
		}
		for j, t := range *p.Tags {
			if err := checkText(fmt.Sprintf("%stags[%d]", prefix, j), t, true, MaxCodeLen); err != nil {
				return err
			}
		}
	}
	if p.TimeZone != nil && *p.TimeZone != "" {
		if _, err := time.LoadLocation(*p.TimeZone); err != nil {
			return Invalid(prefix+"time_zone", "invalid_time_zone", "unknown time zone %q", *p.TimeZone)
		}
	}
	return nil
}

// ProductPatch is a partial write of a product, keyed by Code in an upsert.
// SKUs lists the SKUs to create or change (by code); nil leaves the
// product's SKUs as they are. A SKU's category is always its product's.
type ProductPatch struct {
	Code       string     `json:"code,omitempty"`
	Name       *string    `json:"name,omitempty"`
	CategoryID *string    `json:"category_id,omitempty"`
	Status     *string    `json:"status,omitempty"`
	SKUs       []SKUPatch `json:"skus,omitempty"`
}

// SKUPatch is a partial write of a SKU, keyed by Code in an upsert. A new
// SKU's name defaults to its product's; its cost, stock and safety stock
// to 0; its status to active. Stock sets the free stock (the change is in
// the ledger).
type SKUPatch struct {
	Code        string  `json:"code,omitempty"`
	Name        *string `json:"name,omitempty"`
	Price       *int64  `json:"price,omitempty"`
	Cost        *int64  `json:"cost,omitempty"`
	Stock       *int64  `json:"stock,omitempty"`
	SafetyStock *int64  `json:"safety_stock,omitempty"`
	Status      *string `json:"status,omitempty"`
}

// MissingError is a store's answer to an upsert that would create a record
// without the fields it needs: the Item-th product (and its SKU-th SKU,
// -1 for the product itself) lacks Fields.
type MissingError struct {
	Item, SKU int
	Fields    []string
}

func (e *MissingError) Error() string {
	return fmt.Sprintf("item %d sku %d needs %s", e.Item, e.SKU, strings.Join(e.Fields, ", "))
}

func (e *MissingError) invalid() *Error {
	f := fmt.Sprintf("items[%d]", e.Item)
	what := "a new product"
	if e.SKU >= 0 {
		f = fmt.Sprintf("%s.skus[%d]", f, e.SKU)
		what = "a new SKU"
	}
	err := Invalid(f+"."+e.Fields[0], "required", "%s needs %s", what, strings.Join(e.Fields, ", "))
	err.Extra = map[string]any{"missing": e.Fields}
	return err
}

func checkStatus(field string, v *string) error {
	if v != nil && *v != SKUActive && *v != SKUInactive {
		return Invalid(field, "invalid_enum", "status is active or inactive")
	}
	return nil
}

// check validates p's own fields under prefix; known holds the shop's
// category ids.
func (p *ProductPatch) check(prefix string, known map[string]bool) error {
	if p.Name != nil {
		if err := checkText(prefix+"name", *p.Name, true, MaxNameLen); err != nil {
			return err
		}
	}
	if p.CategoryID != nil && *p.CategoryID != "" && !known[*p.CategoryID] {
		return Invalid(prefix+"category_id", "unknown_category", "category %q does not exist", *p.CategoryID)
	}
	return checkStatus(prefix+"status", p.Status)
}

// check validates k's own fields under prefix.
func (k *SKUPatch) check(prefix string) error {
	if k.Name != nil {
		if err := checkText(prefix+"name", *k.Name, true, MaxNameLen); err != nil {
			return err
		}
	}
	if k.Price != nil {
		if err := checkAmount(prefix+"price", *k.Price); err != nil {
			return err
		}
	}
	if k.Cost != nil {
		if err := checkAmount(prefix+"cost", *k.Cost); err != nil {
			return err
		}
	}
	if k.Stock != nil && (*k.Stock < 0 || *k.Stock > MaxStock) {
		return Invalid(prefix+"stock", "out_of_range", "stock must be 0 to %d", MaxStock)
	}
	if k.SafetyStock != nil && (*k.SafetyStock < 0 || *k.SafetyStock > MaxStock) {
		return Invalid(prefix+"safety_stock", "out_of_range", "safety stock must be 0 to %d", MaxStock)
	}
	return checkStatus(prefix+"status", k.Status)
}
