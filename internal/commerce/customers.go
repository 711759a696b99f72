package commerce

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// UpsertCustomers creates or updates customers by external id.
func (s *Service) UpsertCustomers(ctx context.Context, a Actor, cs []Customer) ([]Customer, error) {
	if len(cs) == 0 || len(cs) > MaxBulkItems {
		return nil, Invalid("items", "bad_count", "send 1 to %d customers", MaxBulkItems)
	}
	seen := map[string]bool{}
	for i := range cs {
		c := &cs[i]
		f := fmt.Sprintf("items[%d]", i)
		if err := checkText(f+".external_id", c.ExternalID, true, MaxCodeLen); err != nil {
			return nil, err
		}
		if seen[c.ExternalID] {
			return nil, Invalid(f+".external_id", "duplicate", "external id %q appears twice", c.ExternalID)
		}
		seen[c.ExternalID] = true
		for _, t := range []struct {
			field, v string
		}{{".name", c.Name}, {".phone", c.Phone}, {".email", c.Email}, {".tier", c.Tier}} {
			if err := checkText(f+t.field, t.v, false, MaxNameLen); err != nil {
				return nil, err
			}
		}
		if c.GrowthValue < 0 || c.GrowthValue > MaxPointsDelta {
			return nil, Invalid(f+".growth_value", "out_of_range", "growth value must be 0 to %d", MaxPointsDelta)
		}
		if len(c.Tags) > MaxTags {
			return nil, Invalid(f+".tags", "too_many", "at most %d tags", MaxTags)
		}
		for j, t := range c.Tags {
			if err := checkText(fmt.Sprintf("%s.tags[%d]", f, j), t, true, MaxCodeLen); err != nil {
				return nil, err
			}
		}
		if c.TimeZone != "" {
			if _, err := time.LoadLocation(c.TimeZone); err != nil {
				return nil, Invalid(f+".time_zone", "invalid_time_zone", "unknown time zone %q", c.TimeZone)
			}
		}
		if c.Tags == nil {
			c.Tags = []string{}
		}
		c.ShopID = a.ShopID
	}
	// The audit entry names who changed which customers' tier, growth and
	// tags, without personal fields (analysts read the audit log).
	type audited struct {
		ExternalID  string   `json:"external_id"`
		Tier        string   `json:"tier,omitempty"`
		GrowthValue int64    `json:"growth_value"`
		Tags        []string `json:"tags,omitempty"`
	}
	after := make([]audited, len(cs))
	for i, c := range cs {
		after[i] = audited{ExternalID: c.ExternalID, Tier: c.Tier, GrowthValue: c.GrowthValue, Tags: c.Tags}
	}
	out, err := s.store.UpsertCustomers(ctx, a.ShopID, cs, s.newID, s.now().UTC(), s.Audit(a, "upsert", "customers", "", nil, after))
	s.customers.clear()
	if err != nil {
		return nil, fmt.Errorf("upsert customers: %w", err)
	}
	return out, nil
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
	cs, err := s.store.ListCustomers(ctx, shopID, p.Normalized())
	if err != nil {
		return nil, err
	}
	for i := range cs {
		cs[i] = cs[i].Masked()
	}
	return cs, nil
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
