-- +goose Up
-- Raw events: append-only, kept for export and for rebuilding rollups
-- after a crash (everything after analytics_watermark.seq).
CREATE TABLE analytics_events (
    seq INTEGER PRIMARY KEY,
    shop_id      TEXT NOT NULL,
    id           TEXT NOT NULL,
    type         TEXT NOT NULL,
    ts           BIGINT NOT NULL,
    -- The whole event as JSON (the API's field names): raw events are read
    -- only to export them or rebuild rollups, and one column instead of
    -- eighteen is what lets ingestion keep up with a sale.
    body         TEXT NOT NULL,
    UNIQUE (shop_id, id)
);

CREATE TABLE analytics_watermark (
    id  INTEGER PRIMARY KEY,
    seq BIGINT NOT NULL
);
INSERT INTO analytics_watermark (id, seq) VALUES (1, 0);

-- Counters per shop-local bucket (grain m/h/d) × channel × campaign.
CREATE TABLE analytics_rollups (
    shop_id       TEXT NOT NULL,
    grain         TEXT NOT NULL,
    bucket        BIGINT NOT NULL,
    channel       TEXT NOT NULL,
    campaign      TEXT NOT NULL,
    pv            BIGINT NOT NULL,
    product_views BIGINT NOT NULL,
    carts         BIGINT NOT NULL,
    checkouts     BIGINT NOT NULL,
    searches      BIGINT NOT NULL,
    shares        BIGINT NOT NULL,
    orders        BIGINT NOT NULL,
    gmv           BIGINT NOT NULL,
    paid_orders   BIGINT NOT NULL,
    paid_amount   BIGINT NOT NULL,
    refunds       BIGINT NOT NULL,
    discount      BIGINT NOT NULL,
    PRIMARY KEY (shop_id, grain, bucket, channel, campaign)
);

-- One row per visitor per local day per channel and campaign: exact UV
-- and funnels over any range. steps is a bit set (visit, product, cart,
-- order, paid).
CREATE TABLE analytics_visitor_days (
    shop_id  TEXT NOT NULL,
    day      BIGINT NOT NULL,
    visitor  TEXT NOT NULL,
    channel  TEXT NOT NULL,
    campaign TEXT NOT NULL,
    steps    BIGINT NOT NULL,
    PRIMARY KEY (shop_id, day, visitor, channel, campaign)
);

CREATE TABLE analytics_customer_days (
    shop_id     TEXT NOT NULL,
    day         BIGINT NOT NULL,
    customer_id TEXT NOT NULL,
    channel     TEXT NOT NULL,
    campaign    TEXT NOT NULL,
    orders      BIGINT NOT NULL,
    paid_orders BIGINT NOT NULL,
    paid_amount BIGINT NOT NULL,
    PRIMARY KEY (shop_id, day, customer_id, channel, campaign)
);

-- An anonymous visitor linked to a customer (first link wins).
CREATE TABLE analytics_identities (
    shop_id  TEXT NOT NULL,
    anon     TEXT NOT NULL,
    customer TEXT NOT NULL,
    PRIMARY KEY (shop_id, anon)
);

CREATE TABLE analytics_first_paid (
    shop_id     TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    day         BIGINT NOT NULL,
    channel     TEXT NOT NULL,
    campaign    TEXT NOT NULL,
    PRIMARY KEY (shop_id, customer_id)
);
CREATE INDEX analytics_first_paid_day ON analytics_first_paid (shop_id, day);

-- +goose Down
DROP TABLE analytics_first_paid;
DROP TABLE analytics_identities;
DROP TABLE analytics_customer_days;
DROP TABLE analytics_visitor_days;
DROP TABLE analytics_rollups;
DROP TABLE analytics_watermark;
DROP TABLE analytics_events;
