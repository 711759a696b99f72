-- +goose Up
CREATE TABLE shops (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    currency   TEXT NOT NULL,
    time_zone  TEXT NOT NULL,
    settings   TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    shop_id    TEXT NOT NULL REFERENCES shops (id),
    role       TEXT NOT NULL,
    name       TEXT NOT NULL DEFAULT '',
    hash       BYTEA NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE categories (
    shop_id   TEXT NOT NULL REFERENCES shops (id),
    id        TEXT NOT NULL,
    parent_id TEXT NOT NULL DEFAULT '',
    name      TEXT NOT NULL,
    PRIMARY KEY (shop_id, id)
);

CREATE TABLE products (
    id          TEXT PRIMARY KEY,
    shop_id     TEXT NOT NULL REFERENCES shops (id),
    code        TEXT NOT NULL,
    name        TEXT NOT NULL,
    category_id TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (shop_id, code)
);

CREATE TABLE skus (
    id           TEXT PRIMARY KEY,
    shop_id      TEXT NOT NULL REFERENCES shops (id),
    product_id   TEXT NOT NULL REFERENCES products (id),
    code         TEXT NOT NULL,
    name         TEXT NOT NULL,
    category_id  TEXT NOT NULL DEFAULT '',
    price        BIGINT NOT NULL CHECK (price >= 0),
    cost         BIGINT NOT NULL CHECK (cost >= 0),
    stock        BIGINT NOT NULL CHECK (stock >= 0),
    held         BIGINT NOT NULL CHECK (held >= 0),
    sold         BIGINT NOT NULL CHECK (sold >= 0),
    safety_stock BIGINT NOT NULL DEFAULT 0,
    status       TEXT NOT NULL,
    updated_at   BIGINT NOT NULL,
    UNIQUE (shop_id, code)
);
CREATE INDEX skus_shop_category ON skus (shop_id, category_id);

CREATE TABLE stock_moves (
    id         TEXT PRIMARY KEY,
    shop_id    TEXT NOT NULL,
    sku_id     TEXT NOT NULL,
    reason     TEXT NOT NULL,
    delta      BIGINT NOT NULL,
    held_delta BIGINT NOT NULL,
    sold_delta BIGINT NOT NULL,
    order_id   TEXT NOT NULL DEFAULT '',
    note       TEXT NOT NULL DEFAULT '',
    at         BIGINT NOT NULL
);
CREATE INDEX stock_moves_sku ON stock_moves (shop_id, sku_id, id);

CREATE TABLE customers (
    id                TEXT PRIMARY KEY,
    shop_id           TEXT NOT NULL REFERENCES shops (id),
    external_id       TEXT NOT NULL,
    name              TEXT NOT NULL DEFAULT '',
    phone             TEXT NOT NULL DEFAULT '',
    email             TEXT NOT NULL DEFAULT '',
    tier              TEXT NOT NULL DEFAULT '',
    growth_value      BIGINT NOT NULL DEFAULT 0,
    points            BIGINT NOT NULL DEFAULT 0 CHECK (points >= 0),
    points_held       BIGINT NOT NULL DEFAULT 0 CHECK (points_held >= 0),
    tags              TEXT NOT NULL DEFAULT '[]',
    marketing_consent BIGINT NOT NULL DEFAULT 0,
    time_zone         TEXT NOT NULL DEFAULT '',
    first_paid_at     BIGINT,
    erased_at         BIGINT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    UNIQUE (shop_id, external_id)
);

CREATE TABLE points_moves (
    id          TEXT PRIMARY KEY,
    shop_id     TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    delta       BIGINT NOT NULL,
    reason      TEXT NOT NULL,
    order_id    TEXT NOT NULL DEFAULT '',
    at          BIGINT NOT NULL
);
CREATE INDEX points_moves_customer ON points_moves (shop_id, customer_id, id);

CREATE TABLE orders (
    id                TEXT PRIMARY KEY,
    shop_id           TEXT NOT NULL REFERENCES shops (id),
    customer_id       TEXT NOT NULL DEFAULT '',
    status            TEXT NOT NULL,
    goods_amount      BIGINT NOT NULL,
    item_discount     BIGINT NOT NULL,
    order_discount    BIGINT NOT NULL,
    coupon_discount   BIGINT NOT NULL,
    points_discount   BIGINT NOT NULL,
    points_used       BIGINT NOT NULL,
    shipping          BIGINT NOT NULL,
    shipping_discount BIGINT NOT NULL,
    payable           BIGINT NOT NULL CHECK (payable >= 0),
    refunded_amount   BIGINT NOT NULL CHECK (refunded_amount >= 0),
    channel           TEXT NOT NULL DEFAULT '',
    created_at        BIGINT NOT NULL,
    expires_at        BIGINT NOT NULL,
    paid_at           BIGINT,
    fulfilled_at      BIGINT,
    cancelled_at      BIGINT,
    cancel_reason     TEXT NOT NULL DEFAULT '',
    pricing           TEXT
);
CREATE INDEX orders_shop ON orders (shop_id, id);
CREATE INDEX orders_customer ON orders (shop_id, customer_id, id);
CREATE INDEX orders_due ON orders (status, expires_at);

CREATE TABLE order_lines (
    order_id        TEXT NOT NULL REFERENCES orders (id),
    no              INTEGER NOT NULL,
    shop_id         TEXT NOT NULL,
    sku_id          TEXT NOT NULL,
    name            TEXT NOT NULL,
    quantity        BIGINT NOT NULL CHECK (quantity > 0),
    unit_list_price BIGINT NOT NULL,
    list_amount     BIGINT NOT NULL,
    item_discount   BIGINT NOT NULL,
    order_discount  BIGINT NOT NULL,
    coupon_discount BIGINT NOT NULL,
    points_discount BIGINT NOT NULL,
    payable         BIGINT NOT NULL CHECK (payable >= 0),
    gift            BIGINT NOT NULL DEFAULT 0,
    refunded_qty    BIGINT NOT NULL DEFAULT 0 CHECK (refunded_qty <= quantity),
    refunded_amount BIGINT NOT NULL DEFAULT 0 CHECK (refunded_amount <= payable),
    PRIMARY KEY (order_id, no)
);

CREATE TABLE holds (
    order_id TEXT NOT NULL REFERENCES orders (id),
    seq      INTEGER NOT NULL,
    shop_id  TEXT NOT NULL,
    kind     TEXT NOT NULL,
    ref      TEXT NOT NULL,
    quantity BIGINT NOT NULL,
    amount   BIGINT NOT NULL,
    day      TEXT NOT NULL DEFAULT '',
    state    TEXT NOT NULL,
    PRIMARY KEY (order_id, seq)
);

CREATE TABLE refunds (
    id       TEXT PRIMARY KEY,
    shop_id  TEXT NOT NULL,
    order_id TEXT NOT NULL REFERENCES orders (id),
    amount   BIGINT NOT NULL,
    reason   TEXT NOT NULL DEFAULT '',
    at       BIGINT NOT NULL
);

CREATE TABLE idempotency (
    shop_id      TEXT NOT NULL,
    scope        TEXT NOT NULL,
    idem_key     TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response     BYTEA NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (shop_id, scope, idem_key)
);

CREATE TABLE audit_log (
    id          TEXT PRIMARY KEY,
    shop_id     TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    entity      TEXT NOT NULL,
    entity_id   TEXT NOT NULL DEFAULT '',
    before_json TEXT,
    after_json  TEXT,
    at          BIGINT NOT NULL
);
CREATE INDEX audit_log_shop ON audit_log (shop_id, id);

-- +goose Down
DROP TABLE audit_log;
DROP TABLE idempotency;
DROP TABLE refunds;
DROP TABLE holds;
DROP TABLE order_lines;
DROP TABLE orders;
DROP TABLE points_moves;
DROP TABLE customers;
DROP TABLE stock_moves;
DROP TABLE skus;
DROP TABLE products;
DROP TABLE categories;
DROP TABLE api_keys;
DROP TABLE shops;
