package commerce

import (
	"context"
	"time"
)

// RecallFilter narrows a recall list (召回名单); zero fields match every
// customer. Erased customers are never on it.
type RecallFilter struct {
	// NoPaidSince keeps customers with no paid order at or after it
	// (customers who never paid included, unless EverPaid says otherwise).
	NoPaidSince *time.Time `json:"no_paid_since,omitempty"`
	// EverPaid keeps customers who have (true) or have not (false) paid
	// for an order.
	EverPaid *bool  `json:"ever_paid,omitempty"`
	Tier     string `json:"tier,omitempty"`
	Tag      string `json:"tag,omitempty"`
	// Consent keeps customers whose marketing consent is this.
	Consent *bool `json:"marketing_consent,omitempty"`
}

// RecallRow is a customer on a recall list with the time of their last
// paid order.
type RecallRow struct {
	Customer
	LastPaidAt *time.Time
}

// MaxRecallPage bounds one read of a recall list.
const MaxRecallPage = 1000

// StartRecallExport checks that a's role may export customers' contact
// data (SeesContact) and records the export, with its filter, in the
// audit log before any row is read.
func (s *Service) StartRecallExport(ctx context.Context, a Actor, f RecallFilter) error {
	if !SeesContact(a.Role) {
		return &Error{Kind: KindForbidden, Code: "forbidden_role", Detail: "a " + a.Role + " key cannot export customers' contact data"}
	}
	if err := checkText("tier", f.Tier, false, MaxNameLen); err != nil {
		return err
	}
	if err := checkText("tag", f.Tag, false, MaxCodeLen); err != nil {
		return err
	}
	return s.store.AppendAudit(ctx, s.Audit(a, "export", "customers", "", nil, f))
}

// RecallPage reads the customers on the recall list after the customer id
// after, in id order, at most limit of them scanned; next is the cursor of
// the following page, "" after the last.
func (s *Service) RecallPage(ctx context.Context, shopID string, f RecallFilter, after string, limit int) (rows []RecallRow, next string, err error) {
	if limit <= 0 || limit > MaxRecallPage {
		limit = MaxRecallPage
	}
	return s.store.RecallCustomers(ctx, shopID, f, after, limit)
}
