-- +goose Up
-- The anti-abuse guard of the peak paths (internal/peak/guard). Numbered
-- 00004: 00003 belongs to the flash sales, and goose applies a gap in order.

-- A block stops one customer, device or IP of a shop until until_at or
-- until lifted. updated_at moves on every change so instances can fetch
-- what changed since they last looked.
CREATE TABLE guard_blocks (
    id             TEXT PRIMARY KEY,
    shop_id        TEXT NOT NULL REFERENCES shops (id),
    dimension      TEXT NOT NULL,
    block_key      TEXT NOT NULL,
    scope          TEXT NOT NULL,
    rule           TEXT NOT NULL,
    reason         TEXT NOT NULL,
    failures       BIGINT NOT NULL,
    window_seconds BIGINT NOT NULL,
    created_at     BIGINT NOT NULL,
    until_at       BIGINT NOT NULL,
    lifted_at      BIGINT,
    lifted_by      TEXT NOT NULL DEFAULT '',
    updated_at     BIGINT NOT NULL
);
CREATE INDEX guard_blocks_shop ON guard_blocks (shop_id, id);
CREATE INDEX guard_blocks_key ON guard_blocks (shop_id, dimension, block_key);
CREATE INDEX guard_blocks_until ON guard_blocks (until_at);
CREATE INDEX guard_blocks_updated ON guard_blocks (updated_at);

-- Refusals of one key by one rule in one scope, counted together per
-- write. A log like audit_log: no foreign key to slow the batch inserts.
CREATE TABLE guard_refusals (
    id          TEXT PRIMARY KEY,
    shop_id     TEXT NOT NULL,
    scope       TEXT NOT NULL,
    rule        TEXT NOT NULL,
    dimension   TEXT NOT NULL,
    refused_key TEXT NOT NULL,
    block_id    TEXT NOT NULL DEFAULT '',
    refusals    BIGINT NOT NULL,
    first_at    BIGINT NOT NULL,
    last_at     BIGINT NOT NULL
);
CREATE INDEX guard_refusals_shop ON guard_refusals (shop_id, id);
CREATE INDEX guard_refusals_scope ON guard_refusals (shop_id, scope, id);

-- The shop's default policy (JSON, guard.Policy); a sale or coupon
-- template with a policy of its own keeps it with itself.
CREATE TABLE guard_policies (
    shop_id    TEXT PRIMARY KEY REFERENCES shops (id),
    body       TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE guard_policies;
DROP TABLE guard_refusals;
DROP TABLE guard_blocks;
