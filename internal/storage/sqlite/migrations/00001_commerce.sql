-- +goose Up
CREATE TABLE shops (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    currency   TEXT NOT NULL,
    time_zone  TEXT NOT NULL,
    settings   TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    shop_id    TEXT NOT NULL REFERENCES shops (id),
    role       TEXT NOT NULL,
    name       TEXT NOT NULL DEFAULT '',
    hash       BLOB NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
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
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (shop_id, code)
);

CREATE TABLE skus (
    id           TEXT PRIMARY KEY,
    shop_id      TEXT NOT NULL REFERENCES shops (id),
    product_id   TEXT NOT NULL REFERENCES products (id),
    code         TEXT NOT NULL,
    name         TEXT NOT NULL,
    category_id  TEXT NOT NULL DEFAULT '',
    price        INTEGER NOT NULL CHECK (price >= 0),
    cost         INTEGER NOT NULL CHECK (cost >= 0),
    stock        INTEGER NOT NULL CHECK (stock >= 0),
    held         INTEGER NOT NULL CHECK (held >= 0),
    sold         INTEGER NOT NULL CHECK (sold >= 0),
    safety_stock INTEGER NOT NULL DEFAULT 0,
    status       TEXT NOT NULL,
    updated_at   INTEGER NOT NULL,
    UNIQUE (shop_id, code)
);
CREATE INDEX skus_shop_category ON skus (shop_id, category_id);

CREATE TABLE stock_moves (
    id         TEXT PRIMARY KEY,
    shop_id    TEXT NOT NULL,
    sku_id     TEXT NOT NULL,
    reason     TEXT NOT NULL,
    delta      INTEGER NOT NULL,
    held_delta INTEGER NOT NULL,
    sold_delta INTEGER NOT NULL,
    order_id   TEXT NOT NULL DEFAULT '',
    note       TEXT NOT NULL DEFAULT '',
    at         INTEGER NOT NULL
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
    growth_value      INTEGER NOT NULL DEFAULT 0,
    points            INTEGER NOT NULL DEFAULT 0 CHECK (points >= 0),
    points_held       INTEGER NOT NULL DEFAULT 0 CHECK (points_held >= 0),
    tags              TEXT NOT NULL DEFAULT '[]',
    marketing_consent INTEGER NOT NULL DEFAULT 0,
    time_zone         TEXT NOT NULL DEFAULT '',
    first_paid_at     INTEGER,
    erased_at         INTEGER,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    UNIQUE (shop_id, external_id)
);

CREATE TABLE points_moves (
    id          TEXT PRIMARY KEY,
    shop_id     TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    delta       INTEGER NOT NULL,
    reason      TEXT NOT NULL,
    order_id    TEXT NOT NULL DEFAULT '',
    at          INTEGER NOT NULL
);
CREATE INDEX points_moves_customer ON points_moves (shop_id, customer_id, id);

CREATE TABLE orders (
    id                TEXT PRIMARY KEY,
    shop_id           TEXT NOT NULL REFERENCES shops (id),
    customer_id       TEXT NOT NULL DEFAULT '',
    status            TEXT NOT NULL,
    goods_amount      INTEGER NOT NULL,
    item_discount     INTEGER NOT NULL,
    order_discount    INTEGER NOT NULL,
    coupon_discount   INTEGER NOT NULL,
    points_discount   INTEGER NOT NULL,
    points_used       INTEGER NOT NULL,
    shipping          INTEGER NOT NULL,
    shipping_discount INTEGER NOT NULL,
    payable           INTEGER NOT NULL CHECK (payable >= 0),
    refunded_amount   INTEGER NOT NULL CHECK (refunded_amount >= 0),
    channel           TEXT NOT NULL DEFAULT '',
    created_at        INTEGER NOT NULL,
    expires_at        INTEGER NOT NULL,
    paid_at           INTEGER,
    fulfilled_at      INTEGER,
    cancelled_at      INTEGER,
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
    quantity        INTEGER NOT NULL CHECK (quantity > 0),
    unit_list_price INTEGER NOT NULL,
    list_amount     INTEGER NOT NULL,
    item_discount   INTEGER NOT NULL,
    order_discount  INTEGER NOT NULL,
    coupon_discount INTEGER NOT NULL,
    points_discount INTEGER NOT NULL,
    payable         INTEGER NOT NULL CHECK (payable >= 0),
    gift            INTEGER NOT NULL DEFAULT 0,
    refunded_qty    INTEGER NOT NULL DEFAULT 0 CHECK (refunded_qty <= quantity),
    refunded_amount INTEGER NOT NULL DEFAULT 0 CHECK (refunded_amount <= payable),
    PRIMARY KEY (order_id, no)
);

CREATE TABLE holds (
    order_id TEXT NOT NULL REFERENCES orders (id),
    seq      INTEGER NOT NULL,
    shop_id  TEXT NOT NULL,
    kind     TEXT NOT NULL,
    ref      TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    amount   INTEGER NOT NULL,
    day      TEXT NOT NULL DEFAULT '',
    state    TEXT NOT NULL,
    PRIMARY KEY (order_id, seq)
);

CREATE TABLE refunds (
    id       TEXT PRIMARY KEY,
    shop_id  TEXT NOT NULL,
    order_id TEXT NOT NULL REFERENCES orders (id),
    amount   INTEGER NOT NULL,
    reason   TEXT NOT NULL DEFAULT '',
    at       INTEGER NOT NULL
);

CREATE TABLE idempotency (
    shop_id      TEXT NOT NULL,
    scope        TEXT NOT NULL,
    idem_key     TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response     BLOB NOT NULL,
    created_at   INTEGER NOT NULL,
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
    at          INTEGER NOT NULL
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
