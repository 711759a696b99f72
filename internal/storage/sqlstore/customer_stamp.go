package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/carnivalhq/carnival/internal/commerce"
)

// CustomerStamp reads a customer's change stamp (customers.rev): migration
// 00025's triggers raise it with every change to the customer's row or
// coupons, in the transaction that makes the change.
func (s *Store) CustomerStamp(ctx context.Context, shopID, id string) (int64, error) {
	var rev int64
	err := s.QueryRow(ctx, `SELECT rev FROM customers WHERE shop_id = $1 AND id = $2`, shopID, id).Scan(&rev)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, commerce.ErrNotFound
	}
	return rev, err
}

// GetCustomerStamped is GetCustomer with the stamp of the row it read.
func (s *Store) GetCustomerStamped(ctx context.Context, shopID, id string) (*commerce.Customer, int64, error) {
	var rev int64
	c, err := scanCustomer(withStamp{s.QueryRow(ctx, `SELECT `+customerCols+`, rev FROM customers WHERE shop_id = $1 AND id = $2`, shopID, id), &rev})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, commerce.ErrNotFound
	}
	if err != nil {
		return nil, 0, err
	}
	return &c, rev, nil
}

// withStamp scans the customer columns and then the stamp that follows
// them.
type withStamp struct {
	r   rowScanner
	rev *int64
}

func (w withStamp) Scan(dest ...any) error { return w.r.Scan(append(dest, w.rev)...) }
