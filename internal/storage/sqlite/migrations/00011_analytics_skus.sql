-- +goose Up
-- One row per SKU per shop-local day per channel and campaign: product
-- views and add-to-carts from storefront events, orders, units and GMV from
-- placed orders' lines, paid units and paid amount from paid orders' lines
-- (amounts are the lines' payable, fen). Top-SKU reports sum these.
CREATE TABLE analytics_sku_days (
    shop_id       TEXT NOT NULL,
    day           BIGINT NOT NULL,
    sku_id        TEXT NOT NULL,
    channel       TEXT NOT NULL,
    campaign      TEXT NOT NULL,
    product_views BIGINT NOT NULL,
    carts         BIGINT NOT NULL,
    orders        BIGINT NOT NULL,
    units         BIGINT NOT NULL,
    gmv           BIGINT NOT NULL,
    paid_units    BIGINT NOT NULL,
    paid_amount   BIGINT NOT NULL,
    PRIMARY KEY (shop_id, day, sku_id, channel, campaign)
);

-- Covering indexes for the cohort report: it reads the paying customer
-- days of a range with each customer's first paid day, and without these
-- every row cost two more table lookups.
CREATE INDEX analytics_customer_days_paid_day ON analytics_customer_days (shop_id, day, customer_id) WHERE paid_orders > 0;
CREATE INDEX analytics_first_paid_customer_day ON analytics_first_paid (shop_id, customer_id, day);

-- +goose Down
DROP INDEX analytics_first_paid_customer_day;
DROP INDEX analytics_customer_days_paid_day;
DROP TABLE analytics_sku_days;
