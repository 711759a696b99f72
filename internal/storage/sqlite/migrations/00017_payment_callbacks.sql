-- +goose Up
-- A shop's payment-callback secret: its payment provider (or the shop's
-- payment relay) signs "<t>.<body>" with it to confirm a payment without
-- an API key. HMAC needs the secret itself, so it is stored as is; only an
-- admin can set it, and it is shown once.
CREATE TABLE payment_callback_secrets (
    shop_id    TEXT PRIMARY KEY REFERENCES shops (id),
    secret     TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- +goose Down
DROP TABLE payment_callback_secrets;
