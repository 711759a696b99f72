-- +goose Up
CREATE TABLE group_buy_campaigns (
    id                 TEXT PRIMARY KEY,
    shop_id            TEXT NOT NULL REFERENCES shops (id),
    name               TEXT NOT NULL,
    sku_id             TEXT NOT NULL REFERENCES skus (id),
    list_price         BIGINT NOT NULL,
    group_price        BIGINT NOT NULL CHECK (group_price > 0),
    group_size         BIGINT NOT NULL CHECK (group_size BETWEEN 2 AND 100),
    starts_at          BIGINT NOT NULL,
    ends_at            BIGINT NOT NULL,
    group_window_s     BIGINT NOT NULL,
    per_customer_limit BIGINT NOT NULL,
    payment_timeout_s  BIGINT NOT NULL,
    status             TEXT NOT NULL,
    groups_opened      BIGINT NOT NULL DEFAULT 0,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    ended_at           BIGINT
);
CREATE INDEX group_buy_campaigns_shop ON group_buy_campaigns (shop_id, id);

-- 0 <= paid <= members <= size, always: the seat count is the arbiter of
-- "never more than N members", and the CHECK backs it up.
CREATE TABLE group_buy_groups (
    id                 TEXT PRIMARY KEY,
    shop_id            TEXT NOT NULL,
    campaign_id        TEXT NOT NULL REFERENCES group_buy_campaigns (id),
    sku_id             TEXT NOT NULL,
    size               BIGINT NOT NULL,
    members            BIGINT NOT NULL,
    paid               BIGINT NOT NULL,
    status             TEXT NOT NULL,
    leader_customer_id TEXT NOT NULL,
    opened_at          BIGINT NOT NULL,
    expires_at         BIGINT NOT NULL,
    completed_at       BIGINT,
    failed_at          BIGINT,
    settled_at         BIGINT,
    CHECK (paid >= 0 AND paid <= members AND members <= size)
);
CREATE INDEX group_buy_groups_campaign ON group_buy_groups (campaign_id, status, id);
CREATE INDEX group_buy_groups_due ON group_buy_groups (status, expires_at);

CREATE TABLE group_buy_members (
    order_id    TEXT PRIMARY KEY,
    shop_id     TEXT NOT NULL,
    group_id    TEXT NOT NULL REFERENCES group_buy_groups (id),
    campaign_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    leader      BIGINT NOT NULL,
    state       TEXT NOT NULL,
    reason      TEXT NOT NULL DEFAULT '',
    idem_key    TEXT NOT NULL DEFAULT '',
    joined_at   BIGINT NOT NULL,
    paid_at     BIGINT
);
CREATE INDEX group_buy_members_group ON group_buy_members (group_id, joined_at);
-- One live seat per customer per group.
CREATE UNIQUE INDEX group_buy_members_one_seat ON group_buy_members (group_id, customer_id) WHERE state IN ('held', 'paid');

-- +goose Down
DROP TABLE group_buy_members;
DROP TABLE group_buy_groups;
DROP TABLE group_buy_campaigns;
