-- +goose Up
-- Who placed an anonymous order (no customer_id): "device:<X-Device-Id>"
-- or "ip:<client IP>", so a shop can cap the unpaid orders an anonymous
-- caller holds, as it caps a customer's. '' for customers' orders, orders
-- from before, and peak paths; cleared when the order is paid or cancelled
-- (it is personal data, needed only while the order is unpaid).
ALTER TABLE orders ADD COLUMN requester TEXT NOT NULL DEFAULT '';
-- Placing an order counts the caller's unpaid orders inside its
-- transaction; these keep that count off the shop's whole order history.
CREATE INDEX orders_unpaid_customer ON orders (shop_id, customer_id) WHERE status = 'pending_payment';
CREATE INDEX orders_unpaid_requester ON orders (shop_id, requester) WHERE status = 'pending_payment' AND requester <> '';

-- +goose Down
DROP INDEX orders_unpaid_requester;
DROP INDEX orders_unpaid_customer;
ALTER TABLE orders DROP COLUMN requester;
