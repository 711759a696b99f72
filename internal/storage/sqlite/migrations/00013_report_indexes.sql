-- +goose Up
-- The review (复盘) reads a campaign window's paid orders and stock moves;
-- without these it scans every order and every move the shop ever had.
CREATE INDEX orders_paid ON orders (shop_id, paid_at);
CREATE INDEX stock_moves_at ON stock_moves (shop_id, at);

-- +goose Down
DROP INDEX stock_moves_at;
DROP INDEX orders_paid;
