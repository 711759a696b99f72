package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
)

// SetPaymentSecret stores (or replaces) the shop's payment-callback secret,
// writing audit in the same transaction.
func (s *Store) SetPaymentSecret(ctx context.Context, shopID, secret string, at time.Time, audit *commerce.AuditEntry) error {
	return s.Write(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO payment_callback_secrets (shop_id, secret, created_at) VALUES ($1, $2, $3)
			ON CONFLICT (shop_id) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at`, shopID, secret, TS(at)); err != nil {
			return err
		}
		return InsertAudit(ctx, tx, audit)
	})
}

// PaymentSecret returns the shop's payment-callback secret; ErrNotFound
// when it has none.
func (s *Store) PaymentSecret(ctx context.Context, shopID string) (string, error) {
	var secret string
	err := s.QueryRow(ctx, `SELECT secret FROM payment_callback_secrets WHERE shop_id = $1`, shopID).Scan(&secret)
	if errors.Is(err, sql.ErrNoRows) {
		return "", commerce.ErrNotFound
	}
	return secret, err
}
