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

-- +goose Down
DROP TABLE analytics_sku_days;
