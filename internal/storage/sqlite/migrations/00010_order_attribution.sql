-- +goose Up
-- The UTM campaign an order was placed under (next to its channel, the
-- UTM source), so server-side order events attribute to campaigns.
ALTER TABLE orders ADD COLUMN campaign TEXT NOT NULL DEFAULT '';
-- Orders cancelled unpaid (by the customer, the payment timeout or a
-- failed group) and their payable, per rollup bucket.
ALTER TABLE analytics_rollups ADD COLUMN cancelled_orders BIGINT NOT NULL DEFAULT 0;
ALTER TABLE analytics_rollups ADD COLUMN cancelled_amount BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE analytics_rollups DROP COLUMN cancelled_amount;
ALTER TABLE analytics_rollups DROP COLUMN cancelled_orders;
ALTER TABLE orders DROP COLUMN campaign;
