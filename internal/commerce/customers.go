package commerce

import (
	"context"
	"errors"
	"fmt"
)

// UpsertCustomers creates or updates customers by external id, writing
// every field of each (an empty one clears it). MergeCustomers writes only
// the fields a caller sent.
func (s *Service) UpsertCustomers(ctx context.Context, a Actor, cs []Customer) ([]Customer, error) {
	ps := make([]CustomerPatch, len(cs))
	for i, c := range cs {
		ps[i] = FullCustomerPatch(c)
	}
	return s.MergeCustomers(ctx, a, ps)
}

// MergeCustomers creates or updates customers by external id, changing
// only the fields each patch sets; a new customer takes the empty value of
// every field left out.
func (s *Service) MergeCustomers(ctx context.Context, a Actor, ps []CustomerPatch) ([]Customer, error) {
	if len(ps) == 0 || len(ps) > MaxBulkItems {
		return nil, Invalid("items", "bad_count", "send 1 to %d customers", MaxBulkItems)
	}
	seen := map[string]bool{}
	for i := range ps {
		p := &ps[i]
		f := fmt.Sprintf("items[%d]", i)
		if err := checkText(f+".external_id", p.ExternalID, true, MaxCodeLen); err != nil {
			return nil, err
		}
		if seen[p.ExternalID] {
			return nil, Invalid(f+".external_id", "duplicate", "external id %q appears twice", p.ExternalID)
		}
		seen[p.ExternalID] = true
		if err := p.check(f + "."); err != nil {
			return nil, err
		}
	}
	// The audit entry names who changed which fields of which customers,
	// with the values of those that are not personal.
	after := make([]auditedCustomerPatch, len(ps))
	for i, p := range ps {
		after[i] = auditCustomerPatch(p)
	}
	out, err := s.store.UpsertCustomers(ctx, a.ShopID, ps, s.newID, s.now().UTC(), s.Audit(a, "upsert", "customers", "", nil, after))
	s.customers.clear()
	if err != nil {
		return nil, fmt.Errorf("upsert customers: %w", err)
	}
	return out, nil
}

// PatchCustomer changes the fields p sets of the shop's customer id (p's
// ExternalID is ignored). An erased customer cannot be given personal data
// again: 409 customer_erased.
func (s *Service) PatchCustomer(ctx context.Context, a Actor, id string, p CustomerPatch) (*Customer, error) {
	p.ExternalID = ""
	if err := p.check(""); err != nil {
		return nil, err
	}
	before, err := s.Customer(ctx, a.ShopID, id)
	if err != nil {
		return nil, err
	}
	if before.ErasedAt != nil {
		return nil, Conflict("customer_erased", "customer %q was erased", id)
	}
	defer s.customers.drop(a.ShopID + "/" + id)
	was := CustomerPatch{Tier: &before.Tier, GrowthValue: &before.GrowthValue, Tags: &before.Tags,
		MarketingConsent: &before.MarketingConsent, TimeZone: &before.TimeZone}
	c, err := s.store.PatchCustomer(ctx, a.ShopID, id, p, s.now().UTC(), s.Audit(a, "update", "customer", id, was, auditCustomerPatch(p)))
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, NotFound("customer", id)
	case errors.Is(err, ErrStale):
		return nil, Conflict("customer_erased", "customer %q was erased", id)
	}
	return c, err
}

// Customer returns a customer, unmasked (the caller checks the role).
func (s *Service) Customer(ctx context.Context, shopID, id string) (*Customer, error) {
	c, err := s.store.GetCustomer(ctx, shopID, id)
	if errors.Is(err, ErrNotFound) {
		return nil, NotFound("customer", id)
	}
	return c, err
}

// ListCustomers pages through customers with personal fields masked.
func (s *Service) ListCustomers(ctx context.Context, shopID string, p Page) ([]Customer, error) {
	cs, err := s.ListCustomersUnmasked(ctx, shopID, p)
	for i := range cs {
		cs[i] = cs[i].Masked()
	}
	return cs, err
}

// ListCustomersUnmasked pages through customers with their contact fields,
// for callers whose role sees them (SeesContact).
func (s *Service) ListCustomersUnmasked(ctx context.Context, shopID string, p Page) ([]Customer, error) {
	return s.store.ListCustomers(ctx, shopID, p.Normalized())
}

// SeesContact reports whether a key of role sees customers' contact
// fields (name, phone, e-mail) in full: an admin, and an operator, who
// runs recalls and service. Analysts see them masked; storefront and
// publishable keys read no customer records.
func SeesContact(role string) bool {
	return role == RoleAdmin || role == RoleOperator
}

// EraseCustomer anonymises a customer's personal data and keeps the orders.
func (s *Service) EraseCustomer(ctx context.Context, a Actor, id string) error {
	c, err := s.Customer(ctx, a.ShopID, id)
	if err != nil {
		return err
	}
	if c.ErasedAt != nil {
		return nil
	}
	defer s.customers.drop(a.ShopID + "/" + id)
	err = s.store.EraseCustomer(ctx, a.ShopID, id, s.now().UTC(), s.Audit(a, "erase", "customer", id, nil, nil))
	if errors.Is(err, ErrNotFound) {
		return NotFound("customer", id)
	}
	return err
}

// AdjustPoints credits or debits points with a reason, recording the actor
// on the ledger entry and in the audit log.
func (s *Service) AdjustPoints(ctx context.Context, a Actor, customerID string, delta int64, reason string) (*Customer, error) {
	if delta == 0 || delta > MaxPointsDelta || delta < -MaxPointsDelta {
		return nil, Invalid("delta", "out_of_range", "delta must be non-zero and within ±%d", MaxPointsDelta)
	}
	if err := checkFreeText("reason", reason, true, MaxNameLen); err != nil {
		return nil, err
	}
	if _, err := s.Customer(ctx, a.ShopID, customerID); err != nil {
		return nil, err
	}
	defer s.customers.drop(a.ShopID + "/" + customerID)
	mv := PointsMove{ID: s.newID("pts"), CustomerID: customerID, Delta: delta, Reason: reason, Actor: a.String(), At: s.now().UTC()}
	c, err := s.store.AdjustPoints(ctx, a.ShopID, mv, s.Audit(a, "adjust_points", "customer", customerID, nil, mv))
	if errors.Is(err, ErrStale) {
		return nil, Invalid("delta", "points_below_zero", "the balance cannot go below zero")
	}
	return c, err
}

// PointsMoves pages through a customer's points ledger.
func (s *Service) PointsMoves(ctx context.Context, shopID, customerID string, p Page) ([]PointsMove, error) {
	if _, err := s.Customer(ctx, shopID, customerID); err != nil {
		return nil, err
	}
	return s.store.ListPointsMoves(ctx, shopID, customerID, p.Normalized())
}
