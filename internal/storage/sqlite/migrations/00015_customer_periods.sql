-- +goose Up
-- One row per paying customer per week (kind 'w': ISO weeks, Monday first,
-- counted from the week of 1970-01-01) or month (kind 'm': y*12+m-1) in
-- which they had a paid order (a customer-day with paid_orders > 0), with
-- the same index of their first paid day (analytics_first_paid; NULL while
-- the customer has none). ApplyDelta keeps it; the cohort report counts its
-- rows by (cohort, period) through the covering index instead of joining
-- every paying customer-day to the customer's first paid day.
CREATE TABLE analytics_customer_periods (
    shop_id     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    period      BIGINT NOT NULL,
    cohort      BIGINT,
    PRIMARY KEY (shop_id, kind, customer_id, period)
);
CREATE INDEX analytics_customer_periods_cohort ON analytics_customer_periods (shop_id, kind, cohort, period);

-- Backfill from the customer days stored so far. Days since 1970-01-01 of
-- a YYYYMMDD integer: julianday of the ISO date minus that of the epoch.
INSERT INTO analytics_customer_periods (shop_id, kind, customer_id, period, cohort)
SELECT DISTINCT c.shop_id, 'w', c.customer_id,
 (CAST(julianday(printf('%04d-%02d-%02d', c.day / 10000, c.day / 100 % 100, c.day % 100)) - 2440587.5 AS INTEGER) + 3) / 7,
 CASE WHEN f.day IS NULL THEN NULL ELSE
 (CAST(julianday(printf('%04d-%02d-%02d', f.day / 10000, f.day / 100 % 100, f.day % 100)) - 2440587.5 AS INTEGER) + 3) / 7 END
FROM analytics_customer_days c LEFT JOIN analytics_first_paid f ON f.shop_id = c.shop_id AND f.customer_id = c.customer_id
WHERE c.paid_orders > 0;
INSERT INTO analytics_customer_periods (shop_id, kind, customer_id, period, cohort)
SELECT DISTINCT c.shop_id, 'm', c.customer_id, c.day / 10000 * 12 + c.day / 100 % 100 - 1, f.day / 10000 * 12 + f.day / 100 % 100 - 1
FROM analytics_customer_days c LEFT JOIN analytics_first_paid f ON f.shop_id = c.shop_id AND f.customer_id = c.customer_id
WHERE c.paid_orders > 0;

-- +goose Down
DROP INDEX analytics_customer_periods_cohort;
DROP TABLE analytics_customer_periods;
