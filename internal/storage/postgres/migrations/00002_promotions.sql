-- +goose Up
CREATE TABLE promotions (
    id         TEXT PRIMARY KEY,
    shop_id    TEXT NOT NULL REFERENCES shops (id),
    kind       TEXT NOT NULL,
    status     TEXT NOT NULL,
    starts_at  BIGINT NOT NULL,
    ends_at    BIGINT NOT NULL,
    body       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX promotions_shop ON promotions (shop_id, status);

CREATE TABLE coupon_templates (
    id             TEXT PRIMARY KEY,
    shop_id        TEXT NOT NULL REFERENCES shops (id),
    status         TEXT NOT NULL,
    total_quantity BIGINT NOT NULL,
    issued         BIGINT NOT NULL DEFAULT 0,
    body           TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX coupon_templates_shop ON coupon_templates (shop_id);

CREATE TABLE coupons (
    id          TEXT PRIMARY KEY,
    shop_id     TEXT NOT NULL REFERENCES shops (id),
    template_id TEXT NOT NULL REFERENCES coupon_templates (id),
    customer_id TEXT NOT NULL,
    code        TEXT NOT NULL,
    status      TEXT NOT NULL,
    valid_from  BIGINT NOT NULL,
    valid_until BIGINT NOT NULL,
    claimed_at  BIGINT NOT NULL,
    order_id    TEXT NOT NULL DEFAULT '',
    UNIQUE (shop_id, code)
);
CREATE INDEX coupons_customer ON coupons (shop_id, customer_id, status);

-- One row per limited thing and bucket: "t" (all time), "c:<customer>",
-- "c:<customer>:<day>", "d:<day>", "claim:<customer>". Held uses count.
CREATE TABLE usage_counters (
    shop_id TEXT NOT NULL,
    ref     TEXT NOT NULL,
    bucket  TEXT NOT NULL,
    uses    BIGINT NOT NULL,
    amount  BIGINT NOT NULL,
    PRIMARY KEY (shop_id, ref, bucket)
);

ALTER TABLE holds ADD COLUMN buckets TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE holds DROP COLUMN buckets;
DROP TABLE usage_counters;
DROP TABLE coupons;
DROP TABLE coupon_templates;
DROP TABLE promotions;
