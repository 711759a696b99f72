-- +goose Up
CREATE TABLE flash_sales (
    id                TEXT PRIMARY KEY,
    shop_id           TEXT NOT NULL REFERENCES shops (id),
    name              TEXT NOT NULL,
    status            TEXT NOT NULL,
    starts_at         BIGINT NOT NULL,
    ends_at           BIGINT NOT NULL,
    payment_timeout_s BIGINT NOT NULL,
    guard             TEXT NOT NULL DEFAULT '',
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    ended_at          BIGINT
);
CREATE INDEX flash_sales_shop ON flash_sales (shop_id, id);
CREATE INDEX flash_sales_due ON flash_sales (status, ends_at);

-- allocated = remaining + reserved + sold + returned, always.
CREATE TABLE flash_items (
    sale_id            TEXT NOT NULL REFERENCES flash_sales (id),
    sku_id             TEXT NOT NULL REFERENCES skus (id),
    shop_id            TEXT NOT NULL,
    position           BIGINT NOT NULL,
    flash_price        BIGINT NOT NULL,
    per_customer_limit BIGINT NOT NULL,
    allocated          BIGINT NOT NULL,
    remaining          BIGINT NOT NULL CHECK (remaining >= 0),
    reserved           BIGINT NOT NULL CHECK (reserved >= 0),
    sold               BIGINT NOT NULL,
    returned           BIGINT NOT NULL,
    PRIMARY KEY (sale_id, sku_id)
);

CREATE TABLE flash_reservations (
    order_id    TEXT PRIMARY KEY,
    shop_id     TEXT NOT NULL,
    sale_id     TEXT NOT NULL,
    sku_id      TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    quantity    BIGINT NOT NULL,
    idem_key    TEXT NOT NULL,
    state       TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX flash_reservations_sale ON flash_reservations (sale_id);

CREATE TABLE flash_reminders (
    sale_id     TEXT NOT NULL REFERENCES flash_sales (id),
    customer_id TEXT NOT NULL,
    shop_id     TEXT NOT NULL,
    remind_at   BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (sale_id, customer_id)
);

-- +goose Down
DROP TABLE flash_reminders;
DROP TABLE flash_reservations;
DROP TABLE flash_items;
DROP TABLE flash_sales;
