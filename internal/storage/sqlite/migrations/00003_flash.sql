-- +goose Up
CREATE TABLE flash_sales (
    id                TEXT PRIMARY KEY,
    shop_id           TEXT NOT NULL REFERENCES shops (id),
    name              TEXT NOT NULL,
    status            TEXT NOT NULL,
    starts_at         INTEGER NOT NULL,
    ends_at           INTEGER NOT NULL,
    payment_timeout_s INTEGER NOT NULL,
    guard             TEXT NOT NULL DEFAULT '',
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    ended_at          INTEGER
);
CREATE INDEX flash_sales_shop ON flash_sales (shop_id, id);
CREATE INDEX flash_sales_due ON flash_sales (status, ends_at);

-- allocated = remaining + reserved + sold + returned, always.
CREATE TABLE flash_items (
    sale_id            TEXT NOT NULL REFERENCES flash_sales (id),
    sku_id             TEXT NOT NULL REFERENCES skus (id),
    shop_id            TEXT NOT NULL,
    position           INTEGER NOT NULL,
    flash_price        INTEGER NOT NULL,
    per_customer_limit INTEGER NOT NULL,
    allocated          INTEGER NOT NULL,
    remaining          INTEGER NOT NULL CHECK (remaining >= 0),
    reserved           INTEGER NOT NULL CHECK (reserved >= 0),
    sold               INTEGER NOT NULL,
    returned           INTEGER NOT NULL,
    PRIMARY KEY (sale_id, sku_id)
);

CREATE TABLE flash_reservations (
    order_id    TEXT PRIMARY KEY,
    shop_id     TEXT NOT NULL,
    sale_id     TEXT NOT NULL,
    sku_id      TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    quantity    INTEGER NOT NULL,
    idem_key    TEXT NOT NULL,
    state       TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX flash_reservations_sale ON flash_reservations (sale_id);

CREATE TABLE flash_reminders (
    sale_id     TEXT NOT NULL REFERENCES flash_sales (id),
    customer_id TEXT NOT NULL,
    shop_id     TEXT NOT NULL,
    remind_at   INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (sale_id, customer_id)
);

-- +goose Down
DROP TABLE flash_reminders;
DROP TABLE flash_reservations;
DROP TABLE flash_items;
DROP TABLE flash_sales;
