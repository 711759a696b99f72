-- +goose Up
-- Presales (预售, 定金膨胀): a deposit window, then a balance window.
-- taken = units under a live deposit (pending, paid, balance placed) or
-- settled; the cap applies to it.
CREATE TABLE presales (
    id                     TEXT PRIMARY KEY,
    shop_id                TEXT NOT NULL REFERENCES shops (id),
    name                   TEXT NOT NULL,
    status                 TEXT NOT NULL,
    deposit_starts_at      INTEGER NOT NULL,
    deposit_ends_at        INTEGER NOT NULL,
    balance_starts_at      INTEGER NOT NULL,
    balance_ends_at        INTEGER NOT NULL,
    quantity_cap           INTEGER NOT NULL,
    taken                  INTEGER NOT NULL CHECK (taken >= 0),
    per_customer_limit     INTEGER NOT NULL,
    allow_order_activities INTEGER NOT NULL,
    allow_coupons          INTEGER NOT NULL,
    terms                  TEXT NOT NULL,
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL,
    ended_at               INTEGER
);
CREATE INDEX presales_shop ON presales (shop_id, id);

-- Per SKU: held = units under a live deposit, sold = units settled by a
-- paid balance order, forfeited = units freed by forfeits.
CREATE TABLE presale_items (
    presale_id TEXT NOT NULL REFERENCES presales (id),
    sku_id     TEXT NOT NULL REFERENCES skus (id),
    shop_id    TEXT NOT NULL,
    position   INTEGER NOT NULL,
    deposit    INTEGER NOT NULL,
    value      INTEGER NOT NULL,
    held       INTEGER NOT NULL CHECK (held >= 0),
    sold       INTEGER NOT NULL,
    forfeited  INTEGER NOT NULL,
    PRIMARY KEY (presale_id, sku_id)
);

-- One row per deposit order; the balance window is copied so the forfeit
-- sweep reads one indexed table.
CREATE TABLE presale_deposits (
    order_id          TEXT PRIMARY KEY,
    shop_id           TEXT NOT NULL,
    presale_id        TEXT NOT NULL REFERENCES presales (id),
    sku_id            TEXT NOT NULL,
    customer_id       TEXT NOT NULL,
    quantity          INTEGER NOT NULL,
    deposit           INTEGER NOT NULL,
    value             INTEGER NOT NULL,
    balance_starts_at INTEGER NOT NULL,
    balance_ends_at   INTEGER NOT NULL,
    state             TEXT NOT NULL,
    balance_order_id  TEXT NOT NULL,
    created_at        INTEGER NOT NULL,
    paid_at           INTEGER,
    settled_at        INTEGER,
    forfeited_at      INTEGER,
    forfeit_reason    TEXT NOT NULL
);
CREATE INDEX presale_deposits_customer ON presale_deposits (presale_id, customer_id);
CREATE INDEX presale_deposits_due ON presale_deposits (state, balance_ends_at);

-- The deposit's value credited to a balance order, per order and per line.
ALTER TABLE orders ADD COLUMN deposit_credit INTEGER NOT NULL DEFAULT 0;
ALTER TABLE order_lines ADD COLUMN deposit_credit INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE order_lines DROP COLUMN deposit_credit;
ALTER TABLE orders DROP COLUMN deposit_credit;
DROP TABLE presale_deposits;
DROP TABLE presale_items;
DROP TABLE presales;
