-- +goose Up
-- HyperLogLog sketches (axiomhq/hyperloglog, precision 14) of the merged
-- visitors of one shop-local day × channel × campaign × funnel step
-- (kind 0 visit … 4 paid), and (kind 5) of its paying customers: UV,
-- paying customers and funnels over any range merge a few hundred of
-- these instead of counting visitor-day rows.
CREATE TABLE analytics_sketches (
    shop_id  TEXT NOT NULL,
    day      BIGINT NOT NULL,
    channel  TEXT NOT NULL,
    campaign TEXT NOT NULL,
    kind     INTEGER NOT NULL,
    sketch   BYTEA NOT NULL,
    PRIMARY KEY (shop_id, kind, day, channel, campaign)
);

-- Pairs of a customer's customer-day rows with a paid order (a ≤ b by
-- day, channel, campaign; a row with two or more paid orders pairs with
-- itself), written at flush: the repurchasers of a range and filter are
-- the distinct customers with a pair inside it, read from the few pairs
-- instead of grouping every paying customer-day.
CREATE TABLE analytics_repeat_pairs (
    shop_id     TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    day_a       BIGINT NOT NULL,
    channel_a   TEXT NOT NULL,
    campaign_a  TEXT NOT NULL,
    day_b       BIGINT NOT NULL,
    channel_b   TEXT NOT NULL,
    campaign_b  TEXT NOT NULL,
    PRIMARY KEY (shop_id, customer_id, day_a, channel_a, campaign_a, day_b, channel_b, campaign_b)
);
CREATE INDEX analytics_repeat_pairs_day ON analytics_repeat_pairs (shop_id, day_a, day_b, channel_a, campaign_a, channel_b, campaign_b, customer_id);
CREATE INDEX analytics_customer_days_paid ON analytics_customer_days (shop_id, customer_id) WHERE paid_orders > 0;
-- New customers by day and filter from the index alone.
CREATE INDEX analytics_first_paid_day_filter ON analytics_first_paid (shop_id, day, channel, campaign);

-- +goose Down
DROP INDEX analytics_first_paid_day_filter;
DROP INDEX analytics_customer_days_paid;
DROP TABLE analytics_repeat_pairs;
DROP TABLE analytics_sketches;
